"""The checked preference data of `recipes/train_rm.py`: every pair is checked before a model is loaded.

The rows are TRL `RewardTrainer` rows as `lsrif rm-data` writes them (`lsrif_trl.judges.rm_format`); a bad row
stops the run naming the row, the field and the fix.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lsrif_trl.judges.rm_format import row_problem
from lsrif_trl.training.args import RMScriptArguments
from lsrif_trl.training.errors import RecipeError


def validate_preference_rows(dataset: Any, source: str) -> None:
    """RecipeError naming the first bad row of a RewardTrainer dataset (columns checked first)."""
    missing = [c for c in ("chosen", "rejected") if c not in dataset.column_names]
    if missing:
        raise RecipeError(
            f"dataset_name: {source}: no {' or '.join(missing)} column (found {dataset.column_names}); "
            "build pairs with `lsrif rm-data` or give a RewardTrainer dataset"
        )
    if len(dataset) == 0:
        raise RecipeError(f"dataset_name: {source}: no rows")
    for index, row in enumerate(dataset):
        problem = row_problem(row)
        if problem:
            raise RecipeError(f"dataset_name: {source} row {index}: {problem}")


def load_preference_data(args: RMScriptArguments) -> tuple[Any, Any | None]:
    """The checked train split (and test split, if asked) named by `args`."""
    from lsrif_trl.data.loading import load_training_dataset

    if not args.dataset_name:
        raise RecipeError("dataset_name: not set; give the pairs file written by `lsrif rm-data`")
    if args.dataset_test_split is not None and Path(args.dataset_name).is_file():
        raise RecipeError(
            f"dataset_test_split: {args.dataset_name} is one file with one split; drop dataset_test_split or "
            "give a dataset folder / Hub id with a test split"
        )
    splits = []
    for split in (args.dataset_train_split, args.dataset_test_split):
        if split is None:
            splits.append(None)
            continue
        try:
            dataset = load_training_dataset(args.dataset_name, split=split, validate=False, config=args.dataset_config)
        except Exception as err:  # datasets raises many types (missing file, offline, bad split)
            raise RecipeError(
                f"dataset_name: {args.dataset_name!r} split {split!r} could not be loaded "
                f"({type(err).__name__}: {err}); check the path or Hub id, or run `lsrif rm-data` to build it"
            ) from None
        if split == args.dataset_train_split and args.max_train_samples is not None:
            dataset = dataset.select(range(min(args.max_train_samples, len(dataset))))
        validate_preference_rows(dataset, f"{args.dataset_name} ({split})")
        splits.append(dataset)
    return splits[0], splits[1]
