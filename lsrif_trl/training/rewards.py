"""The reward functions of a GRPO recipe: built from the registry, checked against the weights, and fitted to
chat templates that open the think block themselves.

DeepSeek-R1-Distill templates end the generation prompt with `<think>\\n`, so completions start inside the
reasoning and hold only the closing tag. Scored as they are, the think-format rule would fail every one of
them and an unclosed reasoning would be read as the answer; `restore_think_prefix` puts the opening back
before any reward sees the completion.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from lsrif_trl.judges.scorer_args import SoftScorerArguments
from lsrif_trl.training.errors import RecipeError
from lsrif_trl.trees import read_trees, tree_rows

THINK_OPEN = "<think>"


def check_rewards(script_args: Any, training_args: Any) -> list[Callable[..., list[float | None]]]:
    """The reward functions a GRPO recipe asks for, from the registry; RecipeError naming what to fix."""

    try:  # soft leaves are scored by the judge or reward model the recipe names (lsrif_trl.judges)
        soft_scorer = script_args.build_soft_scorer()
    except ValueError as err:
        raise RecipeError(str(err)) from None
    try:
        funcs = script_args.build(script_args.reward_funcs, soft_scorer=soft_scorer)
    except ValueError as err:
        raise RecipeError(f"reward_funcs: {err}") from None
    weights = training_args.reward_weights
    if weights is not None and len(weights) != len(funcs):
        raise RecipeError(
            f"reward_weights: {len(weights)} weights for {len(funcs)} reward functions {script_args.reward_funcs}; "
            "give one weight per reward or drop reward_weights"
        )
    return funcs


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


def prefilled_think(tokenizer: Any, chat_template_kwargs: Mapping[str, Any] | None) -> str:
    """The think opener the chat template writes at the end of a generation prompt ('' when it writes none)."""
    if getattr(tokenizer, "chat_template", None) is None:
        return ""
    rendered = tokenizer.apply_chat_template(
        [{"role": "user", "content": "hi"}], add_generation_prompt=True, tokenize=False, **(chat_template_kwargs or {})
    )
    opened = rendered.rfind(THINK_OPEN)
    return rendered[opened:] if opened != -1 and rendered.rstrip().endswith(THINK_OPEN) else ""


def _with_prefix(completion: Any, prefix: str) -> Any:
    if isinstance(completion, str):
        return completion if completion.lstrip().startswith(THINK_OPEN) else prefix + completion
    if isinstance(completion, list) and completion and isinstance(completion[-1], Mapping):
        message = completion[-1]
        content = message.get("content")
        has_reasoning = any(message.get(f) for f in ("reasoning_content", "reasoning", "thinking"))
        if isinstance(content, str) and not has_reasoning and not content.lstrip().startswith(THINK_OPEN):
            return [*completion[:-1], {**message, "content": prefix + content}]
    return completion


def restore_think_prefix(func: Callable[..., Any], prefix: str) -> Callable[..., Any]:
    """`func` scoring completions with the template's think opener put back in front (same `__name__`)."""

    @functools.wraps(func)
    def reward(prompts: Sequence[Any], completions: Sequence[Any], **columns: Any) -> Any:
        return func(prompts, [_with_prefix(c, prefix) for c in completions], **columns)

    return reward


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
