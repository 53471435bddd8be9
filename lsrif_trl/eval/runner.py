"""One evaluation run: check every input, generate (resumably) if a model is given, score, write the reports.

Everything that can be wrong with the request (output folder, model, backend options, benchmark data, tracker)
is checked before a model is loaded, so a bad request fails in seconds instead of after a long generation.
"""

from __future__ import annotations

import importlib.util
import json
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from lsrif_trl.eval import ifeval, lsr
from lsrif_trl.eval.generation import SamplingParams, check_model, create_generator, load_responses, run_generation
from lsrif_trl.eval.judging import JudgeConfig
from lsrif_trl.eval.report import REPORT_BACKENDS, RunResults, attach_to_model_card, report_to, save_run
from lsrif_trl.rewards.think import DEFAULT_POLICY, AnswerPolicy

RESPONSES_FILE = "responses.jsonl"
TINY = "tiny"  # the model name that means the offline tiny model (lsrif_trl.tiny)


@dataclass
class EvalRequest:
    """What to evaluate and how; `responses` (score a file) and `model` (generate first) are exclusive."""

    output_dir: Path
    responses: Path | None = None
    model: str | None = None
    backend: str = "transformers"
    sampling: SamplingParams = field(default_factory=SamplingParams)
    backend_options: dict[str, Any] = field(default_factory=dict)
    answer_policy: AnswerPolicy = DEFAULT_POLICY
    limit: int | None = None
    allow_missing: bool = False
    model_card: Path | None = None
    report_to: str | None = None
    project: str = "lsrif-eval"
    run_name: str | None = None


@dataclass
class Scores:
    """What scoring a responses file gives: the metrics, facts about the run, and the primary metric per prompt."""

    metrics: dict[str, Any]
    details: dict[str, Any]
    prompt_scores: dict[str, float]  # prompt id -> its score under the benchmark's primary metric (for bootstraps)


class Benchmark(ABC):
    """A benchmark: its prompts, and how a responses file is scored into metrics and its own output files."""

    name: str
    headline: list[str]  # headline[0] is the primary metric: the mean of `Scores.prompt_scores`
    card: dict[str, str]

    @abstractmethod
    def load(self) -> list[Any]:
        """Every benchmark example (each has a `.prompt`), in the benchmark's fixed order."""

    @abstractmethod
    def score(
        self, examples: list[Any], everything: list[Any], responses: Path, output_dir: Path, allow_missing: bool
    ) -> Scores:
        """The scores of `examples`; `everything` lists the prompts a responses file may hold."""


