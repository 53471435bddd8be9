"""Every benchmark read from a file rejects bad data with exit 2, naming the file, row and field, before a model
is loaded; the registry offers each one as `lsrif eval NAME`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lsrif_trl import cli
from lsrif_trl.eval import runner
from lsrif_trl.eval.registry import FILE_BENCHMARKS


@pytest.fixture(autouse=True)
def no_generation(monkeypatch):
    """Loading a model fails the test: bad data must be found first."""

    def refuse(*args, **kwargs):
        raise AssertionError("a model was loaded although the data is invalid")

    monkeypatch.setattr(runner, "create_generator", refuse)
    monkeypatch.setattr(runner, "resolve_model", lambda model: model)  # `tiny` is not even built


def test_the_registry_names_every_benchmark_of_the_seeds() -> None:
    assert sorted(FILE_BENCHMARKS) == [
        "arithmetic", "cfbench", "complexbench", "complexbench-en", "followbench", "gsm8k", "ifbench", "infobench"
    ]  # fmt: skip


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


BAD_DATA = {
    "gsm8k": ("test.jsonl", json.dumps({"question": "q", "answer": 3}) + "\n", "line 1: field 'answer' must be a string"),
    "arithmetic": ("items.jsonl", json.dumps({"id": "x", "task": "game24"}) + "\n", "line 1: needs id, task, level"),
    "followbench": ("fb/content_constraints.json", "[{\"level\": 0}]", "row 0: field 'example_id' must be a int"),
    "infobench": ("info.jsonl", json.dumps({"instruction": "i", "decomposed_questions": []}) + "\n",
                  "line 1: field 'decomposed_questions' must be a non-empty list of strings"),
    "cfbench": ("cf.json", json.dumps([{"prompt": "p", "criteria": [["c", "maybe"]]}]),
                "row 0: criteria[0] must be [text, '主需' or '次需', ...]"),
    "complexbench": ("cb.json", json.dumps([{"instruction": "i", "scoring_questions": [{"question": "q", "dep": [1]}]}]),
                     "row 0 scoring_questions[0]: field 'dep' must list other questions' positions (0-0)"),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(BAD_DATA))
def test_bad_data_is_refused_before_generation(name: str, tmp_path: Path, capsys) -> None:
    relative, text, message = BAD_DATA[name]
    data = write(tmp_path / relative, text)
    given = data.parent if name == "followbench" else data
    judge = (
        ["--judge-base-url", "http://127.0.0.1:9/v1", "--judge-model", "j"]
        if name in ("cfbench", "infobench", "complexbench")
        else []
    )
    argv = ["eval", name, "--model", "tiny", "--input-data", str(given), "--output-dir", str(tmp_path / "out"), *judge]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and str(data) in err


def test_a_responses_file_with_an_unknown_prompt_names_its_line(tmp_path: Path, capsys) -> None:
    responses = write(tmp_path / "r.jsonl", json.dumps({"prompt": "not an item", "response": "1"}) + "\n")
    assert cli.main(["eval", "arithmetic", "--responses", str(responses), "--output-dir", str(tmp_path / "o")]) == 2
    assert f"{responses} line 1: prompt is not in the arithmetic items" in capsys.readouterr().err
