"""Load, validate and save training data: any dataset must pass `validate_rows` before a recipe uses it.

The contract (docs/datasets.md): a `prompt` column (chat messages `[{"role", "content"}, ...]` ending with a
user turn, or a plain string) and, per row, either a `structure` tree or the flat IFEval columns
(`instruction_id_list` + `kwargs`). The builder's extra columns are checked when present: `structure_type`,
`depth`, `n_constraints` and `families` must agree with the tree, `level` is a count in 1..n_constraints, `id`
unique. Trees are read through `lsrif_trl.trees`, once per distinct tree; `validated_trees` returns them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from datasets import Dataset, DatasetDict, load_dataset, load_from_disk
from pyarrow import ArrowException

from lsrif_trl.data.constraint_pool import load_all_constraints
from lsrif_trl.jsonl import read_objects
from lsrif_trl.sources import looks_like_hub_id
from lsrif_trl.trees import DatasetTrees, TreeReader

ROLES = ("system", "user", "assistant")
FORMATS = ("disk", "parquet", "jsonl")
MAX_REPORTED_ERRORS = 50


class DatasetValidationError(ValueError):
    """A dataset that breaks the contract; `errors` lists one message per problem, each naming row and field."""

    def __init__(self, errors: list[str], total: int, source: str = "dataset") -> None:
        self.errors, self.total = errors, total
        shown = "\n".join(f"  {e}" for e in errors)
        more = f"\n  ... and {total - len(errors)} more" if total > len(errors) else ""
        super().__init__(f"{source}: {total} problem(s) found:\n{shown}{more}")


def prompt_error(prompt: Any) -> str | None:
    if isinstance(prompt, str):
        return None if prompt.strip() else "empty prompt string"
    if not isinstance(prompt, Sequence) or not prompt:
        return f"expected a non-empty list of chat messages or a string, got {type(prompt).__name__}"
    for j, message in enumerate(prompt):
        if not isinstance(message, Mapping):
            return f"[{j}]: expected a {{'role', 'content'}} message, got {type(message).__name__}"
        if message.get("role") not in ROLES:
            return f"[{j}].role: expected one of {list(ROLES)}, got {message.get('role')!r}"
        if not isinstance(message.get("content"), str) or not message["content"].strip():
            return f"[{j}].content: expected a non-empty string"
    if prompt[-1]["role"] != "user":
        return f"[{len(prompt) - 1}].role: the last message must be the user's turn, got {prompt[-1]['role']!r}"
    return None


def with_system_prompt(prompt: list[dict[str, Any]], system_prompt: str) -> list[dict[str, Any]]:
    """The chat prompt with `system_prompt` as its first message, unless it opens with a system message of its own."""
    if prompt[0]["role"] == "system":
        return prompt
    return [{"role": "system", "content": system_prompt}, *prompt]


def _row_errors(row: Mapping[str, Any], reader: TreeReader) -> list[str]:
    """Problems of one row, each as `field: message`; its tree is read through `reader`."""
    errors = []
    problem = prompt_error(row.get("prompt"))
    if problem:
        errors.append(f"prompt{problem if problem.startswith('[') else ': ' + problem}")
    facts = reader.add(row)
    if facts is None:
        return [*errors, reader.last_error]
    n = len(facts.leaves)
    expected = {"structure_type": facts.type, "depth": facts.depth, "n_constraints": n}
    for name, value in expected.items():
        if name in row and row[name] != value:
            errors.append(f"{name}: says {row[name]!r} but the structure gives {value!r}")
    level = row.get("level", n)
    if isinstance(level, bool) or not isinstance(level, int) or not 1 <= level <= n:
        errors.append(f"level: expected an integer in 1..{n} (the number of constraints), got {level!r}")
    families = row.get("families", list(facts.families))
    if not isinstance(families, list) or not all(isinstance(f, str) for f in families):
        errors.append(f"families: expected a list of strings, got {families!r:.80}")
    elif sorted(set(families)) != list(facts.families):
        errors.append(f"families: says {families!r:.80} but the structure gives {list(facts.families)!r:.80}")
    return errors


def _rows(dataset: Dataset, batch_size: int = 1024) -> Iterator[dict[str, Any]]:
    """The rows as dicts, read a batch of columns at a time (much faster than per-row Arrow access)."""
    for batch in dataset.iter(batch_size=batch_size):
        names = list(batch)
        for values in zip(*(batch[name] for name in names), strict=True):
            yield dict(zip(names, values, strict=True))


def row_errors(dataset: Dataset, max_errors: int = MAX_REPORTED_ERRORS) -> tuple[list[str], int]:
    """(the first `max_errors` problems as `row i (id X): field: message`, the total number of problems)."""
    messages, total, _ = _checked(dataset, max_errors)
    return messages, total


def _checked(dataset: Dataset, max_errors: int) -> tuple[list[str], int, DatasetTrees]:
    """`row_errors` and the dataset's trees, read in the same pass."""
    load_all_constraints()
    reader = TreeReader()
    columns = set(dataset.column_names)
    if "prompt" not in columns:
        return [f"columns: no `prompt` column (found {sorted(columns)})"], 1, reader.result()
    if "structure" not in columns and "instruction_id_list" not in columns:
        found = sorted(columns)
        return (
            [f"columns: no `structure` (or `instruction_id_list` + `kwargs`) column (found {found})"],
            1,
            reader.result(),
        )
    messages: list[str] = []
    total = 0
    seen_ids: dict[str, int] = {}
    for i, row in enumerate(_rows(dataset)):
        problems = _row_errors(row, reader)
        row_id = row.get("id")
        if isinstance(row_id, str):
            if row_id in seen_ids:
                problems.append(f"id: {row_id!r} repeats row {seen_ids[row_id]}")
            seen_ids.setdefault(row_id, i)
        total += len(problems)
        where = f"row {i}" + (f" (id {row_id})" if isinstance(row_id, str) else "")
        messages.extend(f"{where}: {p}" for p in problems[: max(0, max_errors - len(messages))])
    return messages, total, reader.result()


