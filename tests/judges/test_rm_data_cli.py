"""`lsrif rm-data`: curriculum data + a policy -> RewardTrainer pairs; bad data exits 2 before any model loads."""

import json

import pytest

from lsrif_trl import cli
from lsrif_trl.data.builder import build_dataset
from lsrif_trl.judges.rm_format import row_problem
from lsrif_trl.tiny import build_tiny_model


def write_rows(path, **options):
    build_dataset(6, seed=1, **options).to_json(str(path))
    return path


def test_data_without_curriculum_levels_exits_2_naming_the_fix(tmp_path, capsys):
    data = write_rows(tmp_path / "flat.jsonl", soft_share=0.5)
    argv = ["rm-data", "--data", str(data), "--model", "no/such-model", "--output", str(tmp_path / "pairs.jsonl")]
    assert cli.main(argv) == 2
    assert "--curriculum" in capsys.readouterr().err
    assert not (tmp_path / "pairs.jsonl").exists()


def test_curriculum_data_without_soft_constraints_exits_2(tmp_path, capsys):
    data = write_rows(tmp_path / "hard.jsonl", curriculum=True)
    argv = ["rm-data", "--data", str(data), "--model", "no/such-model", "--output", str(tmp_path / "pairs.jsonl")]
    assert cli.main(argv) == 2
    assert "--soft-share" in capsys.readouterr().err


@pytest.mark.slow
def test_tiny_policy_samples_become_checked_preference_pairs(tmp_path, capsys):
    data = write_rows(tmp_path / "levels.jsonl", curriculum=True, soft_share=0.5)
    output = tmp_path / "pairs.jsonl"
    argv = ["rm-data", "--data", str(data), "--model", str(build_tiny_model()), "--max-new-tokens", "8"]
    argv += ["--max-contrasts", "2", "--num-samples", "2", "--output", str(output)]
    assert cli.main(argv) == 0
    rows = [json.loads(line) for line in output.read_text().splitlines()]
    assert 1 <= len(rows) <= 4 and all(row_problem(r) is None for r in rows)
    assert all(r["constraint_id"].startswith("soft:") for r in rows)
    assert f"{len(rows)} pairs from 2 soft-constraint contrasts" in capsys.readouterr().out
