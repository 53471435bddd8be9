"""Every GPU recipe's header states its memory arithmetic, and the numbers follow from its own values and ZeRO stage.

The header names the model's shape (parameters, layers, KV heads, head size: from its config.json on the Hub);
this test recomputes each line from that shape and the recipe's YAML, so changing `num_generations`, the context
length, the vLLM share or tensor parallel without updating the arithmetic fails here.
"""

import re

import pytest
import yaml

from lsrif_trl.training.config import find_recipes

GPU_GIB = 79.3  # what an 80 GB A100/H100 reports
GPUS = 8
GIB, KIB = 2**30, 2**10
STAGE = re.compile(r"accelerate_configs/zero(\d)\.yaml")
SHAPE = re.compile(r"^#   params ([\d.]+e9), layers (\d+), kv_heads (\d+), head_dim (\d+)$", re.M)
GPU_RECIPES = [  # the CPU recipes (tiny, toy) say `use_cpu: true` and have no GPU memory to account for
    p for p in find_recipes() if p.name.startswith("grpo_") and not yaml.safe_load(p.read_text()).get("use_cpu")
]


def memory_lines(params: float, layers: int, kv_heads: int, head_dim: int, config: dict, stage: int) -> list[str]:
    """The header's memory lines for a model shape, a recipe's values and its ZeRO stage (bf16, 8 GPUs).

    ZeRO-3 shards all 16 B per parameter and the reference model; ZeRO-2 keeps both copies of the bf16 weights
    whole and shards the other 14 B (gradients, fp32 master, Adam moments)."""
    tp = config.get("vllm_tensor_parallel_size", 1)
    weights = params * 2 / GIB
    per_token = 2 * layers * kv_heads * head_dim * 2
    tokens = config["num_generations"] * config["vllm_max_model_length"]
    kv = tokens * per_token / GIB
    budget = config["vllm_gpu_memory_utilization"] * GPU_GIB
    if stage == 3:
        training, reference = 16 * params / GPUS / GIB, 2 * params / GPUS / GIB
        state = f"16 B/param (bf16 weights, grads; fp32 master, Adam m, v) / {GPUS} GPUs"
        ref_text = f"2 B/param / {GPUS} GPUs"
    else:
        training, reference = (2 + 14 / GPUS) * params / GIB, 2 * params / GIB
        state = f"2 B/param bf16 weights + 14 B/param (grads, fp32 master, Adam) / {GPUS} GPUs"
        ref_text = "2 B/param, whole"
    split = f"; vLLM tensor parallel {tp} holds {weights / tp:.1f} GiB per GPU" if tp > 1 else ""
    kv_split = f" ({kv / tp:.1f} GiB per GPU)" if tp > 1 else ""
    return [
        f"#   weights: {params / 1e9:.2f}e9 x 2 B = {weights:.1f} GiB{split}",
        f"#   KV cache: 2 x {layers} x {kv_heads} x {head_dim} x 2 B = {per_token / KIB:.0f} KiB per token; "
        f"num_generations {config['num_generations']} x {config['vllm_max_model_length']} tokens = {kv:.1f} GiB"
        f"{kv_split}",
        f"#   vLLM colocated: {config['vllm_gpu_memory_utilization']} x {GPU_GIB} GiB = {budget:.1f} GiB per GPU >= "
        f"{weights / tp:.1f} + {kv / tp:.1f} GiB (weights + one group's KV cache)",
        f"#   training state under ZeRO-{stage}: {state} = {training:.1f} GiB,",
        f"#   reference model {ref_text} = {reference:.1f} GiB; with vLLM's {budget:.1f} GiB: "
        f"{training + reference + budget:.1f} GiB of {GPU_GIB} GiB before activations",
    ]


@pytest.mark.parametrize("path", GPU_RECIPES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_the_header_memory_arithmetic_follows_from_the_recipe(path):
    text = path.read_text()
    shape = SHAPE.search(text)
    assert shape, f"{path}: no `#   params ..e9, layers .., kv_heads .., head_dim ..` line in the header"
    params, layers, kv_heads, head_dim = float(shape[1]), int(shape[2]), int(shape[3]), int(shape[4])
    config = yaml.safe_load(text)
    stage = int(STAGE.search(text)[1])  # the ZeRO config the header's launch command names
    lines = memory_lines(params, layers, kv_heads, head_dim, config, stage)
    for line in lines:
        assert line in text.splitlines(), f"{path}: expected the header line\n{line}"
    tp = config.get("vllm_tensor_parallel_size", 1)
    per_token = 2 * layers * kv_heads * head_dim * 2
    needed = (params * 2 + config["num_generations"] * config["vllm_max_model_length"] * per_token) / tp / GIB
    assert needed <= config["vllm_gpu_memory_utilization"] * GPU_GIB, f"{path}: vLLM cannot hold one group"
    training = (18 / GPUS if stage == 3 else 4 + 14 / GPUS) * params / GIB  # with the reference model
    assert training + config["vllm_gpu_memory_utilization"] * GPU_GIB < GPU_GIB, f"{path}: no room for activations"


def test_the_14b_recipes_split_vllm_over_two_gpus():
    for path in GPU_RECIPES:
        if "14b" in path.parent.name:
            assert yaml.safe_load(path.read_text())["vllm_tensor_parallel_size"] == 2, path
