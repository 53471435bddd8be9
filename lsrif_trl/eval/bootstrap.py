"""Paired bootstrap of the difference between two runs' mean per-prompt scores (Efron & Tibshirani, 1993).

Given per-prompt scores `b_i` and `t_i` of the same prompts, resample the prompts with replacement `resamples`
times; the 95% interval is the 2.5th and 97.5th percentiles of the resampled means of `t_i - b_i`.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

RESAMPLES = 2000
SEED = 0


def paired_interval(
    base: Mapping[str, float], other: Mapping[str, float], resamples: int = RESAMPLES, seed: int = SEED
) -> tuple[float, float, int] | None:
    """(low, high, prompts) of the 95% interval of mean(other - base) over the prompts both score; None below 2."""
    shared = sorted(set(base) & set(other))
    if len(shared) < 2:
        return None
    differences = np.array([other[key] - base[key] for key in shared], dtype=float)
    low, high = interval(differences, resamples, seed)
    return float(low), float(high), len(shared)


def interval(differences: np.ndarray, resamples: int = RESAMPLES, seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """The 2.5th and 97.5th percentiles of the means over axis 0 (one row per prompt, any trailing shape) of
    `resamples` resamples of the rows."""
    picks = np.random.default_rng(seed).integers(0, len(differences), size=(resamples, len(differences)))
    means = differences[picks].mean(axis=1)
    return np.percentile(means, 2.5, axis=0), np.percentile(means, 97.5, axis=0)
