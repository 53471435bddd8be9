"""Recipe YAML files: find them on disk, parse them with TRL's `TrlParser`, validate them without a GPU.

A recipe is `recipes/<model>/<kind>*.yaml`; its file name says which script runs it (`grpo_*.yaml` ->
`recipes/grpo_lsrm.py`, `sft*.yaml` -> `recipes/sft.py`, `train_rm*.yaml` -> `recipes/train_rm.py`).
`parse_recipe_args(kind, argv)` is what the scripts call: it turns an unknown YAML key or a wrongly typed value
into an error that names the file, the key and a close match, before anything heavy is loaded.

    lsrif config list                    every recipe found under recipes/, with its model and script
    lsrif config show FILE               the YAML plus every value the script will see (defaults included)
    lsrif config validate [FILE ...]     parse all (or the given) recipes against the installed TRL and check
                                         their reward names and options; exit 1 if any fails
    lsrif config get FILE KEY            print one value (for shell launchers such as slurm/train.slurm)

Validation forces `use_cpu` so that GPU-only settings (`bf16`) parse on a machine without a GPU; it checks
the configuration, not the hardware.
"""

from __future__ import annotations

import argparse
import difflib
import importlib
import json
import sys
import types
import typing
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
RECIPES_DIR = REPO_ROOT / "recipes"


class RecipeError(ValueError):
    """A recipe that cannot run as written; the message names the file, the key and the fix."""


@dataclass(frozen=True)
class RecipeKind:
    """Which script runs a family of recipe files, and the dataclasses its parser is built from."""

    name: str
    script: str

    def dataclass_types(self) -> tuple[type, ...]:
        from trl import GRPOConfig, ModelConfig, SFTConfig

        from lsrif_trl.training.args import GRPOScriptArguments, SFTScriptArguments

        if self.name == "grpo":
            return (GRPOScriptArguments, GRPOConfig, ModelConfig)
        return (SFTScriptArguments, SFTConfig, ModelConfig)


KINDS = {"grpo": RecipeKind("grpo", "recipes/grpo_lsrm.py"), "sft": RecipeKind("sft", "recipes/sft.py")}
# Kinds whose script arguments live beside the code they drive, imported only when such a file is found.
LAZY_KINDS = {"train_rm": ("lsrif_trl.judges.rm_recipe", "RM_KIND")}
RECIPE_FILE_NAMES = " or ".join(f"{prefix}_*.yaml" for prefix in [*KINDS, *LAZY_KINDS])


def recipe_kind(path: str | Path) -> RecipeKind:
    """The kind of a recipe file from its name (`grpo_*.yaml`, `sft*.yaml`, `train_rm*.yaml`)."""
    stem = Path(path).stem
    for prefix in [*KINDS, *LAZY_KINDS]:
        if stem == prefix or stem.startswith(f"{prefix}_"):
            if prefix in KINDS:
                return KINDS[prefix]
            module, name = LAZY_KINDS[prefix]
            return getattr(importlib.import_module(module), name)
    raise RecipeError(f"{path}: cannot tell which script runs it; name it {RECIPE_FILE_NAMES}")


def find_recipes(root: str | Path = RECIPES_DIR) -> list[Path]:
    """Every recipe YAML under `root` (one folder per model), sorted."""
    return sorted(p for p in Path(root).glob("*/*.yaml") if p.is_file())


def load_yaml(path: str | Path) -> dict[str, Any]:
    """The mapping in a recipe file; RecipeError if the file is missing or is not a mapping."""
    path = Path(path)
    if not path.is_file():
        raise RecipeError(f"{path}: no such recipe file; `lsrif config list` shows the recipes")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise RecipeError(f"{path}: not valid YAML: {err}") from None
    if not isinstance(data, dict):
        raise RecipeError(f"{path}: expected a mapping of `key: value` lines at the top level")
    return data


def build_parser(kind: RecipeKind):
    """A `TrlParser` over the kind's dataclasses."""
    from trl import TrlParser

    return TrlParser(kind.dataclass_types())


def field_types(kind: RecipeKind) -> dict[str, Any]:
    """Every field the kind's dataclasses accept, with its annotation."""
    return {name: hint for dc in kind.dataclass_types() for name, hint in typing.get_type_hints(dc).items()}


