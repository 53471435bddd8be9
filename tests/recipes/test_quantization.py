"""QLoRA flags reach each recipe's trainer as TRL's quantization config, as trl/scripts/grpo.py passes them."""

import json

import pytest

from lsrif_trl.training import preflight
from lsrif_trl.training.config import REPO_ROOT


class TrainerReached(Exception):
    """Raised by the stand-in trainer: the test has what the script passed it."""


@pytest.mark.parametrize(("script", "trainer"), [("grpo_lsrm", "GRPOTrainer"), ("sft", "SFTTrainer")])
def test_load_in_4bit_with_lora_is_passed_to_the_trainer(monkeypatch, tmp_path, recipe_script, script, trainer):
    real = preflight.installed
    # bitsandbytes looks installed to the preflight: this machine has no GPU to run it
    monkeypatch.setattr(preflight, "installed", lambda name: name == "bitsandbytes" or real(name))
    seen = {}

    def stand_in(**kwargs):
        seen.update(kwargs)
        raise TrainerReached

    monkeypatch.setattr(f"trl.{trainer}", stand_in)
    argv = ["--config", str(REPO_ROOT / f"recipes/tiny/{script}.yaml"), "--output_dir", str(tmp_path / "run")]
    if script == "sft":  # two demonstrations of its own instead of the recipe's expert build; `filter_reward: all`
        rows = tmp_path / "demos.jsonl"  # keeps both, as they satisfy their tree
        tree = json.dumps({"type": "constraint", "id": "punctuation:no_comma", "kwargs": {}})
        demos = [{"prompt": f"Say {i}.", "completion": f"{i}.", "structure": tree} for i in range(2)]
        rows.write_text("".join(json.dumps(d) + "\n" for d in demos))
        argv += ["--dataset_name", str(rows), "--completion_column", "completion"]
    argv += ["--use_peft", "true", "--load_in_4bit", "true", "--bnb_4bit_quant_type", "nf4"]
    with pytest.raises(TrainerReached):
        recipe_script(script).main(argv)
    config = seen["quantization_config"]
    assert config.load_in_4bit and config.bnb_4bit_quant_type == "nf4"
    assert seen["peft_config"] is not None
