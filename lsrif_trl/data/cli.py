"""`lsrif data build | validate | stats | expert | reference`: build structured-instruction data, check it, describe
it, answer it with the experts, and compute RAIF's per-row reference column with a model."""

from __future__ import annotations

import argparse
import sys
from dataclasses import fields
from pathlib import Path
from typing import Any

from lsrif_trl.chat.client import DEFAULT_API_KEY_ENV
from lsrif_trl.data.build import BuildOptions, RewriteOptions, answer_to, build_to
from lsrif_trl.data.builder import shape_options
from lsrif_trl.data.compose import parse_mix
from lsrif_trl.data.loading import FORMATS, DatasetValidationError, load_training_dataset, output_problem
from lsrif_trl.data.stats import compute_stats, format_stats, write_stats
from lsrif_trl.data.worlds import WORLDS

EXIT_INVALID = 2
DEFAULTS = {f.name: f.default for f in fields(BuildOptions)}  # the build owns its defaults


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register `lsrif data` and its subcommands."""
    data = subparsers.add_parser("data", help="build, validate and describe structured-instruction datasets")
    commands = data.add_subparsers(dest="data_command", required=True)

    build = commands.add_parser("build", help="build an LSRInstruct-style dataset offline (optionally LLM-reworded)")
    build.add_argument("--num-examples", type=int, required=True, help="instructions to build")
    build.add_argument("--output", required=True, help="output folder (an existing one needs --overwrite)")
    build.add_argument("--overwrite", action="store_true", help="replace the dataset already in --output")
    build.add_argument("--seed", type=int, default=DEFAULTS["seed"])
    build.add_argument("--world", choices=sorted(WORLDS), help="a preset world (seed tasks, constraints, sizes)")
    build.add_argument(
        "--max-depth",
        type=int,
        help=f"nesting depth (default {DEFAULTS['max_depth']} as in the paper, or the world's; up to 3 for eval)",
    )
    default_mix = ",".join(f"{k}={v}" for k, v in BuildOptions(1).structure_mix.items())
    build.add_argument("--structure-mix", help=f"root kinds and weights (default {default_mix}, or the world's)")
    build.add_argument("--families", nargs="+", help="constraint families (exact or prefix, e.g. `train`)")
    build.add_argument("--min-constraints", type=int, help=f"default {DEFAULTS['min_constraints']}, or the world's")
    build.add_argument("--max-constraints", type=int, help=f"default {DEFAULTS['max_constraints']}, or the world's")
    build.add_argument(
        "--soft-share", type=float, default=DEFAULTS["soft_share"], help="share of leaves that are soft constraints"
    )
    build.add_argument(
        "--seed-source", default=DEFAULTS["seed_source"], help="builtin, hub:NAME:SPLIT:COLUMN, or a .jsonl/.txt"
    )
    build.add_argument(
        "--seed-split", default=DEFAULTS["seed_split"], choices=("train", "eval", "all"), help="seed task split"
    )
    build.add_argument("--seed-passage-column", help="with a hub: seed source, the column holding input passages")
    build.add_argument("--format", choices=FORMATS, default=DEFAULTS["format"])
    build.add_argument("--curriculum", action="store_true", help="emit each instruction's levels I_1..I_k")
    build.add_argument("--num-proc", type=int, default=DEFAULTS["num_proc"], help="worker processes")
    build.add_argument("--rewrite-endpoint", help="OpenAI-compatible base URL (e.g. http://localhost:8000/v1)")
    build.add_argument("--rewrite-model", help="model name for the rewriting endpoint")
    build.add_argument("--rewrite-concurrency", type=int, default=8)
    build.add_argument("--rewrite-cache", help="sqlite cache file (default OUTPUT/../rewrite_cache.sqlite)")
    build.add_argument("--rewrite-api-key-env", default=DEFAULT_API_KEY_ENV, help="env var holding the API key")
    build.add_argument("--push-to-hub", metavar="REPO", help="also upload rows and card to this Hub dataset")
    build.add_argument("--private", action="store_true", help="make the Hub dataset private")
    build.set_defaults(func=run_build)

    validate = commands.add_parser("validate", help="check a dataset against the contract, naming each bad row")
    add_source_arguments(validate)
    validate.set_defaults(func=run_validate)

    stats = commands.add_parser("stats", help="print and plot a dataset's statistics")
    add_source_arguments(stats)
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
    expert.add_argument(
        "--reasoning", action="store_true",
        help="open each completion with a <think> block planning it (conditions as read, leaves to satisfy)",
    )  # fmt: skip
    expert.add_argument("--seed", type=int, default=0)
    expert.add_argument(
        "--base-sentences", type=int, nargs=2, default=(2, 4), metavar=("MIN", "MAX"),
        help="filler sentences the experts rewrite, per answer (default 2 4)",
    )  # fmt: skip
    expert.add_argument("--format", choices=FORMATS, default="disk")
    expert.add_argument("--overwrite", action="store_true", help="replace a dataset already saved at --output")
    expert.set_defaults(func=run_expert)
    add_reference_parser(commands)


def add_reference_parser(commands: argparse._SubParsersAction) -> None:
    """`lsrif data reference`: RAIF's offline per-row reference (`lsrif_trl.eval.reference`)."""
    from lsrif_trl.eval.cli import add_backend_arguments, add_sampling_arguments
    from lsrif_trl.eval.generation import BACKENDS
    from lsrif_trl.rewards.think import THINK_OPENED_BY_HELP, THINK_OPENERS, UNCLOSED_HELP, UNCLOSED_POLICIES

    reference = commands.add_parser(
        "reference",
        help="RAIF's superior-CoT reference column: every row answered without reasoning, scored by a recipe's reward",
        description="Answer every row's prompt with the empty think block prefilled (no reasoning), score the answers "
        "with the recipe's reward without its format term, and save the rows with that score as a new column (for "
        "`superior_cot_reference: column NAME`) plus reference.json. A re-run resumes from the responses file.",
    )
    reference.add_argument("--data", required=True, help="dataset: save_to_disk folder, parquet/jsonl, or Hub id")
    reference.add_argument("--split", default="train")
    reference.add_argument("--data-config", help="the Hub dataset's configuration (a recipe's dataset_config)")
    reference.add_argument("--output", type=Path, required=True, help="output folder (the rows plus the column)")
    reference.add_argument("--column", default="reference", help="name of the new column (default: reference)")
    reference.add_argument("--format", choices=FORMATS, help="default: the input's (jsonl, parquet, else disk)")
    reference.add_argument("--responses", type=Path, help="resumable answers file (default: OUTPUT.responses.jsonl)")
    reference.add_argument("--overwrite", action="store_true", help="replace a dataset already saved at --output")
    rewards = reference.add_argument_group("reward: a GRPO recipe, or reward names with the options below")
    source = rewards.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--config",
        help="a grpo_*.yaml recipe: its reward_funcs, reward_weights, reward and soft-scorer options, answer policy, "
        "system_prompt, chat_template_kwargs and max_completion_length",
    )
    source.add_argument("--reward-funcs", nargs="+", metavar="NAME", help="reward names (e.g. raif think_format)")
    rewards.add_argument("--reward-weights", type=float, nargs="+", metavar="W", help="one per reward (default 1)")
    rewards.add_argument("--think-opened-by", choices=THINK_OPENERS, help=THINK_OPENED_BY_HELP)
    rewards.add_argument("--unclosed-think", choices=UNCLOSED_POLICIES, help=UNCLOSED_HELP)
    rewards.add_argument("--system-prompt", help="put first in every prompt without a system message")
    gen = reference.add_argument_group("generation")
    gen.add_argument("--model", required=True, help="local folder or Hub id of the model, or the served name (openai)")
    gen.add_argument("--backend", choices=BACKENDS, default="transformers", help="default: transformers")
    gen.add_argument("--tokenizer", help="openai: the served model's tokenizer, to render prompts (default: --model)")
    add_sampling_arguments(gen, "default: the recipe's max_completion_length, else 1024")
    add_backend_arguments(gen)
    reference.set_defaults(func=run_reference)


