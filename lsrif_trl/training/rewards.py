"""The reward functions of a GRPO recipe and of the SFT filter: built from the registry, checked against the
weights and the data before any model loads."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from lsrif_trl.judges.scorer_args import SoftScorerArguments
from lsrif_trl.rewards.soft import SoftScorerError
from lsrif_trl.training.errors import RecipeError
from lsrif_trl.trees import read_trees, tree_rows


def check_rewards(script_args: Any, training_args: Any) -> list[Callable[..., list[float | None]]]:
    """The reward functions a GRPO recipe asks for, from the registry; RecipeError naming what to fix."""

    try:  # soft leaves are scored by the judge or reward model the recipe names (lsrif_trl.judges)
        soft_scorer = script_args.build_soft_scorer()
        soft_scored = script_args.soft_scored_ids(soft_scorer)
        preflight = getattr(soft_scorer, "preflight", None)
        if callable(preflight):  # a judge that cannot answer stops the recipe here, before any model loads
            preflight()
    except (ValueError, SoftScorerError) as err:
        raise RecipeError(str(err)) from None
    try:
        funcs = script_args.build(script_args.reward_funcs, soft_scorer=soft_scorer, soft_scored=soft_scored)
    except ValueError as err:
        raise RecipeError(f"reward_funcs: {err}") from None
    mixture = getattr(script_args, "mixture", None)
    if mixture is not None:  # each function scores only the rows of the sources that list it
        from lsrif_trl.training.mixture import route_rewards

        funcs = route_rewards(funcs, mixture)
    weights = training_args.reward_weights
    if weights is not None and len(weights) != len(funcs):
        raise RecipeError(
            f"reward_weights: {len(weights)} weights for {len(funcs)} reward functions {script_args.reward_funcs}; "
            "give one weight per reward or drop reward_weights"
        )
    return funcs


def run_totals(funcs: Sequence[Callable[..., Any]]) -> dict[str, dict[str, int]]:
    """Per reward function, its failed checks and missing soft verdicts since it was built, and its judge's totals
    (for the model card: the run's counts, not the last step's)."""
    totals: dict[str, dict[str, int]] = {}
    for func in funcs:
        if hasattr(func, "error_count"):
            totals[func.__name__] = {"errors": func.error_count, "missing soft verdicts": func.missing_count}
        scorer_totals = getattr(getattr(func, "soft_scorer", None), "run_totals", None)
        if callable(scorer_totals):
            totals[f"{func.__name__} judge"] = scorer_totals()
    return totals


def check_soft_leaves_scored(dataset: Any, args: SoftScorerArguments) -> None:
    """RecipeError before training when the data has soft leaves but the recipe names no scorer for them."""
    if args.soft_scorer != "none" or "structure" not in dataset.column_names:
        return
    found = read_trees(tree_rows(dataset)).first_soft_leaf()  # the trees validation read, from the cache
    if found:
        raise RecipeError(
            f"row {found[0]}: structure: soft constraint {found[1]!r} needs a scorer; set `soft_scorer: judge` "
            "(with judge_base_url, judge_model) or `soft_scorer: classifier` (with soft_rm_path), or build the "
            "data without soft constraints"
        )


def filter_demonstrations(dataset: Any, reward_name: str, min_reward: float, options: Mapping[str, Any]) -> Any:
    """Behaviour cloning keeps only demonstrations that satisfy their own constraints (reward >= `min_reward`)."""
    from lsrif_trl.rewards import get_reward_func

    try:
        reward = get_reward_func(reward_name, **options)
    except ValueError as err:
        raise RecipeError(f"filter_reward: {err}") from None
    columns = {c: dataset[c] for c in dataset.column_names if c not in ("prompt", "completion")}
    scores = reward(dataset["prompt"], dataset["completion"], **columns)
    keep = [i for i, score in enumerate(scores) if score is not None and score >= min_reward]
    if not keep:
        raise RecipeError(
            f"filter_reward: no demonstration scores >= {min_reward} under {reward_name!r}; lower min_reward or "
            "check that the completions answer their prompts"
        )
    print(f"filter_reward {reward_name}: kept {len(keep)} of {len(dataset)} demonstrations (reward >= {min_reward})")
    return dataset.select(keep)
