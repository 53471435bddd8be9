"""The data build as a library call: compose rows, optionally reword them, validate, save, describe, push.

    report = build_to("data/built/mine", BuildOptions(num_examples=2000, families=("train",), curriculum=True))
    print(report.rows, report.output, report.stats_json)

`lsrif data build` and a recipe's `build_dataset_rows` both call `build_to`; `lsrif data expert` and a recipe
that asks for expert answers both call `answer_to`. It raises `BuildError` (a ValueError
naming the option or file to fix) before writing anything when the options are wrong or `output` already holds
files and `overwrite` is not set.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lsrif_trl.chat.client import DEFAULT_API_KEY_ENV
from lsrif_trl.data.compose import DEFAULT_STRUCTURE_MIX


class BuildError(ValueError):
    """The build cannot run with these options (or would replace existing files); nothing was written."""


@dataclass(frozen=True)
class RewriteOptions:
    """Rewording through an OpenAI-compatible endpoint (see `data.rewrite`)."""

    endpoint: str
    model: str
    concurrency: int = 8
    cache: str | None = None  # default: rewrite_cache.sqlite beside the output folder
    api_key_env: str = DEFAULT_API_KEY_ENV


@dataclass(frozen=True)
class BuildOptions:
    """What to build and where it goes besides the output folder; the defaults are `lsrif data build`'s."""

    num_examples: int
    seed: int = 0
    max_depth: int = 1
    structure_mix: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_STRUCTURE_MIX))
    families: tuple[str, ...] | None = None
    min_constraints: int = 2
    max_constraints: int = 8
    soft_share: float = 0.0
    seed_source: str = "builtin"
    seed_split: str = "train"
    seed_passage_column: str | None = None
    curriculum: bool = False
    world: str | None = None  # a preset (`data.worlds`); pass its tree sizes with `builder.shape_options`
    num_proc: int = 1
    format: str = "disk"
    overwrite: bool = False
    rewrite: RewriteOptions | None = None
    push_to_hub: str | None = None
    private: bool = False
    progress: bool = False

    def compose_options(self) -> dict[str, Any]:
        """The keyword arguments of `builder.build_examples` (also recorded in the dataset card)."""
        names = ("max_depth", "structure_mix", "families", "min_constraints", "max_constraints", "soft_share")
        names += ("seed_source", "seed_split", "seed_passage_column", "curriculum", "world")
        return {name: getattr(self, name) for name in names}


@dataclass(frozen=True)
class BuildReport:
    """What a build wrote."""

    output: Path  # the folder or file holding the rows
    rows: int
    stats: dict[str, Any]
    stats_json: Path
    stats_png: Path
    rewrite_summary: str | None = None
    pushed_to: str | None = None


def build_command(output: str | Path, options: BuildOptions) -> str:
    """The `lsrif data build` command line that reproduces this build, every option spelled out (for the card)."""
    parts = ["lsrif", "data", "build", "--num-examples", str(options.num_examples), "--output", str(output)]
    if options.world:
        parts += ["--world", options.world]
    mix = ",".join(f"{kind}={weight:g}" for kind, weight in options.structure_mix.items())
    for name in ("seed", "max_depth", "min_constraints", "max_constraints", "soft_share"):
        parts += [f"--{name.replace('_', '-')}", str(getattr(options, name))]
    parts += ["--structure-mix", mix, "--seed-source", options.seed_source, "--seed-split", options.seed_split]
    parts += ["--format", options.format]
    if options.seed_passage_column:
        parts += ["--seed-passage-column", options.seed_passage_column]
    if options.families:
        parts += ["--families", *options.families]
    if options.curriculum:
        parts.append("--curriculum")
    if options.rewrite:
        parts += ["--rewrite-endpoint", options.rewrite.endpoint, "--rewrite-model", options.rewrite.model]
    return shlex.join(parts)


