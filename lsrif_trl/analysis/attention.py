"""Where the answer looks: attention mass on each prompt-token category, per layer, base vs trained.

Answer tokens: each model's own greedy continuation of the chat-templated prompt. The queries are the
`answer_tokens` positions that predict its first tokens: the prompt's last token (which predicts the first
answer token) and the first `answer_tokens - 1` generated tokens (`answer_tokens=1` is the last prompt token
alone). For query q, layer l, head h, the mass on category c is Σ_{key k of category c} A[l, h, q, k]; it is
averaged over heads and queries, giving m_p[l, c] per prompt p. Categories are those of `categories` (connector,
constraint, verb, task incl. the passage, other = template, system prompt, markers) plus `answer` (the answer's
own earlier tokens), so the masses of a layer sum to 1. Reported: the mean over prompts for each model, and the
change trained − base per prompt (paired: the same prompts), with a 95% percentile bootstrap interval over
prompts (`lsrif_trl.eval.bootstrap`: RESAMPLES resamples, seeded). Attention weights come from eager attention
(`attn_implementation="eager"`); a hook reduces each layer's weights as soon as they are computed, so only one
layer's attention matrix exists at a time.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import torch

from lsrif_trl.analysis.categories import CATEGORIES, categorize
from lsrif_trl.analysis.checkpoints import is_adapter, resolve
from lsrif_trl.eval.bootstrap import RESAMPLES, interval

ATTENTION_FILE = "attention.json"
ANSWER = "answer"
MASS_CATEGORIES = (*CATEGORIES, ANSWER)
_ATTENTION_MODULE = re.compile(r"(?:^|\.)(?:layers|h|blocks)\.(\d+)\.(?:self_attn|attn|attention)$")


def load_model(path: str | Path, base: str | Path | None = None):
    """A causal LM with eager attention (a LoRA adapter folder is merged into `base`), in eval mode."""
    from transformers import AutoModelForCausalLM

    folder = resolve(path)
    if is_adapter(folder):
        from peft import PeftModel

        if base is None:
            raise ValueError(f"{folder} is a LoRA adapter: pass the base model it was trained from")
        model = AutoModelForCausalLM.from_pretrained(resolve(base), attn_implementation="eager", dtype="auto")
        model = PeftModel.from_pretrained(model, str(folder)).merge_and_unload()
    else:
        model = AutoModelForCausalLM.from_pretrained(folder, attn_implementation="eager", dtype="auto")
    return model.eval()


def _attention_modules(model) -> dict[int, torch.nn.Module]:
    found = {}
    for name, module in model.named_modules():
        match = _ATTENTION_MODULE.search(name)
        if match:
            found[int(match.group(1))] = module
    if not found:
        raise ValueError(f"{type(model).__name__}: no attention modules named like `layers.N.self_attn`")
    return dict(sorted(found.items()))


@torch.no_grad()
def prompt_masses(model, input_ids: list[int], categories: list[int], answer_tokens: int) -> np.ndarray:
    """m[layer, category] for one prompt (categories in MASS_CATEGORIES order), as the module docstring defines."""
    prompt = torch.tensor([input_ids], device=model.device)
    sequence = prompt
    if answer_tokens > 1:
        sequence = model.generate(
            prompt, attention_mask=torch.ones_like(prompt), max_new_tokens=answer_tokens - 1, do_sample=False
        )
    queries = torch.arange(len(input_ids) - 1, sequence.shape[1])
    key_category = torch.tensor(categories + [len(CATEGORIES)] * (sequence.shape[1] - len(input_ids)))
    one_hot = torch.nn.functional.one_hot(key_category, len(MASS_CATEGORIES)).double()
    modules = _attention_modules(model)
    masses = np.zeros((len(modules), len(MASS_CATEGORIES)))

    def reducer(row: int):
        def hook(_module, _inputs, output):
            weights = output[1] if isinstance(output, tuple) and len(output) > 1 else None
            if weights is None:
                raise ValueError(
                    "the attention module returned no weights: load the model with attn_implementation='eager'"
                )
            per_key = weights[0, :, queries, :].double().mean(dim=(0, 1)).cpu()  # heads, queries
            masses[row] = (per_key @ one_hot).numpy()

        return hook

    handles = [module.register_forward_hook(reducer(row)) for row, module in enumerate(modules.values())]
    try:
        model(sequence, attention_mask=torch.ones_like(sequence), use_cache=False)
    finally:
        for handle in handles:
            handle.remove()
    return masses


def _table(values: np.ndarray, layers: list[int]) -> dict[str, Any]:
    """{"mean": {cat: x}, "by_layer": {"0": {cat: x}}} from a (layers, categories) array."""
    return {
        "mean": dict(zip(MASS_CATEGORIES, values.mean(axis=0).tolist(), strict=True)),
        "by_layer": {
            str(layer): dict(zip(MASS_CATEGORIES, row.tolist(), strict=True))
            for layer, row in zip(layers, values, strict=True)
        },
    }


def summarize_change(base: np.ndarray, trained: np.ndarray, layers: list[int], seed: int = 0) -> dict[str, Any]:
    """Per-category change trained − base (over layers and per layer), mean and 95% bootstrap interval, and each
    prompt's change over layers (`per_prompt`, for intervals that pool several runs on the same prompts)."""
    change = trained - base  # prompts x layers x categories
    overall = change.mean(axis=1)
    low, high = interval(overall, seed=seed)
    layer_low, layer_high = interval(change, seed=seed)

    def cell(mean: float, lo: float, hi: float) -> dict[str, Any]:
        return {"mean": mean, "ci95": [lo, hi]}

    return {
        "mean": {c: cell(m, lo, hi) for c, m, lo, hi in zip(MASS_CATEGORIES, overall.mean(0), low, high, strict=True)},
        "by_layer": {
            str(layer): {
                c: cell(m, lo, hi)
                for c, m, lo, hi in zip(MASS_CATEGORIES, change.mean(0)[i], layer_low[i], layer_high[i], strict=True)
            }
            for i, layer in enumerate(layers)
        },
        "per_prompt": {c: overall[:, i].tolist() for i, c in enumerate(MASS_CATEGORIES)},
    }