def validated_trees(dataset: Dataset, source: str = "dataset") -> DatasetTrees:
    """The trees of `dataset` if every row follows the contract; a DatasetValidationError listing problems otherwise."""
    errors, total, trees = _checked(dataset, MAX_REPORTED_ERRORS)
    if total:
        raise DatasetValidationError(errors, total, source)
    return trees


def validate_rows(dataset: Dataset, source: str = "dataset") -> Dataset:
    """`dataset` unchanged if every row follows the contract; a DatasetValidationError listing problems otherwise."""
    validated_trees(dataset, source)
    return dataset


def read_jsonl(path: Path) -> Dataset:
    """A JSONL file as a Dataset, read with the project's line reader (errors name the file and the line)."""
    rows = [row for _, row in read_objects(path)]
    try:
        return Dataset.from_list(rows)
    except (ArrowException, TypeError, ValueError) as err:  # rows whose columns do not form one table
        raise ValueError(f"{path}: the lines do not form one table ({type(err).__name__}: {err})") from None


def _read(path_or_hub_id: str, split: str, config: str | None) -> Dataset:
    path = Path(path_or_hub_id)
    if config is not None and path.exists() and (path.is_file() or _saved_to_disk(path)):
        raise ValueError(
            f"{path}: dataset_config {config!r} names a configuration of a Hub dataset (or of a folder whose "
            f"README.md declares `configs`), and this {'file' if path.is_file() else 'save_to_disk folder'} has "
            f"none; drop dataset_config (`--config`)"
        )
    if path.is_dir() and config is None and (path / f"{split}.jsonl").is_file():
        return read_jsonl(path / f"{split}.jsonl")
    if path.is_dir():
        if (path / "dataset_dict.json").exists():
            data = load_from_disk(str(path))
            assert isinstance(data, DatasetDict)
            if split not in data:
                raise ValueError(f"{path}: no split {split!r}; it has {sorted(data)}")
            return data[split]
        if (path / "state.json").exists():
            return load_from_disk(str(path))
        return load_dataset(str(path), config, split=split)
    if path.is_file():
        suffix = path.suffix.lower()
        if suffix == ".parquet":
            return Dataset.from_parquet(str(path))
        if suffix == ".jsonl":
            return read_jsonl(path)
        if suffix == ".json":
            return Dataset.from_json(str(path))
        raise ValueError(f"{path}: unsupported file type {suffix!r}; use .parquet, .jsonl or a save_to_disk folder")
    if not looks_like_hub_id(path_or_hub_id):
        raise FileNotFoundError(f"{path_or_hub_id}: no such file or folder (and not a Hub id like `owner/name`)")
    try:
        return load_dataset(path_or_hub_id, config, split=split)
    except (OSError, ValueError) as err:  # not found, offline, unknown config or split: datasets raises all of these
        raise ValueError(
            f"{path_or_hub_id}: could not load it as a Hub dataset ({type(err).__name__}: {err}); check the id, "
            f"the configuration and the split, that you are online (HF_HUB_OFFLINE unset) and logged in for a "
            f"private dataset, or give a local folder or .parquet/.jsonl file"
        ) from None


