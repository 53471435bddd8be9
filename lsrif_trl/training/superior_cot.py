"""RAIF's sample-wise contrast ("superior CoT"): keep a reasoning sample in the policy loss only when it helps.

Per prompt, GRPO draws n samples; the last k = n * no_cot_fraction of each group answer directly (their prompt
is prefilled with an empty think block, `lsrif_trl.rewards.think.NO_COT_PREFILL`), the others reason first. All n
are scored and all n enter the group mean and std of the advantage. Then, with `answer` the reward without the
format term (`lsrif_trl.rewards.registry.answer_reward`):

    keep_i = False                                     for a no-CoT sample
    keep_i = True                                      for a CoT sample whose format reward failed (< 0)
    keep_i = answer_i >= ref_i                         for any other CoT sample (ref: see `REFERENCES`)
    and every format-valid CoT sample of a prompt is dropped when max(answer over the prompt's CoT samples) <
    min(answer over its no-CoT samples) and the CoT answers are not all equal ("all CoT worse").

A dropped sample gets advantage 0 (see `lsrif_trl.training.raif_trainer`): no policy gradient, KL kept.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

REFERENCES = ("none", "online", "column")  # `column` is written `column NAME` (or `column:NAME`) in a recipe


@dataclass(frozen=True)
class SuperiorCoTConfig:
    """How a GRPO group is split into reasoning and direct samples, and what a reasoning sample must beat.

    `reference`: `none` (only the "all CoT worse" rule), `online` (the mean answer reward of the prompt's own no-CoT
    samples in this batch) or `column` (an offline per-row value in `reference_column`, e.g. from
    `lsrif data reference`, on the scale of `answer_reward`). `sources`: with a dataset mixture, the sources whose
    prompts are contrasted (RAIF contrasts instruction-following prompts only); a prompt of any other source generates
    all n samples with reasoning and keeps them all, as plain GRPO does."""

    num_generations: int
    no_cot_fraction: float = 0.25
    reference: str = "none"
    reference_column: str | None = None
    sources: frozenset[str] | None = None  # a mixture's sources it applies to (instruction data); None: every row

    def __post_init__(self) -> None:
        if self.reference not in REFERENCES:
            raise ValueError(f"superior_cot_reference: expected one of {list(REFERENCES)}, got {self.reference!r}")
        if self.reference == "column" and not self.reference_column:
            raise ValueError("superior_cot_reference: `column` needs a column name (`column NAME`)")
        k = self.no_cot_fraction * self.num_generations
        if not 0 < self.no_cot_fraction < 1 or not math.isclose(k, round(k)):
            raise ValueError(
                f"no_cot_fraction: {self.no_cot_fraction} x num_generations {self.num_generations} must be a whole "
                "number of samples, at least 1 and fewer than num_generations (RAIF: 0.25 of 8)"
            )

    @property
    def no_cot_per_group(self) -> int:
        """k: how many samples of each group answer without reasoning."""
        return round(self.no_cot_fraction * self.num_generations)

    def is_no_cot(self, global_index: int) -> bool:
        """Whether the sample at this position of the global generation batch is a direct (no-CoT) one."""
        return global_index % self.num_generations >= self.num_generations - self.no_cot_per_group

    def applies(self, source: str | None) -> bool:
        """Whether the contrast applies to a row of this `source` (every row without a mixture)."""
        return self.sources is None or source in self.sources


def parse_reference(value: str) -> tuple[str, str | None]:
    """`none` | `online` | `column NAME` (or `column:NAME`) -> (kind, column name)."""
    kind, _, name = value.replace(":", " ").partition(" ")
    if kind not in REFERENCES or (kind == "column") != bool(name.strip()):
        raise ValueError(f"superior_cot_reference: expected `none`, `online` or `column NAME`, got {value!r}")
    return kind, name.strip() or None


@dataclass(frozen=True)
class ContrastResult:
    """Which samples stay in the policy loss, and which prompts lost all their CoT samples to the group rule."""

    keep: list[bool]
    masked_prompts: list[bool]


def contrast_keep(
    config: SuperiorCoTConfig,
    answer: Sequence[float],
    format_ok: Sequence[bool],
    reference: Sequence[float | None] | None = None,
    contrasted: Sequence[bool] | None = None,
) -> ContrastResult:
    """Apply the rules of the module docstring to a whole generation batch (groups of `num_generations` in order).

    `reference` holds one value per sample (the row's offline value) for `column`; it is ignored otherwise. A NaN
    answer (no reward function scored the sample) never beats a reference and never counts in the group rule.
    `contrasted` says per sample whether its prompt is contrasted (default: all); a group that is not keeps every
    sample and is not a masked prompt."""
    n = config.num_generations
    if len(answer) % n or len(answer) != len(format_ok):
        raise ValueError(f"expected whole groups of {n} samples with one format flag each, got {len(answer)}")
    keep: list[bool] = []
    masked_prompts: list[bool] = []
    for start in range(0, len(answer), n):
        group = range(start, start + n)
        if contrasted is not None and not contrasted[start]:
            keep += [True] * n
            masked_prompts.append(False)
            continue
        cot = [i for i in group if not config.is_no_cot(i)]
        direct = [i for i in group if config.is_no_cot(i)]
        cot_scores = [answer[i] for i in cot if not math.isnan(answer[i])]
        direct_scores = [answer[i] for i in direct if not math.isnan(answer[i])]
        all_worse = (
            bool(cot_scores and direct_scores) and max(cot_scores) < min(direct_scores) and len(set(cot_scores)) > 1
        )
        online = sum(direct_scores) / len(direct_scores) if direct_scores else None
        masked_prompts.append(all_worse)
        for i in group:
            if config.is_no_cot(i):
                keep.append(False)
            elif not format_ok[i]:
                keep.append(True)  # the format reward already punishes it
            elif all_worse:
                keep.append(False)
            else:
                ref = _reference(config, reference, i, online)
                keep.append(ref is None or (not math.isnan(answer[i]) and answer[i] >= ref))
    return ContrastResult(keep=keep, masked_prompts=masked_prompts)


def _reference(
    config: SuperiorCoTConfig, reference: Sequence[float | None] | None, i: int, online: float | None
) -> float | None:
    if config.reference == "online":
        return online
    if config.reference == "column":
        if reference is None:
            raise ValueError(f"superior_cot_reference: the rows carry no {config.reference_column!r} values")
        return reference[i]
    return None
