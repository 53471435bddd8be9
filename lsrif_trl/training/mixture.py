"""Dataset mixtures for GRPO: several datasets in given proportions, each row scored only by its own source's rewards.

    dataset_mixture:
      seed: 0                                  # the draw and the order of the rows (same seed, same mixture)
      datasets:
        - source: instructions                 # a name: every row carries it in the `data_source` column
          path: data/built/lsr-train           # a local file or folder, or a Hub id (lsrif_trl.sources)
          weight: 1.0                          # relative share of the mixture (RAIF: 1:1)
          reward_funcs: [raif, think_format]   # registry names or import paths, as the top-level key
        - source: math
          path: agentica-org/DeepScaleR-Preview-Dataset
          split: train                         # and `config`: the Hub dataset's configuration
          columns: {prompt: problem, solution: answer}   # {column the rewards read: column of this dataset}
          weight: 1.0
          reward_funcs: [math_raif, think_format]

Keys of an entry: `source`, `path`, `weight`, `reward_funcs` (required), `config`, `split`, `columns` (a mapping as
above, or a list of columns kept as they are; default: every column), `prompt_suffix` (text appended to each
prompt's last user message), `build_rows` with `builder` (`instructions` or `arithmetic`: build a missing local
folder with that many rows; the instructions builder takes the recipe's `build_dataset_*` keys).
Proportions follow TRL 1.16's `DatasetConfig.fraction`: shares w_s = weight_s / sum(weight); the mixture has
N = min_s(len_s / w_s) rows (the largest that draws no row twice), capped by `max_train_samples`; source s gives
its largest-remainder share of N, drawn without replacement by the seed; then the mixture is shuffled by the seed.
The run's reward functions are every source's, in order of first appearance (TRL's `reward_weights` follows that
order); each returns None for rows of other sources, which TRL leaves out of that function's sum and mean.
A source scored by a tree reward (lsrm, flat, all, raif, mean5) is instruction data: its rows are validated as
such (`data.loading.validate_rows`), RAIF's superior-CoT contrast applies to them and only them, and `bc_dataset:
expert` answers them; other sources need a prompt and the columns their rewards read (a row with an empty
`solution` is dropped and counted).
"""

from __future__ import annotations

import difflib
import random
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from lsrif_trl.rewards.lsrm import AGGREGATIONS
from lsrif_trl.sources import looks_like_hub_id
from lsrif_trl.training.errors import RecipeError

SOURCE_COLUMN = "data_source"  # as verl names it; the builder's own `source` column is provenance
BUILDERS = ("instructions", "arithmetic")
ENTRY_KEYS = (
    "source",
    "path",
    "weight",
    "reward_funcs",
    "config",
    "split",
    "columns",
    "prompt_suffix",
    "build_rows",
    "builder",
)
REQUIRED_KEYS = ("source", "path", "weight", "reward_funcs")
SOURCE_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")  # it becomes part of metric names
RewardFunc = Callable[..., list[float | None]]


def reward_name(entry: str | Mapping[str, Any]) -> str:
    """The registry name (or import path) of a `reward_funcs` entry."""
    return str(entry.get("name")) if isinstance(entry, Mapping) else str(entry)


@dataclass(frozen=True)
class MixtureSource:
    """One dataset of a mixture (the keys are in the module docstring)."""

    source: str
    path: str
    weight: float
    reward_funcs: tuple[Any, ...]
    config: str | None = None
    split: str = "train"
    columns: tuple[tuple[str, str], ...] | None = None  # (column the rewards read, column of the dataset)
    prompt_suffix: str | None = None
    build_rows: int = 0
    builder: str = "instructions"

    @property
    def is_instructions(self) -> bool:
        """Whether a tree reward scores this source (its rows are instruction-following rows)."""
        return any(reward_name(e) in AGGREGATIONS for e in self.reward_funcs)


@dataclass(frozen=True)
class Mixture:
    """The parsed `dataset_mixture` key."""

    sources: tuple[MixtureSource, ...]
    seed: int = 0

    def reward_entries(self) -> list[Any]:
        """Every source's reward entries, each once, in order of first appearance (the run's `reward_funcs`)."""
        entries: list[Any] = []
        for source in self.sources:
            entries += [e for e in source.reward_funcs if e not in entries]
        return entries

    def instruction_sources(self) -> frozenset[str]:
        """The sources RAIF's contrast and the programmatic expert apply to."""
        return frozenset(s.source for s in self.sources if s.is_instructions)


