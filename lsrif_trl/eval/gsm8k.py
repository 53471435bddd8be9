"""GSM8K (Cobbe et al., 2021) accuracy, to check that instruction-following training keeps grade-school maths.

The reference answer is the number after `####` (thousands separators removed). A response's answer is the last
`\\boxed{...}` of the text after any reasoning (the last number inside it), else its last number; the two are equal
when they are the same rational number (`1,250`, `1250.0` and `$1250` all equal 1250). With `math-verify`
installed (`pip install 'lsrif-trl[math]'`), `accuracy_math_verify` adds Hugging Face's verifier on the whole
answer as a second opinion.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from lsrif_trl.eval import generation
from lsrif_trl.eval.inputs import input_rows
from lsrif_trl.eval.runner import FileBenchmark, Scores, check_answers
from lsrif_trl.rewards.think import DEFAULT_POLICY

BENCHMARK = "gsm8k"
HUB_DATASET = "openai/gsm8k"
OFFLINE_HINT = "pass --input-data ../shared/data/gsm8k/test.jsonl when offline"
# The chain-of-thought prompt of Qwen2.5-Math's evaluation; changing it makes results incomparable.
PROMPT_TEMPLATE = "{question}\nPlease reason step by step, and put your final answer within \\boxed{{}}."
HEADLINE = ["accuracy"]
CARD = {"dataset_name": "GSM8K", "dataset_type": HUB_DATASET, "dataset_split": "test"}
_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?|-?\.\d+")
_BOXED = "\\boxed{"
MAX_ANSWER_CHARS = 20_000  # only the tail of a longer answer is searched (bounded work per response)


class GSM8KInputError(ValueError):
    """Input data or responses that cannot be scored; the message names the file, line and field."""


@dataclass(frozen=True)
class GSM8KExample:
    """One test question, its model prompt and its reference final answer."""

    index: int
    question: str
    prompt: str
    answer: Fraction
    answer_text: str


def to_number(text: str) -> Fraction | None:
    """A number written as digits (commas as thousands separators, optional decimals), or None."""
    try:
        return Fraction(text.replace(",", ""))
    except (ValueError, ZeroDivisionError):
        return None


def last_number(text: str) -> str | None:
    """The last number written in `text`, as written (without a trailing sentence dot)."""
    found = _NUMBER.findall(text)
    return found[-1] if found else None


def last_boxed(text: str) -> str | None:
    """The content of the last `\\boxed{...}` (nested braces matched), or None."""
    start = text.rfind(_BOXED)
    if start == -1:
        return None
    depth, begin = 1, start + len(_BOXED)
    for position in range(begin, len(text)):
        depth += {"{": 1, "}": -1}.get(text[position], 0)
        if depth == 0:
            return text[begin:position]
    return None


def predicted(response: str) -> tuple[str | None, bool]:
    """(the answer's final number as written, whether it came from a \\boxed{}) of one response."""
    answer = DEFAULT_POLICY.answer(response)[-MAX_ANSWER_CHARS:]
    boxed = last_boxed(answer)
    if boxed is not None:
        return last_number(boxed), True
    return last_number(answer), False


def parse_example(row: Any, index: int, where: str) -> GSM8KExample:
    """One input row; GSM8KInputError naming `where` and the field otherwise."""
    if not isinstance(row, dict):
        raise GSM8KInputError(f"{where}: expected a JSON object, got {type(row).__name__}")
    for name in ("question", "answer"):
        if not isinstance(row.get(name), str):
            raise GSM8KInputError(f"{where}: field {name!r} must be a string, got {row.get(name)!r:.80}")
    head, marker, final = row["answer"].rpartition("####")
    value = to_number(final.strip()) if marker else None
    if value is None:
        raise GSM8KInputError(f"{where}: field 'answer' must end with '#### <number>', got {row['answer'][-80:]!r}")
    question = row["question"]
    return GSM8KExample(index, question, PROMPT_TEMPLATE.format(question=question), value, final.strip())


def load_input_data(path: str | Path | None = None) -> list[GSM8KExample]:
    """The test questions from the official JSONL, or from the Hub dataset (config `main`) when `path` is None."""
    rows = input_rows(path, HUB_DATASET, GSM8KInputError, OFFLINE_HINT, config="main", split="test")
    return [parse_example(row, index, where) for index, (where, row) in enumerate(rows)]


def math_verify_available() -> bool:
    """Whether the optional `math-verify` package can be imported."""
    try:
        import math_verify  # noqa: F401
    except ImportError:
        return False
    return True


def math_verify_correct(example: GSM8KExample, response: str) -> bool:
    """math-verify's verdict on the whole answer against the reference number (False when it cannot parse)."""
    from math_verify import parse, verify

    try:
        return bool(verify(parse(example.answer_text), parse(DEFAULT_POLICY.answer(response)[-MAX_ANSWER_CHARS:])))
    except Exception:  # noqa: BLE001 - the verifier's own timeouts and parse failures count as wrong
        return False


@dataclass(frozen=True)
class GSM8KResult:
    """One question's verdict."""

    index: int
    reference: str
    extracted: str | None
    boxed: bool
    correct: bool
    math_verify: bool | None  # None when math-verify is not installed


def score_gsm8k(
    examples: list[GSM8KExample], responses: dict[str, str], allow_missing: bool = False
) -> list[GSM8KResult]:
    """Every question's verdict; a missing response is an error, or (allow_missing) a wrong answer counted."""
    check_answers(examples, responses, "GSM8K", allow_missing)
    use_verifier = math_verify_available()
    results = []
    for example in examples:
        response = responses.get(example.prompt, "")
        extracted, boxed = predicted(response)
        value = to_number(extracted) if extracted is not None else None
        verdict = math_verify_correct(example, response) if use_verifier else None
        results.append(
            GSM8KResult(example.index, example.answer_text, extracted, boxed, value == example.answer, verdict)
        )
    return results


def summarize(results: list[GSM8KResult], missing: int) -> dict[str, Any]:
    """Accuracy (and math-verify's when installed), with counts of boxed and number-less answers."""
    n = len(results)
    metrics: dict[str, Any] = {
        "accuracy": sum(r.correct for r in results) / n if n else 0.0,
        "num_prompts": n,
        "boxed_answers": sum(r.boxed for r in results),
        "no_number": sum(r.extracted is None for r in results),
        "missing_responses": missing,
    }
    if results and results[0].math_verify is not None:
        metrics["accuracy_math_verify"] = sum(bool(r.math_verify) for r in results) / n
    return metrics


class GSM8KBenchmark(FileBenchmark):
    """`lsrif eval gsm8k`: per-question verdicts in `gsm8k_results.jsonl`, accuracy in `metrics.json`."""

    name = BENCHMARK
    headline = HEADLINE
    card = CARD
    help = "GSM8K accuracy (reasoning retention; last \\boxed{} or last number vs the number after ####)"
    description = (
        "Score responses on GSM8K's 1,319 test questions (generating them first with --model); writes "
        "gsm8k_results.jsonl, metrics.json, results.json and results.md to --output-dir."
    )
    input_help = f"the official test.jsonl (default: the Hub dataset {HUB_DATASET}, config main); {OFFLINE_HINT}"

    def load(self) -> list[GSM8KExample]:
        return load_input_data(self.input_data)

    def score(self, examples, everything, responses, output_dir, allow_missing):
        answers = generation.load_responses(responses, {e.prompt for e in everything}, "GSM8K", GSM8KInputError)
        results = score_gsm8k(examples, answers, allow_missing)
        output_dir.mkdir(parents=True, exist_ok=True)
        with (output_dir / "gsm8k_results.jsonl").open("w", encoding="utf-8") as handle:
            for result in results:
                handle.write(json.dumps(asdict(result)) + "\n")
        metrics = summarize(results, sum(e.prompt not in answers for e in examples))
        (output_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
        details = self.details() | {"prompt_template": PROMPT_TEMPLATE}
        return Scores(metrics, details, {str(r.index): float(r.correct) for r in results})
