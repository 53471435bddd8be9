"""Dataset mixtures: the recipe key, the proportions, the routing of each reward to its source's rows, the checks."""

import json
from collections import Counter
from types import SimpleNamespace

import pytest

from lsrif_trl.data.maths import arithmetic_rows
from lsrif_trl.training.args import GRPOScriptArguments
from lsrif_trl.training.errors import RecipeError
from lsrif_trl.training.mixture import (
    SOURCE_COLUMN,
    SourceReward,
    instruction_rows,
    load_mixture,
    mixture_counts,
    parse_mixture,
)
from lsrif_trl.training.rewards import check_rewards

pytest.importorskip("math_verify", reason="the maths rewards need math-verify (a core dependency)")

NO_COMMA = {"type": "constraint", "id": "punctuation:no_comma", "kwargs": {}}
LOWER = {"type": "constraint", "id": "change_case:english_lowercase", "kwargs": {}}


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(path)


def instruction_file(tmp_path, n=6):
    rows = [
        {
            "prompt": [{"role": "user", "content": f"Describe object {i} in lowercase without commas."}],
            "structure": json.dumps({"type": "parallel", "children": [NO_COMMA, LOWER]}),
        }
        for i in range(n)
    ]
    return write_jsonl(tmp_path / "instructions.jsonl", rows)


def maths_file(tmp_path, n=10, rename=False):
    rows = arithmetic_rows(n, seed=3)
    if rename:  # DeepScaleR's column names
        rows = [{"problem": r["prompt"], "answer": r["solution"], "solution": "a worked solution"} for r in rows]
    return write_jsonl(tmp_path / "maths.jsonl", rows)


def mixture(tmp_path, math_weight=1.0, seed=0, math_columns=None, math_rewards=("math_raif", "think_format"), **extra):
    math = {"source": "math", "path": maths_file(tmp_path, rename=math_columns is not None), "weight": math_weight}
    math["reward_funcs"] = list(math_rewards)
    if math_columns is not None:
        math["columns"] = math_columns
    datasets = [
        {
            "source": "instructions",
            "path": instruction_file(tmp_path),
            "weight": 1.0,
            "reward_funcs": ["raif", "think_format"],
        },
        math | extra,
    ]
    return {"seed": seed, "datasets": datasets}


def prepared(config, **args):
    script_args = GRPOScriptArguments(dataset_mixture=config, **args)
    funcs = check_rewards(script_args, SimpleNamespace(reward_weights=None))
    return load_mixture(script_args, funcs), funcs, script_args


# --- the recipe key ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"wieght": 1}, "dataset_mixture.datasets[1]: unknown key 'wieght'; did you mean 'weight'?"),
        ({"weight": 0}, "dataset_mixture.datasets[1].weight: expected a number > 0"),
        ({"weight": -1.0}, "dataset_mixture.datasets[1].weight: expected a number > 0"),
        ({"weight": True}, "dataset_mixture.datasets[1].weight: expected a number > 0"),
        ({"weight": None}, "dataset_mixture.datasets[1].weight: missing"),
        ({"source": "instructions"}, "two datasets are both source 'instructions'"),
        ({"source": "maths and more"}, "dataset_mixture.datasets[1].source: expected a name of letters"),
        ({"reward_funcs": []}, "dataset_mixture.datasets[1].reward_funcs: expected a non-empty list"),
        ({"columns": {"prompt": 3}}, "dataset_mixture.datasets[1].columns: expected {column the rewards read"),
        (
            {"builder": "algebra"},
            "dataset_mixture.datasets[1].builder: expected one of ['instructions', 'arithmetic']",
        ),
    ],
)
def test_a_mixture_entry_that_cannot_work_names_the_entry_the_key_and_the_fix(tmp_path, change, message):
    config = mixture(tmp_path)
    config["datasets"][1] = {k: v for k, v in (config["datasets"][1] | change).items() if v is not None}
    with pytest.raises(ValueError) as err:
        GRPOScriptArguments(dataset_mixture=config)
    assert message in str(err.value)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"reward_funcs": ["flat"]}, "reward_funcs: ['flat'] next to dataset_mixture; each source names its own"),
        ({"dataset_name": "data/x"}, "the datasets of dataset_mixture replace them"),
        ({"dataset_config": "main"}, "the datasets of dataset_mixture replace them"),
        ({"curriculum": "sorted"}, "curriculum: orders the levels of one builder dataset"),
    ],
)
def test_the_single_dataset_keys_are_refused_next_to_a_mixture(tmp_path, args, message):
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        GRPOScriptArguments(dataset_mixture=mixture(tmp_path), **args)


