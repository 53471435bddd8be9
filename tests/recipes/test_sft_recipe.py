"""recipes/sft.py: behaviour cloning keeps only demonstrations that satisfy their constraints, then trains."""

import json
import os
import subprocess
import sys

import pytest

from lsrif_trl.tiny import build_tiny_model
from lsrif_trl.training.config import REPO_ROOT

SCRIPT = REPO_ROOT / "recipes/sft.py"
TINY_RECIPE = REPO_ROOT / "recipes/tiny/sft.yaml"
NO_COMMA = json.dumps({"type": "constraint", "id": "punctuation:no_comma", "kwargs": {}})


def demonstrations(tmp_path, completions):
    path = tmp_path / "demos.jsonl"
    rows = [
        {"prompt": f"Describe colour {i} without commas.", "completion": text, "structure": NO_COMMA}
        for i, text in enumerate(completions)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_filter_that_keeps_nothing_stops_before_any_model(tmp_path, capsys, no_model_loading, recipe_script):
    data = demonstrations(tmp_path, ["red, green", "blue, gold"])
    args = ["--config", str(TINY_RECIPE), "--dataset_name", str(data), "--completion_column", "completion"]
    assert recipe_script("sft").main([*args, "--filter_reward", "all", "--output_dir", str(tmp_path / "run")]) == 2
    assert "filter_reward: no demonstration scores >= 1.0 under 'all'" in capsys.readouterr().err


def test_missing_completion_column_is_named(tmp_path, capsys, no_model_loading, recipe_script):
    data = demonstrations(tmp_path, ["red"])
    args = ["--config", str(TINY_RECIPE), "--dataset_name", str(data), "--completion_column", "response"]
    assert recipe_script("sft").main(args) == 2
    assert "completion column `response`" in capsys.readouterr().err


def test_the_tiny_recipe_builds_rows_answered_by_the_experts(tmp_path, capsys, no_model_loading, recipe_script):
    """recipes/tiny/sft.yaml trains on builder rows answered by the experts, built where the folder is missing."""
    from lsrif_trl.data.loading import load_training_dataset

    data = tmp_path / "sft-data"
    args = ["--config", str(TINY_RECIPE), "--dataset_name", str(data), "--build_dataset_rows", "12"]
    with pytest.raises(AssertionError, match="a model or tokenizer was loaded"):  # the data passed every check
        recipe_script("sft").main([*args, "--output_dir", str(tmp_path / "run")])
    built = load_training_dataset(str(data))
    assert len(built) == 12 and all(text.strip() for text in built["completion"])
    assert json.loads((data / "expert.json").read_text())["settings"]["noise"] == 0.0
    printed = capsys.readouterr().out
    assert "filter_reward all: kept" in printed and "12 answers" in printed


@pytest.mark.slow
def test_tiny_sft_clones_only_passing_demonstrations_and_writes_card_and_loss_curve(tmp_path):
    model = build_tiny_model(tmp_path / "tiny-model")
    data = demonstrations(tmp_path, ["red and green", "blue, gold", "a calm grey", "pink, teal", "deep orange"])
    out = subprocess.run(
        [
            sys.executable, str(SCRIPT), "--config", str(TINY_RECIPE),
            "--model_name_or_path", str(model), "--dataset_name", str(data), "--completion_column", "completion",
            "--filter_reward", "all", "--output_dir", str(tmp_path / "run"),
            "--max_steps", "2", "--per_device_train_batch_size", "2", "--save_steps", "1",
        ],
        cwd=REPO_ROOT, env={**os.environ, "HF_HUB_OFFLINE": "1"}, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    assert "filter_reward all: kept 3 of 5 demonstrations" in out.stdout
    card = (tmp_path / "run" / "README.md").read_text()
    assert "demonstration filter**: `all >= 1.0`" in card and "training rows**: `3`" in card
    assert (tmp_path / "run" / "loss_curve.png").stat().st_size > 0
    state = json.loads((tmp_path / "run" / "trainer_state.json").read_text())
    assert state["global_step"] == 2 and any("loss" in e for e in state["log_history"])


def test_an_expert_noise_outside_0_1_stops_naming_the_key(tmp_path, capsys, no_model_loading, recipe_script):
    args = ["--config", str(TINY_RECIPE), "--dataset_name", str(tmp_path / "d"), "--build_dataset_expert_noise", "2"]
    assert recipe_script("sft").main(args) == 2
    assert "build_dataset_expert_noise=2.0: must be a probability" in capsys.readouterr().err
