"""The ablation's report: statistics over seeds and prompts, the results.json contract, tables and plots."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pytest

from lsrif_trl.ablation import report
from lsrif_trl.ablation.driver import Ablation, AblationConfig, Run, gamma_groups, plan_runs

TYPES = ["parallel", "sequential", "conditional", "nested"] * 10  # 40 prompts, 10 per structure type


def write_results(path: Path, all_satisfied: list[float], lsrm: list[float] | None = None) -> Path:
    """An lsr_results.jsonl as `lsrif eval lsr` writes it (only the columns the report reads)."""
    lsrm = lsrm if lsrm is not None else all_satisfied
    lines = [
        {"id": f"p{i}", "structure_type": kind, "depth": 2 if kind == "nested" else 1, "all": a, "lsrm": s, "flat": s}
        for i, (kind, a, s) in enumerate(zip(TYPES, all_satisfied, lsrm, strict=True))
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def table(tmp_path: Path, name: str, rate: float, seed: int = 0) -> report.EvalTable:
    rng = np.random.default_rng(seed)
    values = [float(v) for v in (rng.random(len(TYPES)) < rate)]
    return report.EvalTable.read(write_results(tmp_path / name / "lsr_results.jsonl", values))


def test_mean_is_over_seeds_of_means_over_prompts_and_the_interval_holds_it(tmp_path):
    runs = [table(tmp_path, f"r{s}", 0.5, seed=s) for s in range(3)]
    stats = report.summarize({"lsrm": runs})["lsrm"]
    expected = np.mean([run.scores["all"].mean() for run in runs])
    assert stats["all_satisfied"]["mean"] == pytest.approx(expected)
    low, high = stats["all_satisfied"]["ci95"]
    assert 0.0 <= low <= expected <= high <= 1.0
    assert stats["all_satisfied"]["per_seed"] == pytest.approx([run.scores["all"].mean() for run in runs])
    assert set(stats["by_type"]) == {"parallel", "sequential", "conditional", "nested"}
    assert stats["by_type"]["sequential"]["n"] == 10
    assert set(stats["by_depth"]) == {"1", "2"}


def test_a_difference_shares_the_prompt_draw_so_one_run_against_itself_is_exactly_zero(tmp_path):
    runs = [table(tmp_path, "r0", 0.4)]
    diff = report.difference(runs, runs)
    assert diff["all_satisfied"]["mean"] == 0.0
    assert diff["all_satisfied"]["ci95"] == [0.0, 0.0]


def test_a_clearly_better_group_has_an_interval_above_zero(tmp_path):
    good = [table(tmp_path, f"g{s}", 0.9, seed=s) for s in range(3)]
    bad = [table(tmp_path, f"b{s}", 0.1, seed=10 + s) for s in range(3)]
    diff = report.difference(good, bad)
    assert diff["all_satisfied"]["ci95"][0] > 0.3
    assert diff["by_type"]["conditional"]["all_satisfied"]["mean"] > 0


def test_runs_on_different_prompts_are_refused(tmp_path):
    one = table(tmp_path, "a", 0.5)
    other = report.EvalTable.read(write_results(tmp_path / "b.jsonl", [1.0] * len(TYPES)))
    other = report.EvalTable(tuple(f"q{i}" for i in range(len(TYPES))), other.types, other.depths, other.scores)
    with pytest.raises(ValueError, match="different held-out prompts"):
        report.summarize({"a": [one], "b": [other]})


def test_a_malformed_results_line_is_named(tmp_path):
    path = tmp_path / "lsr_results.jsonl"
    path.write_text(
        '{"id": "p0", "structure_type": "parallel", "depth": 1, "all": 1, "lsrm": 1, "flat": 1}\n{"id": 3}\n'
    )
    with pytest.raises(ValueError, match="line 2"):
        report.EvalTable.read(path)


def test_the_gamma_sweep_reuses_the_plain_lsrm_runs_at_the_default_gamma():
    config = AblationConfig(seeds=(0, 1), rewards=("lsrm", "flat"), gammas=(0.25, 0.5))
    runs = plan_runs(config)
    assert [r.name for r in runs] == [
        "lsrm-seed0", "lsrm-seed1", "flat-seed0", "flat-seed1", "lsrm-gamma0.25-seed0", "lsrm-gamma0.25-seed1",
    ]  # fmt: skip
    assert runs[-1].args == ("--lsrm_gamma", "0.25")
    assert gamma_groups(config) == {"0.25": "lsrm-gamma0.25", "0.5": "lsrm"}


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"seeds": ()}, "SEEDS"),
        ({"rewards": ("lsrm", "fancy")}, "unknown reward 'fancy'"),
        ({"gammas": (1.5,)}, "GAMMAS"),
        ({"steps": 0}, "STEPS"),
        ({"jobs": 0}, "JOBS"),
    ],
)
def test_bad_options_fail_before_anything_runs(options, message):
    with pytest.raises(ValueError, match=message):
        AblationConfig(**options)


def test_runs_train_side_by_side_one_per_job_never_more_than_there_are_runs():
    assert AblationConfig(jobs=2).workers(9) == 2
    assert AblationConfig(jobs=4).workers(3) == 3
    assert AblationConfig().workers(1) == 1


class _RecordingAblation(Ablation):
    """Trains nothing: each run waits at a barrier (so runs must overlap) and `fail` raises."""

    def __init__(self, config: AblationConfig, barrier: threading.Barrier, fail: str = "") -> None:
        super().__init__(config, echo=lambda _: None)
        self.barrier, self.fail, self.finished = barrier, fail, []

    def train_grpo(self, run: Run) -> None:
        self.barrier.wait(timeout=10)  # a BrokenBarrierError here means the runs were not side by side
        if run.name == self.fail:
            raise RuntimeError(f"{run.name} failed")
        self.finished.append(run.name)


def test_two_jobs_train_two_runs_at_once_and_a_failure_waits_for_the_other_run(tmp_path):
    config = AblationConfig(output_dir=str(tmp_path), seeds=(0,), rewards=("lsrm", "flat"), jobs=2)
    ablation = _RecordingAblation(config, threading.Barrier(2), fail="lsrm-seed0")
    with pytest.raises(RuntimeError, match="lsrm-seed0 failed"):
        ablation.train_all(plan_runs(config))
    assert ablation.finished == ["flat-seed0"]  # kept for the resume


def test_the_report_follows_the_results_contract_and_draws_its_plots(tmp_path):
    config = AblationConfig(
        output_dir=str(tmp_path / "ablation"), seeds=(0, 1), rewards=("lsrm", "flat"), gammas=(0.5,)
    )
    ablation = Ablation(config, echo=lambda _: None)
    runs = plan_runs(config)
    tables = {"sft": [table(tmp_path, "sft", 0.2)]}
    for run in runs:
        tables.setdefault(run.group, []).append(
            table(tmp_path, run.name, 0.6 if run.reward == "lsrm" else 0.4, run.seed)
        )
        state = tmp_path / "ablation" / "runs" / run.name / "trainer_state.json"
        state.parent.mkdir(parents=True)
        metric = f"lsrif/{run.reward}_reward/all_satisfied"
        state.write_text(
            json.dumps({"log_history": [{"step": s, "reward": s / 10, metric: s / 20} for s in (1, 2, 3)]})
        )
    ablation.timings = {"total": 12.0}
    results = ablation.write_report(tables, runs)

    written = json.loads((tmp_path / "ablation" / "results.json").read_text())
    assert written == json.loads(json.dumps(results))
    assert set(written["rewards"]) == {"lsrm", "flat"}
    for group in (written["sft"], *written["rewards"].values()):
        assert set(group["all_satisfied"]) >= {"mean", "ci95"}
        assert len(group["all_satisfied"]["ci95"]) == 2
        assert {"lsrm_score", "flat_score", "by_depth"} <= set(group)
        for kind in ("parallel", "sequential", "conditional", "nested"):
            assert "mean" in group["by_type"][kind]["all_satisfied"]
    assert written["eval_seed"] == config.eval_seed
    assert written["settings"]["seeds"] == [0, 1] and written["settings"]["world"] == "toy"
    assert set(written["lsrm_minus_flat"]["by_type"]) == {"parallel", "sequential", "conditional", "nested"}
    assert "lift_over_sft" in written["rewards"]["lsrm"]
    assert written["gamma_sweep"]["0.5"] == written["rewards"]["lsrm"]
    markdown = (tmp_path / "ablation" / "results.md").read_text()
    assert "LSRM minus flat" in markdown and "| SFT start |" in markdown and "Gamma sweep" in markdown
    for plot in ("by_type.png", "curves_reward.png", "curves_all_satisfied.png"):
        assert (tmp_path / "ablation" / plot).read_bytes()[:4] == b"\x89PNG"


def test_learning_curves_read_each_runs_own_all_satisfied_metric(tmp_path):
    ablation = Ablation(AblationConfig(output_dir=str(tmp_path)), echo=lambda _: None)
    run = Run("flat", "flat", 0)
    state = tmp_path / "runs" / run.name / "trainer_state.json"
    state.parent.mkdir(parents=True)
    state.write_text(json.dumps({"log_history": [{"step": 5, "lsrif/flat_reward/all_satisfied": 0.25}, {"loss": 1}]}))
    assert ablation._curves([run], "all_satisfied") == {"flat": [[(5, 0.25)]]}