def test_the_runs_rewards_are_every_sources_in_order_of_first_appearance(tmp_path):
    args = GRPOScriptArguments(dataset_mixture=mixture(tmp_path))
    assert args.reward_funcs == ["raif", "think_format", "math_raif"]
    assert args.contrast_sources() == frozenset({"instructions"})
    assert args.contrast_rewards() == ["raif", "think_format"]
    assert GRPOScriptArguments().contrast_sources() is None


# --- proportions ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("lengths", "weights", "cap", "counts"),
    [
        ((6, 10), (1, 1), None, [6, 6]),  # 1:1 takes as many of each as the smaller has
        ((100, 10), (1, 1), None, [10, 10]),
        ((100, 100), (2, 1), None, [100, 50]),  # no row drawn twice
        ((100, 100), (1, 1), 7, [4, 3]),  # max_train_samples caps the total; largest remainders, ties to the first
        ((5, 5, 5), (1, 1, 1), None, [5, 5, 5]),
    ],
)
def test_mixture_counts_follow_the_shares_without_drawing_a_row_twice(lengths, weights, cap, counts):
    assert mixture_counts(lengths, weights, cap) == counts


def test_the_mixture_holds_each_source_in_its_share_and_every_row_carries_its_source(tmp_path):
    dataset, _, _ = prepared(mixture(tmp_path))
    assert Counter(dataset[SOURCE_COLUMN]) == {"instructions": 6, "math": 6}
    row = next(r for r in dataset if r[SOURCE_COLUMN] == "math")
    assert row["prompt"][-1]["role"] == "user" and row["structure"] is None and row["solution"]
    halved, _, _ = prepared(mixture(tmp_path, math_weight=0.5))
    assert Counter(halved[SOURCE_COLUMN]) == {"instructions": 6, "math": 3}


def test_the_same_seed_gives_the_same_rows_in_the_same_order_and_another_seed_does_not(tmp_path):
    first, _, _ = prepared(mixture(tmp_path, seed=1))
    again, _, _ = prepared(mixture(tmp_path, seed=1))
    other, _, _ = prepared(mixture(tmp_path, seed=2))
    assert first.to_list() == again.to_list()
    assert [r["prompt"] for r in first] != [r["prompt"] for r in other]


def test_columns_map_a_datasets_names_and_a_prompt_suffix_is_appended(tmp_path):
    config = mixture(tmp_path, math_columns={"prompt": "problem", "solution": "answer"}, prompt_suffix=" Box it.")
    dataset, _, _ = prepared(config)
    row = next(r for r in dataset if r[SOURCE_COLUMN] == "math")
    assert row["prompt"][-1]["content"].endswith("\\boxed{}. Box it.")
    assert row["solution"].lstrip("-").isdigit()  # `answer`, not DeepScaleR's worked `solution`


def test_max_train_samples_caps_the_mixture_keeping_its_shares(tmp_path):
    dataset, _, _ = prepared(mixture(tmp_path), max_train_samples=4)
    assert Counter(dataset[SOURCE_COLUMN]) == {"instructions": 2, "math": 2}


# --- checks before any model ---------------------------------------------------------------------------------------
def test_a_column_the_mapping_names_that_the_dataset_lacks_is_named(tmp_path):
    config = mixture(tmp_path, math_columns={"prompt": "question", "solution": "answer"})
    with pytest.raises(RecipeError, match=r"datasets\[1\]\.columns: .*maths.jsonl has no column 'question'"):
        prepared(config)


