"""recipes/grpo_lsrm.py: fails fast on a bad recipe, trains the tiny model end to end, resumes where it stopped."""

import json
import os
import pickle
import shutil
import subprocess
import sys
from types import SimpleNamespace

import pytest
import torch
import yaml
from datasets import Dataset

from lsrif_trl.rewards import AnswerPolicy, get_reward_func
from lsrif_trl.tiny import MARKER, build_tiny_model
from lsrif_trl.training.args import GRPOScriptArguments
from lsrif_trl.training.config import REPO_ROOT, RecipeError, validate_recipe
from lsrif_trl.training.data import add_system_prompt, apply_curriculum
from lsrif_trl.training.mixture import parse_mixture
from lsrif_trl.training.rewards import check_rewards
from lsrif_trl.training.run import load_model_inputs

SCRIPT = REPO_ROOT / "recipes/grpo_lsrm.py"
TINY_RECIPE = REPO_ROOT / "recipes/tiny/grpo_lsrm.yaml"
NO_COMMA = {"type": "constraint", "id": "punctuation:no_comma", "kwargs": {}}


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    return build_tiny_model(tmp_path_factory.mktemp("grpo") / "tiny-model")


def rows_file(tmp_path, structures, level=None):
    path = tmp_path / "rows.jsonl"
    rows = [
        {"prompt": [{"role": "user", "content": f"Write about item {i} without commas."}], "structure": json.dumps(s)}
        | ({"level": level[i]} if level else {})
        for i, s in enumerate(structures)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"learning_rat": 1e-6}, "unknown key 'learning_rat'; did you mean 'learning_rate'?"),
        ({"reward_funcs": ["lsrm", "lsrn"]}, "reward_funcs: unknown reward 'lsrn'; known rewards: lsrm, flat"),
        ({"dataset_name": "/nonexistent/rows.jsonl", "build_dataset_rows": 0}, "does not exist; build it"),
        ({"dataset_name": None}, "dataset_name: not set"),
    ],
)
def test_bad_recipe_stops_before_any_model_with_what_to_fix(
    capsys, no_model_loading, recipe_script, recipe_copy, changes, message
):
    assert recipe_script("grpo_lsrm").main(["--config", str(recipe_copy("tiny/grpo_lsrm.yaml", **changes))]) == 2
    assert message in capsys.readouterr().err


def test_bad_row_stops_before_any_model_naming_row_and_field(
    tmp_path, capsys, no_model_loading, recipe_script, recipe_copy
):
    bad = {"type": "constraint", "id": "punctuation:no_semicolons", "kwargs": {}}
    data = rows_file(tmp_path, [NO_COMMA, bad])
    argv = ["--config", str(recipe_copy("tiny/grpo_lsrm.yaml", dataset_name=str(data)))]
    assert recipe_script("grpo_lsrm").main(argv) == 2
    err = capsys.readouterr().err
    assert "row 1" in err and "punctuation:no_semicolons" in err and "lsrif data validate" in err


def test_sorted_curriculum_orders_easy_to_hard_and_max_level_cuts():
    rows = Dataset.from_dict({"prompt": ["a", "b", "c", "d"], "level": [3, 1, 2, 1]})
    ordered = apply_curriculum(rows, GRPOScriptArguments(curriculum="sorted"))
    assert ordered["level"] == [1, 1, 2, 3] and ordered["prompt"][:2] == ["b", "d"]  # stable within a level
    staged = apply_curriculum(rows, GRPOScriptArguments(curriculum="max_level", curriculum_max_level=2))
    assert staged["level"] == [1, 2, 1]
    with pytest.raises(RecipeError, match="no row has level <= 0"):
        apply_curriculum(rows, GRPOScriptArguments(curriculum="max_level", curriculum_max_level=0))
    with pytest.raises(RecipeError, match="needs a `level` column"):
        apply_curriculum(rows.remove_columns("level"), GRPOScriptArguments(curriculum="sorted"))


def test_system_prompt_is_added_only_where_none_is_given():
    rows = Dataset.from_dict(
        {
            "prompt": [
                [{"role": "user", "content": "hi"}],
                [{"role": "system", "content": "own"}, {"role": "user", "content": "hi"}],
            ]
        }
    )
    out = add_system_prompt(rows, "Be exact.")
    assert [m["content"] for m in out[0]["prompt"]] == ["Be exact.", "hi"]
    assert [m["content"] for m in out[1]["prompt"]] == ["own", "hi"]


