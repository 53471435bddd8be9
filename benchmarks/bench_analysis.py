"""How much memory does `analyze_params` need on a sharded pair, compared with the checkpoints' size?

Writes two synthetic Llama-shaped float32 checkpoints (random weights, safetensors shards of `--shard-mb`, an
index file, a config.json), then runs `analyze_params` on them in a fresh process and reports that process's
peak resident memory (sampled every 5 ms, file pages of the mapped shards included) above its memory after the
imports. Streaming reads each tensor in row blocks
with one shard of each checkpoint mapped at a time, so the peak should stay near two shards, not the pair's size.

Run: `python benchmarks/bench_analysis.py [--layers 8] [--hidden 1024] [--shard-mb 100]`. Prints figures;
asserts nothing. Needs about twice the pair's size in free disk space under the temporary folder.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
from safetensors.torch import save_file

MEASURE = """
import os, sys, threading, time
from lsrif_trl.analysis.params import analyze_params

def rss():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

start_rss, peak, done = rss(), [0], threading.Event()

def sample():
    while not done.is_set():
        peak[0] = max(peak[0], rss())
        time.sleep(0.005)

sampler = threading.Thread(target=sample)
sampler.start()
start = time.perf_counter()
analyze_params(sys.argv[1], sys.argv[2])
seconds = time.perf_counter() - start
done.set()
sampler.join()
print(start_rss, max(peak[0], rss()), seconds)
"""


def tensors(layers: int, hidden: int, vocab: int):
    """(name, shape) of a Llama-style decoder with untied embeddings, in checkpoint order."""
    yield "model.embed_tokens.weight", (vocab, hidden)
    for i in range(layers):
        prefix = f"model.layers.{i}"
        for proj in ("q", "k", "v", "o"):
            yield f"{prefix}.self_attn.{proj}_proj.weight", (hidden, hidden)
        yield f"{prefix}.mlp.gate_proj.weight", (hidden * 11 // 4, hidden)
        yield f"{prefix}.mlp.up_proj.weight", (hidden * 11 // 4, hidden)
        yield f"{prefix}.mlp.down_proj.weight", (hidden, hidden * 11 // 4)
        yield f"{prefix}.input_layernorm.weight", (hidden,)
        yield f"{prefix}.post_attention_layernorm.weight", (hidden,)
    yield "model.norm.weight", (hidden,)
    yield "lm_head.weight", (vocab, hidden)


def write_checkpoint(folder: Path, args: argparse.Namespace, noise: float) -> int:
    """Shards of at most `shard_mb`, written one at a time; returns the total bytes."""
    folder.mkdir(parents=True)
    generator = torch.Generator().manual_seed(0)  # same base weights in both folders, then noise on top
    limit, shard, weight_map, total, count = args.shard_mb * 2**20, {}, {}, 0, 0

    def flush() -> None:
        nonlocal shard, count
        if shard:
            count += 1
            name = f"model-{count:05d}.safetensors"
            save_file(shard, str(folder / name))
            weight_map.update(dict.fromkeys(shard, name))
            shard = {}

    for name, shape in tensors(args.layers, args.hidden, args.vocab):
        tensor = torch.randn(shape, generator=generator) * 0.02
        if noise:
            tensor += noise * torch.randn(shape)
        if sum(t.numel() * 4 for t in shard.values()) + tensor.numel() * 4 > limit:
            flush()
        shard[name] = tensor
        total += tensor.numel() * 4
    flush()
    (folder / "model.safetensors.index.json").write_text(json.dumps({"weight_map": weight_map}))
    config = {"model_type": "llama", "num_hidden_layers": args.layers, "hidden_size": args.hidden}
    (folder / "config.json").write_text(json.dumps(config | {"tie_word_embeddings": False}))
    return total


def measure(base: Path, trained: Path) -> tuple[int, int, float]:
    """Resident memory after the imports, its peak during `analyze_params` (sampled every 5 ms), and seconds."""
    out = subprocess.run([sys.executable, "-c", MEASURE, str(base), str(trained)], capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(out.stderr)
    start, peak, seconds = out.stdout.split()
    return int(start), int(peak), float(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, default=8)
    parser.add_argument("--hidden", type=int, default=1024)
    parser.add_argument("--vocab", type=int, default=16000)
    parser.add_argument("--shard-mb", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        size = write_checkpoint(Path(tmp) / "base", args, noise=0.0)
        write_checkpoint(Path(tmp) / "trained", args, noise=1e-3)
        shards = len(list((Path(tmp) / "base").glob("*.safetensors")))
        start, peak, seconds = measure(Path(tmp) / "base", Path(tmp) / "trained")
    mib, extra = 2**20, peak - start
    print(f"load average {os.getloadavg()[0]:.1f} (shared machine: times stretch with it)")
    print(
        f"checkpoint: {size / mib:.0f} MiB each, {shards} shards of <= {args.shard_mb} MiB (pair {2 * size / mib:.0f} MiB)"
    )
    print(
        f"analyze_params: {seconds:.1f} s; resident memory {start / mib:.0f} MiB after imports, peak +{extra / mib:.0f} MiB"
    )
    print(
        f"extra memory / pair size = {extra / (2 * size):.2f}; / two shards = {extra / (2 * args.shard_mb * mib):.2f}"
    )
    print(f"at {time.strftime('%H:%M:%S')}")


if __name__ == "__main__":
    main()
