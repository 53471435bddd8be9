"""`lsrif data build | validate | stats | expert`: build structured-instruction data, check it, describe it, answer it."""

from __future__ import annotations

import argparse
import dataclasses
import json
import shlex
import shutil
import sys
from pathlib import Path

from lsrif_trl.data.builder import build_examples, rows_to_dataset
from lsrif_trl.data.compose import DEFAULT_STRUCTURE_MIX, parse_mix
from lsrif_trl.data.hub import dataset_card, push_to_hub, write_card
from lsrif_trl.data.loading import FORMATS, DatasetValidationError, load_training_dataset, save_dataset, validate_rows
from lsrif_trl.data.stats import compute_stats, format_stats, write_stats

EXIT_INVALID = 2


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register `lsrif data` and its subcommands."""
    data = subparsers.add_parser("data", help="build, validate and describe structured-instruction datasets")
    commands = data.add_subparsers(dest="data_command", required=True)

    build = commands.add_parser("build", help="build an LSRInstruct-style dataset offline (optionally LLM-reworded)")
    build.add_argument("--num-examples", type=int, required=True, help="instructions to build")
    build.add_argument("--output", required=True, help="output folder (an existing one needs --overwrite)")
    build.add_argument("--overwrite", action="store_true", help="replace the dataset already in --output")
    build.add_argument("--seed", type=int, default=0)
    build.add_argument("--max-depth", type=int, default=1, help="nesting depth (1 as in the paper; up to 3 for eval)")
    default_mix = ",".join(f"{k}={v}" for k, v in DEFAULT_STRUCTURE_MIX.items())
    build.add_argument("--structure-mix", default=default_mix, help=f"root kinds and weights (default {default_mix})")
    build.add_argument("--families", nargs="+", help="constraint families (exact or prefix, e.g. `train`)")
    build.add_argument("--min-constraints", type=int, default=2)
    build.add_argument("--max-constraints", type=int, default=8)
    build.add_argument("--soft-share", type=float, default=0.0, help="share of leaves that are soft constraints")
    build.add_argument("--seed-source", default="builtin", help="builtin, hub:NAME:SPLIT:COLUMN, or a .jsonl/.txt")
    build.add_argument("--seed-split", default="train", choices=("train", "eval", "all"), help="seed task split")
    build.add_argument("--seed-passage-column", help="with a hub: seed source, the column holding input passages")
    build.add_argument("--format", choices=FORMATS, default="disk")
    build.add_argument("--curriculum", action="store_true", help="emit each instruction's levels I_1..I_k")
    build.add_argument("--num-proc", type=int, default=1, help="worker processes")
    build.add_argument("--rewrite-endpoint", help="OpenAI-compatible base URL (e.g. http://localhost:8000/v1)")
    build.add_argument("--rewrite-model", help="model name for the rewriting endpoint")
    build.add_argument("--rewrite-concurrency", type=int, default=8)
    build.add_argument("--rewrite-cache", help="sqlite cache file (default OUTPUT/../rewrite_cache.sqlite)")
    build.add_argument("--rewrite-api-key-env", default="OPENAI_API_KEY", help="env var holding the API key")
    build.add_argument("--push-to-hub", metavar="REPO", help="also upload rows and card to this Hub dataset")
    build.add_argument("--private", action="store_true", help="make the Hub dataset private")
    build.set_defaults(func=run_build)

    validate = commands.add_parser("validate", help="check a dataset against the contract, naming each bad row")
    validate.add_argument("path", help="save_to_disk folder, parquet/jsonl file, or Hub id")
    validate.add_argument("--split", default="train")
    validate.set_defaults(func=run_validate)

    stats = commands.add_parser("stats", help="print and plot a dataset's statistics")
    stats.add_argument("path", help="save_to_disk folder, parquet/jsonl file, or Hub id")
    stats.add_argument("--split", default="train")
    stats.add_argument("--output-dir", help="where stats.json and stats.png go (default: beside the data)")
    stats.set_defaults(func=run_stats)

    expert = commands.add_parser(
        "expert", help="answer every row with the constraints' experts: a `completion` column for SFT"
    )
    expert.add_argument("--data", required=True, help="dataset to answer: save_to_disk folder, parquet/jsonl, Hub id")
    expert.add_argument("--split", default="train")
    expert.add_argument("--output", required=True, help="output folder (the rows plus `completion`)")
    expert.add_argument("--noise", type=float, default=0.0, help="probability of dropping each leaf's rewrite")
    expert.add_argument(
        "--wrong-branch", type=float, default=0.0, help="probability of following a conditional's inactive branch"
    )
    expert.add_argument("--seed", type=int, default=0)
    expert.add_argument("--format", choices=FORMATS, default="disk")
    expert.add_argument("--overwrite", action="store_true", help="replace a dataset already saved at --output")
    expert.set_defaults(func=run_expert)


def _families(values: list[str] | None) -> tuple[str, ...] | None:
    if not values:
        return None
    return tuple(f for value in values for f in value.split(",") if f)


def build_command(args: argparse.Namespace) -> str:
    """The full `lsrif data build` command line of these arguments, every option spelled out (for the card)."""
    parts = ["lsrif", "data", "build", "--num-examples", str(args.num_examples), "--output", args.output]
    for name in ("seed", "max_depth", "structure_mix", "min_constraints", "max_constraints", "soft_share"):
        parts += [f"--{name.replace('_', '-')}", str(getattr(args, name))]
    parts += ["--seed-source", args.seed_source, "--seed-split", args.seed_split, "--format", args.format]
    if args.seed_passage_column:
        parts += ["--seed-passage-column", args.seed_passage_column]
    if args.families:
        parts += ["--families", *_families(args.families)]
    if args.curriculum:
        parts.append("--curriculum")
    if args.rewrite_endpoint:
        parts += ["--rewrite-endpoint", args.rewrite_endpoint, "--rewrite-model", args.rewrite_model]
    return shlex.join(parts)


def run_build(args: argparse.Namespace) -> int:
    """Build, optionally reword, validate, save, report and push; returns the exit code."""
    if bool(args.rewrite_endpoint) != bool(args.rewrite_model):
        print("error: --rewrite-endpoint and --rewrite-model go together", file=sys.stderr)
        return EXIT_INVALID
    output = Path(args.output)
    if output.exists() and not args.overwrite and (output.is_file() or any(output.iterdir())):
        print(
            f"error: --output {output} already holds files (a dataset built earlier?); nothing was changed. Pass "
            "--overwrite to replace it, or choose another --output",
            file=sys.stderr,
        )
        return EXIT_INVALID
    try:
        options = {
            "max_depth": args.max_depth,
            "structure_mix": parse_mix(args.structure_mix),
            "families": _families(args.families),
            "min_constraints": args.min_constraints,
            "max_constraints": args.max_constraints,
            "soft_share": args.soft_share,
            "seed_source": args.seed_source,
            "seed_split": args.seed_split,
            "seed_passage_column": args.seed_passage_column,
            "curriculum": args.curriculum,
        }
        examples = build_examples(args.num_examples, args.seed, num_proc=args.num_proc, progress=True, **options)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_INVALID
    build_info = {"command": build_command(args), "seed": args.seed, "options": options}
    rows = [example.row for example in examples]
    if args.rewrite_endpoint:
        from lsrif_trl.data.rewrite import RewriteClient, RewriteError, rewrite_examples

        cache = args.rewrite_cache or str(Path(args.output).resolve().parent / "rewrite_cache.sqlite")
        client = RewriteClient(
            args.rewrite_endpoint, args.rewrite_model, api_key_env=args.rewrite_api_key_env, cache_path=cache
        )
        try:
            rows, report = rewrite_examples(examples, client, concurrency=args.rewrite_concurrency, progress=True)
        except RewriteError as err:
            print(f"error: {err}", file=sys.stderr)
            return EXIT_INVALID
        finally:
            client.close()
        print(report.summary())
        build_info["rewrite_note"] = f"Wording rewritten by `{args.rewrite_model}`: {report.summary()}."
    dataset = validate_rows(rows_to_dataset(rows), source="built dataset")
    out = save_dataset(dataset, args.output, args.format)
    out_dir = out if out.is_dir() else out.parent
    stats = compute_stats(dataset)
    print(format_stats(stats))
    json_path, png_path = write_stats(stats, out_dir)
    card = dataset_card(stats, build_info)
    write_card(card, out_dir)
    print(f"wrote {len(dataset)} rows to {out}; stats in {json_path} and {png_path}")
    if args.push_to_hub:
        push_to_hub(dataset, args.push_to_hub, card, private=args.private)
        print(f"pushed to https://huggingface.co/datasets/{args.push_to_hub}")
    return 0


def run_validate(args: argparse.Namespace) -> int:
    """Print every problem (row and field) and return 2, or confirm the row count and return 0."""
    try:
        dataset = load_training_dataset(args.path, split=args.split)
    except DatasetValidationError as err:
        for line in err.errors:
            print(line)
        if err.total > len(err.errors):
            print(f"... and {err.total - len(err.errors)} more problem(s)")
        print(f"{args.path}: INVALID ({err.total} problem(s))", file=sys.stderr)
        return EXIT_INVALID
    except (ValueError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_INVALID
    print(f"{args.path}: {len(dataset)} rows OK")
    return 0


def run_stats(args: argparse.Namespace) -> int:
    """Print the statistics and save them as JSON and PNG."""
    try:
        dataset = load_training_dataset(args.path, split=args.split, validate=False)
    except (ValueError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_INVALID
    stats = compute_stats(dataset)
    print(format_stats(stats))
    path = Path(args.path)
    out_dir = args.output_dir or (path if path.is_dir() else path.parent if path.exists() else Path("."))
    json_path, png_path = write_stats(stats, out_dir)
    print(f"wrote {json_path} and {png_path}")
    return 0


_SAVED_DATASET_FILES = ("state.json", "dataset_dict.json", "train.parquet", "train.jsonl")


def _output_problem(output: Path, data: str, overwrite: bool) -> str | None:
    """Why `output` may not be written (the input itself, or existing files without --overwrite), or None."""
    if Path(data).exists() and output.resolve() == Path(data).resolve():
        return f"--output {output} is the input dataset; write the answers to another folder"
    if not output.exists() or (output.is_dir() and not any(output.iterdir())):
        return None
    if not overwrite:
        return f"--output {output} already exists; pass --overwrite to replace it, or choose another folder"
    if not output.is_dir() or not any((output / name).exists() for name in _SAVED_DATASET_FILES):
        return f"--output {output} holds something other than a saved dataset; refusing to replace it"
    return None


def run_expert(args: argparse.Namespace) -> int:
    """Answer every row with the tree expert, save rows + `completion` (and expert.json), report; exit code."""
    from lsrif_trl.data.expert import ExpertConfig, answer_rows

    output = Path(args.output)
    try:
        config = ExpertConfig(noise=args.noise, wrong_branch=args.wrong_branch)
    except ValueError as err:
        print(f"error: --{str(err).split('=')[0].replace('_', '-')}: {err}", file=sys.stderr)
        return EXIT_INVALID
    problem = _output_problem(output, args.data, args.overwrite)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return EXIT_INVALID
    try:
        dataset = load_training_dataset(args.data, split=args.split)
    except DatasetValidationError as err:
        print("\n".join(err.errors), file=sys.stderr)
        print(
            f"error: {args.data}: INVALID ({err.total} problem(s)); `lsrif data validate` lists them", file=sys.stderr
        )
        return EXIT_INVALID
    except (ValueError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_INVALID
    answers, report = answer_rows(dataset, args.seed, config)
    if "completion" in dataset.column_names:
        dataset = dataset.remove_columns("completion")
    dataset = dataset.add_column("completion", answers)
    staging = output.with_name(f".{output.name}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    save_dataset(dataset, staging, args.format)
    settings = {"data": args.data, "split": args.split, "seed": args.seed, **dataclasses.asdict(config)}
    (staging / "expert.json").write_text(
        json.dumps({"settings": settings, "report": dataclasses.asdict(report)}, indent=2) + "\n"
    )
    if output.exists():
        shutil.rmtree(output)
    staging.rename(output)
    print(report.summary())
    print(f"wrote {len(dataset)} rows with a `completion` column to {output}")
    return 0
