"""`analyze_params`: relative Frobenius change per module type and layer, for full checkpoints and LoRA adapters."""

from __future__ import annotations

import json
import math

import pytest
import torch
from transformers import AutoConfig, AutoModelForCausalLM

from lsrif_trl.analysis import checkpoints
from lsrif_trl.analysis.checkpoints import CheckpointError
from lsrif_trl.analysis.params import analyze_params
from lsrif_trl.cli import main
from lsrif_trl.tiny import build_tiny_model


@pytest.fixture(scope="module")
def base():
    return build_tiny_model()


def _save(model, folder, **kwargs):
    model.save_pretrained(folder, **kwargs)
    return folder


def _perturbed(base, folder, name, delta_scale=0.1, seed=0, **save_kwargs):
    """A copy of the tiny model with `delta` added to parameter `name`; returns (folder, ||delta||_F)."""
    model = AutoModelForCausalLM.from_pretrained(base)
    param = dict(model.named_parameters())[name]
    delta = delta_scale * torch.randn(param.shape, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        param += delta
    return _save(model, folder, **save_kwargs), float(delta.double().norm())


def test_a_model_against_itself_moved_nothing(base, tmp_path):
    result = analyze_params(base, base, tmp_path)
    assert set(result["by_module"]) == {"q", "k", "v", "o", "gate", "up", "down", "embeddings", "norms"}
    assert all(change == 0.0 for change in result["by_module"].values())
    assert all(share == 0.0 for share in result["share"].values())
    assert all(change == 0.0 for layer in result["by_layer"].values() for change in layer.values())
    assert set(result["by_layer"]) == {"0", "1"} and result["total"] == 0.0
    written = json.loads((tmp_path / "params.json").read_text())
    assert written["by_module"] == result["by_module"] and written["by_layer"] == result["by_layer"]
    assert (tmp_path / "params_heatmap.png").is_file() and (tmp_path / "params_by_module.png").is_file()


def test_an_untied_output_head_is_its_own_type_and_a_tied_one_is_counted_once_as_embeddings(base, tmp_path):
    config = AutoConfig.from_pretrained(base)
    config.tie_word_embeddings = False
    untied = _save(AutoModelForCausalLM.from_config(config), tmp_path / "untied")
    assert "lm_head" in analyze_params(untied, untied)["by_module"]
    assert "lm_head" not in analyze_params(base, base)["by_module"]


def test_perturbing_one_module_type_of_one_layer_reports_exactly_that_type_and_layer(base, tmp_path):
    name = "model.layers.1.self_attn.k_proj.weight"
    trained, delta_norm = _perturbed(base, tmp_path / "trained", name)
    state = AutoModelForCausalLM.from_pretrained(base).state_dict()
    k_base = state[name].double().norm() ** 2 + state["model.layers.1.self_attn.k_proj.bias"].double().norm() ** 2
    all_k = k_base + sum(
        state[f"model.layers.0.self_attn.k_proj.{p}"].double().norm() ** 2 for p in ("weight", "bias")
    )
    result = analyze_params(base, trained)
    assert result["by_layer"]["1"]["k"] == pytest.approx(delta_norm / math.sqrt(k_base), rel=1e-6)
    assert result["by_module"]["k"] == pytest.approx(delta_norm / math.sqrt(all_k), rel=1e-6)
    assert result["share"]["k"] == 1.0
    others = [(layer, t) for layer, types in result["by_layer"].items() for t in types if (layer, t) != ("1", "k")]
    assert all(result["by_layer"][layer][t] == 0.0 for layer, t in others)
    assert all(change == 0.0 for t, change in result["by_module"].items() if t != "k")


def test_sharded_checkpoints_stream_block_by_block_with_one_shard_open_each_and_the_same_result(
    base, tmp_path, monkeypatch
):
    name = "model.layers.0.mlp.up_proj.weight"
    whole, _ = _perturbed(base, tmp_path / "whole", name)
    sharded, _ = _perturbed(base, tmp_path / "sharded", name, max_shard_size="40KB")
    base_sharded = _save(AutoModelForCausalLM.from_pretrained(base), tmp_path / "base", max_shard_size="100KB")
    assert len(list(sharded.glob("*.safetensors"))) > 3 and (sharded / checkpoints.INDEX_FILE).is_file()
    expected = analyze_params(base, whole)

    opened, most = [0], [0]
    real_safe_open = checkpoints.safe_open

    class CountingOpen:
        def __init__(self, *args, **kwargs):
            self.inner = real_safe_open(*args, **kwargs)

        def __enter__(self):
            opened[0] += 1
            most[0] = max(most[0], opened[0])
            return self.inner.__enter__()

        def __exit__(self, *exc):
            opened[0] -= 1
            return self.inner.__exit__(*exc)

    monkeypatch.setattr(checkpoints, "safe_open", CountingOpen)
    monkeypatch.setattr(checkpoints, "BLOCK_ELEMENTS", 1000)  # every matrix is read in several row blocks
    streamed = analyze_params(base_sharded, sharded)
    assert most[0] <= 2 and opened[0] == 0  # one shard of each checkpoint at a time, all closed at the end
    assert streamed["by_module"] == pytest.approx(expected["by_module"], rel=1e-9)
    assert streamed["share"] == pytest.approx(expected["share"], rel=1e-9)
    for layer, types in expected["by_layer"].items():
        assert streamed["by_layer"][layer] == pytest.approx(types, rel=1e-9)


def test_lora_adapter_is_measured_by_its_effective_update_as_peft_merges_it(base, tmp_path, monkeypatch):
    peft = pytest.importorskip("peft")
    monkeypatch.setattr(checkpoints, "BLOCK_ELEMENTS", 4096)  # updates are formed a few rows at a time
    model = AutoModelForCausalLM.from_pretrained(base)
    targets = ["q_proj", "down_proj", "embed_tokens"]
    config = peft.LoraConfig(r=4, lora_alpha=12, target_modules=targets, init_lora_weights=False)
    wrapped = peft.get_peft_model(model, config)
    wrapped.save_pretrained(tmp_path / "adapter")
    merged = _save(wrapped.merge_and_unload(), tmp_path / "merged")
    from_adapter = analyze_params(base, tmp_path / "adapter")
    from_merged = analyze_params(base, merged)
    assert from_adapter["adapter"] and not from_merged["adapter"]
    assert from_adapter["by_module"]["q"] > 0 and from_adapter["by_module"]["down"] > 0
    assert from_adapter["by_module"]["embeddings"] == pytest.approx(from_merged["by_module"]["embeddings"], rel=1e-4)
    shares = from_adapter["share"]
    assert from_adapter["by_module"]["k"] == 0.0 and shares["q"] + shares["down"] + shares[
        "embeddings"
    ] == pytest.approx(1.0)
    for layer, types in from_merged["by_layer"].items():
        assert from_adapter["by_layer"][layer] == pytest.approx(types, rel=1e-4, abs=1e-7)


def test_mismatched_architectures_are_refused_naming_the_field(base, tmp_path):
    config = AutoConfig.from_pretrained(base)
    config.num_hidden_layers, config.layer_types = 3, config.layer_types[:1] * 3
    other = _save(AutoModelForCausalLM.from_config(config), tmp_path / "three-layers")
    with pytest.raises(CheckpointError, match="num_hidden_layers=2 .* num_hidden_layers=3"):
        analyze_params(base, other)
    wider = AutoConfig.from_pretrained(base)
    wider.intermediate_size = 96
    with pytest.raises(CheckpointError, match="intermediate_size"):
        analyze_params(base, _save(AutoModelForCausalLM.from_config(wider), tmp_path / "wider"))


def test_cli_writes_params_json_and_exits_2_on_a_folder_without_weights(base, tmp_path, capsys):
    assert main(["analyze", "params", str(base), str(base), "--output", str(tmp_path / "out")]) == 0
    assert json.loads((tmp_path / "out" / "params.json").read_text())["total"] == 0.0
    (tmp_path / "empty").mkdir()
    assert main(["analyze", "params", str(base), str(tmp_path / "empty"), "--output", str(tmp_path / "x")]) == 2
    assert "no model.safetensors" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