def _entry_error(where: str, key: str, message: str) -> ValueError:
    return ValueError(f"dataset_mixture.{where}.{key}: {message}")


def _columns(value: Any, where: str) -> tuple[tuple[str, str], ...] | None:
    if value is None:
        return None
    if isinstance(value, list) and value and all(isinstance(c, str) and c for c in value):
        return tuple((c, c) for c in value)
    if (
        isinstance(value, Mapping)
        and value
        and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items())
    ):
        return tuple(value.items())
    raise _entry_error(
        where,
        "columns",
        f"expected {{column the rewards read: column of the dataset}} or a list of columns, got {value!r}",
    )


def parse_source(entry: Any, index: int) -> MixtureSource:
    """One entry of `dataset_mixture.datasets`; ValueError naming the entry, the key and the fix."""
    where = f"datasets[{index}]"
    if not isinstance(entry, Mapping):
        raise ValueError(f"dataset_mixture.{where}: expected a mapping with keys {list(REQUIRED_KEYS)}, got {entry!r}")
    for key in entry:
        if key not in ENTRY_KEYS:
            close = difflib.get_close_matches(str(key), ENTRY_KEYS, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; known keys: {', '.join(ENTRY_KEYS)}"
            raise ValueError(f"dataset_mixture.{where}: unknown key {key!r}{hint}")
    for key in REQUIRED_KEYS:
        if entry.get(key) is None:
            raise _entry_error(
                where, key, "missing; every dataset of a mixture needs source, path, weight, reward_funcs"
            )
    source, path, weight, rewards = entry["source"], entry["path"], entry["weight"], entry["reward_funcs"]
    if not isinstance(source, str) or not SOURCE_NAME.match(source):
        raise _entry_error(where, "source", f"expected a name of letters, digits, '_', '.', '-', got {source!r}")
    if not isinstance(path, str) or not path.strip():
        raise _entry_error(where, "path", f"expected a local path or a Hub id, got {path!r}")
    if isinstance(weight, bool) or not isinstance(weight, int | float) or not weight > 0 or weight == float("inf"):
        raise _entry_error(where, "weight", f"expected a number > 0 (a relative share), got {weight!r}")
    if not isinstance(rewards, list) or not rewards or not all(isinstance(r, str | Mapping) for r in rewards):
        raise _entry_error(where, "reward_funcs", f"expected a non-empty list of reward names, got {rewards!r}")
    build_rows, builder = entry.get("build_rows", 0), entry.get("builder", "instructions")
    if isinstance(build_rows, bool) or not isinstance(build_rows, int) or build_rows < 0:
        raise _entry_error(where, "build_rows", f"expected a count >= 0, got {build_rows!r}")
    if builder not in BUILDERS:
        raise _entry_error(where, "builder", f"expected one of {list(BUILDERS)}, got {builder!r}")
    for key in ("config", "prompt_suffix"):
        if entry.get(key) is not None and not isinstance(entry[key], str):
            raise _entry_error(where, key, f"expected a string, got {entry[key]!r}")
    split = entry.get("split", "train")
    if not isinstance(split, str) or not split:
        raise _entry_error(where, "split", f"expected a split name, got {split!r}")
    return MixtureSource(
        source=source,
        path=path,
        weight=float(weight),
        reward_funcs=tuple(rewards),
        config=entry.get("config"),
        split=split,
        columns=_columns(entry.get("columns"), where),
        prompt_suffix=entry.get("prompt_suffix"),
        build_rows=build_rows,
        builder=builder,
    )


def parse_mixture(value: Any) -> Mixture | None:
    """The `dataset_mixture` key as a Mixture (None when unset); ValueError naming the entry and key to fix."""
    if value is None:
        return None
    if not isinstance(value, Mapping) or not isinstance(value.get("datasets"), list) or not value["datasets"]:
        raise ValueError("dataset_mixture: expected `datasets: [...]` (a list of datasets) and optionally `seed: N`")
    unknown = sorted(set(value) - {"datasets", "seed"})
    if unknown:
        raise ValueError(f"dataset_mixture: unknown key {unknown[0]!r}; it takes `datasets` and `seed`")
    seed = value.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"dataset_mixture.seed: expected an integer, got {seed!r}")
    sources = tuple(parse_source(entry, i) for i, entry in enumerate(value["datasets"]))
    names = [s.source for s in sources]
    repeated = next((n for n in names if names.count(n) > 1), None)
    if repeated:
        raise ValueError(f"dataset_mixture: two datasets are both source {repeated!r}; give each its own name")
    return Mixture(sources, seed)


