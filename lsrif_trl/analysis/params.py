"""Which parameters training moved: relative Frobenius change per module type and per layer.

For a set S of parameters (a module type, or a module type within one layer):

    change(S) = sqrt(Σ_{W∈S} ||W_trained − W_base||_F²) / sqrt(Σ_{W∈S} ||W_base||_F²)
    share(T)  = Σ_{W∈T} ||ΔW||_F² / Σ_{all W} ||ΔW||_F²          (the shares of the types sum to 1)

Biases count with their projection (`q_proj.bias` is `q`). A LoRA adapter's ΔW is its effective update
B @ A · scale (see `checkpoints.LoraDeltas`); weights it does not adapt have ΔW = 0. With tied embeddings the
output head is the embedding matrix and is counted once, as `embeddings`. Weights are streamed in row blocks
(`checkpoints.Checkpoint`), so memory stays near two mapped shards plus two blocks (benchmarks/bench_analysis.py).
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from lsrif_trl.analysis.checkpoints import (
    ARCHITECTURE_FIELDS,
    Checkpoint,
    CheckpointError,
    LoraDeltas,
    is_adapter,
    read_config,
    resolve,
    row_blocks,
)
from lsrif_trl.analysis.modules import MODULE_TYPES, layer_of, module_type

PARAMS_FILE = "params.json"


def check_same_architecture(base: Path, trained: Path) -> None:
    """Raise CheckpointError naming the first config field on which the two folders' config.json disagree."""
    base_config, trained_config = read_config(base), read_config(trained)
    for field in ARCHITECTURE_FIELDS:
        if field in base_config and field in trained_config and base_config[field] != trained_config[field]:
            raise CheckpointError(
                f"not the same architecture: {base}/config.json has {field}={base_config[field]!r} but "
                f"{trained}/config.json has {field}={trained_config[field]!r}; compare a model with its own base"
            )


def _counted(base: Checkpoint, tied: bool) -> list[str]:
    names = list(base.names_by_shard())
    return [name for name in names if not (tied and module_type(name) == "lm_head")]


def _check_tensors(base: Checkpoint, trained: Checkpoint, names: list[str]) -> None:
    missing = [name for name in names if name not in trained.shapes]
    extra = [name for name in trained.shapes if name not in base.shapes and module_type(name) != "lm_head"]
    if missing or extra:
        raise CheckpointError(
            f"not the same architecture: {len(missing)} tensors of {base.folder} are absent from {trained.folder} "
            f"(e.g. {missing[:3]}) and {len(extra)} of {trained.folder} are absent from {base.folder} (e.g. {extra[:3]})"
        )
    for name in names:
        if base.shapes[name] != trained.shapes[name]:
            raise CheckpointError(
                f"not the same architecture: {name} is {list(base.shapes[name])} in {base.folder} but "
                f"{list(trained.shapes[name])} in {trained.folder}"
            )


def _check_adapter(base: Checkpoint, adapter: LoraDeltas) -> None:
    for name in [*adapter.pairs, *adapter.replaced]:
        if name not in base.shapes:
            raise CheckpointError(
                f"{adapter.folder}: the adapter changes {name}, which {base.folder} does not have; pass the adapter's "
                f"own base model (its adapter_config.json names {adapter.base_model!r})"
            )
    for name, saved in adapter.replaced.items():
        if adapter.weights.shapes[saved] != base.shapes[name]:
            raise CheckpointError(
                f"{adapter.folder}: {saved} is {list(adapter.weights.shapes[saved])} but {name} is "
                f"{list(base.shapes[name])} in {base.folder} (a resized vocabulary?); pass the adapter's own base model"
            )
    for name, (a_name, b_name, embedding) in adapter.pairs.items():
        a_shape, b_shape = adapter.weights.shapes[a_name], adapter.weights.shapes[b_name]
        shape = (b_shape[0], a_shape[1])
        if embedding or adapter.fan_in_fan_out:
            shape = shape[::-1]
        if shape != base.shapes[name]:
            raise CheckpointError(
                f"{adapter.folder}: the update of {name} is {list(shape)} but the weight is {list(base.shapes[name])} "
                f"in {base.folder}; pass the adapter's own base model ({adapter.base_model!r})"
            )


class _Sums:
    """Σ||ΔW||² and Σ||W_base||² per (module type, layer), plus parameter counts per type."""

    def __init__(self) -> None:
        self.delta: dict[tuple[str, int | None], float] = defaultdict(float)
        self.base: dict[tuple[str, int | None], float] = defaultdict(float)
        self.count: dict[str, int] = defaultdict(int)

    def add(self, name: str, base_sq: float, delta_sq: float, numel: int) -> None:
        key = (module_type(name), layer_of(name))
        self.base[key] += base_sq
        self.delta[key] += delta_sq
        self.count[key[0]] += numel


