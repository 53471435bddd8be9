"""`freeze`: parameter groups or name patterns kept fixed during GRPO; checked when the recipe is parsed."""

from __future__ import annotations

import json

import pytest
from transformers import AutoModelForCausalLM

from lsrif_trl.analysis.modules import module_type
from lsrif_trl.analysis.params import analyze_params
from lsrif_trl.tiny import build_tiny_model
from lsrif_trl.training.config import REPO_ROOT
from lsrif_trl.training.freeze import check_freeze_keys, freeze_parameters

TINY_RECIPE = REPO_ROOT / "recipes/tiny/grpo_lsrm.yaml"


@pytest.fixture
def model():
    return AutoModelForCausalLM.from_pretrained(build_tiny_model())


def trainable_types(model) -> set[str]:
    return {module_type(name) for name, param in model.named_parameters() if param.requires_grad}


def test_groups_freeze_their_module_types_and_report_the_counts(model):
    total = sum(p.numel() for p in model.parameters())
    report = freeze_parameters(model, ["attention"])
    assert trainable_types(model) == {"gate", "up", "down", "embeddings", "norms"}
    assert report["frozen parameters"] + report["trainable parameters"] == total
    assert freeze_parameters(model, []) is None


def test_qk_leaves_values_and_outputs_trainable(model):
    freeze_parameters(model, ["qk"])
    assert {"q", "k"}.isdisjoint(trainable_types(model)) and {"v", "o"} <= trainable_types(model)


def test_name_patterns_match_full_parameter_names(model):
    freeze_parameters(model, ["*.layers.0.*"])
    frozen = {name for name, param in model.named_parameters() if not param.requires_grad}
    assert frozen and all(".layers.0." in name for name in frozen)
    assert all(p.requires_grad for n, p in model.named_parameters() if ".layers.1." in n)


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        (["*.layers.7.*"], "matches none of the"),
        (["attention", "mlp", "embeddings", "norms"], "freezes every trainable parameter"),
    ],
)
def test_a_key_that_matches_nothing_or_freezes_everything_is_an_error(model, keys, message):
    with pytest.raises(ValueError, match=message):
        freeze_parameters(model, keys)


def test_a_misspelt_group_is_refused_before_anything_loads(tmp_path, capsys, no_model_loading, recipe_script):
    with pytest.raises(ValueError, match="'atention' is neither a group"):
        check_freeze_keys(["atention"])
    argv = ["--config", str(TINY_RECIPE), "--output_dir", str(tmp_path / "run"), "--freeze", "atention"]
    assert recipe_script("grpo_lsrm").main(argv) == 2
    assert "'atention' is neither a group (attention, mlp, qk" in capsys.readouterr().err


def test_with_lora_freezing_a_group_is_leaving_it_out_of_the_target_modules(model):
    peft = pytest.importorskip("peft")
    wide = peft.get_peft_model(model, peft.LoraConfig(r=2, target_modules=["q_proj", "v_proj", "up_proj"]))
    freeze_parameters(wide, ["attention"])
    narrow = peft.get_peft_model(
        AutoModelForCausalLM.from_pretrained(build_tiny_model()), peft.LoraConfig(r=2, target_modules=["up_proj"])
    )
    trainable = [name for name, p in wide.named_parameters() if p.requires_grad]
    assert trainable == [name for name, p in narrow.named_parameters() if p.requires_grad]


@pytest.mark.slow
def test_grpo_with_attention_frozen_moves_only_the_other_weights_and_says_so_in_the_card(tmp_path, recipe_script):
    base = build_tiny_model()
    # All lowercase: a random model meets it in some samples and not others, so advantages are not all zero.
    lowercase = json.dumps({"type": "constraint", "id": "change_case:english_lowercase", "kwargs": {}})
    rows = [
        {"prompt": [{"role": "user", "content": f"Write about item {i}."}], "structure": lowercase} for i in range(8)
    ]
    (tmp_path / "rows.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    argv = [
        "--config", str(TINY_RECIPE), "--model_name_or_path", str(base), "--build_tiny_model", "false",
        "--dataset_name", str(tmp_path / "rows.jsonl"), "--output_dir", str(tmp_path / "run"),
        "--per_device_train_batch_size", "8", "--max_completion_length", "16", "--max_steps", "3",
        "--save_steps", "100", "--freeze", "attention",
    ]  # fmt: skip
    assert recipe_script("grpo_lsrm").main(argv) == 0
    moved = analyze_params(base, tmp_path / "run")["by_module"]
    assert moved["q"] == moved["k"] == moved["v"] == moved["o"] == 0.0
    assert moved["up"] > 0 and moved["down"] > 0
    card = (tmp_path / "run" / "README.md").read_text()
    assert '**frozen**: `{"keys": ["attention"]' in card


def test_counts_use_the_full_size_of_parameters_zero3_has_partitioned(model):
    for param in model.parameters():  # what deepspeed.zero.Init leaves: an empty local shard, the size in ds_numel
        param.ds_numel = param.numel()
        param.data = param.data.new_empty(0)
    report = freeze_parameters(model, ["qk"])
    assert report["frozen parameters"] > 0 and report["trainable parameters"] > report["frozen parameters"]
