"""The training rows of a recipe: find or build the dataset, validate every row, then apply the curriculum.

Runs before any model is loaded, so a missing dataset or a bad row stops a run in seconds with a message
naming the row, the field and the fix.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsrif_trl.data.expert import ExpertConfig
from lsrif_trl.training.errors import RecipeError

if TYPE_CHECKING:  # annotations only: training.args reads the mixture module, which loads rows through this one
    from lsrif_trl.training.args import DataArguments


def build_missing_dataset(
    folder: Path,
    rows: int,
    seed: int,
    families: list[str] | None = None,
    expert: ExpertConfig | None = None,
    world: str | None = None,
) -> None:
    """Build `rows` instructions into `folder` with `data.build.build_to` (rows, stats, dataset card), drawing
    constraints from `families` (every registered family when empty or None) or from the preset `world`; with
    `expert`, answer every row with `data.build.answer_to` (a `completion` column) before the folder gets its
    name."""
    from lsrif_trl.data.build import BuildOptions, answer_to, build_command, build_to
    from lsrif_trl.data.builder import shape_options

    if folder.suffix:
        raise RecipeError(f"dataset_name: {folder}: the builder writes a dataset folder; drop the file suffix")
    staging = folder.with_name(f".{folder.name}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    options = BuildOptions(
        num_examples=rows,
        seed=seed,
        families=tuple(families) if families else None,
        overwrite=True,
        world=world,
        **shape_options(world),
    )
    try:
        report = build_to(staging, options)
    except ValueError as err:
        raise RecipeError(
            f"dataset_name: building {folder} failed: {err}; `{build_command(folder, options)}` builds it"
        ) from None
    if expert is not None:
        answered = folder.with_name(f".{folder.name}.answered")
        try:
            print(answer_to(staging, answered, expert, seed).summary())
        except ValueError as err:
            raise RecipeError(f"dataset_name: answering {folder} with the tree expert failed: {err}") from None
        shutil.rmtree(staging)
        staging = answered
    staging.rename(folder)  # a crash mid-build never leaves a half dataset under the real name
    print(f"built {report.rows} rows into {folder}")


def load_rows(args: DataArguments):
    """The train split named by `args` (local file or folder, else Hub id), not yet validated."""
    from lsrif_trl.data.loading import load_training_dataset
    from lsrif_trl.sources import looks_like_hub_id

    if not args.dataset_name:
        raise RecipeError(
            "dataset_name: not set; give a dataset folder, a .jsonl/.parquet file or a Hub id "
            "(or set build_dataset_rows to build a local one with `lsrif data build`)"
        )
    path = Path(args.dataset_name)
    hub_id = not path.exists() and looks_like_hub_id(args.dataset_name)  # never built here: loaded or an error
    if not path.exists() and not hub_id and args.build_dataset_rows > 0:
        if args.dataset_config is not None:
            raise RecipeError(
                f"dataset_config: {args.dataset_config!r} with build_dataset_rows, but the builder writes "
                f"{args.dataset_name} without configurations; drop dataset_config"
            )
        build_missing_dataset(
            path,
            args.build_dataset_rows,
            args.build_dataset_seed,
            args.build_dataset_families,
            args.expert_answers(),
            args.build_dataset_world,
        )
    if not path.exists() and not hub_id:
        raise RecipeError(
            f"dataset_name: {args.dataset_name} does not exist; build it (`lsrif data build --output "
            f"{args.dataset_name} ...`), fix the path, or set build_dataset_rows > 0 to build it here"
        )
    try:
        dataset = load_training_dataset(
            args.dataset_name, split=args.dataset_train_split, validate=False, config=args.dataset_config
        )
    except Exception as err:  # datasets raises many types (offline, not found, bad split, bad file)
        built_here = (
            f" build_dataset_rows builds local folders only; to build it here, name a path such as "
            f"./{args.dataset_name}."
            if hub_id and args.build_dataset_rows > 0
            else ""
        )
        what = "Hub dataset" if hub_id else "dataset"
        raise RecipeError(
            f"dataset_name: {what} {args.dataset_name!r} could not be loaded ({type(err).__name__}: {err}); check "
            f"the path or Hub id, the configuration (dataset_config) and the split (dataset_train_split), or that "
            f"you are online for a Hub id.{built_here}"
        ) from None
    if args.build_dataset_rows > 0 and args.build_dataset_families and not hub_id:
        check_built_families(dataset, args.dataset_name, tuple(args.build_dataset_families))
    return dataset


def check_built_families(dataset, name: str, selectors: tuple[str, ...]) -> None:
    """A dataset the recipe builds (or built earlier) holds only the selected constraint families (soft leaves
    come from any selection); RecipeError naming the first row outside them, e.g. a folder from an older build."""
    from lsrif_trl.constraints.soft import SOFT_FAMILY
    from lsrif_trl.data.constraint_pool import family_matches

    if "families" not in dataset.column_names:
        return
    for index, row_families in enumerate(dataset["families"]):
        outside = [f for f in row_families if f != SOFT_FAMILY and not family_matches(f, selectors)]
        if outside:
            raise RecipeError(
                f"dataset_name: {name} row {index} has constraint family {outside[0]!r}, outside "
                f"build_dataset_families {list(selectors)} (an older build, or built with other families); delete "
                "the folder to rebuild it here, or set build_dataset_families to the families it was built with"
            )


def apply_curriculum(dataset, args: DataArguments):
    """Order or cut the rows by their `level` column as `args.curriculum` says."""
    if args.curriculum == "none":
        return dataset
    if "level" not in dataset.column_names:
        raise RecipeError(
            f"curriculum: {args.curriculum!r} needs a `level` column; build the data with curriculum levels "
            "or set curriculum: none"
        )
    if args.curriculum == "sorted":
        return dataset.sort("level")  # Arrow sorts stably: the original order holds within a level
    kept = dataset.filter(lambda level: level <= args.curriculum_max_level, input_columns="level")
    if len(kept) == 0:
        raise RecipeError(f"curriculum_max_level: no row has level <= {args.curriculum_max_level}")
    return kept


def add_system_prompt(dataset, system_prompt: str | None):
    """Put `system_prompt` first in every chat prompt that has no system message of its own."""
    if not system_prompt:
        return dataset
    if not isinstance(dataset[0]["prompt"], list):
        raise RecipeError("system_prompt: needs conversational prompts (lists of messages), got plain strings")

    from lsrif_trl.data.loading import with_system_prompt

    return dataset.map(lambda prompt: {"prompt": with_system_prompt(prompt, system_prompt)}, input_columns="prompt")


def prepare_dataset(args: DataArguments, *, validate: bool = True, completion_column: str | None = None):
    """Load, validate (every row, before any model), cut and order the training rows of a recipe.

    `validate=False` skips the structure contract (SFT rows without trees); `completion_column` turns the rows
    into conversational prompt-completion demonstrations (SFT)."""
    from lsrif_trl.data.loading import DatasetValidationError, validate_rows

    dataset = load_rows(args)
    if args.max_train_samples is not None:
        dataset = dataset.select(range(min(args.max_train_samples, len(dataset))))
    if len(dataset) == 0:
        raise RecipeError(f"dataset_name: {args.dataset_name!r} has no rows in split {args.dataset_train_split!r}")
    if validate:
        try:
            validate_rows(dataset, source=f"dataset_name {args.dataset_name}")
        except DatasetValidationError as err:
            raise RecipeError(
                f"{err}\nfix those rows (`lsrif data validate {args.dataset_name}` lists them)"
            ) from None
    if completion_column is not None:
        dataset = as_demonstrations(dataset, completion_column)
    return add_system_prompt(apply_curriculum(dataset, args), args.system_prompt)


def as_demonstrations(dataset, completion_column: str):
    """Rows as TRL's conversational prompt-completion pairs; RecipeError naming the row or column to fix."""
    missing = [c for c in ("prompt", completion_column) if c not in dataset.column_names]
    if missing:
        raise RecipeError(
            f"dataset: no {missing} column(s) (columns: {dataset.column_names}); SFT rows need `prompt` and the "
            f"completion column `{completion_column}` (set completion_column to rename it)"
        )
    for index, row in enumerate(dataset):
        completion = row[completion_column]
        text = completion if isinstance(completion, str) else None
        if isinstance(completion, list) and completion and isinstance(completion[-1], dict):
            text = completion[-1].get("content")
        if not isinstance(text, str) or not text.strip():
            raise RecipeError(f"row {index}: {completion_column}: expected a non-empty string or assistant message")

    def convert(prompt: Any, completion: Any) -> dict[str, Any]:
        return {
            "prompt": [{"role": "user", "content": prompt}] if isinstance(prompt, str) else prompt,
            "completion": [{"role": "assistant", "content": completion}]
            if isinstance(completion, str)
            else completion,
        }

    converted = dataset.map(convert, input_columns=["prompt", completion_column])
    return converted if completion_column == "completion" else converted.remove_columns(completion_column)
