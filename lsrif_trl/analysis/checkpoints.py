"""Read a checkpoint's weights without loading it: safetensors (one file or index-sharded) and LoRA adapters.

A `Checkpoint` knows every tensor's name, shape and shard from the file headers and reads a tensor in row
blocks through safetensors' lazy slices, keeping at most one shard open (memory-mapped) at a time. Comparing
two checkpoints therefore maps at most two shards at once and holds in memory about two blocks
(`BLOCK_ELEMENTS` values each, as float64: 16 MiB), whatever the model size. A LoRA adapter folder
(`adapter_config.json` + `adapter_model.safetensors`) gives each adapted weight's effective update
ΔW = B @ A · scale, scale = alpha / r (alpha / sqrt(r) with `use_rslora`), transposed for embeddings and
`fan_in_fan_out` layers.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from pathlib import Path

import torch
from safetensors import safe_open

INDEX_FILE = "model.safetensors.index.json"
SINGLE_FILE = "model.safetensors"
ADAPTER_CONFIG = "adapter_config.json"
ADAPTER_WEIGHTS = "adapter_model.safetensors"
BLOCK_ELEMENTS = 1 << 20  # values per block read from each checkpoint (8 MiB as float64)
# config.json fields that must agree for two checkpoints to be the same architecture.
ARCHITECTURE_FIELDS = (
    "model_type",
    "num_hidden_layers",
    "hidden_size",
    "intermediate_size",
    "num_attention_heads",
    "num_key_value_heads",
    "vocab_size",
    "tie_word_embeddings",
)
_PEFT_PREFIX = "base_model.model."


class CheckpointError(ValueError):
    """A checkpoint folder that cannot be read, or two that cannot be compared."""


def resolve(path_or_id: str | Path) -> Path:
    """A local folder as is; otherwise a Hub model id, downloaded (config and safetensors only)."""
    folder = Path(path_or_id)
    if folder.is_dir():
        return folder
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(str(path_or_id), allow_patterns=["*.json", "*.safetensors"]))
    except Exception as err:  # offline, unknown id, no access: say which and why
        raise CheckpointError(f"{path_or_id}: not a local folder and not downloadable from the Hub ({err})") from err


def read_config(folder: Path) -> dict:
    """The folder's config.json (empty when absent: a LoRA adapter folder has none)."""
    path = folder / "config.json"
    return json.loads(path.read_text()) if path.is_file() else {}


class Checkpoint:
    """The safetensors weights of one folder, read lazily, one shard open at a time."""

    def __init__(self, folder: Path, weights_file: str | None = None) -> None:
        self.folder = folder
        if weights_file is not None:
            files = {None: folder / weights_file}
        elif (folder / INDEX_FILE).is_file():
            weight_map = json.loads((folder / INDEX_FILE).read_text())["weight_map"]
            files = {name: folder / shard for name, shard in weight_map.items()}
        elif (folder / SINGLE_FILE).is_file():
            files = {None: folder / SINGLE_FILE}
        else:
            found = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
            raise CheckpointError(
                f"{folder}: no {SINGLE_FILE} or {INDEX_FILE} (found {found[:8]}); only safetensors checkpoints "
                "are read: convert a .bin checkpoint with `model.save_pretrained(folder)` first"
            )
        self.shapes: dict[str, tuple[int, ...]] = {}
        self.shard_of: dict[str, Path] = {}
        for shard in dict.fromkeys(files.values()):
            if not shard.is_file():
                raise CheckpointError(f"{shard}: listed in {folder / INDEX_FILE} but missing")
            with safe_open(str(shard), framework="pt") as handle:
                for name in list(handle.keys()):  # a safetensors handle is not iterable
                    self.shapes[name] = tuple(handle.get_slice(name).get_shape())
                    self.shard_of[name] = shard
        self._shard: Path | None = None
        self._context = self._file = None

    def names_by_shard(self) -> Iterator[str]:
        """Every tensor name, shard after shard (so reading in this order opens each shard once)."""
        return iter(sorted(self.shapes, key=lambda name: (str(self.shard_of[name]), name)))

    def _handle(self, name: str):
        shard = self.shard_of[name]
        if self._shard != shard:
            self.close()
            self._context = safe_open(str(shard), framework="pt")
            self._file, self._shard = self._context.__enter__(), shard
        return self._file

    def close(self) -> None:
        """Unmap the open shard, if any."""
        if self._context is not None:
            self._context.__exit__(None, None, None)
        self._shard = self._context = self._file = None

    def rows(self, name: str, start: int, stop: int) -> torch.Tensor:
        """Rows start..stop of tensor `name` (a 0-d or 1-d tensor is one block), as float64."""
        piece = self._handle(name).get_slice(name)
        block = piece[start:stop] if len(self.shapes[name]) > 0 else piece[:]
        return block.to(torch.float64)

    def tensor(self, name: str) -> torch.Tensor:
        """The whole tensor `name` as float64 (for small tensors: adapters)."""
        return self.rows(name, 0, self.shapes[name][0] if self.shapes[name] else 1)


