"""GSM8K: the reference number after ####, the response's last \\boxed{} or last number, exact rational equality."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import pytest

from lsrif_trl import cli
from lsrif_trl.eval import gsm8k

GSM8K_INPUT = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "gsm8k" / "test.jsonl"
needs_data = pytest.mark.skipif(not GSM8K_INPUT.exists(), reason=f"{GSM8K_INPUT} is missing")


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        ("She pays 3 + 4 = 7 dollars, so 1,250 in total.", "1,250"),
        ("The answer is \\boxed{\\$18} (not 20).", "18"),
        ("\\boxed{\\frac{1}{2}} then \\boxed{42}", "42"),
        ("<think>maybe 5</think>It is 6.", "6"),
        ("<think>unclosed 5", None),
        ("no digits here", None),
        ("a \\boxed{x} without a number", None),
    ],
)
def test_the_final_number_is_the_last_boxed_else_the_last_number_of_the_answer(response, expected) -> None:
    assert gsm8k.predicted(response)[0] == expected


def test_numbers_compare_as_rationals() -> None:
    assert gsm8k.to_number("1,250") == gsm8k.to_number("1250.0") == Fraction(1250)
    assert gsm8k.to_number("-3") == -3 and gsm8k.to_number("3,") == 3 and gsm8k.to_number("x") is None


def test_a_row_without_a_final_answer_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "test.jsonl"
    path.write_text(json.dumps({"question": "q", "answer": "no marker"}) + "\n")
    with pytest.raises(
        gsm8k.GSM8KInputError, match=r"test.jsonl line 1: field 'answer' must end with '#### <number>'"
    ):
        gsm8k.load_input_data(path)


def run(tmp_path: Path, name: str, answer) -> dict:
    examples = gsm8k.load_input_data(GSM8K_INPUT)
    rows = [{"prompt": e.prompt, "response": answer(e)} for e in examples]
    responses = tmp_path / f"{name}.jsonl"
    responses.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / name
    argv = ["eval", "gsm8k", "--responses", str(responses), "--input-data", str(GSM8K_INPUT), "--output-dir", str(out)]
    assert cli.main(argv) == 0
    return json.loads((out / "metrics.json").read_text())


@needs_data
def test_the_reference_solutions_score_one_and_off_by_one_answers_zero(tmp_path: Path) -> None:
    raw = [json.loads(line) for line in GSM8K_INPUT.read_text().splitlines()]
    gold = run(tmp_path, "gold", lambda e: raw[e.index]["answer"])  # the worked solution ends in "#### N"
    assert (gold["accuracy"], gold["num_prompts"], gold["boxed_answers"]) == (1.0, 1319, 0)
    wrong = run(tmp_path, "wrong", lambda e: f"So the answer is \\boxed{{{e.answer + 1}}}.")
    assert (wrong["accuracy"], wrong["boxed_answers"]) == (0.0, 1319)
    if gsm8k.math_verify_available():
        # math-verify, reading the whole solution, misses 4 of the 1,319 worked solutions; never a wrong answer.
        assert gold["accuracy_math_verify"] == pytest.approx(1315 / 1319)
        assert wrong["accuracy_math_verify"] == 0.0