def _without_none(hint: Any) -> Any:
    """`X` for `X | None`; None for other unions (several types accepted: not checked here)."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        return _without_none(args[0]) if len(args) == 1 else None
    return hint


def _value_error(hint: Any, value: Any) -> str | None:
    """Why `value` (from YAML) does not fit the annotation `hint`, or None if it fits or is not checked."""
    hint = _without_none(hint)
    if typing.get_origin(hint) is list:
        item = typing.get_args(hint)[0] if typing.get_args(hint) else Any
        values = value if isinstance(value, list) else [value]
        return next((e for e in (_value_error(item, v) for v in values) if e), None)
    if isinstance(value, list):
        return "expected a single value, not a list" if hint in (int, float, bool, str) else None
    if typing.get_origin(hint) is typing.Literal:
        allowed = list(typing.get_args(hint))
        return None if value in allowed else f"expected one of {allowed}"
    if hint is bool:
        ok = isinstance(value, bool) or str(value).lower() in ("true", "false", "yes", "no", "1", "0")
        return None if ok else "expected true or false"
    if hint in (int, float):
        if isinstance(value, str):
            try:
                value = hint(value)
            except ValueError:
                return f"expected {'an integer' if hint is int else 'a number'}"
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or (hint is int and not isinstance(value, int))
        ):
            return f"expected {'an integer' if hint is int else 'a number'}"
    return None


def check_values(path: str | Path, config: dict[str, Any], kind: RecipeKind, parser: argparse.ArgumentParser) -> None:
    """Unknown keys (with a close match), values of the wrong type or outside the choices, as RecipeError.

    YAML values become argparse defaults, which argparse never type-checks; this does it per dataclass field."""
    hints = field_types(kind)
    choices = {a.dest: a.choices for a in parser._actions if a.choices is not None}
    for key, value in config.items():
        if key == "env":
            continue
        if key not in hints:
            close = difflib.get_close_matches(key, hints, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else "; remove it or check the TRL version's field names"
            raise RecipeError(f"{path}: unknown key {key!r}{hint}")
        if value is None:
            continue
        problem = _value_error(hints[key], value)
        if problem is None and key in choices and not isinstance(value, list | dict):
            allowed = [str(c) for c in choices[key]]
            problem = None if str(value) in allowed else f"expected one of {allowed}"
        if problem:
            raise RecipeError(f"{path}: {key}: {value!r}: {problem}")


def parse_recipe_args(kind: RecipeKind, argv: list[str] | None = None, *, force_cpu: bool = False) -> tuple:
    """Parse `--config FILE` plus command-line overrides into the kind's dataclasses, or raise RecipeError."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(kind)
    config_path = argv[argv.index("--config") + 1] if "--config" in argv else None
    if config_path is not None:
        check_values(config_path, load_yaml(config_path), kind, parser)
    if force_cpu:
        argv += ["--use_cpu", "true"]
    where = config_path or "command line"
    try:
        parsed = tuple(parser.parse_args_and_config(argv))
    except SystemExit as exit_:  # argparse already printed what was wrong with the command line
        raise RecipeError(f"{where}: the arguments above could not be parsed") from exit_
    except (ValueError, TypeError) as err:
        raise RecipeError(f"{where}: {err}") from None
    if any(getattr(p, "hub_token", None) for p in parsed):
        # The trainer pickles its arguments into every checkpoint (training_args.bin): a token there would leak.
        raise RecipeError(f"{where}: hub_token: do not pass tokens as arguments; set HF_TOKEN in the environment")
    return parsed


def validate_recipe(path: str | Path) -> tuple:
    """Parse one recipe as its script would (on CPU) and check its rewards; returns the parsed dataclasses."""
    kind = recipe_kind(path)
    parsed = parse_recipe_args(kind, ["--config", str(path)], force_cpu=True)
    if kind.name == "grpo":
        from lsrif_trl.training.rewards import check_rewards

        try:
            check_rewards(parsed[0], parsed[1])
        except RecipeError as err:
            raise RecipeError(f"{path}: {err}") from None
    return parsed


def get_value(path: str | Path, key: str) -> Any:
    """The value a recipe gives `key` (the YAML's, else the script's default)."""
    config = load_yaml(path)
    if key in config:
        return config[key]
    for parsed in validate_recipe(path):
        if hasattr(parsed, key):
            return getattr(parsed, key)
    raise RecipeError(f"{path}: no key {key!r} in the file or in the defaults of {recipe_kind(path).script}")


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
            validate_recipe(path)
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
    validate.set_defaults(action=_validate)
    get = actions.add_parser("get", help="print one value of a recipe (YAML or default)")
    get.add_argument("file")
    get.add_argument("key")
    get.set_defaults(action=_get)
    parser.set_defaults(func=_run)