class FileBenchmark(Benchmark):
    """A benchmark read from a local file (`--input-data`) or, without one, from the Hub; `lsrif eval NAME` is
    registered from `help`, `description` and `input_help` (`lsrif_trl.eval.registry`)."""

    help: str
    description: str
    input_help: str
    judge_use: ClassVar[str] = "none"  # "optional" or "required": `lsrif eval NAME` then takes the --judge-* options

    def __init__(self, input_data: Path | None = None, judge: JudgeConfig | None = None) -> None:
        if self.judge_use == "required" and judge is None:
            raise ValueError(f"{self.name} is scored by a judge: pass --judge-base-url and --judge-model")
        self.input_data = input_data
        self.judge = judge

    @property
    def source(self) -> str:
        """Where the prompts come from, as recorded with the results."""
        return str(self.input_data) if self.input_data else self.card["dataset_type"]

    def details(self) -> dict[str, Any]:
        """What every result of this benchmark records: the data source and the judge's settings (if judged)."""
        return {"input_data": self.source} | ({"judge": self.judge.record()} if self.judge else {})

    def answers(
        self, examples: Sequence[Any], everything: Sequence[Any], responses: Path, allow_missing: bool,
        error: type[ValueError],
    ) -> tuple[dict[str, str], int]:  # fmt: skip
        """Each example's answer by id (reasoning removed; "" when missing and allowed), and how many were missing;
        `error` names the line of a bad responses file."""
        label = self.card["dataset_name"]
        given = load_responses(responses, {e.prompt for e in everything}, label, error)
        missing = check_answers(examples, given, label, allow_missing)
        return {e.id: DEFAULT_POLICY.answer(given.get(e.prompt, "")) for e in examples}, len(missing)

    def write_outputs(self, output_dir: Path, rows: Sequence[dict[str, Any]], metrics: dict[str, Any]) -> None:
        """One JSON line per prompt in `<name>_results.jsonl`, and the metrics in `metrics.json`."""
        with (output_dir / f"{self.name}_results.jsonl").open("w", encoding="utf-8") as handle:
            handle.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
        (output_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")


def check_answers(examples: Sequence[Any], answers: dict[str, str], benchmark: str, allow_missing: bool) -> list[str]:
    """The prompts of `examples` without an answer; ValueError saying what to do unless `allow_missing`."""
    missing = [e.prompt for e in examples if e.prompt not in answers]
    if missing and not allow_missing:
        raise ValueError(
            f"{len(missing)} of {len(examples)} {benchmark} prompts have no response (first: {missing[0][:80]!r}); "
            "answer them, pass --limit to score the first N prompts only, or pass --allow-missing"
        )
    return missing


class IFEvalBenchmark(Benchmark):
    """IFEval with the project's exact scorer (`lsrif_trl.eval.ifeval`) and its official output files."""

    name = "ifeval"
    headline = ["prompt_level_strict", "instruction_level_strict", "prompt_level_loose", "instruction_level_loose"]
    card = {"dataset_name": "IFEval", "dataset_type": ifeval.HUB_DATASET, "dataset_split": "train"}

    def __init__(self, input_data: Path | None = None) -> None:
        self.input_data = input_data

    def load(self) -> list[ifeval.IFEvalExample]:
        return ifeval.load_input_data(self.input_data)

    def score(self, examples, everything, responses, output_dir, allow_missing):
        answers = ifeval.load_responses(responses, {e.prompt for e in everything})
        report = ifeval.score_ifeval(examples, answers, allow_missing)
        metrics = ifeval.write_report(report, output_dir)
        source = str(self.input_data) if self.input_data else ifeval.HUB_DATASET
        per_prompt = {
            str(e.key): float(r.follow_all_instructions) for e, r in zip(examples, report.strict, strict=True)
        }
        return Scores(metrics, {"input_data": source}, per_prompt)


class LSRBenchmark(Benchmark):
    """LSR-Eval (`lsrif_trl.eval.lsr`): per-prompt results in `lsr_results.jsonl`, metrics in `metrics.json`."""

    name = lsr.BENCHMARK
    headline = lsr.HEADLINE
    card = lsr.CARD

    def __init__(
        self, families: Sequence[str] | None = None, world: str | None = None, seed: int = 0, num_prompts: int = 200
    ) -> None:
        if world is not None and families:
            raise ValueError("--world builds its own held-out prompts from the world's constraints; drop --families")
        self.families = sorted(families) if families else list(lsr.DEFAULT_FAMILIES) if world is None else []
        self.world, self.seed, self.num_prompts = world, seed, num_prompts

    def load(self) -> list[lsr.LSRExample]:
        if self.world is not None:
            return lsr.build_world_eval(self.world, self.seed, self.num_prompts)
        return lsr.build_lsr_eval(self.families)

    def score(self, examples, everything, responses, output_dir, allow_missing):
        answers = lsr.load_responses(responses, {e.prompt for e in everything})
        results = lsr.score_lsr(examples, answers, allow_missing)
        lsr.write_prompt_results(results, output_dir / "lsr_results.jsonl")
        metrics = lsr.summarize(results)
        (output_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
        details = {
            "version": lsr.VERSION,
            "fingerprint": lsr.fingerprint(everything),
            "families": self.families,
            **({"world": self.world, "eval_seed": self.seed} if self.world is not None else {}),
            "scoring_errors": sum(r.errors for r in results),
            "missing_responses": sum(e.prompt not in answers for e in examples),
        }
        return Scores(
            metrics, details, {r.example.id: r.scores["lsrm"] for r in results if r.scores["lsrm"] is not None}
        )


def ensure_writable_dir(path: Path) -> None:
    """Create `path` if needed and prove a file can be written there; ValueError naming the fix otherwise."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".write-test-"):
            pass
    except OSError as error:
        raise ValueError(
            f"--output-dir {path} cannot be written ({error.strerror or error}); choose a writable directory"
        ) from None


def resolve_model(model: str) -> str:
    """`tiny` means the offline tiny model (built on first use); anything else is a path or Hub id."""
    if model == TINY:
        from lsrif_trl.tiny import build_tiny_model

        return str(build_tiny_model())
    return model


def check_request(request: EvalRequest) -> None:
    """Every check that needs no model: output folder, model location, backend options, tracker, limit."""
    if (request.model is None) == (request.responses is None):
        raise ValueError("pass exactly one of --model (generate, then score) and --responses (score a file)")
    if request.limit is not None and request.limit < 1:
        raise ValueError(f"--limit {request.limit}: expected a positive number of prompts")
    if request.responses is not None and not request.responses.is_file():
        raise ValueError(f"--responses {request.responses}: no such file")
    ensure_writable_dir(request.output_dir)
    if request.model is not None:
        if request.model != TINY:
            check_model(request.model, request.backend)
        if request.backend == "vllm" and importlib.util.find_spec("vllm") is None:
            raise ValueError("--backend vllm needs the vllm package: pip install 'lsrif-trl[vllm]' (GPU machines)")
        if request.backend == "openai" and not request.backend_options.get("base_url"):
            raise ValueError("--backend openai needs --base-url (e.g. http://localhost:8000/v1)")
    if request.report_to is not None:
        if request.report_to not in REPORT_BACKENDS:
            raise ValueError(f"--report-to {request.report_to!r}: choose one of {', '.join(REPORT_BACKENDS)} or none")
        if importlib.util.find_spec(request.report_to) is None:
            raise ValueError(f"--report-to {request.report_to} needs its package: pip install {request.report_to}")


def evaluate(benchmark: Benchmark, request: EvalRequest) -> RunResults:
    """Run one benchmark end to end and return what was written to `output_dir/results.json`."""
    check_request(request)
    if request.model is not None and request.backend != "openai":
        request.model = resolve_model(request.model)
    everything = benchmark.load()
    examples = everything[: request.limit] if request.limit else everything
    generation = None
    responses = request.responses
    if request.model is not None:
        generator = create_generator(
            request.backend,
            request.model,
            request.sampling,
            answer_policy=request.answer_policy,
            **request.backend_options,
        )
        responses = request.output_dir / RESPONSES_FILE
        generation = run_generation(generator, [e.prompt for e in examples], responses).to_dict()
    scores = benchmark.score(examples, everything, responses, request.output_dir, request.allow_missing)
    results = RunResults(
        benchmark=benchmark.name,
        model=request.model,
        metrics=scores.metrics,
        headline=benchmark.headline,
        card=benchmark.card,
        details={**scores.details, "responses": str(responses), "limit": request.limit},
        generation=generation,
        prompt_scores=scores.prompt_scores,
    )
    save_run(results, request.output_dir)
    if request.model_card is not None:
        attach_to_model_card(request.model_card, [results], request.model or "model")
    if request.report_to is not None:
        report_to(request.report_to, results, request.project, request.run_name)
    return results