def test_a_template_that_opens_think_gives_every_reward_the_template_policy(tiny_model):
    from transformers import AutoTokenizer

    script_args = GRPOScriptArguments(reward_funcs=["lsrm", "think_format"], think_opened_by="completion")
    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    assert script_args.answer_policy().for_template(tokenizer, {"enable_thinking": False}) == AnswerPolicy()
    assert script_args.answer_policy().for_template(tokenizer, None) == AnswerPolicy()
    tokenizer.chat_template = (
        tokenizer.chat_template + "{%- if add_generation_prompt %}{{- '<think>\\n' }}{%- endif %}"
    )
    policy = script_args.answer_policy().for_template(tokenizer, None)
    assert policy == AnswerPolicy("template")

    lsrm, think = [f.with_policy(policy) for f in script_args.build(script_args.reward_funcs)]
    assert think.__name__ == "think_format_reward"
    completions = [
        "I plan three points.\n</think>\nAnswer",  # what an R1 model emits after the prefilled opener
        [{"role": "assistant", "content": "plan</think>answer"}],
        [{"role": "assistant", "content": "answer", "reasoning_content": "plan"}],  # parsed by the server
        "<think>plan</think>answer",  # opened again: the same block
    ]
    assert think(["p"] * 4, completions) == [1.0, 1.0, 1.0, 1.0]
    assert get_reward_func("think_format")(["p"], completions[:1]) == [-1.0]  # without the template it fails
    structure = [json.dumps(NO_COMMA)]
    assert lsrm(["p"], ["a, b, c</think>fine"], structure=structure) == [1.0]


@pytest.mark.parametrize("recipe", ["tiny/grpo_lsrm.yaml", "deepseek-r1-distill-qwen-7b/grpo_lsrm.yaml"])
def test_every_reward_a_recipe_builds_pickles(recipe):
    # TRL's async rollout worker sends reward functions to a child process: they must be picklable objects.
    script_args, training_args, _ = validate_recipe(REPO_ROOT / "recipes" / recipe)
    funcs = check_rewards(script_args, training_args)
    policy = script_args.answer_policy()
    for func in [*funcs, *(f.with_policy(AnswerPolicy("template")) for f in funcs)]:
        copy = pickle.loads(pickle.dumps(func))
        assert (copy.__name__, copy.policy) == (func.__name__, func.policy)
    assert all(f.policy == policy for f in funcs)


def test_instruct_recipes_score_the_whole_completion_and_reasoning_recipes_let_the_model_open_think():
    for path in sorted((REPO_ROOT / "recipes").glob("*/grpo_*.yaml")):
        config = yaml.safe_load(path.read_text())
        mixture = parse_mixture(config.get("dataset_mixture"))  # a mixture's sources name the rewards
        rewards = mixture.reward_entries() if mixture else config["reward_funcs"]
        reasoning = "think_format" in rewards  # the reasoning recipes add RAIF's format rule
        assert reasoning == ("deepseek" in path.parent.name or "qwen3" in path.parent.name or "raif" in path.name)
        assert config.get("think_opened_by") == ("completion" if reasoning else "none"), path


def test_build_tiny_model_refreshes_an_outdated_tiny_build_and_leaves_any_other_model_alone(tmp_path, tiny_model):
    outdated, other = tmp_path / "outdated", tmp_path / "other"
    shutil.copytree(tiny_model, outdated)
    shutil.copytree(tiny_model, other, ignore=shutil.ignore_patterns(MARKER))  # a model this project did not build
    current = json.loads((tiny_model / MARKER).read_text())["fingerprint"]
    (outdated / MARKER).write_text(json.dumps({"fingerprint": "from-an-older-corpus"}))
    training_args = SimpleNamespace(model_init_kwargs=None, trust_remote_code=False)
    for folder in (outdated, other):
        model_args = SimpleNamespace(
            model_name_or_path=str(folder), model_revision="main", attn_implementation=None, dtype="float32"
        )
        load_model_inputs(GRPOScriptArguments(build_tiny_model=True), training_args, model_args)
    assert json.loads((outdated / MARKER).read_text())["fingerprint"] == current
    assert not (other / MARKER).exists()