def _families(values: list[str] | None) -> tuple[str, ...] | None:
    if not values:
        return None
    return tuple(f for value in values for f in value.split(",") if f)


def run_build(args: argparse.Namespace) -> int:
    """Build, optionally reword, validate, save, report and push (`data.build.build_to`); the exit code."""
    if bool(args.rewrite_endpoint) != bool(args.rewrite_model):
        print("error: --rewrite-endpoint and --rewrite-model go together", file=sys.stderr)
        return EXIT_INVALID
    rewrite = None
    if args.rewrite_endpoint:
        rewrite = RewriteOptions(
            args.rewrite_endpoint,
            args.rewrite_model,
            args.rewrite_concurrency,
            args.rewrite_cache,
            args.rewrite_api_key_env,
        )
    try:
        shape = shape_options(
            args.world,
            max_depth=args.max_depth,
            structure_mix=parse_mix(args.structure_mix) if args.structure_mix else None,
            min_constraints=args.min_constraints,
            max_constraints=args.max_constraints,
        )
        options = BuildOptions(
            num_examples=args.num_examples,
            seed=args.seed,
            **shape,
            families=_families(args.families),
            world=args.world,
            soft_share=args.soft_share,
            seed_source=args.seed_source,
            seed_split=args.seed_split,
            seed_passage_column=args.seed_passage_column,
            curriculum=args.curriculum,
            num_proc=args.num_proc,
            format=args.format,
            overwrite=args.overwrite,
            rewrite=rewrite,
            push_to_hub=args.push_to_hub,
            private=args.private,
            progress=True,
        )
        report = build_to(args.output, options)
    except ValueError as err:  # BuildError and a bad --structure-mix alike
        print(f"error: {err}", file=sys.stderr)
        return EXIT_INVALID
    if report.rewrite_summary:
        print(report.rewrite_summary)
    print(format_stats(report.stats))
    print(f"wrote {report.rows} rows to {report.output}; stats in {report.stats_json} and {report.stats_png}")
    if report.pushed_to:
        print(f"pushed to https://huggingface.co/datasets/{report.pushed_to}")
    return 0


