"""The ablation driver's freeze group and its parameter/attention analysis stage, on a tiny configuration."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from lsrif_trl.ablation import driver
from lsrif_trl.ablation.driver import ANALYSIS_DONE, Ablation, AblationConfig, Run, freeze_groups, plan_runs
from lsrif_trl.analysis.attention import MASS_CATEGORIES
from lsrif_trl.data.builder import build_dataset
from lsrif_trl.tiny import build_tiny_model

LSRM = Run("lsrm", "lsrm", 0)


def test_freezing_adds_an_lsrm_group_per_key_at_every_seed_from_the_same_sft_start(tmp_path, monkeypatch):
    config = AblationConfig(output_dir=str(tmp_path), seeds=(0, 1), rewards=("lsrm", "flat"), freeze=("attention",))
    runs = plan_runs(config)
    frozen = [run for run in runs if run.group == "lsrm-freeze-attention"]
    assert [run.name for run in frozen] == ["lsrm-freeze-attention-seed0", "lsrm-freeze-attention-seed1"]
    assert all(run.reward == "lsrm" and run.args == ("--freeze", "attention") for run in frozen)
    assert freeze_groups(config) == {"attention": "lsrm-freeze-attention"}
    commands = []

    def train(command: list[str], log: Path) -> None:  # what the recipe would do: record, and make its folder
        commands.append(command)
        Path(command[command.index("--output_dir") + 1]).mkdir(parents=True)

    monkeypatch.setattr(driver, "run_command", train)
    Ablation(config, echo=lambda _: None).train_grpo(frozen[1])
    (command,) = commands
    assert command[command.index("--model_name_or_path") + 1] == str(tmp_path / "sft")
    assert command[command.index("--seed") + 1] == "1"
    assert command[command.index("--freeze") + 1] == "attention"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"freeze": ("attn",)}, "FREEZE: unknown parameter group 'attn'"),
        ({"freeze": ("attention",), "rewards": ("flat",)}, "add lsrm to REWARDS"),
        ({"analysis_prompts": 0}, "analysis_prompts=0"),
    ],
)
def test_bad_freeze_or_analysis_options_fail_before_anything_runs(options, message):
    with pytest.raises(ValueError, match=message):
        AblationConfig(**options)


@pytest.fixture(scope="module")
def ablation_root(tmp_path_factory) -> Path:
    """An ablation folder holding an SFT start, one LSRM run that moved only layer 0's q_proj, and training rows."""
    root = tmp_path_factory.mktemp("ablation")
    shutil.copytree(build_tiny_model(), root / "sft")
    run = root / "runs" / LSRM.name
    shutil.copytree(root / "sft", run)
    weights = load_file(run / "model.safetensors")
    name = "model.layers.0.self_attn.q_proj.weight"
    weights[name] = weights[name] * 1.5  # relative change exactly 0.5 for layer 0, less over all q
    save_file(weights, run / "model.safetensors", metadata={"format": "pt"})
    build_dataset(4, seed=0, families=["train"]).save_to_disk(str(root / "data" / "train"))
    return root


def test_the_analysis_stage_measures_a_run_against_the_sft_start_and_reuses_finished_output(
    ablation_root, monkeypatch
):
    config = AblationConfig(output_dir=str(ablation_root), analysis_prompts=3, analysis_answer_tokens=2)
    ablation = Ablation(config, echo=lambda _: None)
    result = ablation.analyze(LSRM)
    out = ablation_root / "analysis" / LSRM.name
    assert result["params"]["by_layer"]["0"]["q"] == pytest.approx(0.5)
    assert result["params"]["by_module"]["q"] > 0 and result["params"]["by_module"]["up"] == 0.0
    assert result["attention"]["prompts"] == 3 and set(result["attention"]["change"]["mean"]) == set(MASS_CATEGORIES)
    assert (out / "params.json").is_file() and (out / "attention.json").is_file() and (out / ANALYSIS_DONE).is_file()

    def fail(*args, **kwargs):
        raise AssertionError("a finished analysis was computed again")

    monkeypatch.setattr("lsrif_trl.analysis.params.analyze_params", fail)
    monkeypatch.setattr("lsrif_trl.analysis.attention.analyze_attention", fail)
    assert ablation.analyze(LSRM) == json.loads(json.dumps(result))
    other = Ablation(AblationConfig(output_dir=str(ablation_root), analysis_prompts=2, analysis_answer_tokens=2))
    with pytest.raises(AssertionError, match="computed again"):
        other.analyze(LSRM)  # other settings: not the finished output