def _rows(data: str | Path, split: str, max_prompts: int) -> list[dict[str, Any]]:
    from lsrif_trl.data.loading import load_training_dataset

    dataset = load_training_dataset(str(data), split=split, validate=False)
    if "prompt" not in dataset.column_names:
        raise ValueError(f"{data}: no `prompt` column (found {dataset.column_names})")
    return dataset.select(range(min(max_prompts, len(dataset)))).to_list()


def analyze_attention(
    base: str | Path,
    trained: str | Path,
    data: str | Path,
    output: str | Path | None = None,
    *,
    split: str = "train",
    max_prompts: int = 64,
    answer_tokens: int = 8,
    seed: int = 0,
) -> dict[str, Any]:
    """Attention mass per token category and layer for both models on the first `max_prompts` rows of `data`,
    and the change trained − base with bootstrap intervals; writes attention.json and plots into `output`."""
    from transformers import AutoTokenizer

    if answer_tokens < 1 or max_prompts < 1:
        raise ValueError(f"answer_tokens={answer_tokens}, max_prompts={max_prompts}: both must be >= 1")
    rows = _rows(data, split, max_prompts)  # the data first: a bad file stops before any model is looked up
    if is_adapter(resolve(base)):
        raise ValueError(f"{base}: BASE is a LoRA adapter; pass the full base model it was trained from")
    tokenizer = AutoTokenizer.from_pretrained(resolve(base))
    prompts = [categorize(tokenizer, row, f"{data} row {i}") for i, row in enumerate(rows)]
    per_model, layers = {}, []
    for name, path in (("base", base), ("trained", trained)):
        model = load_model(path, base)
        found = list(_attention_modules(model))
        if layers and found != layers:
            raise ValueError(
                f"not the same architecture: {trained} has {len(found)} attention layers, {base} {len(layers)}"
            )
        layers = found
        per_model[name] = np.stack([prompt_masses(model, p.input_ids, p.categories, answer_tokens) for p in prompts])
        del model
    tokens = np.array([[p.categories.count(i) for i in range(len(CATEGORIES))] for p in prompts])
    result = {
        "base": str(base),
        "trained": str(trained),
        "data": str(data),
        "prompts": len(prompts),
        "answer_tokens": answer_tokens,
        "queries": "the positions predicting the first answer_tokens tokens of each model's own greedy continuation",
        "interval": f"95% percentile bootstrap over prompts, paired, {RESAMPLES} resamples, seed {seed}",
        "category_source": {s: sum(p.source == s for p in prompts) for s in ("spans", "word_list")},
        "tokens_per_prompt": dict(zip(CATEGORIES, tokens.mean(axis=0).tolist(), strict=True)),
        "models": {name: _table(values.mean(axis=0), layers) for name, values in per_model.items()},
        "change": summarize_change(per_model["base"], per_model["trained"], layers, seed),
    }
    if output is not None:
        write_attention(result, Path(output))
    return result


def write_attention(result: dict[str, Any], folder: Path) -> dict[str, Path]:
    """attention.json plus the per-category and per-layer plots, in `folder`; returns the paths written."""
    from lsrif_trl.analysis.plots import plot_attention

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / ATTENTION_FILE
    path.write_text(json.dumps(result, indent=2) + "\n")
    return {"json": path, **plot_attention(result, folder)}
