"""The interface soft-constraint scorers (LLM judges, classifier RMs) plug into.

A scorer is any callable `scorer(prompt, answer, constraint_text) -> float` returning the probability in
[0, 1] that `answer` satisfies `constraint_text` given the user's `prompt`. A scorer may also offer
`score_batch(items) -> list[float]` over `(prompt, answer, constraint_text)` triples; the reward functions then
make one batched call per training batch instead of one call per soft leaf.

A score that is not a finite number (a judge's NaN for "no verdict") is *missing*: `score_soft` returns None
for it, and the reward of that completion is None (see `rewards.scoring`). A scorer that can no longer be
trusted raises `SoftScorerError`, which stops training instead of scoring anything.

A run may also route chosen *hard* constraints to the scorer (`soft_scored`: their ids), as if they were soft:
their leaves are scored by the scorer on `requirement_text(leaf)` (the constraint rendered with its kwargs)
instead of by their verifiers. This is how the toy world measures a learned reward model against the truth.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

from lsrif_trl.constraints.registry import get_constraint
from lsrif_trl.rewards.think import message_text
from lsrif_trl.structure import ConstraintNode

SoftRequest = tuple[str, str, str]  # (prompt, answer, constraint_text)


class SoftScorerError(RuntimeError):
    """The scorer cannot go on (its endpoint refuses calls, too many verdicts are missing): stop the run."""


@runtime_checkable
class SoftScorer(Protocol):
    """Scores one soft constraint on one answer; see the module docstring."""

    def __call__(self, prompt: str, answer: str, constraint_text: str) -> float: ...


def prompt_text(prompt: Any) -> str:
    """The user's request as text: the prompt string, or the last user message of a conversational prompt."""
    if isinstance(prompt, str):
        return prompt
    if isinstance(prompt, Sequence):
        users = [m for m in prompt if isinstance(m, Mapping) and m.get("role") == "user"]
        if users:
            return message_text(users[-1].get("content"))
    return ""


def hard_constraint_ids(ids: Iterable[str]) -> frozenset[str]:
    """`ids` as a set of registered hard constraint ids; ValueError naming an unknown (with close matches) or
    soft one."""
    chosen = frozenset(ids)
    for constraint_id in sorted(chosen):
        get_constraint(constraint_id)
    return chosen


def soft_scored_ids(ids: Iterable[str], scorer: SoftScorer | None) -> frozenset[str]:
    """`ids` as the hard constraints a soft scorer scores instead of their verifiers; ValueError naming an id that
    is not a registered hard constraint, or the missing scorer."""
    chosen = hard_constraint_ids(ids)
    if chosen and scorer is None:
        raise ValueError(
            f"hard constraints {sorted(chosen)} are to be scored as soft, but no soft scorer is set; set "
            "`soft_scorer: classifier` (with soft_rm_path) or `soft_scorer: judge`"
        )
    return chosen


def requirement_text(leaf: ConstraintNode) -> str:
    """The requirement a soft scorer reads for `leaf`: a soft leaf's text, or a hard constraint rendered with its
    kwargs in its first-drawn phrasing (`Constraint.render(kwargs, seed=0)`), the same text for every row."""
    if leaf.kind == "soft":
        return leaf.text or ""
    constraint = leaf.constraint if leaf.constraint is not None else get_constraint(leaf.id)
    return constraint.render(leaf.kwargs)


def score_soft(scorer: SoftScorer, requests: list[SoftRequest]) -> tuple[list[float | None], list[bool]]:
    """`(scores, failed)`: each request's score clipped into [0, 1], or None when it is missing (a non-number,
    NaN, or a raise: of the whole batch for `score_batch`, of the item otherwise); `failed` flags missing and
    clipped scores. `SoftScorerError` propagates."""
    if not requests:
        return [], []
    batch = getattr(scorer, "score_batch", None)
    if callable(batch):
        try:
            raw = list(batch(requests))
            if len(raw) != len(requests):
                raise ValueError(f"score_batch returned {len(raw)} scores for {len(requests)} requests")
        except SoftScorerError:
            raise
        except Exception:  # a scorer bug must not stop training: every item of the batch is missing, and counted
            raw = [None] * len(requests)
    else:
        raw = []
        for request in requests:
            try:
                raw.append(scorer(*request))
            except SoftScorerError:
                raise
            except Exception:  # same policy per item
                raw.append(None)
    scores = [_probability(value) for value in raw]
    return scores, [clean is None or clean != value for clean, value in zip(scores, raw, strict=True)]


def _probability(value: Any) -> float | None:
    """`value` as a float clipped to [0, 1], or None when it is not a finite number."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return min(1.0, max(0.0, float(value)))
