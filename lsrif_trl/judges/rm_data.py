"""Self-supervised training pairs for a soft-constraint reward model, from the policy's own samples.

The self-supervised IF-RL method (Ren et al., 2025, "Instructions are all you need", arXiv:2510.14420) scores
soft constraints with a binary classifier whose labels come from the instructions themselves, not from people
or a stronger model. This project builds those labels from the curriculum series I_1 ⊂ ... ⊂ I_k that
`lsrif data build --curriculum` writes (rows `<id>-L<j>`):

1. Contrast: levels I_{j-1} and I_j of one instruction differ by exactly one constraint. When that constraint
   is soft and applies to the input (not in a conditional's inactive branch), I_j is "the instruction WITH it"
   and I_{j-1} "the same instruction WITHOUT it" (`contrasts_from_levels`). Hard constraints named in `as_soft`
   count as soft (their requirement text is `rewards.soft.requirement_text`), so a world with verifiers can
   measure the pseudo-labels against the truth (`judges.rm_truth`).
2. Sample: the policy answers both prompts (`sample_responses`, any `lsrif_trl.eval.generation` backend).
3. Label: an answer written WITH the constraint in view is taken to satisfy it (positive); an answer written
   WITHOUT it is taken not to (negative). No human label is involved, so the labels are noisy by design.
4. Emit TRL `RewardTrainer` rows (`preference_rows`), conversational with an explicit prompt: `prompt` is the
   `rm_format.rm_prompt` user turn (the WITH request and the constraint text), `chosen` the positive answer,
   `rejected` the negative one, plus `constraint_id` and `source_id` columns for analysis (and, for a hard
   constraint taken as soft, `constraint_kwargs`: its kwargs as JSON, so its verifier can check both answers). The i-th sample of
   one side is paired with the i-th of the other; pairs with a blank side, two identical answers, or seen before
   for the same contrast are dropped.

Where this differs from the authors' release (github.com/Rainier-rq/verl-if): there a two-label classifier is
trained pointwise (1/0 per answer) on the constraint and the response alone; here the same positives and
negatives are paired and trained with RewardTrainer's Bradley-Terry loss on one logit, the model also sees the
request, and a soft leaf scores sigmoid(logit) (`judges.classifier`).
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from lsrif_trl.judges.rm_format import rm_prompt
from lsrif_trl.rewards.soft import hard_constraint_ids, prompt_text, requirement_text
from lsrif_trl.structure import ConstraintNode, StructureError, active_leaves, leaves, parse_structure

_LEVEL_SUFFIX = re.compile(r"^(?P<base>.+)-L(?P<level>\d+)$")


@dataclass(frozen=True)
class SoftContrast:
    """One instruction with a soft constraint and the same instruction without it."""

    source_id: str
    constraint_id: str
    constraint_text: str
    prompt_with: str
    prompt_without: str
    constraint_kwargs: str | None = None  # JSON kwargs of a hard constraint taken as soft; None for a soft one


def _leaf_key(leaf: ConstraintNode) -> str:
    return json.dumps([leaf.id, leaf.kind, leaf.text, leaf.kwargs], sort_keys=True)


def _row_field(row: Mapping[str, Any], name: str, index: int) -> Any:
    value = row.get(name)
    if value is None:
        raise ValueError(f"row {index}: {name}: missing; rows need `id`, `prompt` and `structure` (curriculum data)")
    return value


def contrasts_from_levels(rows: Iterable[Mapping[str, Any]], as_soft: Iterable[str] = ()) -> list[SoftContrast]:
    """Every (I_j, I_{j-1}) pair of consecutive curriculum levels whose one added constraint is soft, or a hard
    one whose id is in `as_soft` (registered hard ids; ValueError naming another)."""
    as_soft = hard_constraint_ids(as_soft)
    series: dict[str, dict[int, tuple[str, list[ConstraintNode], list[ConstraintNode]]]] = defaultdict(dict)
    for index, row in enumerate(rows):
        row_id = str(_row_field(row, "id", index))
        match = _LEVEL_SUFFIX.match(row_id)
        if match is None:
            raise ValueError(
                f"row {index}: id: {row_id!r} has no curriculum level suffix `-L<j>`; build the data with "
                "`lsrif data build --curriculum` so each instruction comes with its levels"
            )
        try:
            tree = parse_structure(_row_field(row, "structure", index), row=index)
        except StructureError as err:
            raise ValueError(str(err)) from None
        text = prompt_text(_row_field(row, "prompt", index))
        if not text.strip():
            raise ValueError(f"row {index}: prompt: no user message text")
        series[match["base"]][int(match["level"])] = (text, leaves(tree), active_leaves(tree))
    contrasts = []
    for base, levels in sorted(series.items()):
        for level in sorted(levels):
            if level - 1 not in levels:
                continue
            (with_text, with_leaves, with_active), (without_text, without_leaves, _) = levels[level], levels[level - 1]
            added = Counter(map(_leaf_key, with_leaves)) - Counter(map(_leaf_key, without_leaves))
            if sum(added.values()) != 1:
                continue
            new = [leaf for leaf in with_active if _leaf_key(leaf) in added]
            if len(new) != 1:
                continue
            leaf = new[0]
            if leaf.kind == "soft" and leaf.text:
                contrasts.append(SoftContrast(base, leaf.id, leaf.text, with_text, without_text))
            elif leaf.kind == "hard" and leaf.id in as_soft:
                kwargs = json.dumps(leaf.kwargs, sort_keys=True)
                contrasts.append(SoftContrast(base, leaf.id, requirement_text(leaf), with_text, without_text, kwargs))
    return contrasts


def sample_responses(generator: Any, prompts: Iterable[str], num_samples: int) -> dict[str, list[str]]:
    """`num_samples` answers per distinct prompt from an `eval.generation.Generator` (one round per sample).

    Each round shifts the sampling seed: the OpenAI backend sends it with every request and the transformers
    backend's random state moves on between rounds, so rounds differ; vLLM fixes its seed at start, so its rounds
    repeat and `preference_rows` drops the repeated pairs."""
    if num_samples < 1:
        raise ValueError(f"num_samples: expected >= 1, got {num_samples}")
    unique = list(dict.fromkeys(prompts))
    answers: dict[str, list[str]] = {p: [] for p in unique}
    base = generator.sampling
    try:
        for round_ in range(num_samples):
            generator.sampling = replace(base, seed=base.seed + round_)
            by_prompt = {result.prompt: result.response for result in generator.generate(unique)}
            for prompt in unique:
                answers[prompt].append(by_prompt.get(prompt, ""))
    finally:
        generator.sampling = base
    return answers


@dataclass
class PairStats:
    """What `preference_rows` kept and dropped."""

    contrasts: int = 0
    pairs: int = 0
    blank: int = 0
    identical: int = 0
    repeated: int = 0


def preference_rows(
    contrasts: Iterable[SoftContrast], answers: Mapping[str, list[str]]
) -> tuple[list[dict[str, Any]], PairStats]:
    """TRL RewardTrainer rows (see the module docstring) and the counts of what was kept."""
    rows, stats = [], PairStats()
    for contrast in contrasts:
        stats.contrasts += 1
        positives, negatives = answers.get(contrast.prompt_with, []), answers.get(contrast.prompt_without, [])
        seen: set[tuple[str, str]] = set()
        for positive, negative in zip(positives, negatives, strict=False):
            if not positive.strip() or not negative.strip():
                stats.blank += 1
            elif positive.strip() == negative.strip():
                stats.identical += 1
            elif (positive, negative) in seen:
                stats.repeated += 1
            else:
                seen.add((positive, negative))
                stats.pairs += 1
                rows.append(
                    {
                        "prompt": rm_prompt(contrast.prompt_with, contrast.constraint_text),
                        "chosen": [{"role": "assistant", "content": positive}],
                        "rejected": [{"role": "assistant", "content": negative}],
                        "constraint_id": contrast.constraint_id,
                        "source_id": contrast.source_id,
                        **(
                            {}
                            if contrast.constraint_kwargs is None
                            else {"constraint_kwargs": contrast.constraint_kwargs}
                        ),
                    }
                )
    return rows, stats
