"""Reports: per-run JSON + markdown, side-by-side comparison with deltas and plots, model card, trackers."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest
import yaml

from lsrif_trl import cli
from lsrif_trl.eval.report import (
    RunResults,
    attach_to_model_card,
    compare_runs,
    metrics_table,
    report_to,
    save_run,
)

CARD = {"dataset_name": "LSR-Eval", "dataset_type": "lsrif-trl/lsr-eval", "dataset_split": "v1"}


def run(metrics: dict, benchmark: str = "lsr", model: str = "m") -> RunResults:
    return RunResults(benchmark, model, metrics, headline=list(metrics)[:2], card=CARD)


def test_run_table_pivots_row_and_measure_keys() -> None:
    table = metrics_table({"all prompts/n": 4, "all prompts/lsrm": 0.5, "nested/n": 0, "nested/lsrm": None})
    assert table.splitlines() == [
        "|  | n | lsrm |",
        "|---|---|---|",
        "| all prompts | 4 | 0.5000 |",
        "| nested | 0 | – |",
    ]


def test_save_run_writes_json_that_loads_back_and_a_markdown_report(tmp_path: Path) -> None:
    results = run({"all prompts/lsrm": 0.5, "all prompts/all": 0.25})
    results.generation = {"backend": "transformers", "generated": 3, "resumed": 1, "tokens_per_second": 12.5,
                          "sampling": {"temperature": 0.0}}  # fmt: skip
    json_path, table_path = save_run(results, tmp_path / "run")
    assert RunResults.load(json_path) == results
    text = table_path.read_text()
    assert "| all prompts | 0.5000 | 0.2500 |" in text
    assert "12.5 tokens/s" in text and "temperature=0.0" in text


def test_compare_shows_runs_side_by_side_with_deltas_and_saves_one_plot(tmp_path: Path) -> None:
    save_run(run({"all prompts/lsrm": 0.5, "all prompts/all": 0.25}), tmp_path / "base" / "lsr")
    save_run(run({"prompt_level_strict": 0.4, "num_prompts": 541}, "ifeval"), tmp_path / "base" / "ifeval")
    save_run(run({"all prompts/lsrm": 0.75, "all prompts/all": 0.25}), tmp_path / "trained" / "lsr")
    save_run(run({"prompt_level_strict": 0.45, "num_prompts": 541}, "ifeval"), tmp_path / "trained" / "ifeval")
    table, plots = compare_runs([tmp_path / "base", tmp_path / "trained"], tmp_path / "plots")
    assert "| all prompts/lsrm | 0.5000 | 0.7500 | +0.2500 |" in table
    assert "| all prompts/all | 0.2500 | 0.2500 | +0.0000 |" in table
    assert "| prompt_level_strict | 0.4000 | 0.4500 | +0.0500 |" in table
    assert "| num_prompts | 541 | 541 | +0 |" in table
    assert f"| {tmp_path / 'base'} | scored from a file | – | – |" in table
    (plot,) = plots
    assert plot.name == "compare.png" and plot.read_bytes().startswith(b"\x89PNG")


def test_the_summary_has_a_row_per_run_a_column_per_benchmark_and_bootstrap_intervals(tmp_path: Path) -> None:
    base = run({"prompt_level_strict": 0.5}, "ifeval", "base")
    base.prompt_scores = {str(i): float(i % 2) for i in range(100)}  # 50 of 100 prompts pass
    trained = run({"prompt_level_strict": 0.75}, "ifeval", "trained")
    trained.prompt_scores = {str(i): float(i % 2 or i % 4 == 0) for i in range(100)}  # 25 more pass, none lost
    save_run(base, tmp_path / "base" / "ifeval")
    save_run(trained, tmp_path / "trained" / "ifeval")
    save_run(run({"all prompts/lsrm": 0.5}, "lsr"), tmp_path / "base" / "lsr")  # only in one run
    table, _ = compare_runs([tmp_path / "base", tmp_path / "trained"], tmp_path / "plots")
    summary = table.split("## LSR-Eval")[0]
    assert "| run | LSR-Eval (prompt_level_strict) | LSR-Eval (all prompts/lsrm) |" in summary
    assert f"| {tmp_path / 'base'} | 0.5000 | 0.5000 |" in summary
    assert f"| {tmp_path / 'trained'} | 0.7500 | – |" in summary
    delta = next(line for line in summary.splitlines() if line.startswith("| Δ"))
    low, high = (float(x) for x in delta.split("[")[1].split("]")[0].split(", "))
    assert "+0.2500 [" in delta and 0.1 < low < 0.25 < high < 0.4  # every difference is 0 or +1: 25 of 100
    assert delta.endswith("| – |")


def test_compare_cli_prints_the_table_and_rejects_folders_without_results(tmp_path: Path, capsys) -> None:
    save_run(run({"all prompts/lsrm": 0.5, "all prompts/all": 0.25}), tmp_path / "a")
    save_run(run({"all prompts/lsrm": 0.25, "all prompts/all": 0.0}), tmp_path / "b")
    assert cli.main(["eval", "compare", str(tmp_path / "a"), str(tmp_path / "b"), "--plot-dir", str(tmp_path)]) == 0
    assert "-0.2500" in capsys.readouterr().out
    (tmp_path / "empty").mkdir()
    assert cli.main(["eval", "compare", str(tmp_path / "empty")]) == 2
    assert "holds no results.json" in capsys.readouterr().err


def test_model_card_gets_model_index_entries_replaced_on_reattach(tmp_path: Path) -> None:
    card = tmp_path / "README.md"
    attach_to_model_card(card, [run({"all prompts/lsrm": 0.5, "all prompts/all": 0.25})], "my-model")
    attach_to_model_card(card, [run({"all prompts/lsrm": 0.75, "all prompts/all": 0.5})], "my-model")
    metadata = yaml.safe_load(card.read_text().split("---")[1])
    (entry,) = metadata["model-index"]
    assert entry["name"] == "my-model"
    (result,) = entry["results"]
    assert result["dataset"] == {"name": "LSR-Eval", "type": "lsrif-trl/lsr-eval", "split": "v1"}
    assert {m["type"]: m["value"] for m in result["metrics"]} == {"all prompts/lsrm": 0.75, "all prompts/all": 0.5}


def test_report_to_logs_metrics_under_the_benchmark_name(monkeypatch) -> None:
    calls = []
    tracker = types.ModuleType("trackio")
    tracker.init = lambda **kwargs: calls.append(("init", kwargs))
    tracker.log = lambda values: calls.append(("log", values))
    tracker.finish = lambda: calls.append(("finish", None))
    monkeypatch.setitem(sys.modules, "trackio", tracker)
    report_to("trackio", run({"all prompts/lsrm": 0.5, "nested/lsrm": None}), project="p", run_name="r")
    assert calls[0][1]["project"] == "p" and calls[0][1]["name"] == "r"
    assert calls[1] == ("log", {"lsr/all prompts/lsrm": 0.5})
    assert calls[2] == ("finish", None)


def test_report_to_an_unknown_tracker_is_an_error() -> None:
    with pytest.raises(ValueError, match="choose one of wandb, trackio"):
        report_to("tensorboard", run({"a": 1.0}), project="p")


def test_runs_are_labelled_by_the_folders_given_and_differing_prompt_sets_are_flagged(tmp_path: Path) -> None:
    base, other = run({"all prompts/lsrm": 0.5, "all prompts/all": 0.25}), run({"all prompts/lsrm": 0.5, "x": 1.0})
    base.details, other.details = {"limit": None, "fingerprint": "aaa"}, {"limit": 50, "fingerprint": "aaa"}
    other.generation = {"backend": "vllm", "tokens_per_second": 1234.5, "sampling": {"temperature": 0.0}}
    save_run(base, tmp_path / "base" / "lsr")
    save_run(other, tmp_path / "quick" / "lsr")
    table, _ = compare_runs([tmp_path / "base", tmp_path / "quick"], tmp_path / "plots")
    assert f"| metric | {tmp_path / 'base'} | {tmp_path / 'quick'} | Δ |" in table
    assert "different --limit values" in table and "different benchmark sets" not in table
    assert f"| {tmp_path / 'quick'} | vllm | 1234.5 | temperature=0.0 |" in table
