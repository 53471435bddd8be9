"""The ablation's reward-model stage (RM=1) on a tiny configuration: every process and model is a stand-in, so
what is checked is the wiring: which commands run, what is measured against which truth, the results contract."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from lsrif_trl.ablation import driver
from lsrif_trl.ablation.driver import Ablation, AblationConfig
from lsrif_trl.ablation.reward_model import GROUP, RewardModelConfig
from lsrif_trl.eval.generation import GenerationResult
from lsrif_trl.judges.rm_truth import accuracy

HELD_OUT = ("change_case:english_lowercase", "keywords:existence")
TYPES = ("parallel", "sequential", "conditional", "nested")


def option(command: list[str], name: str) -> str:
    return command[command.index(name) + 1]


class Processes:
    """Stands in for every training process: records the command and writes what the real one would."""

    def __init__(self) -> None:
        self.commands: list[list[str]] = []

    def __call__(self, command, log) -> None:
        command = list(command)
        self.commands.append(command)
        if "rm-data" in command:
            lower = {
                "constraint_id": HELD_OUT[0],
                "constraint_kwargs": "{}",
                "prompt": [{"role": "user", "content": "p"}],
            }
            rows = [  # one right pair, one whose chosen answer fails its own constraint
                lower | {"chosen": [{"role": "assistant", "content": "all lower"}], "rejected": [{"role": "assistant", "content": "Not Lower"}]},
                lower | {"chosen": [{"role": "assistant", "content": "Not Lower"}], "rejected": [{"role": "assistant", "content": "No"}]},
            ]  # fmt: skip
            out = Path(option(command, "--output"))
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text("".join(json.dumps(r) + "\n" for r in rows))
        else:
            Path(option(command, "--output_dir")).mkdir(parents=True, exist_ok=True)


def fake_evaluate(ablation: Ablation, name: str, model: Path) -> Path:
    """An lsr_results.jsonl: the RM-scored runs pass the held-out leaves more often than the verifier runs."""
    rate = {"sft": 0.2, "lsrm": 0.5}.get(name.split("-seed")[0], 0.8)
    path = ablation.root / "eval" / name / "lsr_results.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = []
    for i in range(20):
        passed = float(i < rate * 20)
        leaves = [{"id": HELD_OUT[0], "family": "x", "active": True, "score": passed},
                  {"id": "punctuation:no_comma", "family": "x", "active": True, "score": 1.0}]  # fmt: skip
        lines.append({"id": f"p{i}", "structure_type": TYPES[i % 4], "depth": 1, "all": passed, "lsrm": passed,
                      "flat": passed, "leaves": leaves})  # fmt: skip
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


class Generator:
    """The policy: a lowercase answer with the keyword to every other prompt, capitals without it to the rest."""

    def __init__(self, *args, **kwargs) -> None:
        pass

    def generate(self, prompts):
        for i, prompt in enumerate(prompts):
            yield GenerationResult(prompt, "the sun and the rain" if i % 2 else "The Rain Falls")


class LowercaseRM:
    """A reward model that has learned lowercase only: 1 for an all-lowercase answer, else 0."""

    def __init__(self, model_path, **options) -> None:
        self.model_path = Path(model_path)

    def score_batch(self, requests):
        return [float(answer.islower()) for _, answer, _ in requests]


@pytest.fixture
def stand_ins(monkeypatch):
    processes = Processes()
    monkeypatch.setattr(driver, "run_command", processes)
    monkeypatch.setattr(Ablation, "evaluate", fake_evaluate)
    monkeypatch.setattr(
        Ablation, "_add_analysis", lambda *args: None
    )  # the analyses: tests/ablation/test_ablation_driver.py
    monkeypatch.setattr("lsrif_trl.tiny.build_tiny_model", lambda *args, **kwargs: None)
    monkeypatch.setattr("lsrif_trl.eval.generation.create_generator", Generator)
    monkeypatch.setattr("lsrif_trl.judges.classifier.ClassifierScorer", LowercaseRM)
    return processes


def tiny_config(tmp_path: Path) -> AblationConfig:
    rm = RewardModelConfig(constraints=HELD_OUT, instructions=6, samples=1, eval_prompts=16, eval_samples=1)
    return AblationConfig(
        output_dir=str(tmp_path / "ablation"), seeds=(0, 1), rewards=("lsrm",), train_rows=6, reward_model=rm
    )


def test_the_rm_stage_trains_on_its_pairs_routes_the_held_out_leaves_and_reports_against_the_truth(
    tmp_path, stand_ins
):
    results = Ablation(tiny_config(tmp_path), echo=lambda _: None).run()
    root = tmp_path / "ablation"
    rm_data = next(c for c in stand_ins.commands if "rm-data" in c)
    assert option(rm_data, "--as-soft") == ",".join(HELD_OUT) and option(rm_data, "--model") == str(root / "sft")
    train_rm = next(c for c in stand_ins.commands if c[1].endswith("train_rm.py"))
    assert option(train_rm, "--config").endswith("recipes/toy/train_rm.yaml")
    assert option(train_rm, "--dataset_name") == str(root / "reward_model" / "pairs" / "pairs.jsonl")
    rm_runs = [c for c in stand_ins.commands if c[1].endswith("grpo_lsrm.py") and "--soft_scorer" in c]
    assert [option(c, "--seed") for c in rm_runs] == ["0", "1"]
    assert [Path(option(c, "--output_dir")).name for c in rm_runs] == [f"{GROUP}-seed0", f"{GROUP}-seed1"]
    for command in rm_runs:
        assert option(command, "--soft_rm_path") == str(root / "reward_model" / "rm")
        start = command.index("--soft_scored_constraints") + 1
        assert tuple(command[start : start + 2]) == HELD_OUT

    section = json.loads((root / "results.json").read_text())["reward_model"]
    assert section == json.loads(json.dumps(results["reward_model"]))
    # Pseudo-labels: 4 labels, of which the second pair's chosen answer ("Not Lower") is wrong.
    assert section["pseudo_label_accuracy"] == pytest.approx(3 / 4)
    assert section["pseudo_labels"]["tied"] == 0.5
    # The RM on fresh samples is measured against each leaf's verifier, not against its own pseudo-labels.
    items = [json.loads(line) for line in (root / "reward_model" / "fresh_samples.jsonl").read_text().splitlines()]
    assert items and {i["constraint_id"] for i in items} <= set(HELD_OUT)
    expected = accuracy([float(i["answer"].islower()) for i in items], [i["truth"] for i in items])
    assert section["rm_accuracy"]["mean"] == pytest.approx(expected)
    by_constraint = section["rm_fresh_samples"]["by_constraint"]
    assert by_constraint[HELD_OUT[0]]["accuracy"]["mean"] == 1.0  # this RM knows lowercase, as the verifier confirms
    assert section["grpo_rm"]["all_satisfied"]["mean"] == pytest.approx(0.8)
    assert section["grpo_verifier"]["all_satisfied"]["mean"] == pytest.approx(0.5)
    assert section["rm_minus_verifier"]["all_satisfied"]["mean"] == pytest.approx(0.3)
    assert section["held_out_leaf_pass"] == {"sft": 0.2, "grpo_rm": 0.8, "grpo_verifier": 0.5}
    assert "reward model (RM=1)" in results["timings"]
    assert "## Reward model against the verifiers" in (root / "results.md").read_text()


def test_a_second_run_reuses_every_finished_rm_step(tmp_path, stand_ins):
    Ablation(tiny_config(tmp_path), echo=lambda _: None).run()
    for run in (tmp_path / "ablation" / "runs").iterdir():
        assert (run / driver.DONE).is_file()
    stand_ins.commands.clear()
    Ablation(tiny_config(tmp_path), echo=lambda _: None).run()
    assert stand_ins.commands == []


def test_a_reward_model_trained_with_other_settings_is_trained_again_and_so_are_the_runs_that_used_it(
    tmp_path, stand_ins
):
    Ablation(tiny_config(tmp_path), echo=lambda _: None).run()
    stand_ins.commands.clear()
    config = tiny_config(tmp_path)
    config = replace(config, reward_model=replace(config.reward_model, rm_steps=3))
    Ablation(config, echo=lambda _: None).run()
    scripts = [Path(command[1]).name for command in stand_ins.commands]
    assert scripts == ["train_rm.py", "grpo_lsrm.py", "grpo_lsrm.py"]  # the pairs are kept; the plain lsrm runs too
    assert option(stand_ins.commands[0], "--max_steps") == "3"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"constraints": ("words:first_word", "punctuation:dash")}, "RM_CONSTRAINTS: 'punctuation:dash' is not one"),
        ({"constraints": ()}, "RM_CONSTRAINTS: give at least one"),
        ({"samples": 0}, "samples=0"),
    ],
)
def test_bad_rm_settings_fail_before_anything_runs(options, message):
    with pytest.raises(ValueError, match=message):
        RewardModelConfig(**options)


def test_rm_needs_the_lsrm_runs_it_is_compared_with():
    with pytest.raises(ValueError, match="keep lsrm in REWARDS"):
        AblationConfig(rewards=("flat",), reward_model=RewardModelConfig())