@pytest.mark.parametrize(
    ("rewards", "message"),
    [
        (
            ("lsrm",),
            r"datasets\[1\]\.reward_funcs: lsrm_reward reads `structure` or `instruction_id_list` \+ `kwargs`",
        ),
        (("math_accuracy", "all"), r"datasets\[1\]\.reward_funcs: all_reward reads `structure`"),
    ],
)
def test_a_reward_its_sources_rows_cannot_feed_is_refused(tmp_path, rewards, message):
    with pytest.raises(RecipeError, match=message):
        prepared(mixture(tmp_path, math_rewards=rewards))


def test_a_maths_reward_on_instruction_rows_is_refused(tmp_path):
    config = mixture(tmp_path)
    config["datasets"][0]["reward_funcs"] = ["raif", "math_accuracy"]
    with pytest.raises(RecipeError, match=r"datasets\[0\]\.reward_funcs: math_accuracy_reward reads `solution`"):
        prepared(config)


def test_a_bad_row_is_named_with_its_source_and_field(tmp_path):
    config = mixture(tmp_path)
    rows = arithmetic_rows(4, seed=0)
    rows[1]["prompt"] = " "
    config["datasets"][1]["path"] = write_jsonl(tmp_path / "bad.jsonl", rows)
    with pytest.raises(RecipeError, match=r"datasets\[1\] \(math, .*bad.jsonl\) row 1: prompt: empty prompt string"):
        prepared(config)
    broken = json.loads((tmp_path / "instructions.jsonl").read_text().splitlines()[0])
    broken["structure"] = "{not json"
    config = mixture(tmp_path)
    config["datasets"][0]["path"] = write_jsonl(tmp_path / "bad_instructions.jsonl", [broken])
    with pytest.raises(RecipeError, match=r"datasets\[0\] \(instructions, .*\): 1 problem\(s\) found"):
        prepared(config)


def test_maths_rows_without_a_solution_are_dropped_and_counted(tmp_path, capsys):
    config = mixture(tmp_path)
    rows = arithmetic_rows(10, seed=0)
    rows[2]["solution"], rows[5]["solution"] = "", " "  # DeepScaleR holds a few rows without an answer
    config["datasets"][1]["path"] = write_jsonl(tmp_path / "unsolved.jsonl", rows)
    dataset, _, _ = prepared(config)
    assert "dataset_mixture: math: dropped 2 of 10 rows without a `solution` (first: row 2)" in capsys.readouterr().out
    assert all(r["solution"].strip() for r in dataset if r[SOURCE_COLUMN] == "math")
    for row in rows:
        row["solution"] = ""
    config["datasets"][1]["path"] = write_jsonl(tmp_path / "none.jsonl", rows)
    with pytest.raises(RecipeError, match=r"no row has a non-empty `solution`"):
        prepared(config)


def test_a_missing_local_source_says_how_to_build_it(tmp_path):
    config = mixture(tmp_path)
    config["datasets"][1]["path"] = str(tmp_path / "nowhere" / "maths")
    with pytest.raises(RecipeError, match=r"datasets\[1\]\.path: .*nowhere/maths does not exist .* set build_rows"):
        prepared(config)


def test_a_source_left_without_rows_is_refused(tmp_path):
    with pytest.raises(RecipeError, match="source 'math' gets no row"):
        prepared(mixture(tmp_path, math_weight=0.01))


def test_the_arithmetic_builder_writes_a_missing_folder_once(tmp_path):
    config = mixture(tmp_path, builder="arithmetic", build_rows=8)
    config["datasets"][1]["path"] = str(tmp_path / "built-maths")
    dataset, _, _ = prepared(config)
    assert (tmp_path / "built-maths" / "train.jsonl").is_file()
    assert Counter(dataset[SOURCE_COLUMN]) == {"instructions": 6, "math": 6}


