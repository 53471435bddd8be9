"""Reading JSONL input one line at a time, with errors that name the line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def json_object(line: str, where: str, error: type[ValueError] = ValueError) -> dict[str, Any]:
    """One JSONL line as a dict; raises `error` naming `where` when it is not JSON or not a JSON object."""
    try:
        value = json.loads(line)
    except json.JSONDecodeError as err:
        raise error(f"{where}: not valid JSON ({err})") from None
    if not isinstance(value, dict):
        raise error(f"{where}: expected a JSON object, got {type(value).__name__}")
    return value


def json_lines(path: Path, error: type[ValueError] = ValueError) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for every non-blank line of `path`; `error` names the line that is not a JSON object."""
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                yield number, json_object(line, f"{path} line {number}", error)
