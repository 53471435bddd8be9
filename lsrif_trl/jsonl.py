"""Reading JSONL input one line at a time, with errors that name the file and the line."""

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
    except RecursionError:
        raise error(f"{where}: nested too deeply to decode") from None
    if not isinstance(value, dict):
        raise error(f"{where}: expected a JSON object, got {type(value).__name__}")
    return value


def read_objects(path: str | Path, error: type[ValueError] = ValueError) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for every non-blank line of a UTF-8 JSONL file; `error` names the file and line of
    bytes that are not UTF-8, of a line that is not one JSON object (a truncated last line says so), and of a file
    with no rows."""
    path = Path(path)
    with path.open("rb") as handle:
        lines = handle.read().split(b"\n")
    last = max((i for i, raw in enumerate(lines) if raw.strip()), default=-1)
    if last < 0:
        raise error(f"{path}: empty file, no JSON lines to read")
    for index, raw in enumerate(lines[: last + 1]):
        where = f"{path} line {index + 1}"
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as err:
            raise error(
                f"{where}: not UTF-8 (byte {raw[err.start]:#04x} at column {err.start + 1}); re-save the file as UTF-8"
            ) from None
        if not line.strip():
            continue
        try:
            yield index + 1, json_object(line, where, error)
        except error as err:
            if index == last and not lines[last].rstrip().endswith(b"}"):
                raise error(f"{err}; the last line looks truncated (an interrupted write?)") from None
            raise


def read_array(path: str | Path, error: type[ValueError] = ValueError) -> list[Any]:
    """The rows of a UTF-8 JSON file holding one non-empty array; `error` names the file when it is anything else."""
    try:
        rows = json.loads(Path(path).read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise error(f"{path}: not valid UTF-8 JSON ({err})") from None
    except RecursionError:
        raise error(f"{path}: nested too deeply to decode") from None
    if not isinstance(rows, list) or not rows:
        raise error(f"{path}: expected a non-empty JSON array of rows")
    return rows
