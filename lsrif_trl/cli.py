"""The `lsrif` command: each subcommand lives beside the code it drives and registers itself here."""

from __future__ import annotations

import argparse
import importlib
import sys

from lsrif_trl.secret_args import SecretArgumentError, check_argv

# Modules that define `add_parser(subparsers)`; each sets `func` on its parser.
COMMAND_MODULES = [
    "lsrif_trl.tiny",
    "lsrif_trl.training.cli",
    "lsrif_trl.rewards.cli",
    "lsrif_trl.data.cli",
    "lsrif_trl.constraints.cli",
    "lsrif_trl.eval.cli",
    "lsrif_trl.judges.cli",
    "lsrif_trl.analysis.cli",
]


class ArgumentParser(argparse.ArgumentParser):
    """argparse without prefix matching (`--api-key` is never taken for `--api-key-env`), for every subcommand:
    `add_subparsers` builds subcommand parsers of the parser's own class."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **{**kwargs, "allow_abbrev": False})


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser, with every subcommand registered."""
    parser = ArgumentParser(prog="lsrif", description=__doc__)
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).add_parser(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `lsrif` console script; returns the process exit code."""
    try:  # before argparse, whose errors would repeat the value
        check_argv(sys.argv[1:] if argv is None else argv)
    except SecretArgumentError as err:
        print(f"lsrif: error: {err}", file=sys.stderr)
        return 2
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
