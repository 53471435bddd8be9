"""A GRPO recipe chooses the scorer of soft leaves (`soft_scorer`, `judge_*`, `soft_rm_*`) and training uses it."""

import json

import pytest

from lsrif_trl.judges.classifier import ClassifierScorer
from lsrif_trl.judges.openai_judge import OpenAIJudge
from lsrif_trl.tiny import build_tiny_model
from lsrif_trl.training.config import KINDS, REPO_ROOT, RecipeError, parse_recipe_args
from lsrif_trl.training.rewards import check_rewards

TINY_RECIPE = REPO_ROOT / "recipes/tiny/grpo_lsrm.yaml"
TONE = {"type": "constraint", "id": "soft:tone", "text": "Use a warm, friendly tone throughout.", "kind": "soft"}
NO_COMMA = {"type": "constraint", "id": "punctuation:no_comma", "kwargs": {}, "kind": "hard"}


def rewards_for(*overrides):
    script_args, training_args, _ = parse_recipe_args(KINDS["grpo"], ["--config", str(TINY_RECIPE), *overrides])
    return check_rewards(script_args, training_args)


def test_judge_keys_give_the_lsrm_reward_a_judge(judge_server):
    (lsrm,) = rewards_for("--soft_scorer", "judge", "--judge_base_url", judge_server.base_url, "--judge_model", "m")
    assert isinstance(lsrm.soft_scorer, OpenAIJudge) and lsrm.soft_scorer.base_url == judge_server.base_url


def test_classifier_keys_give_the_lsrm_reward_a_reward_model():
    (lsrm,) = rewards_for("--soft_scorer", "classifier", "--soft_rm_path", str(build_tiny_model()))
    assert isinstance(lsrm.soft_scorer, ClassifierScorer)


def test_default_recipe_scores_hard_constraints_only():
    (lsrm,) = rewards_for()
    assert lsrm.soft_scorer is None


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["--soft_scorer", "classifier"], "soft_scorer: classifier needs soft_rm_path"),
        (["--soft_scorer", "judge", "--judge_model", "m"], "soft_scorer: judge needs judge_base_url"),
        (["--soft_scorer", "classifier", "--soft_rm_path", "/no/such/rm"], "soft_rm_path: /no/such/rm is not a saved"),
    ],
)
def test_incomplete_scorer_settings_fail_as_recipe_errors(overrides, message):
    with pytest.raises(RecipeError, match=message):
        rewards_for(*overrides)


def test_unknown_scorer_in_the_yaml_names_the_choices(recipe_copy):
    path = recipe_copy("tiny/grpo_lsrm.yaml", soft_scorer="oracle")
    with pytest.raises(RecipeError, match=r"soft_scorer: 'oracle': expected one of \['none', 'judge', 'classifier'\]"):
        parse_recipe_args(KINDS["grpo"], ["--config", str(path)])


@pytest.mark.slow
def test_tiny_grpo_step_asks_the_judge_about_every_soft_leaf(tmp_path, judge_server, recipe_script):
    rows = tmp_path / "soft.jsonl"
    structure = json.dumps({"type": "parallel", "children": [NO_COMMA, TONE]})
    prompt = [{"role": "user", "content": f"Describe tea without commas. {TONE['text']}"}]
    rows.write_text("".join(json.dumps({"prompt": prompt, "structure": structure}) + "\n" for _ in range(2)))
    script = recipe_script("grpo_lsrm")
    argv = ["--config", str(TINY_RECIPE), "--model_name_or_path", str(build_tiny_model())]
    argv += ["--dataset_name", str(rows), "--output_dir", str(tmp_path / "run"), "--max_steps", "1"]
    argv += ["--per_device_train_batch_size", "4", "--max_completion_length", "8", "--save_strategy", "no"]
    argv += ["--soft_scorer", "judge", "--judge_base_url", judge_server.base_url, "--judge_model", "m"]
    argv += ["--judge_top_logprobs", "0"]
    assert script.main(argv) == 0
    preflight, *asked = [request["messages"][-1]["content"] for request in judge_server.requests]
    assert "Greet the reader." in preflight  # the preflight request came first, before the model loaded
    assert asked and all(TONE["text"] in a for a in asked)
    logged = json.loads((tmp_path / "run" / "trainer_state.json").read_text())["log_history"][0]
    assert logged["rewards/lsrm_reward/mean"] >= 0.5  # the judge said YES to every soft leaf
    card = (tmp_path / "run" / "README.md").read_text()
    assert '"lsrm_reward judge": {"verdicts": ' in card and '"missing": 0' in card  # the run's totals