def build_to(output: str | Path, options: BuildOptions) -> BuildReport:
    """Build `options.num_examples` rows into `output` (see the module docstring); BuildError before writing."""
    from lsrif_trl.data.builder import build_examples, rows_to_dataset
    from lsrif_trl.data.hub import dataset_card, push_to_hub, write_card
    from lsrif_trl.data.loading import FORMATS, save_dataset, validate_rows
    from lsrif_trl.data.stats import compute_stats, write_stats

    output = Path(output)
    if options.format not in FORMATS:
        raise BuildError(f"format: expected one of {list(FORMATS)}, got {options.format!r}")
    if output.exists() and not options.overwrite and (output.is_file() or any(output.iterdir())):
        raise BuildError(
            f"--output {output} already holds files (a dataset built earlier?); nothing was changed. Pass "
            "--overwrite to replace it, or choose another --output"
        )
    compose = options.compose_options()
    try:
        examples = build_examples(
            options.num_examples, options.seed, num_proc=options.num_proc, progress=options.progress, **compose
        )
    except ValueError as err:
        raise BuildError(str(err)) from None
    build_info: dict[str, Any] = {"command": build_command(output, options), "seed": options.seed}
    build_info["options"] = {k: (dict(v) if isinstance(v, Mapping) else v) for k, v in compose.items()}
    rows = [example.row for example in examples]
    summary = None
    if options.rewrite:
        rows, summary = _rewrite(examples, options.rewrite, output, options.progress)
        build_info["rewrite_note"] = f"Wording rewritten by `{options.rewrite.model}`: {summary}."
    dataset = validate_rows(rows_to_dataset(rows), source="built dataset")
    out = save_dataset(dataset, output, options.format)
    out_dir = out if out.is_dir() else out.parent
    stats = compute_stats(dataset)
    json_path, png_path = write_stats(stats, out_dir)
    card = dataset_card(stats, build_info)
    write_card(card, out_dir)
    if options.push_to_hub:
        push_to_hub(dataset, options.push_to_hub, card, private=options.private)
    return BuildReport(out, len(dataset), stats, json_path, png_path, summary, options.push_to_hub)


def answer_to(
    data: str | Path,
    output: str | Path,
    config: Any,
    seed: int = 0,
    split: str = "train",
    fmt: str = "disk",
    base_sentences: tuple[int, int] = (2, 4),
):
    """Answer every row of the dataset at `data` with the tree expert (`data.expert`, settings `config`, each answer
    rewriting `base_sentences` (min, max) filler sentences), save the
    rows plus a `completion` column and `expert.json` to `output` (replacing it; staged, so a crash leaves no half
    folder) and return the expert's report. The dataset is validated first (DatasetValidationError)."""
    import dataclasses
    import json
    import shutil

    from lsrif_trl.data.expert import answer_rows
    from lsrif_trl.data.loading import load_training_dataset, save_dataset

    output = Path(output)
    dataset = load_training_dataset(str(data), split=split)
    answers, report = answer_rows(dataset, seed, config, base_sentences)
    if "completion" in dataset.column_names:
        dataset = dataset.remove_columns("completion")
    dataset = dataset.add_column("completion", answers)
    staging = output.with_name(f".{output.name}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    save_dataset(dataset, staging, fmt)
    settings = {"data": str(data), "split": split, "seed": seed, "base_sentences": list(base_sentences)}
    settings |= dataclasses.asdict(config)
    (staging / "expert.json").write_text(
        json.dumps({"settings": settings, "report": dataclasses.asdict(report)}, indent=2) + "\n"
    )
    if output.exists():
        shutil.rmtree(output)
    staging.rename(output)
    return report


def _rewrite(examples: list, rewrite: RewriteOptions, output: Path, progress: bool) -> tuple[list[dict], str]:
    from lsrif_trl.data.rewrite import RewriteClient, RewriteError, rewrite_examples

    cache = rewrite.cache or str(output.resolve().parent / "rewrite_cache.sqlite")
    client = RewriteClient(
        rewrite.endpoint,
        rewrite.model,
        api_key_env=rewrite.api_key_env,
        cache_path=cache,
        concurrency=rewrite.concurrency,
    )
    try:
        rows, report = rewrite_examples(examples, client, progress=progress)
    except RewriteError as err:
        raise BuildError(str(err)) from None
    finally:
        client.close()
    return rows, report.summary()


__all__ = ["BuildError", "BuildOptions", "BuildReport", "RewriteOptions", "answer_to", "build_command", "build_to"]