def mixture_counts(lengths: Sequence[int], weights: Sequence[float], cap: int | None = None) -> list[int]:
    """Rows drawn from each dataset: the largest mixture in these shares that draws no row twice, at most `cap`."""
    shares = [w / sum(weights) for w in weights]
    total = int(min(n / share for n, share in zip(lengths, shares, strict=True)) + 1e-9)
    total = min(total, cap) if cap is not None else total
    exact = [share * total for share in shares]
    counts = [int(x) for x in exact]
    by_remainder = sorted(range(len(exact)), key=lambda i: (counts[i] - exact[i], i))
    for i in by_remainder[: total - sum(counts)]:
        counts[i] += 1
    return counts


# --- rewards -----------------------------------------------------------------------------------------------------
class SourceReward:
    """A reward function applied only to rows whose `data_source` is one of `sources`; None for every other row.

    The wrapped function sees only its rows (every per-row column cut to them), so it never reads a foreign row.
    It logs `lsrif/<source>/<name>`: its mean reward on each source's rows in the batch."""

    def __init__(self, func: RewardFunc, sources: frozenset[str]) -> None:
        self.func, self.sources = func, sources
        self.__name__ = func.__name__

    def __getattr__(self, name: str) -> Any:  # error_count, soft_scorer, ... of the wrapped reward (run totals)
        if name == "func":
            raise AttributeError(name)
        return getattr(self.func, name)

    def with_policy(self, policy: Any) -> SourceReward:
        """The wrapped reward reading answers under `policy`, still routed (imported functions take no policy)."""
        func = self.func.with_policy(policy) if hasattr(self.func, "with_policy") else self.func
        return SourceReward(func, self.sources)

    def __call__(self, prompts: Sequence[Any], completions: Sequence[Any], **columns: Any) -> list[float | None]:
        n = len(completions)
        sources = columns.get(SOURCE_COLUMN) or [None] * n
        rows = [i for i, s in enumerate(sources) if s in self.sources]
        rewards: list[float | None] = [None] * n
        if not rows:
            return rewards

        def cut(values: Any) -> Any:
            return [values[i] for i in rows] if isinstance(values, list) and len(values) == n else values

        sub = {k: cut(v) for k, v in columns.items()}
        log_extra = columns.get("log_extra")
        if callable(log_extra):  # TRL's completion table wants a value per completion of the batch
            sub["log_extra"] = lambda column, values: log_extra(column, _scatter(rows, values, n))
        scores = self.func([prompts[i] for i in rows], [completions[i] for i in rows], **sub)
        for i, score in zip(rows, scores, strict=True):
            rewards[i] = score
        log_metric = columns.get("log_metric")
        if callable(log_metric):
            for source in sorted({sources[i] for i in rows}):
                scored = [rewards[i] for i in rows if sources[i] == source and rewards[i] is not None]
                if scored:
                    log_metric(f"lsrif/{source}/{self.__name__}", sum(scored) / len(scored))
        return rewards


def _scatter(rows: list[int], values: Sequence[Any], n: int) -> list[Any]:
    full: list[Any] = [None] * n
    for i, value in zip(rows, values, strict=True):
        full[i] = value
    return full


def route_rewards(funcs: Sequence[RewardFunc], mixture: Mixture) -> list[SourceReward]:
    """The run's reward functions (built from `mixture.reward_entries()`, in that order), each routed to the
    sources that list it."""
    entries = mixture.reward_entries()
    return [
        SourceReward(func, frozenset(s.source for s in mixture.sources if entry in s.reward_funcs))
        for func, entry in zip(funcs, entries, strict=True)
    ]


def instruction_rewards(
    funcs: Sequence[SourceReward], weights: Sequence[float], mixture: Mixture
) -> tuple[list[RewardFunc], list[float]]:
    """The routed functions that score the instruction sources' rows, unrouted, with their weights: what scores a
    row of instruction data outside the mixture (`lsrif data reference` with a mixture recipe)."""
    sources = mixture.instruction_sources()
    kept = [(f.func, w) for f, w in zip(funcs, weights, strict=True) if f.sources & sources]
    return [f for f, _ in kept], [w for _, w in kept]


