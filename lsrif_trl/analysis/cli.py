"""`lsrif analyze params | attention`: what training changed in a model, against its base."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from lsrif_trl.analysis.checkpoints import CheckpointError

EXIT_INVALID = 2


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register `lsrif analyze` and its subcommands."""
    analyze = subparsers.add_parser("analyze", help="compare a trained model with its base: parameters, attention")
    commands = analyze.add_subparsers(dest="analyze_command", required=True)

    params = commands.add_parser("params", help="relative weight change per module type and layer")
    params.add_argument("base", help="base model folder or Hub id (safetensors)")
    params.add_argument("trained", help="trained model folder, Hub id, or LoRA adapter folder")
    params.add_argument("--output", required=True, help="folder for params.json and the plots")
    params.set_defaults(func=run_params)

    attention = commands.add_parser("attention", help="attention mass of the answer on each prompt-token category")
    attention.add_argument("base", help="base model folder or Hub id")
    attention.add_argument("trained", help="trained model folder, Hub id, or LoRA adapter folder")
    attention.add_argument("--data", required=True, help="dataset with a `prompt` column (builder rows carry spans)")
    attention.add_argument("--output", required=True, help="folder for attention.json and the plots")
    attention.add_argument("--split", default="train")
    attention.add_argument("--max-prompts", type=int, default=64, help="first N rows (default 64)")
    attention.add_argument(
        "--answer-tokens", type=int, default=8, help="answer positions per prompt (1: the last prompt token only)"
    )
    attention.add_argument("--seed", type=int, default=0, help="seed of the bootstrap intervals")
    attention.set_defaults(func=run_attention)


def run_params(args: argparse.Namespace) -> int:
    from lsrif_trl.analysis.params import analyze_params

    try:
        result = analyze_params(args.base, args.trained, Path(args.output))
    except CheckpointError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_INVALID
    print(f"total relative change {result['total']:.3g}; per module type:")
    for name, change in result["by_module"].items():
        shown = "undefined" if change is None else f"{change:.3g}"
        print(f"  {name:<11} {shown:>10}  share {result['share'][name]:.1%}")
    print(f"wrote {Path(args.output) / 'params.json'} and plots")
    return 0


def run_attention(args: argparse.Namespace) -> int:
    from lsrif_trl.analysis.attention import analyze_attention

    try:
        result = analyze_attention(
            args.base,
            args.trained,
            args.data,
            Path(args.output),
            split=args.split,
            max_prompts=args.max_prompts,
            answer_tokens=args.answer_tokens,
            seed=args.seed,
        )
    except (CheckpointError, ValueError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_INVALID
    print(f"attention of {args.answer_tokens} answer positions on {result['prompts']} prompts, trained - base:")
    for name, cell in result["change"]["mean"].items():
        low, high = cell["ci95"]
        print(f"  {name:<11} {cell['mean']:+.3e}  [{low:+.3e}, {high:+.3e}]")
    print(f"wrote {Path(args.output) / 'attention.json'} and plots")
    return 0
