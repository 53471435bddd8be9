"""The offline arithmetic rows of CPU mixture runs: seeded, and every solution is the question's exact value."""

import json

import pytest

from lsrif_trl.data.maths import INSTRUCTION, arithmetic_rows, build_arithmetic


def test_the_same_seed_gives_the_same_rows_and_another_seed_others():
    assert arithmetic_rows(20, seed=1) == arithmetic_rows(20, seed=1)
    assert arithmetic_rows(20, seed=1) != arithmetic_rows(20, seed=2)


def test_every_solution_is_the_value_of_its_question():
    math_verify = pytest.importorskip("math_verify", reason="checked against math-verify's own reading")
    for row in arithmetic_rows(200, seed=0):
        question = row["prompt"].removeprefix("What is ").removesuffix(f"? {INSTRUCTION}")
        # math-verify reads the question's expression and the solution on its own (nothing here evaluates text)
        assert math_verify.verify(math_verify.parse(f"${row['solution']}$"), math_verify.parse(f"${question}$")), row


def test_build_writes_a_jsonl_folder_the_loader_reads(tmp_path):
    build_arithmetic(tmp_path / "maths", 5, seed=0)
    lines = (tmp_path / "maths" / "train.jsonl").read_text().splitlines()
    assert [json.loads(line) for line in lines] == arithmetic_rows(5, seed=0)
    assert not list(tmp_path.glob(".*partial"))
