"""`lsrif eval lsr --world`: a world's held-out prompts, rebuilt from a seed given on the command line."""

from __future__ import annotations

import json

import pytest

from lsrif_trl.cli import main as lsrif
from lsrif_trl.data.seeds import load_seed_tasks
from lsrif_trl.data.worlds import TOY
from lsrif_trl.eval import lsr


def test_the_same_seed_rebuilds_the_same_prompts_and_another_seed_others():
    first, again, other = (lsr.build_world_eval("toy", seed, 30) for seed in (4, 4, 5))
    assert [e.prompt for e in first] == [e.prompt for e in again]
    assert [e.prompt for e in first] != [e.prompt for e in other]
    assert len({e.prompt for e in first}) == 30


def test_world_prompts_come_from_held_out_seed_tasks_only():
    held_out = {t.id for t in load_seed_tasks("toy", split="eval", eval_fraction=TOY.eval_fraction)}
    assert {e.seed_task for e in lsr.build_world_eval("toy", 0, 40)} <= held_out


def test_scoring_a_responses_file_records_the_world_and_its_seed(tmp_path):
    examples = lsr.build_world_eval("toy", 3, 4)
    responses = tmp_path / "responses.jsonl"
    responses.write_text("".join(json.dumps({"prompt": e.prompt, "response": "The end."}) + "\n" for e in examples))
    argv = ["eval", "lsr", "--world", "toy", "--eval-seed", "3", "--num-prompts", "4"]
    assert lsrif([*argv, "--responses", str(responses), "--output-dir", str(tmp_path / "out")]) == 0
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert results["details"]["world"] == "toy" and results["details"]["eval_seed"] == 3
    assert results["metrics"]["all prompts/n"] == 4


def test_world_and_families_together_are_refused(tmp_path, capsys):
    argv = ["eval", "lsr", "--world", "toy", "--families", "train", "--responses", "x", "--output-dir", str(tmp_path)]
    assert lsrif(argv) == 2
    assert "drop --families" in capsys.readouterr().err


def test_asking_for_no_prompts_is_an_error():
    with pytest.raises(ValueError, match="num_prompts=0"):
        lsr.build_world_eval("toy", 0, 0)
