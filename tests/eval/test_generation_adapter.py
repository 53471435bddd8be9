"""A LoRA run's output folder (adapter only) is evaluated as its base model with the adapter merged in."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from peft import LoraConfig, PeftModel, get_peft_model
from transformers import AutoModelForCausalLM, AutoTokenizer

from lsrif_trl.eval.generation import SamplingParams, TransformersGenerator, check_model, is_adapter
from lsrif_trl.tiny import build_tiny_model


@pytest.fixture(scope="module")
def adapter(tmp_path_factory) -> str:
    base = str(build_tiny_model())
    folder = tmp_path_factory.mktemp("lora") / "run"
    torch.manual_seed(0)
    config = LoraConfig(r=2, lora_alpha=4, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    get_peft_model(AutoModelForCausalLM.from_pretrained(base), config).save_pretrained(folder)
    AutoTokenizer.from_pretrained(base).save_pretrained(folder)  # as trainer.save_model writes beside the adapter
    return str(folder)


def test_an_adapter_folder_is_accepted_for_transformers_and_refused_for_other_backends(adapter):
    assert is_adapter(Path(adapter))
    check_model(adapter, "transformers")
    with pytest.raises(ValueError, match="is a LoRA adapter.*merge it first"):
        check_model(adapter, "vllm")


def test_the_adapter_is_merged_into_its_base_model(adapter):
    generator = TransformersGenerator(adapter, SamplingParams(max_new_tokens=4), device="cpu")
    expected = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(str(build_tiny_model())), adapter)
    merged = expected.merge_and_unload().state_dict()
    loaded = generator.model.state_dict()
    assert set(loaded) == set(merged)
    name = next(k for k in merged if "q_proj.weight" in k)
    assert torch.allclose(loaded[name], merged[name])
    assert len(list(generator.generate(["Say hi."]))) == 1