# --- rows --------------------------------------------------------------------------------------------------------
def _load_source(args: Any, source: MixtureSource, where: str) -> Any:
    """The source's rows, built first when it is a missing local folder with `build_rows`."""
    from lsrif_trl.training.data import load_rows

    path = Path(source.path)
    if source.builder == "arithmetic" and source.build_rows > 0 and not path.exists():
        from lsrif_trl.data.maths import build_arithmetic

        if path.suffix:
            raise RecipeError(f"{where}.path: {path}: the arithmetic builder writes a folder; drop the file suffix")
        build_arithmetic(path, source.build_rows, args.build_dataset_seed)
    if not path.exists() and not looks_like_hub_id(source.path) and not source.build_rows:
        raise RecipeError(
            f"{where}.path: {source.path} does not exist (and does not read as a Hub id); fix the path, or set "
            "build_rows (with builder: instructions or arithmetic) to build it here"
        )
    rows = source.build_rows if source.builder == "instructions" else 0
    single = replace(
        args,
        dataset_name=source.path,
        dataset_config=source.config,
        dataset_train_split=source.split,
        build_dataset_rows=rows,
        dataset_mixture=None,
        reward_funcs=["lsrm"],
        curriculum="none",
    )
    try:
        return load_rows(single)
    except RecipeError as err:
        raise RecipeError(f"{where} ({source.source}): {err}") from None


def _select(dataset: Any, source: MixtureSource, where: str) -> Any:
    """The dataset with the columns `columns` names, renamed to the names the rewards read."""
    if source.columns is None:
        return dataset
    missing = [column for _, column in source.columns if column not in dataset.column_names]
    if missing:
        raise RecipeError(
            f"{where}.columns: {source.path} has no column {missing[0]!r} (its columns: {dataset.column_names}); "
            "fix `columns` ({column the rewards read: column of the dataset})"
        )
    mapping = dict(source.columns)
    return dataset.map(
        lambda batch: {target: batch[column] for target, column in mapping.items()},
        batched=True,
        remove_columns=dataset.column_names,
        desc=f"columns of {source.source}",
    )


def _check_reward_columns(dataset: Any, source: MixtureSource, funcs: Sequence[SourceReward], where: str) -> None:
    """Each reward routed to this source finds the columns it reads."""
    for func in funcs:
        if source.source not in func.sources:
            continue
        column_sets = getattr(func.func, "column_sets", None)
        if column_sets is None:  # your own function: it reads what it likes
            continue
        if not any(all(c in dataset.column_names for c in columns) for columns in column_sets):
            needs = " or ".join(" + ".join(f"`{c}`" for c in columns) for columns in column_sets)
            raise RecipeError(
                f"{where}.reward_funcs: {func.__name__} reads {needs}, which {source.source}'s rows do not have "
                f"(columns: {dataset.column_names}); map it in `columns` or drop the reward from this source"
            )


def _checked_rows(dataset: Any, source: MixtureSource, where: str) -> Any:
    """The source's rows: instruction rows must follow the dataset contract; any other row must have a prompt, and a
    row whose `solution` is empty or not a string is dropped and counted (public maths sets hold a few such rows)."""
    from lsrif_trl.data.loading import DatasetValidationError, prompt_error, validate_rows

    if source.is_instructions:
        try:
            validate_rows(dataset, source=f"{where} ({source.source}, {source.path})")
        except DatasetValidationError as err:
            raise RecipeError(f"{err}\nfix those rows (`lsrif data validate {source.path}` lists them)") from None
        return dataset
    if "prompt" not in dataset.column_names:
        raise RecipeError(
            f"{where}: {source.source}'s rows have no `prompt` column (columns: {dataset.column_names}); map one "
            "in `columns`, e.g. {prompt: problem}"
        )
    for index, prompt in enumerate(dataset["prompt"]):
        problem = prompt_error(prompt)
        if problem:
            raise RecipeError(f"{where} ({source.source}, {source.path}) row {index}: prompt: {problem}")
    if "solution" not in dataset.column_names:
        return dataset
    unsolved = [i for i, s in enumerate(dataset["solution"]) if not isinstance(s, str) or not s.strip()]
    if len(unsolved) == len(dataset):
        raise RecipeError(
            f"{where} ({source.source}, {source.path}): no row has a non-empty `solution`; fix `columns`"
        )
    if unsolved:
        print(
            f"dataset_mixture: {source.source}: dropped {len(unsolved)} of {len(dataset)} rows without a `solution` "
            f"(first: row {unsolved[0]})"
        )
        dropped = set(unsolved)
        dataset = dataset.select([i for i in range(len(dataset)) if i not in dropped])
    return dataset


