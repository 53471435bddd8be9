"""The evaluation rows of a training run: a seeded share of the prepared rows, held out before any model loads.

TRL evaluates on `eval_dataset` every `eval_steps` when `eval_strategy` is `steps` (or each epoch); without one it
fails only after the model has loaded. Here `eval_strategy` without `eval_fraction` stops the recipe first, and the
held-out rows are chosen by a seeded draw that keeps the training rows in their order (a sorted curriculum stays
sorted).
"""

from __future__ import annotations

import random
from typing import Any

from lsrif_trl.training.errors import RecipeError


def hold_out_eval_rows(dataset: Any, script_args: Any, training_args: Any) -> tuple[Any, Any | None]:
    """(training rows, evaluation rows or None): `eval_fraction` of the rows when `eval_strategy` asks for them."""
    strategy = str(getattr(training_args.eval_strategy, "value", training_args.eval_strategy))
    fraction = script_args.eval_fraction
    if strategy == "no":
        if fraction > 0:
            raise RecipeError(
                f"eval_fraction: {fraction} holds rows out but eval_strategy is `no`; set eval_strategy: steps "
                "(with eval_steps) or drop eval_fraction"
            )
        return dataset, None
    if fraction <= 0:
        raise RecipeError(
            f"eval_strategy: {strategy} needs evaluation rows; set eval_fraction (e.g. 0.05) to hold out that share "
            "of the training rows"
        )
    held = max(1, round(len(dataset) * fraction))
    if held >= len(dataset):
        raise RecipeError(f"eval_fraction: {fraction} of {len(dataset)} rows leaves none to train on")
    chosen = set(random.Random(training_args.seed).sample(range(len(dataset)), held))
    train = dataset.select([i for i in range(len(dataset)) if i not in chosen])
    return train, dataset.select(sorted(chosen))
