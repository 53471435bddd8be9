"""`lsrif data reference`: RAIF's per-row reference, each row answered without reasoning and scored by the recipe's
answer reward, resumable, checked before any model, and read by the RAIF recipe's `column NAME` contrast."""

import argparse
import json
import math
import shutil

import pytest
import yaml
from datasets import Dataset
from transformers import AutoTokenizer

from lsrif_trl.cli import main
from lsrif_trl.data.cli import _reference_scorer
from lsrif_trl.data.loading import load_training_dataset, save_dataset
from lsrif_trl.eval.generation import SamplingParams, settings_path
from lsrif_trl.eval.reference import SUMMARY_FILE, ReferenceJob, ReferenceScorer, check_job, compute_reference
from lsrif_trl.rewards import get_reward_funcs
from lsrif_trl.rewards.functions import ThinkFormatReward
from lsrif_trl.rewards.think import NO_COT_PREFILL, AnswerPolicy
from lsrif_trl.tiny import build_tiny_model
from lsrif_trl.training.config import REPO_ROOT

RAIF_RECIPE = REPO_ROOT / "recipes/tiny/grpo_raif.yaml"
SYSTEM = yaml.safe_load(RAIF_RECIPE.read_text())["system_prompt"]
NO_COMMA = {"type": "constraint", "id": "punctuation:no_comma", "kwargs": {}}
LOWER = {"type": "constraint", "id": "change_case:english_lowercase", "kwargs": {}}
ROWS = 4
# Sampled (not greedy) so that the tiny model's answers, and so their rewards, differ from row to row.
SAMPLING = ["--temperature", "1.0", "--seed", "3", "--max-new-tokens", "8"]


def rows(with_prompt=True):
    structure = json.dumps({"type": "parallel", "children": [NO_COMMA, LOWER]})
    key = "prompt" if with_prompt else "question"
    return [
        {
            key: [{"role": "user", "content": f"Describe object {i} in lowercase without commas."}],
            "structure": structure,
        }
        for i in range(ROWS)
    ]


def rows_file(folder, with_prompt=True):
    path = folder / "rows.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows(with_prompt)))
    return path


def responses(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def answers_in_row_order(path):
    """The saved answers, in the order of `rows()` (each prompt names its object's number)."""
    by_number = {int(r["prompt"].split("object ")[1].split()[0]): r["response"] for r in responses(path)}
    assert sorted(by_number) == list(range(ROWS))
    return [by_number[i] for i in range(ROWS)]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "model")


@pytest.fixture(scope="module")
def run(tiny, tmp_path_factory):
    """One `lsrif data reference --config recipes/tiny/grpo_raif.yaml` over four JSONL rows."""
    folder = tmp_path_factory.mktemp("reference")
    data, output = rows_file(folder), folder / "out"
    argv = ["data", "reference", "--data", str(data), "--model", str(tiny), "--config", str(RAIF_RECIPE)]
    assert main([*argv, "--output", str(output), "--column", "base", *SAMPLING]) == 0
    return {"data": data, "output": output, "responses": folder / "out.responses.jsonl", "argv": argv}


def raif_answer_reward(dataset, answers):
    """The tiny RAIF recipe's answer reward (`raif`; its `think_format` is left out) of direct answers."""
    (raif,) = get_reward_funcs(["raif"], policy=AnswerPolicy("completion"))
    completions = [[{"role": "assistant", "content": NO_COT_PREFILL + a}] for a in answers]
    return raif(dataset["prompt"], completions, structure=dataset["structure"])


@pytest.mark.slow
def test_every_prompt_is_the_trainers_direct_prompt_system_prompt_template_then_the_empty_think_block(run, tiny):
    tokenizer = AutoTokenizer.from_pretrained(tiny)
    expected = {
        tokenizer.apply_chat_template(
            [{"role": "system", "content": SYSTEM}, *row["prompt"]], add_generation_prompt=True, tokenize=False
        )
        + "<think>\n\n</think>\n"
        for row in rows()
    }
    assert {r["prompt"] for r in responses(run["responses"])} == expected


@pytest.mark.slow
def test_the_column_is_the_recipes_answer_reward_recomputed_on_the_saved_answers(run):
    out = load_training_dataset(str(run["output"]))  # the input was JSON Lines: so is the output
    assert (run["output"] / "train.jsonl").is_file()
    expected = raif_answer_reward(out, answers_in_row_order(run["responses"]))
    assert out["base"] == expected
    summary = json.loads((run["output"] / SUMMARY_FILE).read_text())
    assert summary["rewards"]["functions"] == ["raif_reward", "think_format_reward"]
    assert summary["rewards"]["summed"] == ["raif_reward"]
    assert summary["mean"] == pytest.approx(sum(expected) / ROWS)
    assert summary["rows"] == ROWS and summary["sampling"]["temperature"] == 1.0
    assert summary["sampling"]["max_new_tokens"] == 8 and summary["prompts"]["prefill"] == NO_COT_PREFILL


