"""`lsrif data expert`: a built dataset answered by the experts, as SFT rows with a `completion` column."""

import json

import pytest

from lsrif_trl.cli import main
from lsrif_trl.data.loading import load_training_dataset


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("expert") / "built"
    assert (
        main(["data", "build", "--num-examples", "30", "--output", str(out), "--seed", "2", "--max-depth", "2"]) == 0
    )
    return out


def test_answers_every_row_and_writes_the_settings_and_counts(built, tmp_path, capsys):
    out = tmp_path / "answered"
    argv = ["data", "expert", "--data", str(built), "--output", str(out), "--noise", "0.2", "--wrong-branch", "0.3"]
    assert main([*argv, "--seed", "4"]) == 0
    assert "30 answers" in capsys.readouterr().out
    answered = load_training_dataset(str(out))
    source = load_training_dataset(str(built))
    assert answered["id"] == source["id"] and answered["structure"] == source["structure"]
    assert all(isinstance(text, str) and text.strip() for text in answered["completion"])
    written = json.loads((out / "expert.json").read_text())
    assert written["settings"] | {"noise": 0.2, "wrong_branch": 0.3, "seed": 4} == written["settings"]
    report = written["report"]
    assert report["rows"] == 30 and 0 <= report["all_satisfied"] <= 30

    again = tmp_path / "again"
    assert main([*argv[:5], str(again), *argv[6:], "--seed", "4"]) == 0
    assert load_training_dataset(str(again))["completion"] == answered["completion"]


def test_refuses_to_overwrite_without_the_flag(built, tmp_path, capsys):
    out = tmp_path / "answered"
    argv = ["data", "expert", "--data", str(built), "--output", str(out)]
    assert main(argv) == 0
    first = load_training_dataset(str(out))["completion"]
    assert main([*argv, "--seed", "9"]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert load_training_dataset(str(out))["completion"] == first
    assert main([*argv, "--seed", "9", "--overwrite"]) == 0
    assert load_training_dataset(str(out))["completion"] != first


def test_refuses_the_input_folder_and_a_folder_that_is_not_a_dataset(built, tmp_path, capsys):
    assert main(["data", "expert", "--data", str(built), "--output", str(built), "--overwrite"]) == 2
    assert "is the input dataset" in capsys.readouterr().err
    other = tmp_path / "notes"
    other.mkdir()
    (other / "mine.txt").write_text("keep me")
    assert main(["data", "expert", "--data", str(built), "--output", str(other), "--overwrite"]) == 2
    assert "refusing" in capsys.readouterr().err and (other / "mine.txt").exists()


@pytest.mark.parametrize("flag", ["--noise", "--wrong-branch"])
def test_a_probability_outside_0_1_exits_2_naming_the_flag(built, tmp_path, capsys, flag):
    assert main(["data", "expert", "--data", str(built), "--output", str(tmp_path / "o"), flag, "1.5"]) == 2
    assert flag in capsys.readouterr().err


def test_reasoning_opens_every_completion_with_the_plan_and_keeps_the_answers(built, tmp_path):
    plain, reasoned = tmp_path / "plain", tmp_path / "reasoned"
    assert main(["data", "expert", "--data", str(built), "--output", str(plain)]) == 0
    assert main(["data", "expert", "--data", str(built), "--output", str(reasoned), "--reasoning"]) == 0
    plain_texts = load_training_dataset(str(plain))["completion"]
    pairs = zip(plain_texts, load_training_dataset(str(reasoned))["completion"], strict=True)
    assert all(r.startswith("<think>\n") and r.endswith("</think>\n" + p) for p, r in pairs)
    assert json.loads((reasoned / "expert.json").read_text())["settings"]["reasoning"] is True
