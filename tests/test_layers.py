"""The package's import graph: no cycle, no library module importing a command-line module, and no package
importing one above its layer. Every import counts, including those inside functions.

Layers, lowest first (a module may import its own layer and those below it):

| layer | modules | why there |
|---|---|---|
| 0 | `lsrif_trl` (the version), `jsonl`, `secret_args`, `tiny`, `sources`, `chat` | utilities that import nothing above layer 0 (`chat`: the one OpenAI-compatible client, uses `secret_args`) |
| 1 | `constraints` | the verifiers: everything else scores with them |
| 2 | `structure`, `trees` | the logic tree over constraints, and the one reader of a dataset's trees |
| 3 | `rewards`, `judges` | scoring a tree; judges are soft-constraint plug-ins of the rewards |
| 4 | `data` | building and loading datasets of trees (uses the answer rule of `rewards` for rewrites) |
| 5 | `eval`, `analysis` | benchmarks generate, then score with rewards and the data builder; checkpoint analyses |
| 6 | `training`, `ablation` | the recipes compose every library's options into TRL script arguments; the ablation drives them |
| 7 | `cli` (`lsrif_trl/cli.py` and every `*/cli.py`) | command-line front ends, importing any library |
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "lsrif_trl"
CLI_LAYER = 7
LAYERS = {
    "lsrif_trl": 0,
    "lsrif_trl.jsonl": 0,
    "lsrif_trl.secret_args": 0,
    "lsrif_trl.tiny": 0,
    "lsrif_trl.sources": 0,
    "lsrif_trl.chat": 0,
    "lsrif_trl.constraints": 1,
    "lsrif_trl.structure": 2,
    "lsrif_trl.trees": 2,
    "lsrif_trl.rewards": 3,
    "lsrif_trl.judges": 3,
    "lsrif_trl.data": 4,
    "lsrif_trl.eval": 5,
    "lsrif_trl.analysis": 5,
    "lsrif_trl.training": 6,
    "lsrif_trl.ablation": 6,
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def is_cli(module: str) -> bool:
    return module == "lsrif_trl.cli" or module.endswith(".cli")


def layer(module: str) -> int:
    if is_cli(module):
        return CLI_LAYER
    owner = max((name for name in LAYERS if module == name or module.startswith(name + ".")), key=len)
    if owner == "lsrif_trl" and module != owner:
        raise AssertionError(f"{module}: a new top-level module or package; give it a layer in LAYERS")
    return LAYERS[owner]


def resolve(name: str) -> str | None:
    """The package module an imported name refers to (`a.b.attr` -> `a.b`), or None outside the package."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(module: str) -> set[str]:
    """Every package module `module` imports anywhere in its body, `importlib.import_module("...")` included."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str | None] = set()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    type_only = {  # `if TYPE_CHECKING:` imports exist for type checkers only, never at run time
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and _is_type_checking(node.test)
        for stmt in node.body
        for inner in ast.walk(stmt)
    }
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        if isinstance(node, ast.Import):
            found.update(resolve(alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}".rstrip(".")
            found.update(resolve(f"{base}.{alias.name}") for alias in node.names)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            found.add(resolve(node.args[0].value))
    found.discard(None)
    found.discard(module)
    return found  # type: ignore[return-value]


GRAPH = {module: imports_of(module) for module in MODULES}

# Edges an open refactor removes; each must still exist: delete its line once it is gone.
PENDING: set[tuple[str, str]] = set()


def edges() -> list[tuple[str, str]]:
    return sorted((a, b) for a, targets in GRAPH.items() for b in targets)


def test_the_walk_finds_imports_inside_functions():
    assert "lsrif_trl.tiny" in GRAPH["lsrif_trl.training.run"]  # imported inside load_model_inputs
    assert "lsrif_trl.rewards" in GRAPH["lsrif_trl.training.rewards"]  # imported inside filter_demonstrations
    assert "lsrif_trl.data.build" in GRAPH["lsrif_trl.training.data"]  # inside build_missing_dataset


def test_every_module_has_a_layer():
    for module in MODULES:
        assert layer(module) in range(CLI_LAYER + 1), module


def test_no_import_cycle():
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(module: str) -> None:
        state[module] = 1
        path.append(module)
        for target in sorted(GRAPH[module]):
            if state.get(target) == 1:
                cycle = path[path.index(target) :] + [target]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if target not in state:
                visit(target)
        path.pop()
        state[module] = 2

    for module in sorted(GRAPH):
        if module not in state:
            visit(module)


def test_no_library_module_imports_a_command_line_module():
    bad = [(a, b) for a, b in edges() if not is_cli(a) and is_cli(b) and (a, b) not in PENDING]
    assert not bad, bad


def test_no_module_imports_a_layer_above_its_own():
    bad = [(a, b) for a, b in edges() if layer(b) > layer(a) and (a, b) not in PENDING]
    assert not bad, bad


def test_pending_edges_still_exist():
    assert set(edges()) >= PENDING, sorted(PENDING - set(edges()))
