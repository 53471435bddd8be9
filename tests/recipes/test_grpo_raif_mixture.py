"""recipes/tiny/grpo_raif_mixture.yaml: RAIF's 1:1 mixture of instruction and maths rows, checked and then run."""

import json

import pytest
import yaml

from lsrif_trl.tiny import build_tiny_model
from lsrif_trl.training.config import REPO_ROOT

pytest.importorskip("math_verify", reason="the maths rewards need math-verify (a core dependency)")

MIXTURE_RECIPE = REPO_ROOT / "recipes/tiny/grpo_raif_mixture.yaml"
NO_COMMA = {"type": "constraint", "id": "punctuation:no_comma", "kwargs": {}}


def instruction_rows(tmp_path, n=2):
    rows = [
        {
            "prompt": [{"role": "user", "content": f"Describe object {i} without commas."}],
            "structure": json.dumps({"type": "parallel", "children": [NO_COMMA]}),
        }
        for i in range(n)
    ]
    path = tmp_path / "instructions.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(path)


def recipe(tmp_path, math_changes=None, **changes):
    """The shipped recipe with its data and outputs under tmp_path: 2 instruction rows, 2 built arithmetic rows."""
    config = yaml.safe_load(MIXTURE_RECIPE.read_text())
    instructions, math = config["dataset_mixture"]["datasets"]
    instructions.update(path=instruction_rows(tmp_path), build_rows=0)
    math.update(path=str(tmp_path / "maths"), build_rows=2, **(math_changes or {}))
    config |= {"output_dir": str(tmp_path / "run"), "per_device_train_batch_size": 16} | changes  # 4 prompts a step
    path = tmp_path / "grpo_raif_mixture_case.yaml"
    path.write_text(yaml.safe_dump(config))
    return ["--config", str(path)]


@pytest.mark.parametrize(
    ("math_changes", "message"),
    [
        ({"reward_funcs": ["lsrm"]}, "datasets[1].reward_funcs: lsrm_reward reads `structure`"),
        ({"columns": {"prompt": "problem"}}, "datasets[1].columns: "),
        ({"weight": 0}, "dataset_mixture.datasets[1].weight: expected a number > 0"),
    ],
)
def test_a_mixture_that_cannot_work_stops_before_any_model(
    tmp_path, capsys, no_model_loading, recipe_script, math_changes, message
):
    assert recipe_script("grpo_lsrm").main(recipe(tmp_path, math_changes)) == 2
    assert message in capsys.readouterr().err


def test_reward_weights_count_every_sources_rewards_once(tmp_path, capsys, no_model_loading, recipe_script):
    argv = recipe(tmp_path, reward_weights=[1.0, 1.0])
    assert recipe_script("grpo_lsrm").main(argv) == 2
    assert "reward_weights: 2 weights for 3 reward functions ['raif', 'think_format', 'math_raif']" in (
        capsys.readouterr().err
    )


@pytest.mark.slow
def test_the_tiny_mixture_trains_routes_each_reward_to_its_rows_and_resumes(tmp_path, capsys, recipe_script):
    model = build_tiny_model(tmp_path / "tiny-model")
    first = recipe(tmp_path, model_name_or_path=str(model), max_steps=1, save_steps=1)
    assert recipe_script("grpo_lsrm").main(first) == 0
    again = recipe(tmp_path, model_name_or_path=str(model), max_steps=2, save_steps=1)
    assert recipe_script("grpo_lsrm").main(again) == 0
    assert f"Resuming from {tmp_path / 'run' / 'checkpoint-1'}" in capsys.readouterr().out  # the same mixture again
    state = json.loads((tmp_path / "run" / "trainer_state.json").read_text())
    assert state["global_step"] == 2
    steps = [e for e in state["log_history"] if "loss" in e]
    assert [e["step"] for e in steps] == [1, 2]
    for entry in steps:  # every step holds all four rows: two of each source
        assert {"lsrif/instructions/raif_reward", "lsrif/math/math_raif_reward", "lsrif/math/think_format_reward"} <= (
            entry.keys()
        )
        assert entry["lsrif/superior_cot/contrasted_prompts"] == 0.5
    assert not any(key.startswith("lsrif/math/raif") for key in steps[0])  # the rule reward never saw a maths row
    card = (tmp_path / "run" / "README.md").read_text()
    assert "dataset mixture" in card.lower() and "math_raif" in card and "prompts of instructions only" in card
