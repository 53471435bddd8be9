"""Checks a recipe's environment before any model loads: what the run will need must be there now, not an hour in.

`preflight(...)` is called by the recipe scripts after the recipe parsed and before the dataset, tokenizer or
model: each problem is a RecipeError saying what to install or set.
"""

from __future__ import annotations

from typing import Any

from lsrif_trl.training.config import RecipeError


def check_punkt() -> None:
    """NLTK's punkt parameters load (the packaged copy, or the one `NLTK_DATA` points at) before any check needs them."""
    from lsrif_trl.constraints.nltk_resources import PunktUnavailableError, punkt_tokenizer

    try:
        punkt_tokenizer()
    except PunktUnavailableError as err:
        raise RecipeError(str(err)) from None


def preflight(script_args: Any, training_args: Any, model_args: Any) -> None:
    """Every environment check a recipe's options call for, as RecipeError, before anything heavy loads."""
    check_punkt()
