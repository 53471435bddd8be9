"""Offline maths rows for a dataset mixture on CPU: seeded arithmetic questions with exact integer answers.

Each row is `{"id", "prompt", "solution"}`: the prompt asks for one of `a + b`, `a - b`, `a * b` or `(a + b) * c`
(operands 2..99, c 2..9) with the answer in `\\boxed{}`, and `solution` is the exact value as digits, the column the
maths rewards (`rewards.math_answer`) read. The same seed gives the same rows.
"""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

ARITHMETIC = "arithmetic"
INSTRUCTION = "Put the final answer in \\boxed{}."


def arithmetic_row(rng: random.Random, index: int) -> dict[str, str]:
    """One question drawn from `rng`, computed without evaluating any text."""
    a, b, c = rng.randint(2, 99), rng.randint(2, 99), rng.randint(2, 9)
    form = rng.randrange(4)
    text, value = [
        (f"{a} + {b}", a + b),
        (f"{a} - {b}", a - b),
        (f"{a} * {b}", a * b),
        (f"({a} + {b}) * {c}", (a + b) * c),
    ][form]
    return {"id": f"arithmetic-{index}", "prompt": f"What is {text}? {INSTRUCTION}", "solution": str(value)}


def arithmetic_rows(rows: int, seed: int) -> list[dict[str, str]]:
    """`rows` seeded questions."""
    rng = random.Random(seed)
    return [arithmetic_row(rng, i) for i in range(rows)]


def build_arithmetic(folder: Path, rows: int, seed: int) -> None:
    """Write `rows` questions to `folder/train.jsonl`; the folder gets its name only once the file is whole."""
    staging = folder.with_name(f".{folder.name}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    lines = "".join(json.dumps(row) + "\n" for row in arithmetic_rows(rows, seed))
    (staging / "train.jsonl").write_text(lines, encoding="utf-8")
    staging.rename(folder)
    print(f"built {rows} arithmetic rows into {folder}")