def row_blocks(shape: tuple[int, ...]) -> Iterator[tuple[int, int]]:
    """(start, stop) row ranges of a tensor of `shape` holding at most BLOCK_ELEMENTS values each."""
    if not shape:
        yield 0, 1
        return
    per_row = max(1, math.prod(shape[1:]))
    step = max(1, BLOCK_ELEMENTS // per_row)
    for start in range(0, shape[0], step):
        yield start, min(shape[0], start + step)


def is_adapter(folder: Path) -> bool:
    """True for a PEFT adapter folder."""
    return (folder / ADAPTER_CONFIG).is_file()


class LoraDeltas:
    """The effective weight updates of a LoRA adapter, keyed by the base model's parameter names."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        config = json.loads((folder / ADAPTER_CONFIG).read_text())
        if config.get("peft_type", "LORA") != "LORA":
            raise CheckpointError(f"{folder / ADAPTER_CONFIG}: peft_type {config.get('peft_type')!r}; only LORA")
        if config.get("use_dora"):
            raise CheckpointError(f"{folder / ADAPTER_CONFIG}: DoRA adapters are not supported (use_dora: true)")
        if not (folder / ADAPTER_WEIGHTS).is_file():
            raise CheckpointError(f"{folder}: {ADAPTER_CONFIG} without {ADAPTER_WEIGHTS}")
        self.base_model = config.get("base_model_name_or_path")
        self.alpha = float(config.get("lora_alpha", 8))
        self.alpha_pattern: dict[str, float] = config.get("alpha_pattern") or {}
        self.rslora = bool(config.get("use_rslora"))
        self.fan_in_fan_out = bool(config.get("fan_in_fan_out"))
        self.weights = Checkpoint(folder, ADAPTER_WEIGHTS)
        self.pairs: dict[str, tuple[str, str, bool]] = {}  # base name -> (A name, B name, embedding)
        self.replaced: dict[str, str] = {}  # base name -> full weight saved with the adapter
        for name in self.weights.shapes:
            inner = name.removeprefix(_PEFT_PREFIX)
            found = re.fullmatch(r"(.+)\.lora_(embedding_)?A(\.weight)?", inner)
            if found:
                module, embedding = found.group(1), bool(found.group(2))
                a_part, b_part = ("lora_embedding_A", "lora_embedding_B") if embedding else ("lora_A", "lora_B")
                b_name = name.replace(a_part, b_part)
                if b_name not in self.weights.shapes:
                    raise CheckpointError(f"{folder / ADAPTER_WEIGHTS}: {name} has no matching {b_name}")
                self.pairs[f"{module}.weight"] = (name, b_name, embedding)
            elif not re.search(r"\.lora_(embedding_)?B(\.weight)?$", inner):
                # modules_to_save copies, and the embedding weights PEFT saves beside embedding adapters
                self.replaced[inner.replace("modules_to_save.", "").replace(".base_layer", "")] = name
        self.weights.close()
        self._factors: tuple[str | None, torch.Tensor | None, torch.Tensor | None] = (None, None, None)

    def scale(self, module: str, rank: int) -> float:
        """alpha / r (alpha / sqrt(r) with rsLoRA), alpha from `alpha_pattern` when a pattern names the module."""
        alpha = next(
            (float(a) for pattern, a in self.alpha_pattern.items() if re.match(rf"(.*\.)?({pattern})$", module)),
            self.alpha,
        )
        return alpha / math.sqrt(rank) if self.rslora else alpha / rank

    def delta_rows(self, base_name: str, start: int, stop: int) -> torch.Tensor | None:
        """Rows start..stop of ΔW for base parameter `base_name` (float64), or None when the adapter leaves it alone.

        Only those rows are formed (B[rows] @ A, or (B @ A[:, rows])ᵀ when transposed), never the whole update."""
        if base_name not in self.pairs:
            return None
        a_name, b_name, embedding = self.pairs[base_name]
        if self._factors[0] != base_name:  # read once per weight, not once per block
            self._factors = (base_name, self.weights.tensor(a_name), self.weights.tensor(b_name))
        _, a, b = self._factors
        scale = self.scale(base_name.removesuffix(".weight"), a.shape[0])
        if embedding or self.fan_in_fan_out:
            return (b @ a[:, start:stop]).T * scale
        return (b[start:stop] @ a) * scale
