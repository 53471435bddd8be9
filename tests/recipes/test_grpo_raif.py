"""recipes/tiny/grpo_raif.yaml: RAIF's mechanics through recipes/grpo_lsrm.py, checked before any model, then run."""

import json
from types import SimpleNamespace

import pytest

from lsrif_trl.tiny import build_tiny_model
from lsrif_trl.training.args import GRPOScriptArguments
from lsrif_trl.training.errors import RecipeError

NO_COMMA = {"type": "constraint", "id": "punctuation:no_comma", "kwargs": {}}
LOWER = {"type": "constraint", "id": "change_case:english_lowercase", "kwargs": {}}


def rows_file(tmp_path, extra=None):
    path = tmp_path / "rows.jsonl"
    rows = [
        {
            "prompt": [{"role": "user", "content": f"Describe object {i} in lowercase without commas."}],
            "structure": json.dumps({"type": "parallel", "children": [NO_COMMA, LOWER]}),
        }
        | (extra(i) if extra else {})
        for i in range(4)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def raif_recipe(recipe_copy, **changes) -> list[str]:
    """The arguments that run a copy of recipes/tiny/grpo_raif.yaml with `changes`."""
    return ["--config", str(recipe_copy("tiny/grpo_raif.yaml", **changes))]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"no_cot_fraction": 0.3}, "no_cot_fraction: 0.3 x num_generations 4 must be a whole number"),
        ({"superior_cot_reference": "column base"}, "the dataset has no column 'base'"),
        ({"superior_cot_reference": "sometimes"}, "superior_cot_reference: expected `none`, `online`"),
        ({"reward_funcs": ["think_format"], "reward_weights": [1.0]}, "needs a reward besides the format reward"),
        ({"bc_dataset": "/nonexistent/demos.jsonl"}, "bc_dataset: '/nonexistent/demos.jsonl' could not be loaded"),
        ({"bc_coef": 0.0}, "bc_coef: expected a weight > 0"),
    ],
)
def test_a_raif_setting_that_cannot_work_stops_before_any_model(
    tmp_path, capsys, no_model_loading, recipe_script, recipe_copy, changes, message
):
    argv = raif_recipe(recipe_copy, dataset_name=str(rows_file(tmp_path)), build_dataset_rows=0, **changes)
    assert recipe_script("grpo_lsrm").main(argv) == 2
    assert message in capsys.readouterr().err


def test_superior_cot_is_refused_with_vllm_server_mode_which_generates_a_group_from_one_prompt():
    server = SimpleNamespace(use_vllm=True, vllm_mode="server", num_generations=8)
    with pytest.raises(RecipeError, match="vLLM server mode"):
        GRPOScriptArguments(superior_cot=True).superior_cot_config(server)
    colocate = SimpleNamespace(use_vllm=True, vllm_mode="colocate", num_generations=8)
    assert GRPOScriptArguments(superior_cot=True).superior_cot_config(colocate).no_cot_per_group == 2
    assert GRPOScriptArguments().superior_cot_config(colocate) is None


def test_a_reference_column_with_a_non_number_names_the_row(
    tmp_path, capsys, no_model_loading, recipe_script, recipe_copy
):
    data = rows_file(tmp_path, extra=lambda i: {"base": None if i == 2 else 1.0})
    argv = raif_recipe(recipe_copy, dataset_name=str(data), build_dataset_rows=0, superior_cot_reference="column base")
    assert recipe_script("grpo_lsrm").main(argv) == 2
    assert "row 2 base=None, expected a number" in capsys.readouterr().err


@pytest.mark.slow
def test_the_tiny_raif_recipe_trains_with_contrast_and_cloning_and_logs_their_metrics(
    tmp_path, recipe_script, recipe_copy
):
    model = build_tiny_model(tmp_path / "tiny-model")
    argv = raif_recipe(
        recipe_copy,
        model_name_or_path=str(model),
        dataset_name=str(rows_file(tmp_path)),
        build_dataset_rows=0,
        max_steps=2,
        save_steps=2,
    )
    assert recipe_script("grpo_lsrm").main(argv) == 0
    run = tmp_path / "run"
    logged = set().union(
        *(entry.keys() for entry in json.loads((run / "trainer_state.json").read_text())["log_history"])
    )
    assert {
        "lsrif/superior_cot/keep_ratio",
        "lsrif/superior_cot/no_cot_fraction",
        "lsrif/superior_cot/masked_prompts",
        "lsrif/superior_cot/cot_reward",
        "lsrif/superior_cot/no_cot_reward",
        "lsrif/bc_loss",
    } <= logged
    assert json.loads((run / "checkpoint-2" / "bc_state.json").read_text()) == {"consumed": 2}
    card = (run / "README.md").read_text()
    assert "1 of 4 answer directly" in card and "expert x 1.0 (sequence)" in card
