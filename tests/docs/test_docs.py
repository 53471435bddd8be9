"""The specification in docs/ agrees with the code: every recipe key documented with its default, every example
tree valid, every link alive, and nothing in the repository cites a document that is not in it."""

import dataclasses
import json
import re
from pathlib import Path

import pytest

from lsrif_trl.structure import parse_structure
from lsrif_trl.training.config import KINDS

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"
KEY_ROW = re.compile(r"^\| `([a-z_0-9]+)` \| `([^`]*)` \|", re.M)


def documented_keys() -> dict[str, str]:
    rows = KEY_ROW.findall((DOCS / "recipes.md").read_text(encoding="utf-8"))
    keys = dict(rows)
    assert len(keys) == len(rows), "a key is documented twice"
    return keys


def recipe_fields() -> dict[str, object]:
    """Every key the project's script-argument dataclasses add to TRL's, with its default."""
    found = {}
    for kind in KINDS.values():
        for f in dataclasses.fields(kind.script_arguments):
            found[f.name] = f.default if f.default is not dataclasses.MISSING else f.default_factory()
    return found


def test_every_recipe_key_is_documented_with_its_default():
    documented, fields = documented_keys(), recipe_fields()
    assert sorted(set(fields) - set(documented)) == [], "add these keys to docs/recipes.md"
    assert sorted(set(documented) - set(fields)) == [], "docs/recipes.md documents keys no script has"
    for key, default in fields.items():
        assert json.loads(documented[key]) == default, f"docs/recipes.md: {key}: the default is {json.dumps(default)}"


def test_every_example_tree_in_the_docs_parses():
    blocks = re.findall(r"```json\n(.*?)```", (DOCS / "structure.md").read_text(encoding="utf-8"), re.S)
    assert blocks
    for block in blocks:
        parse_structure(json.loads(block))


@pytest.mark.parametrize("page", sorted(p.name for p in DOCS.glob("*.md")))
def test_links_between_pages_resolve(page):
    for target in re.findall(r"\]\(([^)#]+\.md)\)", (DOCS / page).read_text(encoding="utf-8")):
        assert (DOCS / target).is_file(), f"docs/{page} links to a missing {target}"


def cited_files() -> list[Path]:
    roots = ["lsrif_trl", "recipes", "docs", "benchmarks", "notebooks", "slurm", "accelerate_configs", "tests"]
    files = [REPO / "README.md", REPO / "Makefile"]
    for root in roots:
        files += [p for p in (REPO / root).rglob("*") if p.is_file() and p.suffix in (".py", ".md", ".yaml", ".ipynb")]
    return [p for p in files if p != Path(__file__).resolve()]


def test_nothing_cites_a_document_outside_the_repository():
    outside = re.compile(r"DESIGN\.md|DESIGN section|\bissue\s*#?\d+", re.I)
    cited = [f"{p.relative_to(REPO)}: {m.group(0)}" for p in cited_files() for m in outside.finditer(p.read_text())]
    assert cited == []


def test_recipe_comments_name_a_paper_or_script_not_an_issue():
    for path in sorted((REPO / "recipes").glob("*/*.yaml")):
        assert not re.search(r"\bissues?\b", path.read_text(), re.I), path
