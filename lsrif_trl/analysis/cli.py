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
