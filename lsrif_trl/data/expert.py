"""The tree expert: one answer that satisfies every followed leaf of a logic tree, written by the leaves' experts.

Each hard constraint rewrites a text to satisfy itself (`Constraint.satisfy`). For a tree, the expert
1. walks it, following each conditional's active branch (the inactive one with probability `wrong_branch`);
2. drops each followed leaf's rewrite with probability `noise` (a noisy demonstration: the leaf may then fail);
3. orders the kept leaves by their declared `expert_phase` (content words, sentence counts, layout,
   punctuation, openings and closings, wrappers, letter case), ties in a seeded shuffle, so later rewrites keep
   what earlier ones made true (a case change keeps every word, a quotation wraps a finished layout);
4. applies each kept leaf's rewrite to a base text, then re-applies, in the same order, the rewrites of kept
   leaves that the constraints' own strict verifiers still reject, for at most `max_rounds` rounds;
5. with `reasoning`, opens the completion with a think block that plans the answer: each condition as it was read
   (a misread one is planned wrong, as the answer then follows it) and every followed leaf, dropped ones included
   (the plan was right, the execution slipped), so a reasoning model can be cloned from the same demonstrations.
Everything is drawn from the caller's `random.Random`, so the answer is a pure function of tree, base and seed.
Soft leaves (no verifier) and constraints without an expert are left to chance and reported.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from lsrif_trl.constraints import rewriting
from lsrif_trl.constraints.registry import get_constraint
from lsrif_trl.constraints.scoring import follows_strict
from lsrif_trl.rewards.think import CLOSE, OPEN
from lsrif_trl.structure import ConditionalNode, ConstraintNode, Node, active_leaves, children_of
from lsrif_trl.trees import row_tree

DEFAULT_MAX_ROUNDS = 4


@dataclass(frozen=True)
class ExpertConfig:
    """How noisy the demonstrations are: rewrites dropped (`noise`), conditionals misread (`wrong_branch`)."""

    noise: float = 0.0
    wrong_branch: float = 0.0
    max_rounds: int = DEFAULT_MAX_ROUNDS
    reasoning: bool = False  # open each completion with a think block planning the answer (module doc, step 5)

    def __post_init__(self) -> None:
        for name in ("noise", "wrong_branch"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name}={value}: must be a probability in [0, 1]")
        if self.max_rounds < 1:
            raise ValueError(f"max_rounds={self.max_rounds}: must be >= 1")


@dataclass(frozen=True)
class ExpertAnswer:
    """An expert answer and what went into it: the leaves it rewrote for, dropped, or could not handle."""

    text: str
    rewritten: tuple[ConstraintNode, ...]
    dropped: tuple[ConstraintNode, ...]
    unsupported: tuple[ConstraintNode, ...]
    wrong_branches: int
    reasoning: str = ""  # the think block's text (ExpertConfig.reasoning), not part of the checked answer

    @property
    def completion(self) -> str:
        """What a model is cloned on: the answer, behind its think block when there is reasoning."""
        return f"{OPEN}\n{self.reasoning}\n{CLOSE}\n{self.text}" if self.reasoning else self.text

    @property
    def satisfied(self) -> bool:
        """Whether every rewritten leaf passes its strict verifier."""
        return all(follows_strict(self.text, leaf.id, leaf.kwargs) for leaf in self.rewritten)


@dataclass(frozen=True)
class Plan:
    """The leaves the expert follows, how many conditionals it misread, and its plan as reasoning lines."""

    leaves: tuple[ConstraintNode, ...]
    wrong_branches: int
    lines: tuple[str, ...]


def leaf_label(leaf: ConstraintNode) -> str:
    """A leaf as one short plan line: its constraint's name and its kwargs' values."""
    name = leaf.id.split(":")[-1].replace("_", " ")
    parts = [v if isinstance(v, list | tuple) else [v] for v in leaf.kwargs.values()]
    values = ", ".join(str(value) for part in parts for value in part)
    return f"{name}: {values}" if values else name


def plan(tree: Node, rng: random.Random, wrong_branch: float = 0.0) -> Plan:
    """Walk `tree` as the expert does: each conditional's active branch, or the other one with probability
    `wrong_branch` when it exists (a misread condition, planned as read)."""
    leaves: list[ConstraintNode] = []
    lines: list[str] = []
    wrong = 0

    def walk(node: Node | None) -> None:
        nonlocal wrong
        if node is None:
            return
        if isinstance(node, ConstraintNode):
            leaves.append(node)
            lines.append(f"- {leaf_label(node)}")
        elif isinstance(node, ConditionalNode):
            inactive = node.else_ if node.active == "then" else node.then
            misread = wrong_branch > 0 and inactive is not None and rng.random() < wrong_branch
            wrong += misread
            reads_then = (node.active == "then") != misread
            lines.append(f"{node.condition}: {'yes' if reads_then else 'no'}")
            walk(node.then if reads_then else node.else_)
        else:
            for child in children_of(node):
                walk(child)

    walk(tree)
    return Plan(tuple(leaves), wrong, tuple(lines))


def _phase(leaf: ConstraintNode) -> int:
    return get_constraint(leaf.id).expert_phase


def expert_answer(tree: Node, base: str, rng: random.Random, config: ExpertConfig = ExpertConfig()) -> ExpertAnswer:
    """The expert's answer to `tree`, rewriting `base` (see the module doc for the order and the rounds)."""
    walked = plan(tree, rng, config.wrong_branch)
    kept, dropped, unsupported = [], [], []
    for leaf in walked.leaves:
        if leaf.kind != "hard" or not get_constraint(leaf.id).has_expert:
            unsupported.append(leaf)
        elif config.noise > 0 and rng.random() < config.noise:
            dropped.append(leaf)
        else:
            kept.append(leaf)
    rng.shuffle(kept)
    kept.sort(key=_phase)  # stable: the shuffle orders leaves within a phase
    text = base
    for round_index in range(config.max_rounds):
        failing = [leaf for leaf in kept if round_index == 0 or not follows_strict(text, leaf.id, leaf.kwargs)]
        if not failing:
            break
        for leaf in failing:
            if round_index == 0 or not follows_strict(text, leaf.id, leaf.kwargs):
                text = get_constraint(leaf.id).satisfy(text, leaf.kwargs, rng)
    reasoning = "\n".join(walked.lines) if config.reasoning else ""
    return ExpertAnswer(text, tuple(kept), tuple(dropped), tuple(unsupported), walked.wrong_branches, reasoning)


