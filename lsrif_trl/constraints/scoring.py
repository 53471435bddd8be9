"""IFEval's strict and loose verdicts for one constraint on one response.

Strict: the response is non-empty after stripping and passes the check. Loose: any of the reference's
eight variants of the response (as is, without `*`, without its first and/or last line) does.
"""

from __future__ import annotations

import functools
from typing import Any

from lsrif_trl.constraints import language, punkt_fast, text
from lsrif_trl.constraints.base import Constraint
from lsrif_trl.constraints.ifeval.common import user_pattern
from lsrif_trl.constraints.registry import get_constraint

RESPONSE_CACHE_SIZE = 1024  # responses whose variants are remembered (each holds 8 texts)


@functools.lru_cache(maxsize=RESPONSE_CACHE_SIZE)
def response_variants(response: str) -> tuple[str, ...]:
    """The reference's 8 loose variants, in its order: as is, no `*`, drop first / last / both lines, ..."""
    lines = response.split("\n")
    without_first = "\n".join(lines[1:]).strip()
    without_last = "\n".join(lines[:-1]).strip()
    without_both = "\n".join(lines[1:-1]).strip()
    return (
        response,
        response.replace("*", ""),
        without_first,
        without_last,
        without_both,
        without_first.replace("*", ""),
        without_last.replace("*", ""),
        without_both.replace("*", ""),
    )


@functools.lru_cache(maxsize=RESPONSE_CACHE_SIZE)
def _distinct_loose_candidates(response: str) -> tuple[str, ...]:
    """Variants worth checking for loose after strict failed: non-blank, not the response, no repeats."""
    seen = {response}
    out = []
    for variant in response_variants(response):
        if variant not in seen and variant.strip():
            seen.add(variant)
            out.append(variant)
    return tuple(out)


def follows_strict(response: str, constraint: str | Constraint, kwargs: dict[str, Any] | None = None) -> bool:
    """IFEval strict: non-empty after stripping and the check passes (anything but a str fails); `constraint` is
    an id or the registered object itself (a parsed leaf's, so no lookup per check)."""
    if not isinstance(response, str) or not response.strip():
        return False
    resolved = get_constraint(constraint) if isinstance(constraint, str) else constraint
    return resolved.check(response, kwargs or {})


def follows_both(response: str, constraint_id: str, kwargs: dict[str, Any] | None = None) -> tuple[bool, bool]:
    """(strict, loose); loose starts from the strict verdict, since the response itself is its first variant."""
    if follows_strict(response, constraint_id, kwargs):
        return True, True
    if not isinstance(response, str):
        return False, False
    constraint = get_constraint(constraint_id)
    return False, any(constraint.check(variant, kwargs or {}) for variant in _distinct_loose_candidates(response))


def follows_loose(response: str, constraint_id: str, kwargs: dict[str, Any] | None = None) -> bool:
    """IFEval loose: some non-blank variant of the response passes the check."""
    return follows_both(response, constraint_id, kwargs)[1]


def clear_caches() -> None:
    """Forget every cached analysis (memory, or a cold-cache measurement)."""
    for cached in (
        response_variants,
        _distinct_loose_candidates,
        text.word_count,
        text.sentences,
        text._sentence_capital_words,
        text.detected_language,
        user_pattern,
        punkt_fast.remembered_decision,
    ):
        cached.cache_clear()
    language.clear_caches()