def _square_sum(block: torch.Tensor) -> float:
    """Σ x² of a block, without a temporary of its size."""
    flat = block.reshape(-1)
    return float(torch.dot(flat, flat))


RowDelta = Callable[[str, int, int, torch.Tensor], torch.Tensor | None]


def _sums(base: Checkpoint, names: list[str], delta: RowDelta) -> _Sums:
    """Accumulate the sums of every weight in `names`, block by block; `delta(name, start, stop, base_rows)`
    gives ΔW of those rows (None: the weight did not change)."""
    sums = _Sums()
    for name in names:
        base_sq = delta_sq = 0.0
        for start, stop in row_blocks(base.shapes[name]):
            b = base.rows(name, start, stop)
            base_sq += _square_sum(b)
            d = delta(name, start, stop, b)
            if d is not None:
                delta_sq += _square_sum(d)
        sums.add(name, base_sq, delta_sq, math.prod(base.shapes[name]))
    return sums


def _full_delta(trained: Checkpoint) -> RowDelta:
    """ΔW of a full checkpoint: its rows minus the base rows."""
    return lambda name, start, stop, b: trained.rows(name, start, stop).sub_(b)


def _adapter_delta(adapter: LoraDeltas) -> RowDelta:
    """ΔW of a LoRA adapter: a weight it saves whole minus the base, plus B @ A · scale of an adapted weight."""

    def delta(name: str, start: int, stop: int, b: torch.Tensor) -> torch.Tensor | None:
        d = adapter.weights.rows(adapter.replaced[name], start, stop).sub_(b) if name in adapter.replaced else None
        lora = adapter.delta_rows(name, start, stop)
        if lora is not None:
            d = lora if d is None else d.add_(lora)
        return d

    return delta


def _ratio(delta_sq: float, base_sq: float) -> float | None:
    if base_sq > 0:
        return math.sqrt(delta_sq / base_sq)
    return 0.0 if delta_sq == 0 else None  # a weight that was all zeros: relative change undefined


def summarize(sums: _Sums) -> dict[str, Any]:
    """by_module, share, by_layer, total and parameter counts from the accumulated sums."""
    types = [t for t in MODULE_TYPES if t in sums.count]
    by_type = {t: [key for key in sums.base if key[0] == t] for t in types}
    total_delta = sum(sums.delta.values())
    layers = sorted({layer for _, layer in sums.base if layer is not None})
    return {
        "by_module": {
            t: _ratio(sum(sums.delta[k] for k in keys), sum(sums.base[k] for k in keys)) for t, keys in by_type.items()
        },
        "share": {
            t: (sum(sums.delta[k] for k in keys) / total_delta if total_delta else 0.0) for t, keys in by_type.items()
        },
        "by_layer": {
            str(layer): {
                t: _ratio(sums.delta[(t, layer)], sums.base[(t, layer)]) for t in types if (t, layer) in sums.base
            }
            for layer in layers
        },
        "total": _ratio(total_delta, sum(sums.base.values())),
        "parameters": {t: sums.count[t] for t in types},
    }


def analyze_params(base: str | Path, trained: str | Path, output: str | Path | None = None) -> dict[str, Any]:
    """Compare checkpoint `trained` (a full checkpoint or a LoRA adapter) with `base`; write params.json and
    the plots into `output` when given. Mismatched architectures raise CheckpointError before any weight is read."""
    base_dir, trained_dir = resolve(base), resolve(trained)
    if is_adapter(base_dir):
        raise CheckpointError(f"{base_dir}: BASE is a LoRA adapter; pass the full base model it was trained from")
    base_ckpt = Checkpoint(base_dir)
    tied = bool(read_config(base_dir).get("tie_word_embeddings", False))
    names = _counted(base_ckpt, tied)
    if is_adapter(trained_dir):
        adapter = LoraDeltas(trained_dir)
        _check_adapter(base_ckpt, adapter)
        sums = _sums(base_ckpt, names, _adapter_delta(adapter))
        adapter.weights.close()
    else:
        check_same_architecture(base_dir, trained_dir)
        trained_ckpt = Checkpoint(trained_dir)
        _check_tensors(base_ckpt, trained_ckpt, names)
        sums = _sums(base_ckpt, names, _full_delta(trained_ckpt))
        trained_ckpt.close()
    base_ckpt.close()
    result = {"base": str(base), "trained": str(trained), "adapter": is_adapter(trained_dir), **summarize(sums)}
    if output is not None:
        write_params(result, Path(output))
    return result


def write_params(result: dict[str, Any], folder: Path) -> dict[str, Path]:
    """params.json plus the heatmap and bar chart, in `folder`; returns the paths written."""
    from lsrif_trl.analysis.plots import plot_params

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / PARAMS_FILE
    path.write_text(json.dumps(result, indent=2) + "\n")
    return {"json": path, **plot_params(result, folder)}
