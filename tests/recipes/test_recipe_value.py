"""The plain-python3 recipe reader that make and Slurm use agrees with PyYAML on every shipped recipe."""

import subprocess
import sys

import pytest
import yaml

from lsrif_trl.training.config import REPO_ROOT, find_recipes

sys.path.insert(0, str(REPO_ROOT / "recipes"))
from recipe_value import recipe_value, scalar  # noqa: E402


def _as_make_sees(value) -> str:
    return "null" if value is None else str(value)


@pytest.mark.parametrize("path", find_recipes(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_string_and_integer_value_reads_as_pyyaml_reads_it(path):
    for key, value in yaml.safe_load(path.read_text()).items():
        if value is None or (isinstance(value, str | int) and not isinstance(value, bool)):
            assert recipe_value(str(path), key) == _as_make_sees(value), key


def test_quotes_comments_and_nulls():
    assert scalar("'a # b'  # note") == "a # b"
    assert scalar('"org/model"') == "org/model"
    assert scalar("org/model   # a comment") == "org/model"
    assert scalar("~") == scalar("") == scalar("# only a comment") == "null"


def test_an_absent_key_prints_nothing_and_exits_1():
    config = str(REPO_ROOT / "recipes/tiny/grpo_lsrm.yaml")
    out = subprocess.run(["python3", "recipes/recipe_value.py", config, "nope"], cwd=REPO_ROOT, capture_output=True)
    assert out.returncode == 1 and out.stdout == b""