def base_text(rng: random.Random, min_sentences: int = 2, max_sentences: int = 4) -> str:
    """A neutral answer body for the experts to rewrite: a few filler sentences."""
    return rewriting.filler_text(rng, rng.randint(min_sentences, max_sentences))


@dataclass
class ExpertReport:
    """Counts over a dataset's expert answers; `all_satisfied` is measured against each row's true tree."""

    rows: int = 0
    all_satisfied: int = 0
    rewritten: int = 0
    dropped: int = 0
    unsupported: int = 0
    wrong_branches: int = 0
    unsupported_ids: dict[str, int] = field(default_factory=dict)

    def add(self, answer: ExpertAnswer, tree: Node) -> None:
        """Count one row's answer."""
        self.rows += 1
        self.all_satisfied += all(follows_strict(answer.text, leaf.id, leaf.kwargs) for leaf in active_leaves(tree))
        self.rewritten += len(answer.rewritten)
        self.dropped += len(answer.dropped)
        self.unsupported += len(answer.unsupported)
        self.wrong_branches += answer.wrong_branches
        for leaf in answer.unsupported:
            self.unsupported_ids[leaf.id] = self.unsupported_ids.get(leaf.id, 0) + 1

    def summary(self) -> str:
        """One line for the terminal."""
        share = self.all_satisfied / self.rows if self.rows else 0.0
        return (
            f"{self.rows} answers, {share:.1%} satisfy every active leaf of their tree; leaves rewritten "
            f"{self.rewritten}, dropped (noise) {self.dropped}, left to chance (soft or no expert) "
            f"{self.unsupported}; conditionals misread {self.wrong_branches}"
        )


def row_rng(seed: int, row_id: str) -> random.Random:
    """The random source of one row's answer: a pure function of the seed and the row's id."""
    return random.Random(f"lsrif-expert|{seed}|{row_id}")


def answer_rows(
    rows: Iterable[Mapping[str, Any]],
    seed: int,
    config: ExpertConfig = ExpertConfig(),
    base_sentences: tuple[int, int] = (2, 4),
) -> tuple[list[str], ExpertReport]:
    """The expert's answer to every row (its `structure` or IFEval columns) and the counts over them; each
    answer rewrites a base text of `base_sentences` (min, max) filler sentences.

    A row's answer depends only on the seed, the row's `id` (its index when it has none) and its tree."""
    low, high = base_sentences
    if not 1 <= low <= high:
        raise ValueError(f"base_sentences={base_sentences}: need 1 <= min <= max")
    report, answers = ExpertReport(), []
    for index, row in enumerate(rows):
        tree = row_tree(row).tree
        rng = row_rng(seed, str(row.get("id", index)))
        answer = expert_answer(tree, base_text(rng, low, high), rng, config)
        report.add(answer, tree)
        answers.append(answer.completion)
    return answers, report
