"""LSRM, the logic-structured reward (docs/lsrm.md), its structure-blind baselines and anchor shapes.

Every aggregation turns per-leaf scores r in [0, 1] (hard: 0/1, soft: a probability) into one reward:

- `lsrm`: follow the tree. A leaf scores r; `parallel` is the mean of its children; `sequential` with children
  c_1..c_n scores mean_i r~_i where r~_i = r_i * prod_{j<i} f(r_j) and, by `seq_mode`:
  `product`: f(r) = gamma + (1 - gamma) * r;  `count`: f(r) = gamma if r < tau else 1;
  `gate`: one factor gamma on every step after the first failed step (r < tau), else 1.
  `conditional` scores its active branch only. A node that imposes nothing scores None and its parent ignores
  it (a sequential node then runs the formula over its remaining children, in order).
- `flat`: the mean over every leaf of the tree, both conditional branches included (structure-blind RLVR).
- `all`: 1.0 if every leaf LSRM would score passes (r >= tau), else 0.0.
- `raif`: RAIF's shape over the leaves the input activates: +2 if all pass, -2 if none passes, else the fraction
  that passes.
- `mean5`: the self-supervised IF-RL shape: 5 x the mean score of the leaves the input activates.

Any aggregation returns None when the tree imposes nothing on this input (no active leaf); `flat` never does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, get_args

from lsrif_trl.structure import (
    ConditionalNode,
    ConstraintNode,
    Node,
    ParallelNode,
    SequentialNode,
    active_leaves,
    leaves,
)

Aggregation = Literal["lsrm", "flat", "all", "raif", "mean5"]
SeqMode = Literal["product", "count", "gate"]
AGGREGATIONS: tuple[str, ...] = get_args(Aggregation)
SEQ_MODES: tuple[str, ...] = get_args(SeqMode)
LeafScore = Callable[[ConstraintNode], float]


@dataclass(frozen=True)
class LSRMConfig:
    """How leaf scores become a reward; validated on construction so a bad recipe fails before training."""

    aggregation: Aggregation = "lsrm"
    gamma: float = 0.5
    seq_mode: SeqMode = "product"
    tau: float = 0.5  # a leaf "passes" when its score is >= tau (for count/gate, all, raif)

    def __post_init__(self) -> None:
        if self.aggregation not in AGGREGATIONS:
            raise ValueError(f"aggregation: expected one of {list(AGGREGATIONS)}, got {self.aggregation!r}")
        if self.seq_mode not in SEQ_MODES:
            raise ValueError(f"seq_mode: expected one of {list(SEQ_MODES)}, got {self.seq_mode!r}")
        for name in ("gamma", "tau"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= value <= 1.0:
                raise ValueError(f"{name}: expected a number in [0, 1], got {value!r}")


DEFAULT_CONFIG = LSRMConfig()


def scored_leaves(tree: Node, config: LSRMConfig) -> list[ConstraintNode]:
    """The leaves whose scores `aggregate` reads: all of them for `flat`, the active ones otherwise."""
    return leaves(tree) if config.aggregation == "flat" else active_leaves(tree)


def aggregate(tree: Node, score: LeafScore, config: LSRMConfig = DEFAULT_CONFIG) -> float | None:
    """The reward of `tree` under `config`, reading each leaf's score in [0, 1] from `score(leaf)`."""
    if config.aggregation == "lsrm":
        return node_score(tree, score, config)
    scores = [score(leaf) for leaf in scored_leaves(tree, config)]
    if not scores:
        return None
    if config.aggregation in ("flat", "mean5"):
        mean = sum(scores) / len(scores)
        return mean if config.aggregation == "flat" else 5.0 * mean
    passed = sum(s >= config.tau for s in scores)
    if config.aggregation == "all":
        return float(passed == len(scores))
    if passed == len(scores):
        return 2.0
    return -2.0 if passed == 0 else passed / len(scores)


def node_score(node: Node, score: LeafScore, config: LSRMConfig) -> float | None:
    """LSRM's recursive score of one node (None when it imposes nothing)."""
    if isinstance(node, ConstraintNode):
        return score(node)
    if isinstance(node, ConditionalNode):
        branch = node.active_branch
        return node_score(branch, score, config) if branch is not None else None
    child_scores = [s for s in (node_score(c, score, config) for c in node.children) if s is not None]
    if not child_scores:
        return None
    if isinstance(node, ParallelNode):
        return sum(child_scores) / len(child_scores)
    assert isinstance(node, SequentialNode)
    return sum(discounted_steps(child_scores, config)) / len(child_scores)


def discounted_steps(steps: list[float], config: LSRMConfig) -> list[float]:
    """r~_i for a sequence of step scores: each step discounted by the steps before it, per `seq_mode`."""
    gamma, tau = config.gamma, config.tau
    out: list[float] = []
    discount = 1.0
    for r in steps:
        out.append(r * discount)
        if config.seq_mode == "product":
            discount *= gamma + (1.0 - gamma) * r
        elif r < tau:  # count: one factor per failed step; gate: a single factor once anything failed
            discount = discount * gamma if config.seq_mode == "count" else gamma
    return out