# --- routing -------------------------------------------------------------------------------------------------------
def test_each_reward_scores_only_its_sources_rows_and_none_elsewhere(tmp_path):
    dataset, funcs, _ = prepared(mixture(tmp_path))
    by_name = {f.__name__: f for f in funcs}
    rows = list(dataset)
    completions = [
        "<think>ok</think>"
        + ("\\boxed{" + r["solution"] + "}" if r[SOURCE_COLUMN] == "math" else "all lowercase here")
        for r in rows
    ]
    columns = {k: [r[k] for r in rows] for k in dataset.column_names if k != "prompt"}
    prompts = [r["prompt"] for r in rows]
    is_math = [r[SOURCE_COLUMN] == "math" for r in rows]
    math = by_name["math_raif_reward"](prompts, completions, **columns)
    instructions = by_name["raif_reward"](prompts, completions, **columns)
    think = by_name["think_format_reward"](prompts, completions, **columns)
    assert [m is not None for m in math] == is_math and all(m == 2.0 for m in math if m is not None)
    assert [r is not None for r in instructions] == [not m for m in is_math]
    assert all(r == 2.0 for r in instructions if r is not None)  # lowercase, no comma: every constraint passes
    assert think == [1.0] * len(rows)  # both sources list it: one function scores every row


def test_a_routed_reward_sees_only_its_rows_and_logs_per_source():
    seen = {}

    def count(prompts, completions, **columns):
        seen.update(prompts=list(prompts), ids=columns["completion_ids"], extra=columns["trainer_state"])
        columns["log_extra"]("note", ["n" + p for p in prompts])
        return [float(len(p)) for p in prompts]

    count.__name__ = "count"
    routed = SourceReward(count, frozenset({"b"}))
    logged, extra = {}, {}
    rewards = routed(
        ["a1", "b22", "a1", "b4444"],
        ["x"] * 4,
        data_source=["a", "b", "a", "b"],
        completion_ids=[[1], [2], [3], [4]],
        trainer_state="state",
        log_metric=lambda name, value: logged.setdefault(name, value),
        log_extra=lambda column, values: extra.setdefault(column, values),
    )
    assert rewards == [None, 3.0, None, 5.0]
    assert seen == {"prompts": ["b22", "b4444"], "ids": [[2], [4]], "extra": "state"}
    assert extra == {"note": [None, "nb22", None, "nb4444"]}  # TRL's table wants a value per completion
    assert logged == {"lsrif/b/count": 4.0}
    assert routed(["a"], ["x"], data_source=["a"]) == [None]  # no row of its source: not called, nothing scored


def test_instruction_rows_are_the_rows_the_contrast_and_the_expert_apply_to(tmp_path):
    dataset, _, args = prepared(mixture(tmp_path))
    kept = instruction_rows(dataset, args.mixture)
    assert set(kept[SOURCE_COLUMN]) == {"instructions"} and len(kept) == 6
    assert instruction_rows(dataset, None) is dataset


def test_parse_mixture_takes_datasets_and_seed_only():
    assert parse_mixture(None) is None
    with pytest.raises(ValueError, match="dataset_mixture: unknown key 'test_split_size'"):
        parse_mixture(
            {"datasets": [{"source": "a", "path": "p", "weight": 1, "reward_funcs": ["lsrm"]}], "test_split_size": 0.1}
        )
    with pytest.raises(ValueError, match=r"expected `datasets: \[...\]`"):
        parse_mixture({"seed": 1})


def test_a_sources_config_picks_that_configuration_of_its_dataset(tmp_path, two_config_folder):
    config = mixture(tmp_path)
    config["datasets"][0] |= {"path": str(two_config_folder), "config": "hard"}  # 3 instruction rows
    dataset, _, _ = prepared(config)
    instructions = [r["prompt"][-1]["content"] for r in dataset if r[SOURCE_COLUMN] == "instructions"]
    assert sorted(instructions) == ["hard task 0", "hard task 1", "hard task 2"]