def _saved_to_disk(path: Path) -> bool:
    return path.is_dir() and ((path / "dataset_dict.json").exists() or (path / "state.json").exists())


def load_training_dataset(
    path_or_hub_id: str, split: str = "train", validate: bool = True, config: str | None = None
) -> Dataset:
    """A dataset from a save_to_disk folder, a parquet/jsonl file or folder, or a Hub id, validated first.

    `config` is the Hub dataset's configuration (`datasets.load_dataset(name, config)`), also that of a local folder
    whose README.md declares `configs`; ValueError for a file or a save_to_disk folder, which have none."""
    dataset = _read(str(path_or_hub_id), split, config)
    return validate_rows(dataset, source=str(path_or_hub_id)) if validate else dataset


def save_dataset(dataset: Dataset, output: str | Path, fmt: str = "disk") -> Path:
    """Write `dataset` under the folder `output` (`save_to_disk`, `train.parquet` or `train.jsonl`); the path."""
    if fmt not in FORMATS:
        raise ValueError(f"format {fmt!r}: use one of {list(FORMATS)}")
    out = Path(output)
    out.mkdir(parents=True, exist_ok=True)
    if fmt == "disk":
        dataset.save_to_disk(str(out))
        return out
    target = out / f"train.{fmt}"
    if fmt == "parquet":
        dataset.to_parquet(str(target))
    else:
        dataset.to_json(str(target), lines=True, force_ascii=False)
    return target


SAVED_DATASET_FILES = ("state.json", "dataset_dict.json", "train.parquet", "train.jsonl")


def output_problem(output: Path, data: str, overwrite: bool) -> str | None:
    """Why `output` may not be written (the input itself, or existing files without --overwrite), or None."""
    if Path(data).exists() and output.resolve() == Path(data).resolve():
        return f"--output {output} is the input dataset; write to another folder"
    if not output.exists() or (output.is_dir() and not any(output.iterdir())):
        return None
    if not overwrite:
        return f"--output {output} already exists; pass --overwrite to replace it, or choose another folder"
    if not output.is_dir() or not any((output / name).exists() for name in SAVED_DATASET_FILES):
        return f"--output {output} holds something other than a saved dataset; refusing to replace it"
    return None


def saved_format(path_or_hub_id: str) -> str:
    """The `save_dataset` format that writes data like `path_or_hub_id` again: `jsonl` or `parquet` for such a file
    or a folder holding one (`train.jsonl`, `train.parquet`), else `disk`."""
    path = Path(path_or_hub_id)
    for fmt in ("jsonl", "parquet"):
        if (path.is_file() and path.suffix.lower() == f".{fmt}") or (path / f"train.{fmt}").is_file():
            return fmt
    return "disk"
