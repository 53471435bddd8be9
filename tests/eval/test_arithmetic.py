"""Arithmetic transfer: seeded Game24 / Countdown items, and answers checked by a whitelisted parser (never eval)."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import pytest

from lsrif_trl import cli
from lsrif_trl.eval import arithmetic
from lsrif_trl.eval.arithmetic import ArithmeticItem, ExpressionError, check, evaluate_expression
from lsrif_trl.eval.report import RunResults

ITEM = ArithmeticItem("game24-easy-x", "game24", "easy", (3, 3, 8, 8), 24, "8 / (3 - 8 / 3)")


def test_the_generator_makes_the_pinned_items_with_enigmatas_game24_levels() -> None:
    items = arithmetic.generate_items()
    assert arithmetic.fingerprint(items) == arithmetic.PINNED_FINGERPRINT
    assert len(items) == 600 and len({i.prompt for i in items}) == 600
    sizes = {(i.task, i.level): len(i.numbers) for i in items}
    assert sizes == {
        ("game24", "easy"): 4, ("game24", "medium"): 5, ("game24", "hard"): 6,
        ("countdown", "easy"): 3, ("countdown", "medium"): 4, ("countdown", "hard"): 5,
    }  # fmt: skip
    assert all(1 <= n <= 13 for i in items if i.task == "game24" for n in i.numbers)
    assert [i.task for i in items[:6]] == ["game24"] * 3 + ["countdown"] * 3  # interleaved: prefixes stay mixed


@pytest.mark.parametrize(
    "answer",
    [
        "\\boxed{8 / (3 - 8 / 3)}",
        "Working... 8 ÷ (3 − 8 ÷ 3) = 24",
        "$\\boxed{8/(3-8/3)}$",
        "<think>try 8*3</think>\\boxed{8 \\div \\left(3 - 8 \\div 3\\right)}",
    ],
)
def test_exact_fractions_accept_a_correct_expression_in_its_usual_spellings(answer: str) -> None:
    assert check(ITEM, answer).correct


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ("\\boxed{8 * 3}", "uses [3, 8], expected each of [3, 3, 8, 8] once"),
        ("\\boxed{8 * 3 + 8 - 8 + 3 - 3}", "uses [3, 3, 3, 8, 8, 8]"),
        ("\\boxed{(8 + 8) * 3 / 3}", "equals 16, not 24"),
        ("\\boxed{8 / (3 - 3) + 8 * 3}", "division by zero"),
        ("\\boxed{3 ** 3 - 8 / 8}", "Pow is not allowed"),
        ("\\boxed{__import__('os').system('true')}", "Call is not allowed"),
        ("\\boxed{x + 3 + 8 + 8}", "Name is not allowed"),
        ("\\boxed{3.0 * 8 + 8 - 8 + 3 - 3}", "Constant is not allowed"),
        ("\\boxed{-3 + 3 + 8 + 8}", "UnaryOp is not allowed"),
        ("\\boxed{" + "(" * 150 + "3" + ")" * 150 + "}", "expected an expression of 1 to 200 characters"),
        ("\\boxed{" + "+".join(["3"] * 40) + "}", "more than 64 syntax nodes"),
        ("no expression here", "not an arithmetic expression"),
        ("", "expected an expression"),
    ],
)
def test_wrong_or_forbidden_answers_fail_with_the_reason(answer: str, reason: str) -> None:
    result = check(ITEM, answer)
    assert not result.correct and reason in result.reason


def test_the_parser_computes_exactly() -> None:
    assert evaluate_expression("1/3 + 1/3 + 1/3") == (Fraction(1), [1, 3, 1, 3, 1, 3])
    with pytest.raises(ExpressionError):
        evaluate_expression("(lambda: 1)()")


def run(tmp_path: Path, name: str, answer) -> dict:
    rows = [{"prompt": i.prompt, "response": answer(i)} for i in arithmetic.generate_items()]
    responses = tmp_path / f"{name}.jsonl"
    responses.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert cli.main(["eval", "arithmetic", "--responses", str(responses), "--output-dir", str(tmp_path / name)]) == 0
    return json.loads((tmp_path / name / "metrics.json").read_text())


def test_the_generators_solutions_score_one_and_their_off_by_one_targets_zero(tmp_path: Path) -> None:
    gold = run(tmp_path, "gold", lambda i: f"The answer: \\boxed{{{i.solution}}}")
    assert gold["accuracy"] == gold["game24 hard/accuracy"] == gold["countdown easy/accuracy"] == 1.0
    wrong = run(tmp_path, "wrong", lambda i: f"\\boxed{{{i.solution} + 1 - 1 + 1}}")  # extra numbers
    assert wrong["accuracy"] == 0.0 and wrong["num_prompts"] == 600
    results = json.loads((tmp_path / "gold" / "results.json").read_text())
    assert results["details"]["fingerprint"] == arithmetic.PINNED_FINGERPRINT
    assert set(results["prompt_scores"].values()) == {1.0}


@pytest.mark.slow
def test_the_tiny_model_is_evaluated_end_to_end_with_a_model_card_and_a_resumed_rerun(tmp_path: Path) -> None:
    fast = ["--model", "tiny", "--limit", "3", "--max-new-tokens", "8", "--batch-size", "3"]
    out, card = tmp_path / "arithmetic", tmp_path / "README.md"
    assert cli.main(["eval", "arithmetic", *fast, "--output-dir", str(out), "--model-card", str(card)]) == 0
    results = RunResults.load(out / "results.json")
    assert results.generation["generated"] == 3 and set(results.prompt_scores) == {
        i.id for i in arithmetic.generate_items()[:3]
    }
    assert "Arithmetic transfer" in card.read_text()
    assert cli.main(["eval", "arithmetic", *fast, "--output-dir", str(out)]) == 0
    again = RunResults.load(out / "results.json")
    assert (again.generation["resumed"], again.generation["generated"]) == (3, 0)
    assert again.metrics == results.metrics
