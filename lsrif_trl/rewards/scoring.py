"""Score completions against their trees: answer extraction, leaf checks, soft scoring, aggregation.

This is the one code path behind both the TRL reward functions and `lsrif score`, so both extract the answer
and judge each leaf identically. Nothing here raises on a strange completion: a completion of the wrong type
or a check that raises scores 0 on the affected leaves and adds to `errors`. A missing setup (NLTK's punkt
parameters, a soft scorer) is not a completion's fault and raises, so a run cannot train on zeroed leaves.

A soft leaf whose scorer gave no verdict is *missing*: the completion's reward is None (it is not scored at
all; TRL leaves it out of its group's baseline and gives it no advantage) and `missing` counts the leaves.
Scoring the leaf 0 would punish a completion for the judge's outage; dropping only that leaf would reward the
completion on its other leaves as if the soft constraint had been met, which a policy could learn to provoke.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from lsrif_trl.constraints.nltk_resources import PunktUnavailableError
from lsrif_trl.constraints.scoring import follows_strict
from lsrif_trl.rewards.lsrm import LSRMConfig, aggregate, scored_leaves
from lsrif_trl.rewards.soft import SoftRequest, SoftScorer, prompt_text, requirement_text, score_soft
from lsrif_trl.rewards.think import DEFAULT_POLICY, AnswerPolicy, CompletionTypeError
from lsrif_trl.structure import ConstraintNode, Node, active_leaves


@dataclass(frozen=True)
class RowScore:
    """The reward of one completion with what it was made of."""

    reward: float | None
    leaf_scores: dict[ConstraintNode, float]  # every leaf the aggregation read, keyed by the leaf object
    all_passed: bool | None  # every active leaf passed (score >= tau); None when no leaf is active or one is missing
    errors: int
    missing: int = 0  # soft leaves without a verdict; the reward is None when there is any


def score_completions(
    trees: Sequence[Node],
    completions: Sequence[Any],
    config: LSRMConfig,
    *,
    prompts: Sequence[Any] | None = None,
    policy: AnswerPolicy = DEFAULT_POLICY,
    soft_scorer: SoftScorer | None = None,
    soft_scored: frozenset[str] = frozenset(),
) -> list[RowScore]:
    """One RowScore per (tree, completion), each scored on the answer `policy` extracts; soft leaves of the whole
    batch, and hard leaves whose id is in `soft_scored` (`rewards.soft.soft_scored_ids`), go to `soft_scorer` in
    one call."""
    errors = [0] * len(trees)
    missing = [0] * len(trees)
    leaf_scores: list[dict[ConstraintNode, float]] = []
    soft_requests: list[SoftRequest] = []
    soft_slots: list[tuple[int, ConstraintNode]] = []
    to_score: dict[Node, list[ConstraintNode]] = {}  # GRPO repeats each tree num_generations times in a batch
    active: dict[Node, list[ConstraintNode]] = {}
    requirements: dict[ConstraintNode, str] = {}  # a hard leaf's rendered text, once per batch, not per completion
    for i, (tree, completion) in enumerate(zip(trees, completions, strict=True)):
        try:
            answer = policy.answer(completion)
        except CompletionTypeError:
            answer, errors[i] = "", 1
        if tree not in to_score:
            active[tree] = active_leaves(tree)
            to_score[tree] = scored_leaves(tree, config)
        if not answer.strip():  # strict semantics: a blank answer follows nothing, soft leaves included
            leaf_scores.append(dict.fromkeys(to_score[tree], 0.0))
            continue
        scores: dict[ConstraintNode, float] = {}
        prompt = None
        for leaf in to_score[tree]:
            if leaf.kind == "soft" or leaf.id in soft_scored:
                soft_slots.append((i, leaf))
                if prompt is None:
                    prompt = prompt_text(prompts[i]) if prompts is not None else ""
                if leaf not in requirements:
                    requirements[leaf] = requirement_text(leaf)
                soft_requests.append((prompt, answer, requirements[leaf]))
                continue
            try:
                scores[leaf] = float(follows_strict(answer, leaf.constraint or leaf.id, leaf.kwargs))
            except PunktUnavailableError:
                raise
            except Exception:  # a verifier bug must not stop training: score 0 and count it
                scores[leaf], errors[i] = 0.0, errors[i] + 1
        leaf_scores.append(scores)
    if soft_requests:
        if soft_scorer is None:
            raise ValueError(
                f"a soft constraint ({soft_slots[0][1].id!r}) needs a soft scorer; pass `soft_scorer=` "
                f"(see lsrif_trl.judges) or drop soft leaves from the data"
            )
        soft_scores, soft_failed = score_soft(soft_scorer, soft_requests)
        for (i, leaf), value, failed in zip(soft_slots, soft_scores, soft_failed, strict=True):
            errors[i] += failed
            if value is None:
                missing[i] += 1
            else:
                leaf_scores[i][leaf] = value
    return [
        RowScore(None, scores, None, n, lost)
        if lost
        else RowScore(
            aggregate(tree, scores.__getitem__, config), scores, _all_passed(active[tree], scores, config), n
        )
        for tree, scores, n, lost in zip(trees, leaf_scores, errors, missing, strict=True)
    ]


def _all_passed(active: list[ConstraintNode], scores: dict[ConstraintNode, float], config: LSRMConfig) -> bool | None:
    return all(scores[leaf] >= config.tau for leaf in active) if active else None
