"""IFEval scoring with the reference's strict and loose semantics, its per-prompt output files and headline metrics.

Inputs: the benchmark's prompts (the official `input_data.jsonl`, or the Hub dataset `google/IFEval`) and a
JSONL of responses (`prompt`, `response`). Every input line is validated before anything is scored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lsrif_trl.constraints import follows_both, get_constraint
from lsrif_trl.eval import generation
from lsrif_trl.eval.inputs import input_rows

HUB_DATASET = "google/IFEval"
OFFLINE_HINT = "pass --input-data ../shared/data/ifeval/input_data.jsonl (the official file) when offline"
_SHOWN_MISSING = 3


class IFEvalInputError(ValueError):
    """Input data or responses that cannot be scored; the message names the file, line and field."""


@dataclass(frozen=True)
class IFEvalExample:
    """One benchmark prompt with its instructions and their (validated) kwargs."""

    key: int
    prompt: str
    instruction_id_list: list[str]
    kwargs: list[dict[str, Any]]


@dataclass(frozen=True)
class PromptResult:
    """One prompt's verdicts in the reference's output schema."""

    instruction_id_list: list[str]
    prompt: str
    response: str
    follow_all_instructions: bool
    follow_instruction_list: list[bool]

    def to_json(self) -> dict[str, Any]:
        """The record the reference writes (its keys in its order)."""
        return {
            "follow_all_instructions": self.follow_all_instructions,
            "follow_instruction_list": self.follow_instruction_list,
            "instruction_id_list": self.instruction_id_list,
            "prompt": self.prompt,
            "response": self.response,
        }


@dataclass
class IFEvalReport:
    """Strict and loose results for every prompt, and which prompts had no response."""

    strict: list[PromptResult] = field(default_factory=list)
    loose: list[PromptResult] = field(default_factory=list)
    missing_prompts: list[str] = field(default_factory=list)

    def metrics(self) -> dict[str, Any]:
        """The four headline accuracies (fractions in [0, 1]) plus counts."""
        return {
            "prompt_level_strict": _prompt_level(self.strict),
            "instruction_level_strict": _instruction_level(self.strict),
            "prompt_level_loose": _prompt_level(self.loose),
            "instruction_level_loose": _instruction_level(self.loose),
            "num_prompts": len(self.strict),
            "num_instructions": sum(len(r.instruction_id_list) for r in self.strict),
            "missing_responses": len(self.missing_prompts),
        }


def _prompt_level(results: list[PromptResult]) -> float:
    return sum(r.follow_all_instructions for r in results) / len(results) if results else 0.0


def _instruction_level(results: list[PromptResult]) -> float:
    verdicts = [v for r in results for v in r.follow_instruction_list]
    return sum(verdicts) / len(verdicts) if verdicts else 0.0


def parse_example(row: Any, where: str) -> IFEvalExample:
    """One input row as an example; IFEvalInputError naming `where` and the field otherwise."""
    if not isinstance(row, dict):
        raise IFEvalInputError(f"{where}: expected a JSON object, got {type(row).__name__}")
    for name, kind in (("prompt", str), ("instruction_id_list", list), ("kwargs", list)):
        if not isinstance(row.get(name), kind):
            raise IFEvalInputError(f"{where}: field {name!r} must be a {kind.__name__}, got {row.get(name)!r:.80}")
    ids, kwargs = row["instruction_id_list"], row["kwargs"]
    if len(ids) != len(kwargs):
        raise IFEvalInputError(f"{where}: 'instruction_id_list' has {len(ids)} ids but 'kwargs' has {len(kwargs)}")
    checked = []
    for index, (constraint_id, given) in enumerate(zip(ids, kwargs, strict=True)):
        if given is not None and not isinstance(given, dict):
            raise IFEvalInputError(f"{where}: kwargs[{index}] must be an object, got {given!r:.80}")
        try:
            checked.append(get_constraint(constraint_id).validate(given))
        except ValueError as err:
            raise IFEvalInputError(f"{where}: instruction {index}: {err}") from None
    return IFEvalExample(key=row.get("key", -1), prompt=row["prompt"], instruction_id_list=ids, kwargs=checked)


def load_input_data(path: str | Path | None = None) -> list[IFEvalExample]:
    """The benchmark prompts from an official-format JSONL, or from the Hub dataset when `path` is None."""
    # The Hub copy pads every kwargs object with None for the fields it lacks; `validate` drops those.
    rows = input_rows(path, HUB_DATASET, IFEvalInputError, OFFLINE_HINT)
    return [parse_example(row, where) for where, row in rows]


def load_responses(path: str | Path, known_prompts: set[str]) -> dict[str, str]:
    """Responses by prompt; IFEvalInputError for bad JSON, missing fields, duplicates and unknown prompts."""
    return generation.load_responses(path, known_prompts, "the input data", IFEvalInputError)


def score_example(example: IFEvalExample, response: str) -> tuple[PromptResult, PromptResult]:
    """The strict and loose results of one prompt."""
    verdicts = [
        follows_both(response, constraint_id, kwargs)
        for constraint_id, kwargs in zip(example.instruction_id_list, example.kwargs, strict=True)
    ]
    strict = [s for s, _ in verdicts]
    loose = [lo for _, lo in verdicts]
    return (
        PromptResult(example.instruction_id_list, example.prompt, response, all(strict), strict),
        PromptResult(example.instruction_id_list, example.prompt, response, all(loose), loose),
    )


def score_ifeval(
    examples: list[IFEvalExample], responses: dict[str, str], allow_missing: bool = False
) -> IFEvalReport:
    """Score every example; a prompt without a response is an error, or (allow_missing) a failure counted."""
    missing = [e.prompt for e in examples if e.prompt not in responses]
    if missing and not allow_missing:
        shown = "; ".join(repr(p[:80]) for p in missing[:_SHOWN_MISSING])
        more = f" and {len(missing) - _SHOWN_MISSING} more" if len(missing) > _SHOWN_MISSING else ""
        raise IFEvalInputError(
            f"{len(missing)} prompt(s) of the input data have no response: {shown}{more}. "
            "Answer them, or pass --allow-missing to score them as failures."
        )
    report = IFEvalReport(missing_prompts=missing)
    for example in examples:
        strict, loose = score_example(example, responses.get(example.prompt, ""))
        report.strict.append(strict)
        report.loose.append(loose)
    return report


def write_report(report: IFEvalReport, output_dir: str | Path) -> dict[str, Any]:
    """Write eval_results_strict.jsonl, eval_results_loose.jsonl and metrics.json; return the metrics."""
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    for name, results in (("strict", report.strict), ("loose", report.loose)):
        with (output_dir / f"eval_results_{name}.jsonl").open("w", encoding="utf-8") as handle:
            for result in results:
                handle.write(json.dumps(result.to_json(), ensure_ascii=False) + "\n")
    metrics = report.metrics()
    (output_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    return metrics
