"""Keys and tokens never travel as arguments: the command line ends up in shell history, process lists, logs and
checkpoints (the trainer pickles its arguments into `training_args.bin`). Such an argument is refused with a
message that names the option and never repeats the value; secrets are read from the environment only.

Refused: an option named like a secret (`--hub_token`, `--api_key`, `--judge_api_key`, `--password`, ...), a value
that looks like a key (`sk-...`, `hf_...`, `ghp_...`, `xoxb-...`, AWS `AKIA...`, a JWT), and an `*_env` option whose
value is not the name of an environment variable (`--judge_api_key_env sk-...` passes the key itself).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

SECRET_NAME = re.compile(r"(?:^|[_-])(?:hub|access|auth|api|bearer)[_-]?(?:token|key)$|(?:secret|password)$", re.I)
# The published shapes of common keys: OpenAI-style, Hugging Face, GitHub, GitLab, Slack, AWS access keys, JWTs.
SECRET_VALUE = re.compile(
    r"^(?:sk-(?=[\w-]*\d)[\w-]{20,}|hf_[A-Za-z0-9]{30,}|gh[pousr]_[A-Za-z0-9]{30,}|github_pat_\w{22,}"
    r"|glpat-[\w-]{20,}|xox[abprs]-[A-Za-z0-9-]{10,}|(?:AKIA|ASIA)[A-Z0-9]{16}|eyJ[\w-]{8,}\.eyJ[\w-]{8,}\.[\w-]+)$"
)
ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")
ENV_ADVICE = "put the key in an environment variable (HF_TOKEN, WANDB_API_KEY, OPENAI_API_KEY, ...) instead"


class SecretArgumentError(ValueError):
    """An argument that carries a key or token; the message names where, never the value."""


def is_secret_name(name: str) -> bool:
    """Whether an option or key is named like a secret (`hub_token`, `api_key`, `password`; not `*_env`)."""
    return bool(SECRET_NAME.search(name.lstrip("-")))


def looks_like_secret(value: Any) -> bool:
    """Whether a value has the shape of an API key or access token."""
    return isinstance(value, str) and bool(SECRET_VALUE.match(value.strip()))


def secret_problem(name: str | None, value: Any) -> str | None:
    """Why `name: value` must not be an argument, or None; the reason never quotes the value."""
    if name is not None and is_secret_name(name):
        return f"{name}: do not pass keys or tokens as arguments; {ENV_ADVICE}"
    if looks_like_secret(value):
        return f"{name or 'an argument'}: this value looks like a key or token (not shown); {ENV_ADVICE}"
    if name is not None and re.search(r"[_-]env$", name) and isinstance(value, str) and not ENV_NAME.match(value):
        return f"{name}: expects the NAME of an environment variable, such as OPENAI_API_KEY (the value is not shown)"
    return None


def check_argv(argv: Iterable[str]) -> None:
    """SecretArgumentError for the first command-line argument that carries a key or token."""
    name = None
    for arg in argv:
        if arg.startswith("--"):
            option, has_value, value = arg.partition("=")
            problem = secret_problem(option.lstrip("-"), value if has_value else None)
            name = None if has_value else option.lstrip("-")
        else:
            problem, name = secret_problem(name, arg), None
        if problem:
            raise SecretArgumentError(problem)


def check_mapping(values: Mapping[str, Any], where: str) -> None:
    """SecretArgumentError for the first key of a recipe file that carries a key or token (list items included)."""
    for key, value in values.items():
        for item in value if isinstance(value, list) else [value]:
            problem = secret_problem(str(key), item) if item is not None else None
            if problem:
                raise SecretArgumentError(f"{where}: {problem}")
