"""Recipe YAML files: find them on disk, parse them with TRL's `TrlParser`, validate them without a GPU.

A recipe is `recipes/<model>/<kind>*.yaml`; its file name says which script runs it (`grpo_*.yaml` ->
`recipes/grpo_lsrm.py`, `sft*.yaml` -> `recipes/sft.py`, `train_rm*.yaml` -> `recipes/train_rm.py`).
`parse_recipe_args(kind, argv)` is what the scripts call: it turns an unknown YAML key or a wrongly typed value
into an error that names the file, the key and a close match, before anything heavy is loaded. `lsrif config`
(`training.cli`) lists, shows, validates and reads recipes with these functions.

Validation forces `use_cpu` so that GPU-only settings (`bf16`) parse on a machine without a GPU; it checks
the configuration, not the hardware.
"""

from __future__ import annotations

import argparse
import difflib
import sys
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from lsrif_trl.secret_args import SecretArgumentError, check_argv, check_mapping
from lsrif_trl.training.args import GRPOScriptArguments, RMScriptArguments, SFTScriptArguments
from lsrif_trl.training.errors import RecipeError
from lsrif_trl.training.rewards import check_rewards

REPO_ROOT = Path(__file__).resolve().parents[2]
RECIPES_DIR = REPO_ROOT / "recipes"


@dataclass(frozen=True)
class RecipeKind:
    """Which script runs a family of recipe files: its own arguments, then TRL's trainer config and ModelConfig."""

    name: str
    script: str
    script_arguments: type
    trainer_config: str  # a class of `trl`, imported only when a parser is built (importing TRL takes seconds)

    def dataclass_types(self) -> tuple[type, ...]:
        import trl

        return (self.script_arguments, getattr(trl, self.trainer_config), trl.ModelConfig)


# The file name's prefix says the kind: `grpo_*.yaml`, `sft*.yaml`, `train_rm*.yaml`.
KINDS = {
    kind.name: kind
    for kind in (
        RecipeKind("grpo", "recipes/grpo_lsrm.py", GRPOScriptArguments, "GRPOConfig"),
        RecipeKind("sft", "recipes/sft.py", SFTScriptArguments, "SFTConfig"),
        RecipeKind("train_rm", "recipes/train_rm.py", RMScriptArguments, "RewardConfig"),
    )
}
RECIPE_FILE_NAMES = " or ".join(f"{prefix}_*.yaml" for prefix in KINDS)


def recipe_kind(path: str | Path) -> RecipeKind:
    """The kind of a recipe file from its name (`grpo_*.yaml`, `sft*.yaml`, `train_rm*.yaml`)."""
    stem = Path(path).stem
    for prefix, kind in KINDS.items():
        if stem == prefix or stem.startswith(f"{prefix}_"):
            return kind
    raise RecipeError(f"{path}: cannot tell which script runs it; name it {RECIPE_FILE_NAMES}")


EVAL_DEFAULTS = "eval.yaml"  # recipes/<model>/eval.yaml: `make eval`'s sampling defaults for the model, not a recipe


def find_recipes(root: str | Path = RECIPES_DIR) -> list[Path]:
    """Every recipe YAML under `root` (one folder per model), sorted; the folders' eval.yaml files are not recipes."""
    return sorted(p for p in Path(root).glob("*/*.yaml") if p.is_file() and p.name != EVAL_DEFAULTS)


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML's safe loader, except that a key given twice in one mapping is an error (PyYAML keeps the last)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}: keep one (YAML would keep the last)", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep)


def load_yaml(path: str | Path) -> dict[str, Any]:
    """The mapping in a recipe file; RecipeError if the file is missing, repeats a key or is not a mapping."""
    path = Path(path)
    if not path.is_file():
        raise RecipeError(f"{path}: no such recipe file; `lsrif config list` shows the recipes")
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader
    except yaml.YAMLError as err:
        raise RecipeError(f"{path}: not valid YAML: {err}") from None
    if not isinstance(data, dict):
        raise RecipeError(f"{path}: expected a mapping of `key: value` lines at the top level")
    return data


def build_parser(kind: RecipeKind):
    """A `TrlParser` over the kind's dataclasses."""
    from trl import TrlParser

    return TrlParser(kind.dataclass_types(), allow_abbrev=False)  # `--judge_api_key` is never `--judge_api_key_env`


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


def check_options(argv: list[str], parser: argparse.ArgumentParser) -> None:
    """Every `--name` on the command line is an option of the kind's dataclasses (with a close match if not)."""
    known = {option for action in parser._actions for option in action.option_strings} | {"--config"}
    for token in argv:
        name = token.split("=", 1)[0]
        if name.startswith("--") and name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f"; did you mean {close[0]}?" if close else "; `lsrif config show RECIPE.yaml` lists every option"
            raise RecipeError(f"command line: unknown option {name}{hint}")


def parse_recipe_args(kind: RecipeKind, argv: list[str] | None = None, *, force_cpu: bool = False) -> tuple:
    """Parse `--config FILE` plus command-line overrides into the kind's dataclasses, or raise RecipeError."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--config" not in argv[:-1]:
        raise RecipeError(
            f"--config is required: python {kind.script} --config RECIPE.yaml [--option value ...]; "
            "`lsrif config list` shows the recipes"
        )
    config_path = argv[argv.index("--config") + 1]
    try:  # before argparse, whose errors would repeat the value; the trainer pickles arguments into checkpoints
        check_argv(argv)
        config = load_yaml(config_path)
        check_mapping(config, config_path)
    except SecretArgumentError as err:
        raise RecipeError(str(err)) from None
    parser = build_parser(kind)
    check_values(config_path, config, kind, parser)
    check_options(argv, parser)
    if force_cpu:
        argv += ["--use_cpu", "true"]
    where = config_path
    try:
        parsed = tuple(parser.parse_args_and_config(argv))
    except SystemExit as exit_:  # argparse already printed what was wrong with the command line
        raise RecipeError(f"command line: the arguments above could not be parsed ({config_path} is fine)") from exit_
    except (ValueError, TypeError) as err:
        raise RecipeError(f"{where}: {err}") from None
    return parsed


def validate_recipe(path: str | Path, kind: RecipeKind | None = None) -> tuple:
    """Parse one recipe as its script would (on CPU) and check its rewards; returns the parsed dataclasses.

    The kind is the one given, else the one the file name says (`grpo_*.yaml`, ...)."""
    load_yaml(path)  # a missing file is reported as missing, whatever its name
    kind = kind or recipe_kind(path)
    parsed = parse_recipe_args(kind, ["--config", str(path)], force_cpu=True)
    if kind.name == "grpo":
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
