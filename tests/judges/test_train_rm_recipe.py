"""recipes/train_rm.py: checks the pairs before any model, trains the tiny RM, resumes, saves a usable scorer."""

import json
import subprocess
import warnings

import pytest

from lsrif_trl.judges.classifier import ClassifierScorer
from lsrif_trl.judges.rm_data import SoftContrast, preference_rows
from lsrif_trl.tiny import build_tiny_model
from lsrif_trl.training.config import REPO_ROOT

TONE = "Use a warm, friendly tone throughout."


def write_pairs(path, count=8):
    contrasts = [
        SoftContrast(f"s{i}", "soft:tone", TONE, f"Describe tea {i}. {TONE}", f"Describe tea {i}.")
        for i in range(count)
    ]
    answers = {}
    for i in range(count):
        answers[f"Describe tea {i}. {TONE}"] = [f"Dear friend, tea number {i} is a lovely warm hug."]
        answers[f"Describe tea {i}."] = [f"Tea {i}: leaves, water, heat."]
    rows, _ = preference_rows(contrasts, answers)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.fixture
def rm_recipe(tmp_path, recipe_copy):
    """recipes/tiny/train_rm.yaml on the tiny model and 8 pairs, for 2 steps, writing into tmp_path/rm."""
    return recipe_copy(
        "tiny/train_rm.yaml",
        model_name_or_path=str(build_tiny_model()),
        dataset_name=str(write_pairs(tmp_path / "pairs.jsonl")),
        output_dir=str(tmp_path / "rm"),
        per_device_train_batch_size=2,
        max_length=256,
        max_steps=2,
        save_steps=1,
    )


def test_bad_pairs_stop_the_run_before_a_model_loads(tmp_path, capsys, no_model_loading, recipe_script, rm_recipe):
    pairs = tmp_path / "bad.jsonl"
    pairs.write_text(json.dumps({"chosen": "a warm answer", "rejected": ""}) + "\n")
    assert recipe_script("train_rm").main(["--config", str(rm_recipe), "--dataset_name", str(pairs)]) == 2
    assert "row 0: rejected: expected a non-empty string" in capsys.readouterr().err


def test_a_file_without_rejected_column_names_the_fix(tmp_path, capsys, no_model_loading, recipe_script, rm_recipe):
    pairs = tmp_path / "plain.jsonl"
    pairs.write_text(json.dumps({"prompt": "x", "chosen": "y"}) + "\n")
    assert recipe_script("train_rm").main(["--config", str(rm_recipe), "--dataset_name", str(pairs)]) == 2
    err = capsys.readouterr().err
    assert "no rejected column" in err and "lsrif rm-data" in err


@pytest.mark.slow
def test_trains_two_steps_resumes_and_saves_a_one_logit_scorer(tmp_path, capsys, recipe_script, rm_recipe):
    recipe = rm_recipe
    script = recipe_script("train_rm")
    assert script.main(["--config", str(recipe)]) == 0
    output = tmp_path / "rm"
    assert (output / "checkpoint-2").is_dir() and (output / "config.json").is_file()
    saved = json.loads((output / "config.json").read_text())
    assert saved["architectures"] == ["Qwen2ForSequenceClassification"] and len(saved["id2label"]) == 1

    assert script.main(["--config", str(recipe), "--max_steps", "3"]) == 0
    assert f"Resuming from {output / 'checkpoint-2'}" in capsys.readouterr().out
    assert json.loads((output / "checkpoint-3" / "trainer_state.json").read_text())["global_step"] == 3

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a trained RM has its score head: no "fresh head" warning
        score = ClassifierScorer(output, device="cpu")("Describe tea.", "Dear friend, tea is a hug.", TONE)
    assert 0.0 <= score <= 1.0


def test_make_train_rm_builds_data_and_pairs_once_then_trains_the_tiny_recipe():
    commands = subprocess.run(
        ["make", "--no-print-directory", "-n", "train-rm", "VENV=.venv"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "lsrif data build --num-examples 16 --curriculum --soft-share 0.5" in commands
    assert "|| .venv/bin/lsrif rm-data --data" in commands
    assert commands.rstrip().endswith("recipes/train_rm.py --config recipes/tiny/train_rm.yaml")
