"""`lsrif eval BENCHMARK ...`: score a model's responses on a benchmark (generating them first with `--model`),
and `lsrif eval compare DIR ...` to put runs side by side."""

from __future__ import annotations

import argparse
import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path

from lsrif_trl.chat.client import DEFAULT_API_KEY_ENV
from lsrif_trl.chat.retry import RetryPolicy
from lsrif_trl.data.worlds import WORLDS
from lsrif_trl.eval import lsr
from lsrif_trl.eval.generation import BACKENDS, GENERATION_RETRIES, GenerationError, SamplingParams
from lsrif_trl.eval.judging import JudgeConfig
from lsrif_trl.eval.registry import FILE_BENCHMARKS
from lsrif_trl.eval.report import compare_runs
from lsrif_trl.eval.runner import Benchmark, EvalRequest, FileBenchmark, IFEvalBenchmark, LSRBenchmark, evaluate
from lsrif_trl.rewards.think import (
    DEFAULT_POLICY,
    THINK_OPENED_BY_HELP,
    THINK_OPENERS,
    UNCLOSED_HELP,
    UNCLOSED_POLICIES,
    AnswerPolicy,
)

EXIT_BAD_INPUT = 2
EXIT_GENERATION_FAILED = 1


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register `lsrif eval` and its benchmarks."""
    parser = subparsers.add_parser(
        "eval", help="evaluate a model or its responses on a benchmark", description=__doc__
    )
    benchmarks = parser.add_subparsers(dest="benchmark", required=True, metavar="BENCHMARK")
    add_ifeval_parser(benchmarks)
    add_lsr_parser(benchmarks)
    add_lsr_prompts_parser(benchmarks)
    for benchmark in FILE_BENCHMARKS.values():
        add_file_benchmark_parser(benchmarks, benchmark)
    add_compare_parser(benchmarks)


def add_ifeval_parser(benchmarks: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """`lsrif eval ifeval`: IFEval with the reference's strict and loose semantics."""
    parser = add_benchmark_parser(
        benchmarks,
        "ifeval",
        help="IFEval (strict and loose, official output files)",
        description="Score responses on IFEval (generating them first with --model); writes "
        "eval_results_strict.jsonl, eval_results_loose.jsonl, metrics.json, results.json and results.md to "
        "--output-dir.",
        func=run_ifeval,
    )
    parser.add_argument(
        "--input-data",
        type=Path,
        help="the official input_data.jsonl (default: the Hub dataset google/IFEval; offline, pass "
        "../shared/data/ifeval/input_data.jsonl)",
    )
    return parser