def add_source_arguments(parser: argparse.ArgumentParser) -> None:
    """The dataset a command reads, named as a recipe names it (dataset_name, dataset_config, the split)."""
    parser.add_argument("path", help="save_to_disk folder, parquet/jsonl file, or Hub id")
    parser.add_argument("--config", help="the Hub dataset's configuration (a recipe's dataset_config)")
    parser.add_argument("--split", default="train")


def run_validate(args: argparse.Namespace) -> int:
    """Print every problem (row and field) and return 2, or confirm the row count and return 0."""
    try:
        dataset = load_training_dataset(args.path, split=args.split, config=args.config)
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
        dataset = load_training_dataset(args.path, split=args.split, validate=False, config=args.config)
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


def run_expert(args: argparse.Namespace) -> int:
    """Answer every row with the tree expert, save rows + `completion` (and expert.json), report; exit code."""
    from lsrif_trl.data.expert import ExpertConfig

    output = Path(args.output)
    try:
        config = ExpertConfig(noise=args.noise, wrong_branch=args.wrong_branch, reasoning=args.reasoning)
    except ValueError as err:
        print(f"error: --{str(err).split('=')[0].replace('_', '-')}: {err}", file=sys.stderr)
        return EXIT_INVALID
    problem = output_problem(output, args.data, args.overwrite)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return EXIT_INVALID
    try:
        report = answer_to(args.data, output, config, args.seed, args.split, args.format, tuple(args.base_sentences))
    except DatasetValidationError as err:
        print("\n".join(err.errors), file=sys.stderr)
        print(
            f"error: {args.data}: INVALID ({err.total} problem(s)); `lsrif data validate` lists them", file=sys.stderr
        )
        return EXIT_INVALID
    except (ValueError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_INVALID
    print(report.summary())
    print(f"wrote {report.rows} rows with a `completion` column to {output}")
    return 0


# The options a recipe sets itself: given with --config they would be silently overridden.
_RECIPE_OPTIONS = ("reward_weights", "think_opened_by", "unclosed_think", "system_prompt", "enable_thinking")


def _reference_scorer(args: argparse.Namespace) -> tuple[Any, Any, int]:
    """(the scorer, the soft-scorer settings, the default answer length) from --config or --reward-funcs."""
    from lsrif_trl.eval.reference import ReferenceError, ReferenceScorer
    from lsrif_trl.judges.scorer_args import SoftScorerArguments
    from lsrif_trl.rewards.registry import RewardOptions

    if args.config:
        from lsrif_trl.training.config import KINDS, parse_recipe_args
        from lsrif_trl.training.rewards import check_rewards

        given = [name for name in _RECIPE_OPTIONS if getattr(args, name) is not None]
        if given:
            flag = "--" + given[0].replace("_", "-")
            raise ReferenceError(f"{flag}: {args.config} sets it (or its default); edit the recipe or drop --config")
        script_args, training_args, _ = parse_recipe_args(KINDS["grpo"], ["--config", args.config], force_cpu=True)
        funcs = check_rewards(script_args, training_args)
        weights = training_args.reward_weights or [1.0] * len(funcs)
        if script_args.mixture is not None:  # the reference is for instruction rows: their sources' rewards
            from lsrif_trl.training.mixture import instruction_rewards

            funcs, weights = instruction_rewards(funcs, weights, script_args.mixture)
        options = {k: v for k, v in script_args.reward_options().items() if k != "policy"}
        scorer = ReferenceScorer(
            tuple(funcs),
            tuple(weights),
            script_args.answer_policy(),
            script_args.system_prompt,
            training_args.chat_template_kwargs or {},
            {"recipe": args.config, "options": options, "soft_scorer": script_args.soft_scorer},
        )
        return scorer, script_args, training_args.max_completion_length
    options = RewardOptions(
        think_opened_by=args.think_opened_by or RewardOptions.think_opened_by,
        unclosed_think=args.unclosed_think or RewardOptions.unclosed_think,
    )
    try:
        funcs = options.build(args.reward_funcs)
        policy = options.answer_policy()
    except ValueError as err:
        raise ReferenceError(f"--reward-funcs: {err}") from None
    weights = args.reward_weights or [1.0] * len(funcs)
    if len(weights) != len(funcs):
        raise ReferenceError(f"--reward-weights: {len(weights)} weights for {len(funcs)} rewards; give one per reward")
    thinking = {} if args.enable_thinking is None else {"enable_thinking": args.enable_thinking}
    settings = {"options": {k: v for k, v in options.reward_options().items() if k != "policy"}}
    scorer = ReferenceScorer(tuple(funcs), tuple(weights), policy, args.system_prompt, thinking, settings)
    return scorer, SoftScorerArguments(), 1024


def run_reference(args: argparse.Namespace) -> int:
    """Check everything before any model, then answer, score and save; 2 on bad input, 1 when generation fails."""
    from lsrif_trl.eval.cli import backend_options, sampling_from_args
    from lsrif_trl.eval.generation import GenerationError
    from lsrif_trl.eval.reference import SUMMARY_FILE, ReferenceError, ReferenceJob, check_job, compute_reference
    from lsrif_trl.rewards.soft import SoftScorerError
    from lsrif_trl.training.errors import RecipeError
    from lsrif_trl.training.rewards import check_soft_leaves_scored

    try:
        scorer, soft_args, max_new_tokens = _reference_scorer(args)
        job = ReferenceJob(
            data=args.data,
            output=args.output,
            model=args.model,
            backend=args.backend,
            sampling=sampling_from_args(args, max_new_tokens),
            column=args.column,
            split=args.split,
            data_config=args.data_config,
            fmt=args.format,
            responses=args.responses,
            tokenizer=args.tokenizer,
            backend_options=backend_options(args),
            overwrite=args.overwrite,
        )
        dataset = check_job(job, scorer)
        check_soft_leaves_scored(dataset, soft_args)
    except (ReferenceError, RecipeError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_INVALID
    try:
        summary = compute_reference(job, scorer, dataset)
    except (GenerationError, SoftScorerError) as err:  # a dead server or judge: the answers so far are kept
        print(f"error: {err}", file=sys.stderr)
        return 1
    except ReferenceError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_INVALID
    mean = "n/a" if summary.mean is None else f"{summary.mean:.4f}"
    print(
        f"{summary.column}: mean {mean} over {summary.rows - len(summary.unscored_rows)} scored rows of {summary.rows}"
    )
    print(
        f"wrote {summary.rows} rows with a `{summary.column}` column to {args.output} (summary: {SUMMARY_FILE} there)"
    )
    return 0