def test_run_analyzes_every_run_after_evaluation_and_reports_it(ablation_root, tmp_path, monkeypatch):
    config = AblationConfig(output_dir=str(tmp_path), seeds=(0,), rewards=("lsrm",), freeze=("attention",))
    ablation = Ablation(config, echo=lambda _: None)
    analysis = Ablation(
        AblationConfig(output_dir=str(ablation_root), analysis_prompts=3, analysis_answer_tokens=2)
    ).analyze(LSRM)
    stages = []
    monkeypatch.setattr("lsrif_trl.tiny.build_tiny_model", lambda *args, **kwargs: None)
    monkeypatch.setattr(ablation, "build_data", lambda: stages.append("data"))
    monkeypatch.setattr(ablation, "train_sft", lambda: stages.append("sft"))
    monkeypatch.setattr(ablation, "train_grpo", lambda run: stages.append(f"grpo {run.name}"))
    rates = {"sft": 0.0, "lsrm-seed0": 1.0, "lsrm-freeze-attention-seed0": 0.5}

    def evaluate(name: str, model: Path) -> Path:
        stages.append(f"eval {name}")
        path = tmp_path / "fake" / name / "lsr_results.jsonl"
        path.parent.mkdir(parents=True)
        rows = [
            {"id": f"p{i}", "structure_type": "parallel", "depth": 1, "all": all_, "lsrm": all_, "flat": all_}
            for i, all_ in enumerate(float(i % 2 < 2 * rates[name]) for i in range(40))
        ]
        path.write_text("".join(json.dumps(row) + "\n" for row in rows))
        return path

    def analyze(run: Run) -> dict:
        stages.append(f"analyze {run.name}")
        return analysis

    monkeypatch.setattr(ablation, "evaluate", evaluate)
    monkeypatch.setattr(ablation, "analyze", analyze)
    results = ablation.run()
    assert stages[-2:] == ["analyze lsrm-seed0", "analyze lsrm-freeze-attention-seed0"]
    assert stages.index("eval lsrm-freeze-attention-seed0") < stages.index("analyze lsrm-seed0")
    assert set(results["analysis"]["groups"]) == {"lsrm", "lsrm-freeze-attention"}
    assert results["freeze"]["attention"]["minus_unfrozen"]["all_satisfied"]["mean"] == pytest.approx(-0.5)
    assert "parameter and attention analysis" in results["timings"]
    assert (tmp_path / "analysis.png").read_bytes()[:4] == b"\x89PNG"


def test_a_frozen_module_type_reports_zero_change_in_the_summary(ablation_root):
    from lsrif_trl.ablation.report import summarize_analyses

    analysis = Ablation(
        AblationConfig(output_dir=str(ablation_root), analysis_prompts=3, analysis_answer_tokens=2)
    ).analyze(LSRM)
    summary = summarize_analyses({"lsrm": [analysis, analysis]})
    group = summary["groups"]["lsrm"]
    assert group["by_module"]["up"] == {"mean": 0.0, "per_seed": [0.0, 0.0]}
    assert group["by_module"]["q"]["mean"] == pytest.approx(analysis["params"]["by_module"]["q"])
    assert summary["sft_attention"] == analysis["attention"]["models"]["base"]["mean"]
    cell = group["attention"]["connector"]
    assert cell["ci95"][0] <= cell["mean"] <= cell["ci95"][1]
    assert cell["mean"] == pytest.approx(analysis["attention"]["change"]["mean"]["connector"]["mean"])
    torch.testing.assert_close(torch.tensor(cell["per_seed"]), torch.tensor([cell["mean"]] * 2))
