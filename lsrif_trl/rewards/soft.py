"""The interface soft-constraint scorers (LLM judges, classifier RMs) plug into.

A scorer is any callable `scorer(prompt, answer, constraint_text) -> float` returning the probability in
[0, 1] that `answer` satisfies `constraint_text` given the user's `prompt`. A scorer may also offer
`score_batch(items) -> list[float]` over `(prompt, answer, constraint_text)` triples; the reward functions then
make one batched call per training batch instead of one call per soft leaf.

A score that is not a finite number (a judge's NaN for "no verdict") is *missing*: `score_soft` returns None
for it, and the reward of that completion is None (see `rewards.scoring`). A scorer that can no longer be
trusted raises `SoftScorerError`, which stops training instead of scoring anything.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

from lsrif_trl.rewards.think import message_text

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
