"""The paired bootstrap interval of a difference in mean per-prompt scores."""

from __future__ import annotations

from lsrif_trl.eval.bootstrap import paired_interval


def test_identical_runs_give_a_zero_width_interval() -> None:
    scores = {str(i): float(i % 3 == 0) for i in range(60)}
    assert paired_interval(scores, scores) == (0.0, 0.0, 60)


def test_the_interval_covers_the_observed_difference_and_uses_shared_prompts_only() -> None:
    base = {str(i): 0.0 for i in range(200)}
    other = {str(i): float(i < 50) for i in range(200)} | {"extra": 1.0}
    low, high, n = paired_interval(base, other)
    assert n == 200 and low < 0.25 < high and high - low < 0.15


def test_it_is_seeded_and_needs_two_shared_prompts() -> None:
    base, other = {"a": 0.0, "b": 1.0, "c": 0.0}, {"a": 1.0, "b": 1.0, "c": 0.0}
    assert paired_interval(base, other) == paired_interval(base, other)
    assert paired_interval({"a": 0.0}, {"a": 1.0}) is None