def answer_length(prompts, completions, **columns):
    """A reward of the whole completion the rewards read: its length in characters."""
    return [float(len(c[-1]["content"])) for c in completions]


@pytest.mark.slow
def test_the_weighted_rewards_are_summed_without_the_format_rule(tiny, tmp_path):
    data = tmp_path / "rows"
    save_dataset(Dataset.from_list(rows()), data)
    scorer = ReferenceScorer((answer_length, ThinkFormatReward()), (0.5, 3.0), AnswerPolicy("completion"))
    job = ReferenceJob(str(data), tmp_path / "out", str(tiny), "transformers", SamplingParams(8, 1.0, seed=1))
    summary = compute_reference(job, scorer, check_job(job, scorer))
    out = load_training_dataset(str(job.output))
    assert (job.output / "state.json").is_file()  # a save_to_disk folder in, one out
    answers = answers_in_row_order(job.responses_path)
    assert out["reference"] == [0.5 * len(NO_COT_PREFILL + a) for a in answers]
    assert summary.unscored_rows == [] and summary.rewards["weights"] == [0.5, 3.0]


@pytest.mark.slow
def test_a_rerun_after_a_kill_answers_only_the_rows_missing_from_the_responses_file(run, tiny, tmp_path):
    killed = tmp_path / "killed.responses.jsonl"
    kept = run["responses"].read_text().splitlines(keepends=True)[:2]
    killed.write_text("".join(kept) + '{"prompt": "<|im_start|>system\\nYou are')  # a line cut by the kill
    shutil.copy(settings_path(run["responses"]), settings_path(killed))
    output = tmp_path / "out"
    argv = [*run["argv"], "--output", str(output), "--column", "base", "--responses", str(killed), *SAMPLING]
    assert main(argv) == 0
    generation = json.loads((output / SUMMARY_FILE).read_text())["generation"]
    assert (generation["resumed"], generation["generated"]) == (2, ROWS - 2)
    lines = killed.read_text().splitlines(keepends=True)
    assert lines[:2] == kept and len(lines) == ROWS
    out = load_training_dataset(str(output))
    assert out["base"] == raif_answer_reward(out, answers_in_row_order(killed))