def run_script(args, env_extra=None):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false", **(env_extra or {})}
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600
    )


@pytest.mark.slow
def test_tiny_run_trains_on_builder_data_resumes_with_optimizer_state_and_writes_card(tmp_path, tiny_model):
    secret = "hf_lsrifTestSecretValue123"
    common = [
        "--config", str(TINY_RECIPE),
        "--model_name_or_path", str(tiny_model),
        "--dataset_name", str(tmp_path / "data"),
        "--build_dataset_rows", "8",
        "--output_dir", str(tmp_path / "run"),
        "--per_device_train_batch_size", "4",
        "--max_completion_length", "16",
        "--save_steps", "1",
        "--save_total_limit", "5",
    ]  # fmt: skip
    first = run_script([*common, "--max_steps", "2"], {"HF_TOKEN": secret})
    assert first.returncode == 0, first.stderr[-3000:]
    assert (tmp_path / "data" / "dataset_info.json").is_file()  # built by `lsrif data build`
    assert (tmp_path / "run" / "checkpoint-2").is_dir()

    second = run_script([*common, "--max_steps", "3"], {"HF_TOKEN": secret})
    assert second.returncode == 0, second.stderr[-3000:]
    assert f"Resuming from {tmp_path / 'run' / 'checkpoint-2'}" in second.stdout
    state = json.loads((tmp_path / "run" / "trainer_state.json").read_text())
    assert state["global_step"] == 3
    assert [e["step"] for e in state["log_history"] if "loss" in e] == [1, 2, 3]
    assert any(k.startswith("lsrif/lsrm_reward/type/") for k in state["log_history"][-2])
    # AdamW counts its own steps: 3 only if the optimizer state of step 2 was restored, 1 otherwise.
    optimizer = torch.load(tmp_path / "run" / "checkpoint-3" / "optimizer.pt", weights_only=False)
    assert {int(s["step"]) for s in optimizer["state"].values()} == {3}

    card = (tmp_path / "run" / "README.md").read_text()
    assert "## lsrif-trl training setup" in card and str(tiny_model) in card
    assert "huggingface.co/None" not in card  # local base model named, not as a broken Hub link
    assert '"gamma": 0.5' in card and 'reward functions**: `["lsrm"]`' in card
    assert "| reward |" in card and "| train_runtime |" in card  # final metrics
    assert (tmp_path / "run" / "reward_curve.png").stat().st_size > 0
    assert "reward_curve.png" in second.stdout and "train_results.json" in second.stdout
    written = [p for p in (tmp_path / "run").rglob("*") if p.is_file() and p.suffix in (".json", ".md", ".txt")]
    assert all(secret not in p.read_text(errors="ignore") for p in written)
    assert secret not in first.stdout + first.stderr + second.stdout + second.stderr


@pytest.mark.slow
def test_reasoning_path_trains_with_think_format_reward_weights_and_template_switch(tmp_path, tiny_model):
    rows = rows_file(tmp_path, [NO_COMMA, NO_COMMA])
    out = run_script(
        [
            "--config", str(TINY_RECIPE), "--model_name_or_path", str(tiny_model),
            "--dataset_name", str(rows), "--output_dir", str(tmp_path / "run"),
            "--reward_funcs", "lsrm", "think_format", "--reward_weights", "1.0", "0.5", "--think_opened_by", "completion",
            "--chat_template_kwargs", '{"enable_thinking": false}',
            "--per_device_train_batch_size", "4", "--max_completion_length", "8", "--max_steps", "1",
        ]
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    logged = json.loads((tmp_path / "run" / "trainer_state.json").read_text())["log_history"][0]
    assert logged["rewards/think_format_reward/mean"] == -1.0  # a random model never writes a think block
    # TRL sums weighted rewards: the total is lsrm + 0.5 * (-1)
    assert logged["reward"] == pytest.approx(logged["rewards/lsrm_reward/mean"] - 0.5)
    card = (tmp_path / "run" / "README.md").read_text()
    assert "reward weights**: `[1.0, 0.5]`" in card