@pytest.mark.slow
def test_a_judge_that_starts_refusing_mid_run_stops_training_with_exit_1(
    tmp_path, judge_server, recipe_script, capsys
):
    judge_server.replies = [{"content": "YES"}, {"status": 401}]  # the preflight passes, then the key is refused
    rows = tmp_path / "soft.jsonl"
    structure = json.dumps({"type": "parallel", "children": [NO_COMMA, TONE]})
    prompt = [{"role": "user", "content": f"Describe tea without commas. {TONE['text']}"}]
    rows.write_text("".join(json.dumps({"prompt": prompt, "structure": structure}) + "\n" for _ in range(2)))
    argv = ["--config", str(TINY_RECIPE), "--model_name_or_path", str(build_tiny_model())]
    argv += ["--dataset_name", str(rows), "--output_dir", str(tmp_path / "run"), "--max_steps", "1"]
    argv += ["--per_device_train_batch_size", "4", "--max_completion_length", "8", "--save_strategy", "no"]
    argv += ["--soft_scorer", "judge", "--judge_base_url", judge_server.base_url, "--judge_model", "m"]
    assert recipe_script("grpo_lsrm").main(argv) == 1
    error = capsys.readouterr().err
    assert f"error: soft-constraint judge: {judge_server.base_url}/chat/completions answered HTTP 401" in error


def test_a_judge_that_cannot_answer_stops_the_recipe_before_any_model(
    tmp_path, capsys, no_model_loading, recipe_script, closed_port_url
):
    script = recipe_script("grpo_lsrm")
    argv = ["--config", str(TINY_RECIPE), "--output_dir", str(tmp_path / "run"), "--judge_max_retries", "0"]
    argv += ["--soft_scorer", "judge", "--judge_base_url", closed_port_url, "--judge_model", "m"]
    assert script.main(argv) == 2
    assert f"judge preflight failed: {closed_port_url}/chat/completions" in capsys.readouterr().err


def test_soft_data_without_a_scorer_stops_before_any_model(tmp_path, capsys, no_model_loading, recipe_script):
    rows = tmp_path / "soft.jsonl"
    hard = json.dumps({"type": "parallel", "children": [NO_COMMA]})
    soft = json.dumps({"type": "parallel", "children": [NO_COMMA, TONE]})
    prompt = [{"role": "user", "content": "Describe tea."}]
    rows.write_text("".join(json.dumps({"prompt": prompt, "structure": s}) + "\n" for s in (hard, soft)))
    script = recipe_script("grpo_lsrm")
    argv = ["--config", str(TINY_RECIPE), "--dataset_name", str(rows), "--output_dir", str(tmp_path / "run")]
    assert script.main(argv) == 2
    assert (
        "row 1: structure: soft constraint 'soft:tone' needs a scorer; set `soft_scorer: judge`"
        in capsys.readouterr().err
    )


def test_soft_scored_constraints_route_those_hard_leaves_to_the_recipes_reward_model():
    (lsrm,) = rewards_for(
        "--soft_scorer", "classifier", "--soft_rm_path", str(build_tiny_model()),
        "--soft_scored_constraints", "change_case:english_lowercase", "keywords:existence",
    )  # fmt: skip
    assert lsrm.soft_scored == {"change_case:english_lowercase", "keywords:existence"}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["--soft_scored_constraints", "keywords:existence"], "soft_scored_constraints: .* no soft scorer is set"),
        (
            ["--soft_scorer", "classifier", "--soft_rm_path", "PLACEHOLDER", "--soft_scored_constraints", "nope:x"],
            "soft_scored_constraints: unknown constraint id 'nope:x'",
        ),
    ],
)
def test_bad_soft_scored_constraints_fail_as_recipe_errors_before_any_model(overrides, message):
    overrides = [str(build_tiny_model()) if value == "PLACEHOLDER" else value for value in overrides]
    with pytest.raises(RecipeError, match=message):
        rewards_for(*overrides)
