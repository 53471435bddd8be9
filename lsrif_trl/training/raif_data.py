"""Behaviour cloning's data for a GRPO recipe: the demonstrations `bc_dataset` names, checked before any model, and
the tokenized stream the RAIF trainer draws from (`lsrif_trl.training.raif_trainer`)."""

from __future__ import annotations

from typing import Any

from lsrif_trl.training.behaviour_cloning import split_demonstration
from lsrif_trl.training.errors import RecipeError
from lsrif_trl.training.raif_args import RaifArguments

EXPERT = "expert"  # `bc_dataset: expert`


def load_demonstrations(args: RaifArguments, train_dataset: Any, seed: int) -> Any:
    """The demonstrations (None when behaviour cloning is off) as conversational prompt-completion rows.

    `bc_dataset: expert` answers the training rows with the project's programmatic expert
    (`lsrif_trl.data.expert`, noise `bc_expert_noise`, a planning think block with `bc_expert_reasoning`) and keeps the answers that satisfy their whole tree."""
    if not args.bc_dataset:
        return None
    if args.bc_coef <= 0:
        raise RecipeError(f"bc_coef: expected a weight > 0 with bc_dataset set, got {args.bc_coef}")
    from lsrif_trl.training.data import as_demonstrations
    from lsrif_trl.training.rewards import filter_demonstrations

    if args.bc_dataset == EXPERT:
        from lsrif_trl.data.expert import ExpertConfig, answer_rows

        expert = ExpertConfig(noise=args.bc_expert_noise, reasoning=args.bc_expert_reasoning)
        answers, report = answer_rows(train_dataset, seed, expert)
        print(f"bc_dataset expert: {report.summary()}")
        answered = as_demonstrations(train_dataset.add_column("completion", answers), "completion")
        return filter_demonstrations(answered, "all", 1.0, {})
    from lsrif_trl.data.loading import load_training_dataset

    try:
        rows = load_training_dataset(args.bc_dataset, split=args.bc_dataset_split, validate=False)
    except Exception as err:  # datasets raises many types (offline, not found, bad split, bad file)
        raise RecipeError(
            f"bc_dataset: {args.bc_dataset!r} could not be loaded ({type(err).__name__}: {err})"
        ) from None
    if "messages" in rows.column_names:
        for index, row in enumerate(rows):
            try:
                split_demonstration(row)
            except ValueError as err:
                raise RecipeError(f"bc_dataset: {args.bc_dataset} row {index}: {err}") from None
        return rows
    try:
        return as_demonstrations(rows, "completion")
    except RecipeError as err:
        raise RecipeError(f"bc_dataset: {args.bc_dataset}: {err}") from None


def expert_stream(args: RaifArguments, rows: Any, tokenizer: Any, training_args: Any) -> Any:
    """The demonstrations tokenized into this process's seeded, cycling stream (None when cloning is off)."""
    if rows is None:
        return None
    from accelerate import PartialState

    from lsrif_trl.training.behaviour_cloning import ExpertStream, tokenize_demonstration

    state = PartialState()
    demonstrations = [tokenize_demonstration(r, tokenizer, args.bc_loss_on, args.bc_max_length) for r in rows]
    try:
        return ExpertStream(
            demonstrations,
            batch_size=args.bc_batch_size or training_args.per_device_train_batch_size,
            seed=training_args.seed,
            rank=state.process_index,
            world_size=state.num_processes,
        )
    except ValueError as err:
        raise RecipeError(str(err)) from None
