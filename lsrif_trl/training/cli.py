"""`lsrif config`: list, show, validate and read the recipe YAML files (`lsrif_trl.training.config`).

lsrif config list                    every recipe found under recipes/, with its model and script
lsrif config show FILE               the YAML plus every value the script will see (defaults included)
lsrif config validate [FILE ...]     parse all (or the given) recipes against the installed TRL and check
        [--kind grpo|sft|train_rm]   their reward names and options; exit 1 if any fails
lsrif config get FILE KEY            print one value (for shell launchers such as slurm/train.slurm)
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from lsrif_trl.training.config import (
    KINDS,
    RECIPE_FILE_NAMES,
    RECIPES_DIR,
    find_recipes,
    get_value,
    load_yaml,
    recipe_kind,
    validate_recipe,
)
from lsrif_trl.training.errors import RecipeError


def _format(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _list(args: argparse.Namespace) -> int:
    for path in find_recipes(args.root):
        model = load_yaml(path).get("model_name_or_path", "?")
        try:
            script = recipe_kind(path).script
        except RecipeError:
            script = f"(no script: name it {RECIPE_FILE_NAMES})"
        print(f"{_relative(path)}\t{model}\t{script}")
    return 0


def _relative(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _show(args: argparse.Namespace) -> int:
    print(Path(args.file).read_text(encoding="utf-8").rstrip())
    print("\n# Every value the script sees (YAML over defaults), validated on CPU:")
    for parsed in validate_recipe(args.file):
        print(f"# [{type(parsed).__name__}]")
        values = asdict(parsed) if hasattr(parsed, "__dataclass_fields__") else vars(parsed)
        for key in sorted(values):
            if "token" not in key:  # hub_token and the like are never printed
                print(f"#   {key}: {_format(values[key])}")
    return 0


def _validate(args: argparse.Namespace) -> int:
    paths = [Path(p) for p in args.files] or find_recipes(args.root)
    if not paths:
        print(f"no recipe files found under {args.root}", file=sys.stderr)
        return 1
    failed = 0
    for path in paths:
        try:
            validate_recipe(path, KINDS[args.kind] if args.kind else None)
            print(f"ok    {path}")
        except RecipeError as err:
            failed += 1
            print(f"FAIL  {err}")
    print(f"{len(paths) - failed}/{len(paths)} recipes valid")
    return 1 if failed else 0


def _get(args: argparse.Namespace) -> int:
    print(_format(get_value(args.file, args.key)))
    return 0


def _run(args: argparse.Namespace) -> int:
    try:
        return args.action(args)
    except RecipeError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


def add_parser(subparsers) -> None:
    """Register `lsrif config list|show|validate|get`."""
    parser = subparsers.add_parser("config", help="list, show, validate and read recipe YAML files")
    parser.add_argument("--root", type=Path, default=RECIPES_DIR, help="folder holding <model>/<recipe>.yaml")
    actions = parser.add_subparsers(dest="config_command", required=True)
    actions.add_parser("list", help="every recipe file found on disk").set_defaults(action=_list)
    show = actions.add_parser("show", help="a recipe and every value its script will see")
    show.add_argument("file")
    show.set_defaults(action=_show)
    validate = actions.add_parser("validate", help="parse recipes against the installed TRL (no GPU needed)")
    validate.add_argument("files", nargs="*", help="default: every recipe under --root")
    validate.add_argument("--kind", choices=sorted(KINDS), help="which script runs the files (default: from the name)")
    validate.set_defaults(action=_validate)
    get = actions.add_parser("get", help="print one value of a recipe (YAML or default)")
    get.add_argument("file")
    get.add_argument("key")
    get.set_defaults(action=_get)
    parser.set_defaults(func=_run)
