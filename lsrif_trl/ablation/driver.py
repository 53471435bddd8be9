"""The toy-world ablation, stage by stage: build -> expert answers -> SFT -> GRPO per reward and seed -> held-out
evaluation of the SFT start and every run -> what each run changed against the SFT start (`lsrif analyze params`
and `attention`) -> report (`lsrif_trl.ablation.report`); with `reward_model` set (`make ablation RM=1`), the self-supervised reward
model against the verifiers (`lsrif_trl.ablation.reward_model`).

Every stage goes through the project's ordinary entry points: the builder (`--world toy`), the expert
(`data.expert.answer_rows`), `recipes/sft.py` and `recipes/grpo_lsrm.py` with `recipes/toy/*.yaml` (each in its
own process), and `lsrif eval lsr --world toy` (`eval.runner.evaluate`). A stage whose output is complete is
reused, so an interrupted ablation resumes; the report is rebuilt every time.

Each training process has one intra-op thread (`OMP_NUM_THREADS=1`): on a small, shared CPU machine OpenMP's
spinning threads made generation ten times slower. So the GRPO runs, which are independent, train side by side,
one per core (`jobs`); a run's numbers do not depend on what trains beside it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from lsrif_trl.ablation import report
from lsrif_trl.ablation.processes import DONE, one_thread, recipe_command
from lsrif_trl.ablation.reward_model import GROUP as RM_GROUP
from lsrif_trl.ablation.reward_model import RewardModelConfig, RewardModelStage
from lsrif_trl.ablation.reward_model import markdown as reward_model_markdown
from lsrif_trl.analysis.modules import GROUPS
from lsrif_trl.training.config import REPO_ROOT

WORLD = "toy"
SFT_RECIPE = REPO_ROOT / "recipes" / WORLD / "sft.yaml"
GRPO_RECIPE = REPO_ROOT / "recipes" / WORLD / "grpo_lsrm.yaml"
DEFAULT_GAMMA = 0.5  # the gamma of the plain `lsrm` runs (recipes/toy/grpo_lsrm.yaml)
ANALYSIS_DONE = "ablation_analysis.json"  # written into an analysis folder with the settings it was made with


@dataclass(frozen=True)
class AblationConfig:
    """What one ablation runs; every field is recorded in results.json under `settings`."""

    output_dir: str = "outputs/ablation"
    seeds: tuple[int, ...] = (0, 1, 2)
    rewards: tuple[str, ...] = ("lsrm", "flat", "all")
    gammas: tuple[float, ...] = ()  # extra LSRM runs with these gammas (the sweep on sequential items)
    eval_seed: int = 1
    steps: int = 60
    train_rows: int = 2000
    train_seed: int = 0
    eval_prompts: int = 200
    noise: float = 0.3
    wrong_branch: float = 0.3
    base_sentences: tuple[int, int] = (1, 2)
    sft_steps: int | None = None  # None: recipes/toy/sft.yaml's max_steps
    max_new_tokens: int = 48
    freeze: tuple[str, ...] = ()  # extra LSRM runs with each of these parameter groups frozen (`--freeze`)
    analysis_prompts: int = 64  # training rows whose attention the analysis reads
    analysis_answer_tokens: int = 8  # answer positions per prompt whose attention is read
    jobs: int | None = None  # GRPO runs at a time; None: one per CPU core
    extra_grpo_args: tuple[str, ...] = field(default_factory=tuple)  # appended to every GRPO command
    reward_model: RewardModelConfig | None = None  # RM=1: the reward-model stage (lsrif_trl.ablation.reward_model)

    def __post_init__(self) -> None:
        from lsrif_trl.rewards import AGGREGATIONS

        if not self.seeds:
            raise ValueError("SEEDS: give at least one seed")
        if not self.rewards:
            raise ValueError("REWARDS: give at least one reward")
        unknown = [r for r in self.rewards if r not in AGGREGATIONS]  # tree rewards: the world's rows carry trees
        if unknown:
            raise ValueError(f"REWARDS: unknown reward {unknown[0]!r}; choose from {sorted(AGGREGATIONS)}")
        if any(not 0.0 <= g <= 1.0 for g in self.gammas):
            raise ValueError(f"GAMMAS: {list(self.gammas)}: each gamma must be in [0, 1]")
        if self.steps < 1:
            raise ValueError(f"STEPS={self.steps}: must be >= 1")
        unknown = [key for key in self.freeze if key not in GROUPS]
        if unknown:
            raise ValueError(f"FREEZE: unknown parameter group {unknown[0]!r}; choose from {', '.join(GROUPS)}")
        if self.freeze and "lsrm" not in self.rewards:
            raise ValueError("FREEZE: the frozen LSRM runs are compared with unfrozen ones; add lsrm to REWARDS")
        if self.analysis_prompts < 1 or self.analysis_answer_tokens < 1:
            raise ValueError(
                f"analysis_prompts={self.analysis_prompts}, analysis_answer_tokens={self.analysis_answer_tokens}: "
                "both must be >= 1"
            )
        if self.jobs is not None and self.jobs < 1:
            raise ValueError(f"JOBS={self.jobs}: must be >= 1")
        if self.reward_model is not None and "lsrm" not in self.rewards:
            raise ValueError(
                "RM=1 compares RM-scored leaves with the plain lsrm runs' verifiers: keep lsrm in REWARDS"
            )

    def workers(self, runs: int) -> int:
        """How many GRPO runs train at once: `jobs`, or one per CPU core, never more than there are runs."""
        return max(1, min(runs, self.jobs or os.cpu_count() or 1))


@dataclass(frozen=True)
class Run:
    """One GRPO run: its name in the report, the reward, the seed and the extra recipe arguments."""

    group: str
    reward: str
    seed: int
    args: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return f"{self.group}-seed{self.seed}"


def plan_runs(config: AblationConfig) -> list[Run]:
    """Every GRPO run: each reward at each seed, then each gamma of the sweep (LSRM) at each seed, then LSRM with
    each frozen group at each seed."""
    runs = [Run(reward, reward, seed) for reward in config.rewards for seed in config.seeds]
    for gamma in config.gammas:
        if gamma == DEFAULT_GAMMA and "lsrm" in config.rewards:
            continue  # the plain lsrm runs are this point of the sweep
        runs += [Run(f"lsrm-gamma{gamma:g}", "lsrm", seed, ("--lsrm_gamma", str(gamma))) for seed in config.seeds]
    for key, group in freeze_groups(config).items():
        runs += [Run(group, "lsrm", seed, ("--freeze", key)) for seed in config.seeds]
    return runs


def freeze_groups(config: AblationConfig) -> dict[str, str]:
    """Frozen parameter group -> the report group of the LSRM runs trained with it frozen."""
    return {key: f"lsrm-freeze-{key}" for key in config.freeze}


def gamma_groups(config: AblationConfig) -> dict[str, str]:
    """Gamma (as text) -> the report group that ran LSRM with it."""
    return {
        f"{gamma:g}": "lsrm" if gamma == DEFAULT_GAMMA and "lsrm" in config.rewards else f"lsrm-gamma{gamma:g}"
        for gamma in config.gammas
    }


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    env.update({"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "WANDB_MODE": "disabled"})
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    return env


def run_command(command: Sequence[str], log: Path) -> None:
    """Run one stage's process with its output in `log`; RuntimeError naming the log when it fails."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w", encoding="utf-8") as handle:
        handle.write(" ".join(command) + "\n")
        handle.flush()
        code = subprocess.call(list(command), stdout=handle, stderr=subprocess.STDOUT, env=_environment())
    if code != 0:
        raise RuntimeError(f"`{' '.join(command)}` failed with exit code {code}; see {log}")


