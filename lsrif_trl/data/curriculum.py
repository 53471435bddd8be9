"""Curriculum decomposition: an instruction with k constraints becomes the nested series I_1 ⊂ ... ⊂ I_k.

Constraints are added in document order, except that a conditional's active branch comes before its
inactive one. I_j keeps the first j constraints and every node that still holds one:
- a parallel or sequential node keeps its remaining children in order (a sequential prefix stays a prefix
  of the steps); a node left with one child is replaced by that child;
- a conditional appears only once both branches hold a constraint; before that, I_j holds the active branch's
  constraints without the condition (they apply to this input either way), so every level imposes something;
- a root that is a single constraint is wrapped in a one-child parallel node.
So I_j has exactly j constraints, I_k is the original tree, and each level is a valid tree (docs/structure.md).
The `level` column is j; `order_by_level` and `stage` let a recipe train from few to many constraints.
"""

from __future__ import annotations

import numpy as np
from datasets import Dataset

from lsrif_trl.structure import ConditionalNode, ConstraintNode, Node, ParallelNode, SequentialNode


def addition_order(tree: Node) -> list[ConstraintNode]:
    """The leaves in the order the curriculum adds them (document order, active branch first)."""
    if isinstance(tree, ConstraintNode):
        return [tree]
    if isinstance(tree, ConditionalNode):
        first, second = (tree.then, tree.else_) if tree.active == "then" else (tree.else_, tree.then)
        return [leaf for branch in (first, second) if branch is not None for leaf in addition_order(branch)]
    return [leaf for child in tree.children for leaf in addition_order(child)]


def _restrict(node: Node, kept: set[int]) -> Node | None:
    """`node` with only the leaves whose id() is in `kept` (None when none is left); see the module doc."""
    if isinstance(node, ConstraintNode):
        return node if id(node) in kept else None
    if isinstance(node, ConditionalNode):
        then = _restrict(node.then, kept)
        else_ = _restrict(node.else_, kept) if node.else_ is not None else None
        active, inactive = (then, else_) if node.active == "then" else (else_, then)
        if inactive is None:
            return active
        return ConditionalNode(node.condition, node.active, then, else_)
    children = tuple(c for c in (_restrict(child, kept) for child in node.children) if c is not None)
    if not children:
        return None
    if len(children) == 1:
        return children[0]
    return ParallelNode(children) if isinstance(node, ParallelNode) else SequentialNode(children)


def decompose(tree: Node) -> list[Node]:
    """The series I_1..I_k of `tree` (k = number of its constraints); the last one is `tree` itself."""
    order = addition_order(tree)
    series: list[Node] = []
    for j in range(1, len(order) + 1):
        level = _restrict(tree, {id(leaf) for leaf in order[:j]})
        series.append(ParallelNode((level,)) if isinstance(level, ConstraintNode) else level)
    return series


def order_by_level(dataset: Dataset) -> Dataset:
    """The rows sorted from few to many constraints (stable: rows of one level keep their order)."""
    levels = np.asarray(dataset["level"])
    return dataset.select(np.argsort(levels, kind="stable"))


def stage(dataset: Dataset, max_level: int) -> Dataset:
    """Only the rows with at most `max_level` constraints (one stage of a staged curriculum)."""
    levels = np.asarray(dataset["level"])
    return dataset.select(np.flatnonzero(levels <= max_level))


def stages(dataset: Dataset, boundaries: list[int]) -> list[Dataset]:
    """One dataset per stage: rows with level <= each boundary in turn (boundaries must increase)."""
    if any(b <= a for a, b in zip(boundaries, boundaries[1:], strict=False)):
        raise ValueError(f"stage boundaries must increase, got {boundaries}")
    return [stage(dataset, b) for b in boundaries]