@pytest.mark.slow
def test_an_existing_output_is_kept_unless_overwrite_is_passed(run, capsys):
    before = (run["output"] / "train.jsonl").read_text()
    argv = [*run["argv"], "--output", str(run["output"]), "--column", "base", *SAMPLING]
    assert main(argv) == 2
    assert "already exists; pass --overwrite" in capsys.readouterr().err
    assert (run["output"] / "train.jsonl").read_text() == before
    assert main([*argv, "--overwrite"]) == 0  # the answers come from the responses file again
    assert json.loads((run["output"] / SUMMARY_FILE).read_text())["generation"]["resumed"] == ROWS
    assert (run["output"] / "train.jsonl").read_text() == before


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"--data": "/nonexistent/rows.jsonl"}, "--data: /nonexistent/rows.jsonl: no such file"),
        ({"--data": "NO_PROMPT"}, "columns: no `prompt` column"),
        ({"--reward-funcs": ["raif", "nosuch"]}, "--reward-funcs: unknown reward 'nosuch'"),
        ({"--reward-funcs": ["think_format"]}, "needs a reward besides the format reward"),
        ({"--reward-weights": ["1.0"]}, "--reward-weights: 1 weights for 2 rewards"),
        ({"--column": "structure"}, "already has a column 'structure'; name the new one with --column"),
        (
            {"--column": "base score"},
            "--column: 'base score' cannot be named in `superior_cot_reference: column NAME`",
        ),
        ({"--backend": "openai"}, "--base-url: the openai backend needs the server's /v1 URL"),
        (
            {"--backend": "openai", "--base-url": "http://127.0.0.1:9/v1", "--tokenizer": "/nonexistent/tok"},
            "--tokenizer",
        ),
        ({"--tokenizer": "/nonexistent/tok"}, "--tokenizer: only for --backend openai"),
        ({"--model": "/nonexistent/model"}, "--model: model path '/nonexistent/model' does not exist"),
        ({"--config": str(RAIF_RECIPE), "--system-prompt": "Be brief."}, "--system-prompt: "),
    ],
)
def test_bad_input_stops_with_exit_2_naming_the_fix_before_any_model_loads(
    tmp_path, capsys, no_model_loading, change, message
):
    model = tmp_path / "model"  # looks like a saved model; never loaded, as every case fails first
    model.mkdir()
    (model / "config.json").write_text("{}")
    options = {
        "--data": str(rows_file(tmp_path)),
        "--model": str(model),
        "--output": str(tmp_path / "out"),
        "--reward-funcs": ["raif", "think_format"],
    }
    if change.get("--data") == "NO_PROMPT":
        (tmp_path / "bad").mkdir()
        change = {"--data": str(rows_file(tmp_path / "bad", with_prompt=False))}
    if "--config" in change:
        del options["--reward-funcs"]
    argv = ["data", "reference"]
    for flag, value in (options | change).items():
        argv += [flag, *value] if isinstance(value, list) else [flag, value]
    assert main(argv) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_an_openai_compatible_server_continues_the_rendered_prompt_through_its_completions_endpoint(
    tiny, tmp_path, serve
):
    def reply(body, n):
        answer = (
            "the object is a small round stone from the river" if n % 2 else "The Object, Small And Round, Sits There"
        )
        return (
            200,
            {"choices": [{"text": answer, "finish_reason": "stop"}], "usage": {"completion_tokens": 3}},
            {},
            0.0,
        )

    server = serve(reply)
    data, output = rows_file(tmp_path), tmp_path / "out"
    argv = ["data", "reference", "--data", str(data), "--model", "served-name", "--tokenizer", str(tiny)]
    argv += ["--backend", "openai", "--base-url", server.base_url, "--config", str(RAIF_RECIPE)]
    assert main([*argv, "--output", str(output), "--column", "base"]) == 0
    assert set(server.paths) == {"/v1/completions"} and len(server.requests) == ROWS
    assert all(r["prompt"].endswith("<|im_start|>assistant\n" + NO_COT_PREFILL) for r in server.requests)
    assert all(r["model"] == "served-name" and r["max_tokens"] == 48 for r in server.requests)  # the recipe's length
    out = load_training_dataset(str(output))
    answers = answers_in_row_order(tmp_path / "out.responses.jsonl")
    assert out["base"] == raif_answer_reward(out, answers) and sorted(set(out["base"])) == [-2.0, 2.0]


@pytest.mark.slow
def test_the_tiny_raif_recipe_trains_against_the_column_it_wrote(tiny, tmp_path, recipe_script, recipe_copy):
    data = tmp_path / "rows"
    save_dataset(Dataset.from_list(rows()), data)
    output = tmp_path / "with-base"
    argv = ["data", "reference", "--data", str(data), "--model", str(tiny), "--config", str(RAIF_RECIPE)]
    assert main([*argv, "--output", str(output), "--column", "base", *SAMPLING]) == 0
    assert all(not math.isnan(v) for v in load_training_dataset(str(output))["base"])
    recipe = recipe_copy(
        "tiny/grpo_raif.yaml",
        model_name_or_path=str(tiny),
        dataset_name=str(output),
        build_dataset_rows=0,
        superior_cot_reference="column base",
        max_steps=1,
        save_steps=1,
    )
    assert recipe_script("grpo_lsrm").main(["--config", str(recipe)]) == 0
    history = json.loads((tmp_path / "run" / "trainer_state.json").read_text())["log_history"]
    assert any("lsrif/superior_cot/keep_ratio" in entry for entry in history)
    assert "reference column base" in (tmp_path / "run" / "README.md").read_text()


def test_a_mixture_recipe_scores_references_with_its_instruction_sources_rewards_only():
    mixture = REPO_ROOT / "recipes/tiny/grpo_raif_mixture.yaml"  # instructions: raif, think_format; math: math_raif
    options = dict.fromkeys(
        ("reward_weights", "think_opened_by", "unclosed_think", "system_prompt", "enable_thinking")
    )
    scorer, _, _ = _reference_scorer(argparse.Namespace(config=str(mixture), **options))
    assert scorer.names == ["raif_reward", "think_format_reward"] and scorer.weights == (1.0, 1.0)
    # unrouted: instruction rows outside the mixture carry no `data_source`, and are still scored
    (raif, _) = scorer.funcs
    row = rows()[0]
    completion = [{"role": "assistant", "content": "<think>\n\n</think>\nall lowercase here"}]
    assert raif([row["prompt"]], [completion], structure=[row["structure"]]) == [2.0]