def _as_chat(dataset: Any, suffix: str | None) -> Any:
    """Prompts as chat messages (a string becomes one user turn), with `suffix` appended to the last user turn."""

    def convert(prompt: Any) -> dict[str, Any]:
        messages = [{"role": "user", "content": prompt}] if isinstance(prompt, str) else list(prompt)
        if suffix:
            last = messages[-1]
            messages[-1] = {**last, "content": f"{last['content']}{suffix}"}
        return {"prompt": messages}

    if not suffix and not isinstance(dataset[0]["prompt"], str):
        return dataset
    return dataset.map(convert, input_columns="prompt", desc="chat prompts")


def _aligned(parts: list[Any]) -> list[Any]:
    """Every part with every part's columns (None where a part has none), in one order and one schema."""
    features: dict[str, Any] = {}
    for part in parts:
        for name, feature in part.features.items():
            features.setdefault(name, feature)
    aligned = []
    for part in parts:
        for name, feature in features.items():
            if name not in part.column_names:
                part = part.add_column(name, [None] * len(part), feature=feature)
        aligned.append(part.select_columns(list(features)))
    return aligned


def load_mixture(args: Any, funcs: Sequence[SourceReward]) -> Any:
    """The mixture's training rows, every one checked, with a `data_source` column; RecipeError naming the entry, row
    and field to fix. `args` are the GRPO script arguments, `funcs` the routed reward functions."""
    from datasets import concatenate_datasets

    from lsrif_trl.training.data import add_system_prompt

    mixture: Mixture = args.mixture
    parts = []
    for index, source in enumerate(mixture.sources):
        where = f"dataset_mixture.datasets[{index}]"
        dataset = _select(_load_source(args, source, where), source, where)
        if len(dataset) == 0:
            raise RecipeError(f"{where} ({source.source}): {source.path} has no rows in split {source.split!r}")
        if SOURCE_COLUMN in dataset.column_names:
            raise RecipeError(
                f"{where}.columns: {source.path} has a `{SOURCE_COLUMN}` column, which the mixture writes; leave it "
                "out with a `columns` list or mapping"
            )
        _check_reward_columns(dataset, source, funcs, where)
        parts.append(_as_chat(_checked_rows(dataset, source, where), source.prompt_suffix))
    counts = mixture_counts([len(p) for p in parts], [s.weight for s in mixture.sources], args.max_train_samples)
    rng = random.Random(mixture.seed)
    drawn = []
    for part, count, source in zip(parts, counts, mixture.sources, strict=True):
        if count == 0:
            raise RecipeError(
                f"dataset_mixture: source {source.source!r} gets no row in a mixture of {sum(counts)}; raise its "
                "weight or max_train_samples"
            )
        rows = sorted(rng.sample(range(len(part)), count))
        drawn.append(part.select(rows).add_column(SOURCE_COLUMN, [source.source] * count))
    try:
        mixed = concatenate_datasets(_aligned(drawn))
    except ValueError as err:  # two sources hold one column name with different types
        raise RecipeError(
            f"dataset_mixture: the sources' columns do not form one table ({err}); rename the clashing column in "
            "one source's `columns`"
        ) from None
    print(
        "dataset_mixture: " + ", ".join(f"{s.source} {c} rows" for s, c in zip(mixture.sources, counts, strict=True))
    )
    return add_system_prompt(mixed.shuffle(seed=mixture.seed).flatten_indices(), args.system_prompt)


def instruction_rows(dataset: Any, mixture: Mixture | None) -> Any:
    """The rows RAIF's contrast and the programmatic expert apply to: all of them without a mixture."""
    if mixture is None:
        return dataset
    keep = mixture.instruction_sources()
    return dataset.filter(lambda source: source in keep, input_columns=SOURCE_COLUMN)
