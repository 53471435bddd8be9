"""Statistics of a structured-instruction dataset: structure mix, constraints per row, depth, families, branches."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from datasets import Dataset

from lsrif_trl.data.constraint_pool import load_all_constraints
from lsrif_trl.structure import ConditionalNode, Node, children_of
from lsrif_trl.trees import read_trees, tree_rows


def _active_branches(node: Node) -> Iterator[str]:
    """The `active` branch name of every conditional node in the tree (both branches walked)."""
    if isinstance(node, ConditionalNode):
        yield node.active
    for child in children_of(node):
        yield from _active_branches(child)


def _sorted_counts(counter: Counter) -> dict[Any, int]:
    return dict(sorted(counter.items()))


def compute_stats(dataset: Dataset) -> dict[str, Any]:
    """Counts over the rows (JSON-ready): structure types, constraints, depth, level, families, ids, branches."""
    load_all_constraints()
    structure_types, families, ids, kinds, active = Counter(), Counter(), Counter(), Counter(), Counter()
    trees = read_trees(tree_rows(dataset))  # a row whose tree does not parse is left out (`validate` names it)
    for index in trees.row_tree:
        if index is None:
            continue
        facts = trees.trees[index]
        for leaf in facts.leaves:
            ids[leaf.id] += 1
            kinds[leaf.kind] += 1
            families[leaf.constraint.family if leaf.constraint is not None else "unregistered"] += 1
        active.update(_active_branches(facts.tree))
    columns = set(dataset.column_names)
    structure_types.update(dataset["structure_type"] if "structure_type" in columns else [])

    def histogram(name: str) -> dict[str, int]:
        return {str(k): v for k, v in _sorted_counts(Counter(dataset[name])).items()} if name in columns else {}

    return {
        "rows": len(dataset),
        "rows_without_a_valid_tree": len(trees.errors),
        "structure_type": _sorted_counts(structure_types),
        "n_constraints": histogram("n_constraints"),
        "depth": histogram("depth"),
        "level": histogram("level"),
        "leaf_kind": _sorted_counts(kinds),
        "family_leaf_counts": _sorted_counts(families),
        "constraint_leaf_counts": _sorted_counts(ids),
        "conditional_active_branch": _sorted_counts(active),
    }


def format_stats(stats: dict[str, Any]) -> str:
    """A short text report of `compute_stats` output."""

    def line(title: str, counts: dict[str, int]) -> str:
        total = sum(counts.values()) or 1
        return f"{title}: " + ", ".join(f"{k}={v} ({v / total:.0%})" for k, v in counts.items())

    lines = [f"rows: {stats['rows']}"]
    if stats["rows_without_a_valid_tree"]:
        lines.append(
            f"rows left out (no valid tree; `lsrif data validate` names them): {stats['rows_without_a_valid_tree']}"
        )
    for key in ("structure_type", "n_constraints", "depth", "level", "leaf_kind", "conditional_active_branch"):
        if stats[key]:
            lines.append(line(key, stats[key]))
    lines.append(line("families (leaves)", stats["family_leaf_counts"]))
    lines.append(f"distinct constraint ids: {len(stats['constraint_leaf_counts'])}")
    return "\n".join(lines)


def plot_stats(stats: dict[str, Any], path: str | Path) -> Path:
    """A 2x2 figure (structure mix, constraints per row, depth, family counts) saved as PNG."""
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    panels = [
        ("structure type", stats["structure_type"]),
        ("constraints per instruction", stats["n_constraints"]),
        ("depth", stats["depth"]),
        ("constraint family (leaves)", stats["family_leaf_counts"]),
    ]
    fig, axes = plt.subplots(2, 2, figsize=(12, 8))
    for ax, (title, counts) in zip(axes.flat, panels, strict=True):
        labels = [str(k) for k in counts]
        if title.startswith("constraint family"):
            ax.barh(labels, list(counts.values()))
            ax.tick_params(axis="y", labelsize=7)
        else:
            ax.bar(labels, list(counts.values()))
        ax.set_title(title)
    fig.suptitle(f"{stats['rows']} rows")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return Path(path)


def write_stats(stats: dict[str, Any], out_dir: str | Path) -> tuple[Path, Path]:
    """Save `stats.json` and `stats.png` into `out_dir`; their paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    json_path = out / "stats.json"
    json_path.write_text(json.dumps(stats, indent=2, sort_keys=False) + "\n")
    return json_path, plot_stats(stats, out / "stats.png")
