"""Attention analysis: spans become token categories, masses are where the attention is, changes are paired."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer
from transformers.models.qwen2 import modeling_qwen2

from lsrif_trl.analysis.attention import MASS_CATEGORIES, prompt_masses, summarize_change
from lsrif_trl.analysis.categories import CATEGORIES, categorize
from lsrif_trl.cli import main
from lsrif_trl.data.builder import build_dataset
from lsrif_trl.tiny import build_tiny_model

TEXT = "First, write a haiku. Then, use no commas. Passage: rain on a tin roof."
SPANS = {
    "connector": [[0, 6], [22, 27]],
    "verb": [[7, 12], [28, 31]],
    "constraint": [[12, 21], [31, 42]],
    "task": [[52, 71]],
}


@pytest.fixture(scope="module")
def tiny():
    return build_tiny_model()


@pytest.fixture(scope="module")
def tokenizer(tiny):
    return AutoTokenizer.from_pretrained(tiny)


def _by_category(tokenizer, prompt) -> dict[str, str]:
    pieces: dict[str, str] = {}
    for token, index in zip(prompt.input_ids, prompt.categories, strict=True):
        pieces[CATEGORIES[index]] = pieces.get(CATEGORIES[index], "") + tokenizer.decode([token])
    return pieces


def test_spans_of_a_hand_built_prompt_land_on_the_tokens_that_spell_them(tokenizer):
    prompt = categorize(tokenizer, {"prompt": [{"role": "user", "content": TEXT}], "spans": json.dumps(SPANS)})
    assert prompt.source == "spans"
    pieces = _by_category(tokenizer, prompt)
    assert pieces["connector"].split() == ["First,", "Then,"]
    assert pieces["verb"].split() == ["write", "use"]
    assert pieces["constraint"].split() == ["a", "haiku.", "no", "commas."]
    assert pieces["task"].strip() == "rain on a tin roof."
    assert "<|im_start|>" in pieces["other"] and "Passage:" in pieces["other"]  # template and layout


def test_rows_without_spans_fall_back_to_the_word_lists(tokenizer):
    prompt = categorize(tokenizer, {"prompt": "If it rains, write a poem; otherwise summarize the news."})
    assert prompt.source == "word_list"
    pieces = _by_category(tokenizer, prompt)
    assert pieces["connector"].split() == ["If", "otherwise"]
    assert pieces["verb"].split() == ["write", "summarize"]
    assert "constraint" not in pieces and "task" not in pieces


def test_attention_forced_onto_one_position_is_reported_as_all_the_mass_there(tiny, tokenizer, monkeypatch):
    prompt = categorize(tokenizer, {"prompt": [{"role": "user", "content": TEXT}], "spans": json.dumps(SPANS)})
    target = prompt.categories.index(CATEGORIES.index("verb"))  # the first token of "write"

    def forced(module, query, key, value, attention_mask, scaling, dropout=0.0, **kwargs):
        weights = torch.zeros(*query.shape[:3], key.shape[2], dtype=query.dtype)
        weights[..., target] = 1.0
        values = modeling_qwen2.repeat_kv(value, module.num_key_value_groups)
        return (weights @ values).transpose(1, 2).contiguous(), weights

    monkeypatch.setattr(modeling_qwen2, "eager_attention_forward", forced)
    model = AutoModelForCausalLM.from_pretrained(tiny, attn_implementation="eager").eval()
    for answer_tokens in (1, 3):
        masses = prompt_masses(model, prompt.input_ids, prompt.categories, answer_tokens)
        expected = np.zeros(len(MASS_CATEGORIES))
        expected[MASS_CATEGORIES.index("verb")] = 1.0
        assert masses.shape == (2, len(MASS_CATEGORIES))
        assert masses == pytest.approx(np.stack([expected, expected]))


def test_changes_are_paired_per_prompt_with_a_bootstrap_interval_around_the_mean():
    rng = np.random.default_rng(1)
    base = rng.dirichlet(np.ones(len(MASS_CATEGORIES)), size=(40, 3))
    shift = np.zeros(len(MASS_CATEGORIES))
    shift[0], shift[1] = 0.05, -0.05
    trained = base + shift + rng.normal(0, 0.01, size=base.shape)
    change = summarize_change(base, trained, [0, 1, 2])
    connector = change["mean"]["connector"]
    assert connector["ci95"][0] < connector["mean"] < connector["ci95"][1]
    assert connector["ci95"][0] > 0.04 and change["mean"]["constraint"]["ci95"][1] < -0.04
    assert change["by_layer"]["2"]["connector"]["mean"] == pytest.approx((trained - base)[:, 2, 0].mean())
    assert change["per_prompt"]["connector"] == pytest.approx((trained - base)[:, :, 0].mean(axis=1))
    same = summarize_change(base, base, [0, 1, 2])
    assert all(cell == {"mean": 0.0, "ci95": [0.0, 0.0]} for cell in same["mean"].values())


def test_a_model_against_itself_changes_nothing_and_each_layer_s_mass_sums_to_one(tiny, tmp_path):
    build_dataset(4, seed=0, families=["train"]).save_to_disk(str(tmp_path / "data"))
    argv = ["analyze", "attention", str(tiny), str(tiny), "--data", str(tmp_path / "data")]
    assert main([*argv, "--output", str(tmp_path / "out"), "--max-prompts", "3", "--answer-tokens", "2"]) == 0
    result = json.loads((tmp_path / "out" / "attention.json").read_text())
    assert result["prompts"] == 3 and result["category_source"] == {"spans": 3, "word_list": 0}
    for layer in result["models"]["base"]["by_layer"].values():
        assert sum(layer.values()) == pytest.approx(1.0)
        assert all(layer[c] > 0 for c in ("connector", "constraint", "verb", "task"))
    assert all(cell["mean"] == 0.0 for cell in result["change"]["mean"].values())
    assert (tmp_path / "out" / "attention_change.png").is_file() and (
        tmp_path / "out" / "attention_layers.png"
    ).is_file()


def test_a_dataset_without_prompts_stops_before_any_model_loads(tmp_path, capsys, no_model_loading):
    (tmp_path / "rows.jsonl").write_text('{"text": "hello"}\n')
    argv = ["analyze", "attention", "base", "trained", "--data", str(tmp_path / "rows.jsonl")]
    assert main([*argv, "--output", str(tmp_path / "out")]) == 2
    assert "no `prompt` column" in capsys.readouterr().err


def test_spans_that_no_longer_fit_the_prompt_are_refused_naming_the_row(tokenizer):
    row = {"prompt": "Write a poem.", "spans": json.dumps({"verb": [[0, 5]], "constraint": [[6, 40]]})}
    with pytest.raises(ValueError, match=r"data row 3: spans: constraint \[6, 40\] lies outside the 13-character"):
        categorize(tokenizer, row, "data row 3")
    with pytest.raises(ValueError, match="unknown category 'verbs'"):
        categorize(tokenizer, {"prompt": "Write.", "spans": '{"verbs": [[0, 5]]}'}, "data row 0")
