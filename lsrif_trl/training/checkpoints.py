"""Where a run resumes from: the newest complete checkpoint, never a half-written one, and never past the end.

Transformers writes straight into `checkpoint-N`, so a kill during a save leaves a folder it cannot resume from.
A checkpoint is complete when everything the resumed trainer reads is whole:
- `trainer_state.json` parses as a JSON object whose `global_step` is an integer;
- the model weights: `model.safetensors` / `adapter_model.safetensors` (its header parses and the file is as long
  as the header says), every shard a `model.safetensors.index.json` lists (each checked the same way),
  `pytorch_model.bin` / `adapter_model.bin` (a whole zip archive), or a DeepSpeed `latest` file naming its folder;
- `optimizer.pt`, `scheduler.pt` and `rng_state*.pth`, when present, are whole zip archives (torch's format).
Incomplete checkpoints are moved aside to `incomplete-checkpoint-N` with a warning (never deleted); a checkpoint
without `optimizer.pt` resumes with a fresh optimizer and says so; a run whose newest state reached its step
target stops saying it is complete, unless asked to start over.
"""

from __future__ import annotations

import json
import re
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CHECKPOINT = re.compile(r"^checkpoint-(\d+)$")  # Transformers' own folder pattern
SAFETENSORS = ("model.safetensors", "adapter_model.safetensors")
TORCH_WEIGHTS = ("pytorch_model.bin", "adapter_model.bin")
SHARD_INDEX = "model.safetensors.index.json"
ARCHIVES = ("optimizer.pt", "scheduler.pt")  # and rng_state*.pth


@dataclass(frozen=True)
class ResumePlan:
    """What a run does with its output_dir: resume from `checkpoint` (None: from step 0), or stop as complete."""

    checkpoint: str | None
    complete: bool = False
    message: str | None = None  # why the run is complete, for the user


def missing_parts(folder: Path) -> list[str]:
    """What keeps `folder` from being resumed from (empty when the checkpoint is complete)."""
    problems = []
    if _state(folder) is None:
        problems.append("trainer_state.json is missing or unreadable")
    weights = _weights_problem(folder)
    if weights:
        problems.append(weights)
    for path in [*(folder / name for name in ARCHIVES), *folder.glob("rng_state*.pth")]:
        if path.exists() and not zipfile.is_zipfile(path):
            problems.append(f"{path.name} is cut short")
    return problems


def _state(folder: Path) -> dict[str, Any] | None:
    try:
        state = json.loads((folder / "trainer_state.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not isinstance(state, dict) or isinstance(state.get("global_step"), bool):
        return None
    return state if isinstance(state.get("global_step"), int) else None


def _weights_problem(folder: Path) -> str | None:
    for name in SAFETENSORS:
        if (folder / name).exists():
            return None if _safetensors_whole(folder / name) else f"{name} is cut short"
    index = folder / SHARD_INDEX
    if index.exists():
        try:
            shards = sorted(set(json.loads(index.read_text(encoding="utf-8"))["weight_map"].values()))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, AttributeError):
            return f"{SHARD_INDEX} is unreadable"
        broken = [s for s in shards if not _safetensors_whole(folder / s)]
        return f"weight shard {broken[0]} is missing or cut short" if broken else None
    for name in TORCH_WEIGHTS:
        if (folder / name).exists():
            return None if zipfile.is_zipfile(folder / name) else f"{name} is cut short"
    latest = folder / "latest"  # DeepSpeed keeps its own states in the folder this file names
    if latest.is_file() and (folder / latest.read_text(encoding="utf-8", errors="replace").strip()).is_dir():
        return None
    return "no model weights"


def _safetensors_whole(path: Path) -> bool:
    """The file's header parses and its length is exactly header plus the tensors the header lists."""
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            head = handle.read(8)
            length = int.from_bytes(head, "little") if len(head) == 8 else -1
            if length < 0 or length > size - 8:
                return False
            header = json.loads(handle.read(length))
        end = max((v["data_offsets"][1] for k, v in header.items() if k != "__metadata__"), default=0)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, IndexError, AttributeError):
        return False
    return size == 8 + length + end


def checkpoints(output_dir: Path) -> list[Path]:
    """The `checkpoint-N` folders of `output_dir`, newest (highest N) first."""
    if not output_dir.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in output_dir.iterdir() if p.is_dir() and (m := CHECKPOINT.match(p.name))]
    return [p for _, p in sorted(found, reverse=True)]


def move_aside(folder: Path) -> Path:
    """Rename an incomplete checkpoint so no trainer reads, rotates or writes into it; the new path."""
    target = folder.with_name(f"incomplete-{folder.name}")
    number = 2
    while target.exists():
        target, number = folder.with_name(f"incomplete-{folder.name}-{number}"), number + 1
    folder.rename(target)
    return target


def plan_resume(output_dir: str | Path, max_steps: int, start_over: bool = False) -> ResumePlan:
    """Move incomplete checkpoints aside (warning on stderr), then resume from the newest complete one; a run whose
    newest state (a checkpoint or the final `trainer_state.json`) reached its step target is complete.

    The target is `max_steps` when positive, else the `max_steps` the saved state recorded (epoch-based runs)."""
    output_dir = Path(output_dir)
    chosen = None
    for folder in checkpoints(output_dir):
        problems = missing_parts(folder)
        if problems:
            moved = move_aside(folder)
            _warn(
                f"{folder} is incomplete ({'; '.join(problems)}; a save cut short?): moved to {moved}, kept for you to inspect or delete"
            )
        elif chosen is None:
            chosen = folder
    if start_over:
        if chosen is not None:
            _warn(
                f"start_over: training from step 0; the checkpoints in {output_dir} are replaced as new ones are saved"
            )
        return ResumePlan(None)
    states = [s for s in (_state(chosen) if chosen else None, _state(output_dir)) if s is not None]
    newest = max(states, key=lambda s: s["global_step"], default=None)
    if newest is not None:
        target = max_steps if max_steps > 0 else newest.get("max_steps", 0)
        if isinstance(target, int) and target > 0 and newest["global_step"] >= target:
            return ResumePlan(
                None,
                complete=True,
                message=f"The run in {output_dir} is complete (step {newest['global_step']} of max_steps {target}): "
                "nothing to train, and the model, card and curves there are left as they are. Raise max_steps to "
                "train on, or pass --start_over true to train again from step 0.",
            )
    if chosen is not None and not (chosen / "optimizer.pt").exists():
        _warn(f"{chosen} has no optimizer.pt: the run resumes with a fresh optimizer (its moments start from zero)")
    return ResumePlan(str(chosen) if chosen is not None else None)


def _warn(message: str) -> None:
    """A warning the user sees on stderr."""
    print(f"warning: {message}", file=sys.stderr)