def add_lsr_parser(benchmarks: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """`lsrif eval lsr`: LSR-Eval, the held-out logic-structure benchmark."""
    parser = add_benchmark_parser(
        benchmarks,
        "lsr",
        help="LSR-Eval (per structure type, depth and constraint family; lsrm / flat / all)",
        description="Score responses on LSR-Eval (generating them first with --model); writes lsr_results.jsonl, "
        "metrics.json, results.json and results.md to --output-dir.",
        func=run_lsr,
    )
    parser.add_argument(
        "--families",
        nargs="+",
        metavar="FAMILY",
        help="build the benchmark from these constraint families (a family or a prefix) instead of the official "
        "IFEval ones (`ifeval`), e.g. families held out of training",
    )
    add_world_arguments(parser)
    return parser


def add_world_arguments(parser: argparse.ArgumentParser) -> None:
    """`--world` and its held-out set's seed and size, instead of LSR-Eval v1."""
    world = parser.add_argument_group("a builder world's held-out set instead of LSR-Eval v1")
    world.add_argument("--world", choices=sorted(WORLDS), help="build the prompts in this world (`lsrif data build`)")
    world.add_argument("--eval-seed", type=int, default=0, help="with --world: the build seed of the prompts")
    world.add_argument("--num-prompts", type=int, default=200, help="with --world: how many prompts (default 200)")


def lsr_benchmark(args: argparse.Namespace) -> LSRBenchmark:
    """The benchmark the parsed `lsr` / `lsr-prompts` arguments ask for (ValueError for a bad combination)."""
    return LSRBenchmark(args.families, args.world, args.eval_seed, args.num_prompts)


def add_file_benchmark_parser(
    benchmarks: argparse._SubParsersAction, benchmark: type[FileBenchmark]
) -> argparse.ArgumentParser:
    """`lsrif eval NAME` for a benchmark read from `--input-data` or the Hub."""
    parser = add_benchmark_parser(
        benchmarks,
        benchmark.name,
        help=benchmark.help,
        description=benchmark.description,
        func=functools.partial(run_file_benchmark, benchmark),
    )
    parser.add_argument("--input-data", type=Path, help=benchmark.input_help)
    if benchmark.judge_use != "none":
        add_judge_arguments(parser, required=benchmark.judge_use == "required")
    return parser


def add_judge_arguments(parser: argparse.ArgumentParser, required: bool) -> None:
    """The judge of a judge-scored benchmark: any OpenAI-compatible server (settings recorded with the results)."""
    need = "required" if required else "optional: without it only the rule-scored rows are used"
    judge = parser.add_argument_group(f"judge ({need})")
    judge.add_argument("--judge-base-url", help="the judge server's /v1 URL, e.g. http://localhost:8001/v1")
    judge.add_argument("--judge-model", help="the judge's served model name, e.g. Qwen/Qwen2.5-72B-Instruct")
    judge.add_argument("--judge-api-key-env", default=DEFAULT_API_KEY_ENV, help="env variable holding the judge's key")
    judge.add_argument("--judge-max-tokens", type=int, default=2048, help="default: 2048")
    judge.add_argument("--judge-temperature", type=float, default=0.0, help="default: 0 (greedy)")
    judge.add_argument("--judge-concurrency", type=int, default=8, help="judge requests in flight")


def judge_from_args(args: argparse.Namespace) -> JudgeConfig | None:
    """The judge the --judge-* options name, or None when neither URL nor model is given."""
    if getattr(args, "judge_model", None) is None and getattr(args, "judge_base_url", None) is None:
        return None
    return JudgeConfig(
        base_url=args.judge_base_url,
        model=args.judge_model,
        api_key_env=args.judge_api_key_env,
        max_tokens=args.judge_max_tokens,
        temperature=args.judge_temperature,
        concurrency=args.judge_concurrency,
        timeout=args.timeout,
        max_retries=args.max_retries,
    )


def add_lsr_prompts_parser(benchmarks: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """`lsrif eval lsr-prompts`: write LSR-Eval's prompts, to answer them with any tool."""
    parser = benchmarks.add_parser(
        "lsr-prompts",
        help="write LSR-Eval's prompts and trees as JSONL",
        description="Write LSR-Eval's prompts (id, prompt, structure, structure_type, depth, seed_task) as JSONL; "
        "answer them with any tool and score the answers with `lsrif eval lsr --responses`.",
    )
    parser.add_argument("--output", type=Path, required=True, help="the JSONL file to write")
    parser.add_argument("--families", nargs="+", metavar="FAMILY", help="as for `lsrif eval lsr`")
    add_world_arguments(parser)
    parser.set_defaults(func=run_lsr_prompts)
    return parser


def add_benchmark_parser(
    benchmarks: argparse._SubParsersAction, name: str, *, help: str, description: str, func: Callable[..., int]
) -> argparse.ArgumentParser:
    """A benchmark's parser with the options every benchmark takes (source, generation, reporting)."""
    parser = benchmarks.add_parser(name, help=help, description=description)
    add_source_arguments(parser)
    add_run_arguments(parser)
    parser.set_defaults(func=func)
    return parser


def add_source_arguments(parser: argparse.ArgumentParser) -> None:
    """Where responses come from: a file to score, or a model to generate them with."""
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--responses", type=Path, help="JSONL with `prompt` and `response` per line")
    source.add_argument(
        "--model", help="local folder, Hub id, `tiny` (the offline tiny model), or the served name (openai)"
    )
    parser.add_argument("--output-dir", type=Path, required=True, help="directory for the result files")


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    """Generation, scoring and reporting options shared by the benchmarks."""
    parser.add_argument("--limit", type=int, help="only the first N prompts (quick checks)")
    parser.add_argument(
        "--allow-missing", action="store_true", help="score prompts without a response as failures (counted)"
    )
    gen = parser.add_argument_group("generation (with --model)")
    gen.add_argument("--backend", choices=BACKENDS, default="transformers", help="default: transformers")
    add_sampling_arguments(gen)
    gen.add_argument(
        "--think-opened-by", choices=THINK_OPENERS, default=DEFAULT_POLICY.think_opened_by, help=THINK_OPENED_BY_HELP
    )
    gen.add_argument(
        "--unclosed-think", choices=UNCLOSED_POLICIES, default=DEFAULT_POLICY.unclosed, help=UNCLOSED_HELP
    )
    add_backend_arguments(gen)
    out = parser.add_argument_group("reporting")
    out.add_argument("--model-card", type=Path, help="add the results to this model card (README.md, model-index)")
    out.add_argument("--report-to", choices=["none", "wandb", "trackio"], default="none")
    out.add_argument("--project", default="lsrif-eval", help="wandb/trackio project")
    out.add_argument("--run-name", help="wandb/trackio run name")


def add_sampling_arguments(gen: argparse._ArgumentGroup, max_new_tokens_help: str = "default: 1024") -> None:
    """Decoding options (`SamplingParams`; `sampling_from_args` reads them); `--max-new-tokens` defaults to None."""
    gen.add_argument("--max-new-tokens", type=int, help=max_new_tokens_help)
    gen.add_argument("--temperature", type=float, default=0.0, help="0 = greedy (default)")
    gen.add_argument("--top-p", type=float, default=1.0)
    gen.add_argument("--seed", type=int, default=42)
    thinking = gen.add_mutually_exclusive_group()
    thinking.add_argument(
        "--enable-thinking",
        dest="enable_thinking",
        action="store_const",
        const=True,
        help="pass enable_thinking=True to the chat template (Qwen3-style thinking models); default: unset",
    )
    thinking.add_argument(
        "--disable-thinking", dest="enable_thinking", action="store_const", const=False, help="enable_thinking=False"
    )


def sampling_from_args(args: argparse.Namespace, max_new_tokens: int = 1024) -> SamplingParams:
    """The sampling settings of `add_sampling_arguments`, `max_new_tokens` when --max-new-tokens is not given."""
    tokens = max_new_tokens if args.max_new_tokens is None else args.max_new_tokens
    return SamplingParams(tokens, args.temperature, args.top_p, args.seed, args.enable_thinking)


def add_backend_arguments(gen: argparse._ArgumentGroup) -> None:
    """Each backend's options (`backend_options` reads them)."""
    gen.add_argument("--batch-size", type=int, default=8, help="transformers: prompts per generate call")
    gen.add_argument("--tensor-parallel-size", type=int, default=1, help="vllm: GPUs per model")
    gen.add_argument("--gpu-memory-utilization", type=float, default=0.9, help="vllm")
    gen.add_argument("--base-url", help="openai: the server's /v1 URL, e.g. http://localhost:8000/v1")
    gen.add_argument("--api-key-env", default=DEFAULT_API_KEY_ENV, help="openai: env variable holding the API key")
    gen.add_argument("--concurrency", type=int, default=8, help="openai: requests in flight")
    gen.add_argument(
        "--timeout", type=float, default=300.0, help="openai: seconds one attempt may take, whole reply included"
    )
    gen.add_argument(
        "--deadline",
        type=float,
        help="openai: seconds one request may take, retries and waits included (default: none)",
    )
    gen.add_argument(
        "--max-retries", type=int, default=GENERATION_RETRIES, help="openai: retries per request (with backoff)"
    )


def backend_options(args: argparse.Namespace) -> dict:
    """The constructor options of the generator `--backend` names (`eval.generation.create_generator`)."""
    if args.backend == "transformers":
        return {"batch_size": args.batch_size}
    if args.backend == "vllm":
        return {
            "tensor_parallel_size": args.tensor_parallel_size,
            "gpu_memory_utilization": args.gpu_memory_utilization,
        }
    return {
        "base_url": args.base_url,
        "api_key_env": args.api_key_env,
        "concurrency": args.concurrency,
        "timeout": args.timeout,
        "deadline": args.deadline,
        "retry": RetryPolicy(max_retries=args.max_retries),
    }


def add_compare_parser(benchmarks: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """`lsrif eval compare DIR ...`: a summary table with bootstrap intervals, each benchmark's table, one plot."""
    parser = benchmarks.add_parser(
        "compare",
        help="compare evaluation runs side by side",
        description="Print a summary table (a row per run, a column per benchmark's primary metric, deltas against "
        "the first run with paired bootstrap 95% intervals over prompts), then each benchmark's runs side by side, "
        "and save one bar plot (compare.png). Each DIR is a run folder (with results.json) or a folder of run folders.",
    )
    parser.add_argument("dirs", nargs="+", type=Path, metavar="DIR")
    parser.add_argument("--plot-dir", type=Path, default=Path("eval_compare"), help="default: ./eval_compare")
    parser.add_argument("--all-metrics", action="store_true", help="every metric, not only the headline ones")
    parser.set_defaults(func=run_compare)
    return parser


def request_from_args(args: argparse.Namespace) -> EvalRequest:
    """The EvalRequest the parsed arguments describe; ValueError for invalid sampling settings."""
    return EvalRequest(
        output_dir=args.output_dir,
        responses=args.responses,
        model=args.model,
        backend=args.backend,
        sampling=sampling_from_args(args),
        backend_options=backend_options(args) if args.model is not None else {},
        answer_policy=AnswerPolicy(args.think_opened_by, args.unclosed_think),
        limit=args.limit,
        allow_missing=args.allow_missing,
        model_card=args.model_card,
        report_to=None if args.report_to == "none" else args.report_to,
        project=args.project,
        run_name=args.run_name,
    )


def _run(benchmark: Benchmark, args: argparse.Namespace) -> int:
    command = f"lsrif eval {benchmark.name}"
    try:
        results = evaluate(benchmark, request_from_args(args))
    except (ValueError, OSError) as err:
        print(f"{command}: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except GenerationError as err:
        print(f"{command}: {err}", file=sys.stderr)
        return EXIT_GENERATION_FAILED
    print(json.dumps(results.metrics, indent=2))
    return 0


def run_ifeval(args: argparse.Namespace) -> int:
    """Generate (with --model) and score IFEval; print the metrics; 2 on bad input."""
    return _run(IFEvalBenchmark(args.input_data), args)


def run_lsr(args: argparse.Namespace) -> int:
    """Generate (with --model) and score LSR-Eval; print the metrics; 2 on bad input."""
    try:
        benchmark = lsr_benchmark(args)
    except ValueError as err:
        print(f"lsrif eval lsr: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    return _run(benchmark, args)


def run_file_benchmark(benchmark: type[FileBenchmark], args: argparse.Namespace) -> int:
    """Generate (with --model) and score a file benchmark; print the metrics; 2 on bad input."""
    try:
        instance = benchmark(args.input_data, judge_from_args(args))
    except ValueError as err:
        print(f"lsrif eval {benchmark.name}: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    return _run(instance, args)


def run_lsr_prompts(args: argparse.Namespace) -> int:
    """Write the benchmark's prompts; 2 on bad input."""
    try:
        path = lsr.write_benchmark(lsr_benchmark(args).load(), args.output)
    except (ValueError, OSError) as err:
        print(f"lsrif eval lsr-prompts: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(path)
    return 0


def run_compare(args: argparse.Namespace) -> int:
    """Print the comparison tables and the paths of the saved plots; 2 on bad input."""
    try:
        table, plots = compare_runs(args.dirs, args.plot_dir, args.all_metrics)
    except (ValueError, OSError) as err:
        print(f"lsrif eval compare: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(table)
    for plot in plots:
        print(f"plot: {plot}")
    return 0
