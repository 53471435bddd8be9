"""Import hygiene: library modules never import a CLI module, and the judge loads no data or table libraries."""

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "lsrif_trl"


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside functions (relative imports resolved)."""
    package = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1])
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else [])
                )
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def test_no_library_module_imports_a_cli_module():
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if path.name == "cli.py":
            continue
        offenders += [
            f"{path.relative_to(PACKAGE.parent)} imports {m}" for m in imported_modules(path) if m.endswith(".cli")
        ]
    assert offenders == []


def test_importing_the_judge_loads_neither_the_data_builder_nor_datasets_pyarrow_or_pandas():
    code = (
        "import sys; import lsrif_trl.judges.openai_judge, lsrif_trl.judges.scorer_args, lsrif_trl.chat.client; "
        "heavy = ['datasets', 'pyarrow', 'pandas', 'lsrif_trl.data.builder', 'lsrif_trl.data.loading']; "
        "print([m for m in heavy if m in sys.modules])"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == "[]"
