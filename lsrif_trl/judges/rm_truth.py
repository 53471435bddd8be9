"""A self-supervised reward model measured against the truth, where the truth exists: hard constraints taken as
soft (`rm_data.contrasts_from_levels(as_soft=...)`) keep their verifiers, which say what the labels should be.

- Pseudo-labels (`pseudo_label_truth`): each pair labels its `chosen` answer 1 and its `rejected` answer 0 for
  its constraint. Label accuracy = the share of those 2N labels the verifier agrees with; `chosen_satisfies` and
  `rejected_fails` are its two halves; a pair is `ordered` when the verifier passes chosen and fails rejected,
  `reversed` when the opposite, `tied` when it gives both the same verdict (the pair then teaches noise).
- The reward model on fresh samples: with scores s_i = sigmoid(logit) and verifier verdicts y_i,
  accuracy = (1/n) Σ [ (s_i >= 0.5) = y_i ] and AUC = P(s_+ > s_-) + ½ P(s_+ = s_-) over (positive, negative)
  pairs (the Mann-Whitney statistic, ties at average rank). `with_interval` adds a 95% percentile bootstrap over
  items (draws in which one class is absent leave AUC undefined and are skipped).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from lsrif_trl.constraints.scoring import follows_strict
from lsrif_trl.rewards.think import message_text

THRESHOLD = 0.5  # a soft score passes from here (LSRM's tau)
BOOTSTRAP_DRAWS = 2000
_COUNTS = ("pairs", "chosen", "rejected", "ordered", "reversed")


def accuracy(scores: Sequence[float], labels: Sequence[bool], threshold: float = THRESHOLD) -> float | None:
    """The share of items whose thresholded score equals the label; None for no items."""
    if not len(scores):
        return None
    predicted = np.asarray(scores, dtype=float) >= threshold
    return float(np.mean(predicted == np.asarray(labels, dtype=bool)))


def roc_auc(scores: Sequence[float], labels: Sequence[bool]) -> float | None:
    """The area under the ROC curve (Mann-Whitney, ties count half); None when a class is absent."""
    values, truth = np.asarray(scores, dtype=float), np.asarray(labels, dtype=bool)
    positives, negatives = int(truth.sum()), int((~truth).sum())
    if not positives or not negatives:
        return None
    order = np.argsort(values, kind="stable")
    ranks = np.empty(len(values))
    sorted_values = values[order]
    start = 0
    while start < len(values):  # average rank over each run of equal scores
        end = start
        while end + 1 < len(values) and sorted_values[end + 1] == sorted_values[start]:
            end += 1
        ranks[order[start : end + 1]] = (start + end) / 2 + 1
        start = end + 1
    return float((ranks[truth].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def with_interval(
    statistic: Callable[[Sequence[float], Sequence[bool]], float | None],
    scores: Sequence[float],
    labels: Sequence[bool],
    seed: int = 0,
    draws: int = BOOTSTRAP_DRAWS,
) -> dict[str, Any]:
    """`{"mean": statistic, "ci95": [lo, hi] | None, "n": items}` with a percentile bootstrap over items."""
    values, truth = np.asarray(scores, dtype=float), np.asarray(labels, dtype=bool)
    point = statistic(values, truth)
    if point is None:
        return {"mean": None, "ci95": None, "n": len(values)}
    picks = np.random.default_rng(seed).integers(0, len(values), size=(draws, len(values)))
    boot = [statistic(values[p], truth[p]) for p in picks]
    kept = np.array([b for b in boot if b is not None], dtype=float)
    if not len(kept):
        return {"mean": point, "ci95": None, "n": len(values)}
    low, high = np.percentile(kept, [2.5, 97.5])
    return {"mean": point, "ci95": [float(low), float(high)], "n": len(values)}


def verdict(answer: str, constraint_id: str, kwargs: Mapping[str, Any]) -> bool:
    """The constraint's own verifier (IFEval strict) on one answer: the truth a soft score is measured against."""
    return follows_strict(answer, constraint_id, dict(kwargs))


def _answer(value: Any) -> str:
    """The answer text of a pair column: a string, or the last message of a conversational column."""
    if isinstance(value, list) and value and isinstance(value[-1], Mapping):
        return message_text(value[-1].get("content"))
    return value if isinstance(value, str) else ""


def pseudo_label_truth(rows: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The pairs' pseudo-labels against the verifiers (see the module docstring), overall and per constraint;
    rows without `constraint_kwargs` (truly soft constraints: no verifier) are counted as `unverifiable`."""
    counts: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(_COUNTS, 0))
    unverifiable = 0
    for index, row in enumerate(rows):
        if row.get("constraint_kwargs") is None:
            unverifiable += 1
            continue
        try:
            kwargs = json.loads(row["constraint_kwargs"])
            constraint_id = str(row["constraint_id"])
        except (KeyError, TypeError, json.JSONDecodeError) as err:
            raise ValueError(f"pair row {index}: constraint_id / constraint_kwargs: unreadable ({err})") from None
        chosen = verdict(_answer(row.get("chosen")), constraint_id, kwargs)
        rejected = verdict(_answer(row.get("rejected")), constraint_id, kwargs)
        for key in (constraint_id, "all"):
            block = counts[key]
            block["pairs"] += 1
            block["chosen"] += chosen
            block["rejected"] += not rejected
            block["ordered"] += chosen and not rejected
            block["reversed"] += rejected and not chosen
    overall = counts.pop("all", dict.fromkeys(_COUNTS, 0))
    return {
        **_label_rates(overall),
        "unverifiable": unverifiable,
        "by_constraint": {key: _label_rates(block) for key, block in sorted(counts.items())},
    }


def _label_rates(block: Mapping[str, int]) -> dict[str, Any]:
    pairs = block["pairs"]
    if not pairs:
        return {"pairs": 0}
    return {
        "pairs": pairs,
        "label_accuracy": (block["chosen"] + block["rejected"]) / (2 * pairs),
        "chosen_satisfies": block["chosen"] / pairs,
        "rejected_fails": block["rejected"] / pairs,
        "ordered": block["ordered"] / pairs,
        "reversed": block["reversed"] / pairs,
        "tied": (pairs - block["ordered"] - block["reversed"]) / pairs,
    }


def score_against_truth(scores: Sequence[float], labels: Sequence[bool], groups: Sequence[str]) -> dict[str, Any]:
    """The reward model's accuracy and AUC against verifier verdicts, with intervals, overall and per group
    (constraint id), and the share of items the verifier passes."""

    def block(index: np.ndarray) -> dict[str, Any]:
        s, y = np.asarray(scores, dtype=float)[index], np.asarray(labels, dtype=bool)[index]
        return {
            "n": int(len(index)),
            "positive_share": float(y.mean()) if len(index) else None,
            "accuracy": with_interval(accuracy, s, y),
            "auc": with_interval(roc_auc, s, y),
        }

    out = block(np.arange(len(scores)))
    out["by_constraint"] = {
        group: block(np.array([i for i, g in enumerate(groups) if g == group], dtype=int))
        for group in sorted(set(groups))
    }
    return out