class Ablation:
    """One ablation under `config.output_dir`: `run()` does every missing stage and writes the report."""

    def __init__(self, config: AblationConfig, echo: Callable[[str], None] = print) -> None:
        self.config, self.echo = config, echo
        self.root = Path(config.output_dir)
        self.timings: dict[str, float] = {}

    # ---- stages ----------------------------------------------------------------------------------------------

    def _timed(self, stage: str, work: Callable[[], None]) -> None:
        start = time.perf_counter()
        work()
        self.timings[stage] = self.timings.get(stage, 0.0) + time.perf_counter() - start

    def build_data(self) -> None:
        """The world's training rows and their noisy expert answers (reused when present)."""
        from lsrif_trl.data.builder import build_dataset
        from lsrif_trl.data.expert import ExpertConfig, answer_rows
        from lsrif_trl.data.loading import save_dataset

        train, sft = self.root / "data" / "train", self.root / "data" / "sft"
        if not train.exists():
            self.echo(f"building {self.config.train_rows} toy-world rows -> {train}")
            save_dataset(build_dataset(self.config.train_rows, self.config.train_seed, world=WORLD), train, "disk")
        if not sft.exists():
            from datasets import load_from_disk

            rows = load_from_disk(str(train))
            expert = ExpertConfig(noise=self.config.noise, wrong_branch=self.config.wrong_branch)
            answers, counts = answer_rows(rows, self.config.train_seed, expert, self.config.base_sentences)
            self.echo(f"expert answers: {counts.summary()}")
            save_dataset(rows.add_column("completion", answers), sft, "disk")

    def _train(self, out: Path, command: list[str], log: str, marker: dict[str, Any], message: str) -> None:
        """Run one training process into `out` unless a finished run is there; mark it finished afterwards."""
        if (out / DONE).is_file():
            return
        self.echo(message)
        shutil.rmtree(out, ignore_errors=True)  # an unfinished run of this ablation's own, never user data
        run_command(command, self.root / "logs" / log)
        (out / DONE).write_text(json.dumps(marker) + "\n")

    def train_sft(self) -> None:
        """The SFT warm-up every GRPO run starts from."""
        out = self.root / "sft"
        command = recipe_command("sft.py", SFT_RECIPE, self.root / "model", self.root / "data" / "sft", out)
        if self.config.sft_steps is not None:
            command += ["--max_steps", str(self.config.sft_steps)]
        self._train(out, command, "sft.log", {"stage": "sft"}, f"SFT warm-up -> {out}")

    def train_grpo(self, run: Run) -> None:
        """One GRPO run from the SFT checkpoint."""
        out = self.root / "runs" / run.name
        command = [
            *recipe_command("grpo_lsrm.py", GRPO_RECIPE, self.root / "sft", self.root / "data" / "train", out),
            "--reward_funcs", run.reward,
            "--seed", str(run.seed),
            "--max_steps", str(self.config.steps),
            *run.args,
            *self.config.extra_grpo_args,
        ]  # fmt: skip
        message = f"GRPO {run.name} ({self.config.steps} steps) -> {out}"
        self._train(out, command, f"{run.name}.log", asdict(run), message)

    def train_all(self, runs: Sequence[Run]) -> None:
        """Every GRPO run, `jobs` at a time (each one process with one thread); the first failure is raised once
        every started run has ended, so finished runs are kept for the resume."""
        with ThreadPoolExecutor(max_workers=self.config.workers(len(runs))) as pool:
            futures = [pool.submit(self.train_grpo, run) for run in runs]
        errors = [future.exception() for future in futures if future.exception() is not None]
        if errors:
            raise errors[0]

    def evaluate(self, name: str, model: Path) -> Path:
        """Held-out evaluation of one model (greedy); returns its per-prompt results file."""
        from lsrif_trl.eval.generation import SamplingParams
        from lsrif_trl.eval.runner import EvalRequest, LSRBenchmark
        from lsrif_trl.eval.runner import evaluate as run_eval

        out = self.root / "eval" / name
        results = out / "lsr_results.jsonl"
        settings = {"model": str(model), "eval_seed": self.config.eval_seed, "prompts": self.config.eval_prompts}
        marker = out / "ablation_eval.json"
        if results.is_file() and marker.is_file() and json.loads(marker.read_text()) == settings:
            return results
        shutil.rmtree(out, ignore_errors=True)
        self.echo(
            f"evaluating {name} on {self.config.eval_prompts} held-out prompts (eval seed {self.config.eval_seed})"
        )
        with one_thread():
            run_eval(
                LSRBenchmark(world=WORLD, seed=self.config.eval_seed, num_prompts=self.config.eval_prompts),
                EvalRequest(
                    output_dir=out,
                    model=str(model),
                    sampling=SamplingParams(max_new_tokens=self.config.max_new_tokens, temperature=0.0),
                    backend_options={"batch_size": 50},
                ),
            )
        marker.write_text(json.dumps(settings) + "\n")
        return results

    def analyze(self, run: Run) -> dict[str, Any]:
        """What one run changed against the SFT start: `params.json` and `attention.json` (with their plots) in
        analysis/<run>, reused when made with the same settings; returns both results."""
        from lsrif_trl.analysis.attention import ATTENTION_FILE, analyze_attention
        from lsrif_trl.analysis.params import PARAMS_FILE, analyze_params

        out = self.root / "analysis" / run.name
        base, trained, data = self.root / "sft", self.root / "runs" / run.name, self.root / "data" / "train"
        settings = {
            "base": str(base),
            "trained": str(trained),
            "data": str(data),
            "prompts": self.config.analysis_prompts,
            "answer_tokens": self.config.analysis_answer_tokens,
        }
        marker, files = out / ANALYSIS_DONE, {"params": out / PARAMS_FILE, "attention": out / ATTENTION_FILE}
        if (
            marker.is_file()
            and json.loads(marker.read_text()) == settings
            and all(f.is_file() for f in files.values())
        ):
            return {key: json.loads(path.read_text()) for key, path in files.items()}
        shutil.rmtree(out, ignore_errors=True)
        self.echo(f"analyzing {run.name} against the SFT start -> {out}")
        with one_thread():
            result = {
                "params": analyze_params(base, trained, out),
                "attention": analyze_attention(
                    base,
                    trained,
                    data,
                    out,
                    max_prompts=self.config.analysis_prompts,
                    answer_tokens=self.config.analysis_answer_tokens,
                ),
            }
        marker.write_text(json.dumps(settings) + "\n")
        return result

    # ---- the whole ablation ----------------------------------------------------------------------------------

    def run(self) -> dict[str, Any]:
        """Every stage (reusing finished ones), then results.json, results.md and the plots."""
        from lsrif_trl.tiny import build_tiny_model

        started = time.perf_counter()
        self.root.mkdir(parents=True, exist_ok=True)
        self._timed("build world + expert answers", self.build_data)
        self._timed("toy model", lambda: build_tiny_model(self.root / "model", preset=WORLD))
        self._timed("SFT warm-up", self.train_sft)
        runs = plan_runs(self.config)
        self._timed("GRPO runs", lambda: self.train_all(runs))
        tables: dict[str, list[report.EvalTable]] = {"sft": []}

        def evaluate_all() -> None:
            tables["sft"].append(report.EvalTable.read(self.evaluate("sft", self.root / "sft")))
            for run in runs:
                table = report.EvalTable.read(self.evaluate(run.name, self.root / "runs" / run.name))
                tables.setdefault(run.group, []).append(table)

        self._timed("held-out evaluation", evaluate_all)
        analyses: dict[str, list[dict[str, Any]]] = {}
        for run in runs:
            self._timed("parameter and attention analysis", lambda run=run: self._add_analysis(analyses, run))
        sections: dict[str, Any] = {}
        if self.config.reward_model is not None:
            self._timed("reward model (RM=1)", lambda: sections.update(reward_model=self.reward_model(tables["lsrm"])))
        self.timings["total"] = time.perf_counter() - started
        results = self.write_report(tables, runs, analyses, sections)
        self.echo(f"report: {self.root / 'results.md'}")
        return results

    def _add_analysis(self, analyses: dict[str, list[dict[str, Any]]], run: Run) -> None:
        analyses.setdefault(run.group, []).append(self.analyze(run))

    def reward_model(self, verifier_tables: list[report.EvalTable]) -> dict[str, Any]:
        """RM=1 (`ablation.reward_model`): the reward model built and measured, one GRPO run per seed with the
        held-out leaves scored by it, evaluated; results.json's `reward_model` against the plain lsrm runs."""
        stage = RewardModelStage(self)
        stage.prepare()
        runs = [Run(RM_GROUP, "lsrm", seed, stage.grpo_args()) for seed in self.config.seeds]
        self.train_all(runs)
        tables = [report.EvalTable.read(self.evaluate(run.name, self.root / "runs" / run.name)) for run in runs]
        verifier_names = [Run("lsrm", "lsrm", seed).name for seed in self.config.seeds]
        return stage.section(tables, verifier_tables, [run.name for run in runs], verifier_names)

    def write_report(
        self,
        tables: dict[str, list[report.EvalTable]],
        runs: list[Run],
        analyses: dict[str, list[dict[str, Any]]] | None = None,
        sections: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """results.json, results.md, learning curves and bar charts from the evaluation tables, the run logs,
        (when given) each group's parameter and attention analyses and the optional stages' `sections` (e.g.
        `reward_model`)."""
        summary = report.summarize(tables)
        rewards = {name: summary[name] for name in self.config.rewards}
        for name in rewards:
            rewards[name]["lift_over_sft"] = report.difference(tables[name], tables["sft"])
        results: dict[str, Any] = {
            "sft": summary["sft"],
            "rewards": rewards,
            "eval_seed": self.config.eval_seed,
            "settings": {**asdict(self.config), "world": WORLD, "sft_recipe": str(SFT_RECIPE.relative_to(REPO_ROOT))},
            "timings": {stage: round(seconds, 1) for stage, seconds in self.timings.items()},
            "load_average": list(os.getloadavg()),
        }
        results["settings"]["grpo_recipe"] = str(GRPO_RECIPE.relative_to(REPO_ROOT))
        if "lsrm" in tables and "flat" in tables:
            results["lsrm_minus_flat"] = report.difference(tables["lsrm"], tables["flat"])
        if self.config.gammas:
            results["gamma_sweep"] = {gamma: summary[group] for gamma, group in gamma_groups(self.config).items()}
        results.update(self._mechanism_sections(tables, summary, analyses or {}))
        results.update(sections or {})
        text = report.markdown(results)
        if "reward_model" in results:
            text += reward_model_markdown(results["reward_model"])
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "results.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
        (self.root / "results.md").write_text(text, encoding="utf-8")
        report.plot_bars(results, self.root / "by_type.png")
        if results.get("analysis"):
            report.plot_analysis(results["analysis"], self.root / "analysis.png")
        for key, label, file in (
            ("reward", "training reward (each run's own)", "curves_reward.png"),
            ("all_satisfied", "batch share with every constraint satisfied", "curves_all_satisfied.png"),
        ):
            report.plot_curves(self._curves(runs, key), self.root / file, label)
        return results

    def _mechanism_sections(
        self,
        tables: dict[str, list[report.EvalTable]],
        summary: dict[str, dict[str, Any]],
        analyses: dict[str, list[dict[str, Any]]],
    ) -> dict[str, Any]:
        """results.json's `freeze` (each frozen LSRM group and its difference from unfrozen LSRM) and `analysis`
        (per group, what the runs changed against the SFT start)."""
        sections: dict[str, Any] = {}
        if self.config.freeze:
            sections["freeze"] = {
                key: {**summary[group], "minus_unfrozen": report.difference(tables[group], tables["lsrm"])}
                for key, group in freeze_groups(self.config).items()
            }
        if analyses:
            sections["analysis"] = report.summarize_analyses(analyses)
        return sections

    def _curves(self, runs: list[Run], key: str) -> dict[str, list[list[tuple[int, float]]]]:
        """Per report group, each run's logged (step, value) points of `reward` or its all-satisfied share."""
        curves: dict[str, list[list[tuple[int, float]]]] = {}
        for run in runs:
            state = self.root / "runs" / run.name / "trainer_state.json"
            history = json.loads(state.read_text())["log_history"] if state.is_file() else []
            metric = key if key == "reward" else f"lsrif/{run.reward}_reward/all_satisfied"
            points = [(entry["step"], entry[metric]) for entry in history if metric in entry and "step" in entry]
            curves.setdefault(run.group, []).append(points)
        return curves
