"""`lsrif data build | validate | stats` end to end in a temporary folder."""

import json

from lsrif_trl.cli import main
from lsrif_trl.data.loading import load_training_dataset


def test_build_writes_valid_data_stats_plot_and_card(tmp_path, capsys):
    out = tmp_path / "lsr"
    code = main(["data", "build", "--num-examples", "25", "--output", str(out), "--seed", "3", "--max-depth", "2",
                 "--soft-share", "0.2"])  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out
    assert "rows: 25" in printed and "structure_type:" in printed
    assert len(load_training_dataset(str(out))) == 25
    stats = json.loads((out / "stats.json").read_text())
    assert stats["rows"] == 25 and sum(stats["n_constraints"].values()) == 25
    assert (out / "stats.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    card = (out / "README.md").read_text()
    assert "license: apache-2.0" in card
    assert "lsrif data build --num-examples 25 --output" in card and "--seed 3 --max-depth 2" in card

    assert main(["data", "validate", str(out)]) == 0
    assert "25 rows OK" in capsys.readouterr().out


def test_validate_names_each_bad_row_and_exits_2(tmp_path, capsys):
    out = tmp_path / "lsr"
    assert main(["data", "build", "--num-examples", "6", "--output", str(out), "--format", "jsonl"]) == 0
    path = out / "train.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    rows[2]["structure"] = rows[2]["structure"].replace('"type":', '"tipe":', 1)
    rows[4]["prompt"] = []
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    capsys.readouterr()

    assert main(["data", "validate", str(path)]) == 2
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert lines[0].startswith(f"row 2 (id {rows[2]['id']}): structure:")
    assert lines[1].startswith(f"row 4 (id {rows[4]['id']}): prompt: expected a non-empty list")
    assert "INVALID (2 problem(s))" in captured.err


def test_stats_prints_and_saves_the_report(tmp_path, capsys):
    data_dir, report_dir = tmp_path / "lsr", tmp_path / "report"
    assert main(["data", "build", "--num-examples", "10", "--output", str(data_dir), "--format", "parquet"]) == 0
    capsys.readouterr()
    assert main(["data", "stats", str(data_dir / "train.parquet"), "--output-dir", str(report_dir)]) == 0
    assert "rows: 10" in capsys.readouterr().out
    assert json.loads((report_dir / "stats.json").read_text())["rows"] == 10


def test_bad_options_exit_2_with_the_reason(tmp_path, capsys):
    out = str(tmp_path / "x")
    assert main(["data", "build", "--num-examples", "5", "--output", out, "--structure-mix", "loop=1"]) == 2
    assert "unknown kind 'loop'" in capsys.readouterr().err
    assert main(["data", "build", "--num-examples", "5", "--output", out, "--rewrite-endpoint", "http://x"]) == 2
    assert main(["data", "validate", str(tmp_path / "missing.jsonl")]) == 2


def test_push_to_hub_uploads_the_rows_and_the_card(tmp_path, monkeypatch, capsys):
    from datasets import Dataset
    from huggingface_hub import DatasetCard

    pushed = {}
    monkeypatch.setattr(Dataset, "push_to_hub", lambda self, repo, **kw: pushed.update(rows=len(self), repo=repo))
    monkeypatch.setattr(DatasetCard, "push_to_hub", lambda self, repo, **kw: pushed.update(card=self.content))
    out = str(tmp_path / "lsr")
    assert main(["data", "build", "--num-examples", "4", "--output", out, "--push-to-hub", "me/lsr"]) == 0
    assert pushed["rows"] == 4 and pushed["repo"] == "me/lsr"
    assert "license: apache-2.0" in pushed["card"] and "The seed tasks were written for lsrif-trl." in pushed["card"]


def test_seed_tasks_and_passages_can_come_from_a_dataset_column(tmp_path, capsys):
    from datasets import Dataset

    passages = ["In 1969 two astronauts walked on the Moon.", "Is it too late to learn the violin at 45?"] * 3
    tasks = [f"Write note {i} about the passage below." for i in range(6)]
    Dataset.from_dict({"text": tasks, "passage": passages}).to_parquet(str(tmp_path / "seeds" / "train.parquet"))
    out = tmp_path / "lsr"
    argv = ["data", "build", "--num-examples", "12", "--output", str(out), "--seed-split", "all",
            "--seed-source", f"hub:{tmp_path / 'seeds'}:train:text", "--seed-passage-column", "passage"]  # fmt: skip
    assert main(argv) == 0
    rows = load_training_dataset(str(out))
    assert all(any(p in r[0]["content"] for p in passages) for r in rows["prompt"])
    card = (out / "README.md").read_text()
    assert "--seed-passage-column passage" in card and "their licence applies to the prompts" in card


def test_build_refuses_to_replace_an_existing_dataset_without_overwrite(tmp_path, capsys):
    out = tmp_path / "lsr"
    argv = ["data", "build", "--num-examples", "4", "--output", str(out), "--format", "jsonl"]
    assert main(argv) == 0
    before = (out / "train.jsonl").read_bytes()
    assert main([*argv[:3], "6", *argv[4:]]) == 2
    err = capsys.readouterr().err
    assert "already holds files" in err and "nothing was changed" in err and "--overwrite" in err
    assert (out / "train.jsonl").read_bytes() == before
    assert main([*argv[:3], "6", *argv[4:], "--overwrite"]) == 0
    assert len(load_training_dataset(str(out))) == 6


def test_validate_names_the_file_and_line_of_a_broken_jsonl(tmp_path, capsys):
    path = tmp_path / "broken.jsonl"
    path.write_text('{"prompt": "a"}\n{"prompt": \n{"prompt": "c"}\n')
    assert main(["data", "validate", str(path)]) == 2
    assert f"{path} line 2: not valid JSON" in capsys.readouterr().err


def test_validate_reads_the_configuration_a_recipe_names(two_config_folder, tmp_path, capsys):
    assert main(["data", "validate", str(two_config_folder), "--config", "hard"]) == 0
    assert f"{two_config_folder}: 3 rows OK" in capsys.readouterr().out
    path = tmp_path / "rows.jsonl"
    path.write_text('{"prompt": "a", "structure": "{}"}\n')
    assert main(["data", "validate", str(path), "--config", "hard"]) == 2
    assert "dataset_config 'hard'" in capsys.readouterr().err
