"""Evaluation rows during training: a seeded held-out share, asked for before any model loads."""

from types import SimpleNamespace

import pytest
from datasets import Dataset

from lsrif_trl.training.config import REPO_ROOT
from lsrif_trl.training.errors import RecipeError
from lsrif_trl.training.eval_split import hold_out_eval_rows

TINY_RECIPE = REPO_ROOT / "recipes/tiny/grpo_lsrm.yaml"
ROWS = Dataset.from_dict({"prompt": [f"p{i}" for i in range(20)], "level": sorted([1, 2, 3, 4] * 5)})


def args(strategy="steps", fraction=0.1, seed=42):
    return SimpleNamespace(eval_fraction=fraction), SimpleNamespace(eval_strategy=strategy, seed=seed)


def test_a_seeded_share_is_held_out_and_the_training_rows_keep_their_order():
    train, held = hold_out_eval_rows(ROWS, *args())
    assert len(held) == 2 and len(train) == 18
    assert set(train["prompt"]).isdisjoint(held["prompt"])
    assert train["level"] == sorted(train["level"])  # a sorted curriculum stays sorted
    again, held_again = hold_out_eval_rows(ROWS, *args())
    assert held_again["prompt"] == held["prompt"] and again["prompt"] == train["prompt"]


def test_without_evaluation_nothing_is_held_out():
    assert hold_out_eval_rows(ROWS, *args("no", 0.0)) == (ROWS, None)


@pytest.mark.parametrize(
    ("strategy", "fraction", "message"),
    [
        ("steps", 0.0, "eval_strategy: steps needs evaluation rows; set eval_fraction"),
        ("no", 0.2, "eval_strategy is `no`; set eval_strategy: steps"),
        ("epoch", 0.99, "leaves none to train on"),
    ],
)
def test_mismatched_settings_are_refused_naming_the_fix(strategy, fraction, message):
    with pytest.raises(RecipeError, match=message):
        hold_out_eval_rows(ROWS, *args(strategy, fraction))


def test_eval_strategy_without_rows_stops_the_recipe_before_any_model(
    tmp_path, capsys, no_model_loading, recipe_script
):
    argv = ["--config", str(TINY_RECIPE), "--output_dir", str(tmp_path / "run"), "--eval_strategy", "steps"]
    argv += ["--eval_steps", "5", "--dataset_name", str(tmp_path / "rows"), "--build_dataset_rows", "16"]
    assert recipe_script("grpo_lsrm").main(argv) == 2
    assert "set eval_fraction" in capsys.readouterr().err


def test_the_held_out_rows_reach_the_trainer(tmp_path, monkeypatch, recipe_script):
    class Reached(Exception):
        pass

    seen = {}

    def stand_in(**kwargs):
        seen.update(kwargs)
        raise Reached

    monkeypatch.setattr("trl.GRPOTrainer", stand_in)
    argv = ["--config", str(TINY_RECIPE), "--output_dir", str(tmp_path / "run"), "--eval_strategy", "steps"]
    argv += ["--eval_steps", "5", "--eval_fraction", "0.25"]
    argv += ["--dataset_name", str(tmp_path / "rows"), "--build_dataset_rows", "16"]
    with pytest.raises(Reached):
        recipe_script("grpo_lsrm").main(argv)
    assert len(seen["eval_dataset"]) == 4 and len(seen["train_dataset"]) == 12
