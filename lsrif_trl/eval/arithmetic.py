"""Arithmetic transfer in the style of Enigmata's arithmetic puzzles (Chen et al., 2025): Game24 and Countdown.

Each item gives numbers and a target; the answer is one expression that uses every given number exactly once with
`+ - * /` and parentheses and equals the target. Items come from a seeded generator whose recipe is pinned by
`GENERATOR_VERSION` (a fingerprint of the items is stored with every result): Game24 levels follow Enigmata (easy 4,
medium 5, hard 6 numbers from 1-13, target 24, only solvable sets kept); Countdown levels are the project's (3, 4
and 5 numbers from 1-100, the target being the value of a random positive-integer expression over all of them).

Answers are never run: the last `\\boxed{...}` of the answer (else its last line) is parsed with `ast` against a
whitelist (numbers, the four operators, parentheses; at most `MAX_EXPRESSION_CHARS` characters) and computed in
exact `Fraction` arithmetic.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import json
import random
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from lsrif_trl.eval import generation
from lsrif_trl.eval.gsm8k import last_boxed
from lsrif_trl.eval.runner import FileBenchmark, Scores, check_answers
from lsrif_trl.jsonl import read_objects
from lsrif_trl.rewards.think import DEFAULT_POLICY

BENCHMARK = "arithmetic"
# The generator's recipe. Changing any value, or the generator's code, makes other items: bump the version.
GENERATOR_VERSION = "1"
SEED = 20250526
ITEMS_PER_LEVEL = 100
LEVELS = ("easy", "medium", "hard")
GAME24 = {"easy": 4, "medium": 5, "hard": 6}  # numbers per item (Enigmata's Game24)
GAME24_RANGE = (1, 13)
COUNTDOWN = {"easy": 3, "medium": 4, "hard": 5}
COUNTDOWN_RANGE = (1, 100)
SEARCH_BUDGET = 200_000  # solver states per Game24 candidate; a set not solved within it is skipped
# `fingerprint(generate_items())` of v1, pinned: a test fails when the generator's output changes.
PINNED_FINGERPRINT = "691eb36c215b4f3f"
MAX_EXPRESSION_CHARS = 200
MAX_NODES = 64
HEADLINE = ["accuracy", "game24/accuracy", "countdown/accuracy"]
CARD = {"dataset_name": "Arithmetic transfer", "dataset_type": "lsrif-trl/arithmetic", "dataset_split": "v1"}
PROMPT = (
    "Use the numbers {numbers} to make {target}. Use every number exactly once, with + - * / and parentheses "
    "only. Write your final answer as a single expression inside \\boxed{{}}, for example \\boxed{{(a + b) * c}}."
)
_REPLACEMENTS = {"\\times": "*", "\\cdot": "*", "\\div": "/", "×": "*", "·": "*", "÷": "/", "−": "-", "–": "-"}
_REPLACEMENTS |= {"\\left": "", "\\right": "", "\\(": "", "\\)": "", "\\[": "", "\\]": "", "$": ""}
_EXPRESSION_RUN = re.compile(r"[\d\s+\-*/()]+")
_OPERATORS = {ast.Add: Fraction.__add__, ast.Sub: Fraction.__sub__, ast.Mult: Fraction.__mul__}


class ArithmeticInputError(ValueError):
    """Items or responses that cannot be scored; the message names the file, line and field."""


@dataclass(frozen=True)
class ArithmeticItem:
    """One puzzle: its task, level, numbers and target, and the prompt shown to the model."""

    id: str
    task: str
    level: str
    numbers: tuple[int, ...]
    target: int
    solution: str  # one expression that solves it (the generator's); any other correct one scores the same

    @property
    def prompt(self) -> str:
        return PROMPT.format(numbers=", ".join(map(str, self.numbers)), target=self.target)


Term = tuple[Fraction, str]  # a value and an expression that makes it


def _solve(terms: tuple[Term, ...], target: Fraction, seen: set, budget: list[int]) -> str | None:
    """An expression combining every term into `target`, or None; depth-first, states memoised, budgeted."""
    if len(terms) == 1:
        return terms[0][1] if terms[0][0] == target else None
    key = tuple(sorted(value for value, _ in terms))
    if key in seen or budget[0] <= 0:
        return None
    seen.add(key)
    budget[0] -= 1
    for i in range(len(terms)):
        for j in range(i + 1, len(terms)):
            (a, x), (b, y) = terms[i], terms[j]
            rest = terms[:i] + terms[i + 1 : j] + terms[j + 1 :]
            options = [
                (a + b, f"({x} + {y})"),
                (a * b, f"({x} * {y})"),
                (a - b, f"({x} - {y})"),
                (b - a, f"({y} - {x})"),
            ]
            options += [(a / b, f"({x} / {y})")] if b else []
            options += [(b / a, f"({y} / {x})")] if a else []
            for option in options:
                found = _solve((*rest, option), target, seen, budget)
                if found is not None:
                    return found
    return None


def solve(numbers: tuple[int, ...], target: int) -> str | None:
    """An expression using every number once that equals `target`; None when none is found within SEARCH_BUDGET."""
    solution = _solve(tuple((Fraction(n), str(n)) for n in numbers), Fraction(target), set(), [SEARCH_BUDGET])
    return None if solution is None else solution.removeprefix("(").removesuffix(")")


def _countdown_target(rng: random.Random, numbers: tuple[int, ...]) -> tuple[int, str] | None:
    """A random expression over all the numbers whose every step is a positive integer, and its value (<= 1000)."""
    terms = [(n, str(n)) for n in numbers]
    while len(terms) > 1:
        i, j = sorted(rng.sample(range(len(terms)), 2))
        (a, x), (b, y) = sorted([terms[i], terms[j]], reverse=True)  # a >= b
        options = [(a + b, f"({x} + {y})"), (a * b, f"({x} * {y})")]
        options += [(a - b, f"({x} - {y})")] if a > b else []
        options += [(a // b, f"({x} / {y})")] if b > 1 and a % b == 0 else []
        terms = [t for k, t in enumerate(terms) if k not in (i, j)] + [rng.choice(options)]
    value, expression = terms[0]
    return (value, expression.removeprefix("(").removesuffix(")")) if 1 < value <= 1000 else None


def _items(task: str, level: str, rng: random.Random) -> Iterator[ArithmeticItem]:
    count = (GAME24 if task == "game24" else COUNTDOWN)[level]
    low, high = GAME24_RANGE if task == "game24" else COUNTDOWN_RANGE
    made = 0
    seen: set[tuple[int, ...]] = set()
    while made < ITEMS_PER_LEVEL:
        numbers = tuple(sorted(rng.randint(low, high) for _ in range(count)))
        if numbers in seen:
            continue
        made_of = _countdown_target(rng, numbers) if task == "countdown" else (24, solve(numbers, 24))
        if made_of is None or made_of[1] is None:
            continue
        seen.add(numbers)
        yield ArithmeticItem(f"{task}-{level}-{made}", task, level, numbers, made_of[0], made_of[1])
        made += 1


@functools.cache  # deterministic: one build per process
def _generate() -> tuple[ArithmeticItem, ...]:
    rng = random.Random(SEED)
    groups = [list(_items(task, level, rng)) for task in ("game24", "countdown") for level in LEVELS]
    return tuple(item for column in zip(*groups, strict=True) for item in column)


def generate_items() -> list[ArithmeticItem]:
    """The benchmark of this GENERATOR_VERSION: 100 items per task and level, interleaved so prefixes stay mixed."""
    return list(_generate())


def fingerprint(items: list[ArithmeticItem]) -> str:
    """A short hash of the items: equal fingerprints mean the same benchmark."""
    digest = hashlib.sha256(json.dumps([asdict(i) for i in items]).encode())
    return digest.hexdigest()[:16]


def load_items(path: Path) -> list[ArithmeticItem]:
    """Items from a JSONL written by `write_items` (e.g. a set made by another generator version)."""
    items = []
    for number, row in read_objects(path, ArithmeticInputError):
        where = f"{path} line {number}"
        try:
            numbers = tuple(int(n) for n in row["numbers"])
            fields = (str(row["id"]), str(row["task"]), str(row["level"]), numbers, int(row["target"]))
            item = ArithmeticItem(*fields, str(row.get("solution", "")))
        except (KeyError, TypeError, ValueError) as err:
            raise ArithmeticInputError(f"{where}: needs id, task, level, numbers (integers), target ({err})") from None
        items.append(item)
    if not items:
        raise ArithmeticInputError(f"{path}: no items found")
    return items


def write_items(items: list[ArithmeticItem], path: Path) -> Path:
    """The items as JSONL (one item's fields per line)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(asdict(item)) + "\n" for item in items), encoding="utf-8")
    return path


def expression_text(response: str) -> str:
    """The expression an answer gives, left of any `=`: its last \\boxed{}, else the last run of expression
    characters on its last non-empty line."""
    answer = DEFAULT_POLICY.answer(response)
    boxed = last_boxed(answer)
    lines = [line for line in answer.strip().splitlines() if line.strip()]
    text = boxed if boxed is not None else (lines[-1] if lines else "")
    for old, new in _REPLACEMENTS.items():
        text = text.replace(old, new)
    text = text.replace("{", "(").replace("}", ")").split("=")[0]
    if boxed is None:
        runs = [run for run in _EXPRESSION_RUN.findall(text) if any(c.isdigit() for c in run)]
        text = runs[-1] if runs else text
    return text.strip()


class ExpressionError(ValueError):
    """An answer that is not a whitelisted arithmetic expression."""


def evaluate_expression(text: str) -> tuple[Fraction, list[int]]:
    """(exact value, integers used) of a `+ - * /` expression; ExpressionError for anything else."""
    if not text or len(text) > MAX_EXPRESSION_CHARS:
        raise ExpressionError(f"expected an expression of 1 to {MAX_EXPRESSION_CHARS} characters")
    try:
        tree = ast.parse(text, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        raise ExpressionError("not an arithmetic expression") from None
    if sum(1 for _ in ast.walk(tree)) > MAX_NODES:
        raise ExpressionError(f"more than {MAX_NODES} syntax nodes")
    used: list[int] = []

    def value(node: ast.AST) -> Fraction:
        if isinstance(node, ast.Constant) and type(node.value) is int:
            used.append(node.value)
            return Fraction(node.value)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            left, right = value(node.left), value(node.right)
            if right == 0:
                raise ExpressionError("division by zero")
            return left / right
        if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
            return _OPERATORS[type(node.op)](value(node.left), value(node.right))
        kind = type(node.op if isinstance(node, ast.BinOp) else node).__name__
        raise ExpressionError(f"{kind} is not allowed (numbers, + - * / and parentheses only)")

    return value(tree.body), used


@dataclass(frozen=True)
class ArithmeticResult:
    """One item's verdict and why."""

    id: str
    task: str
    level: str
    expression: str
    correct: bool
    reason: str  # "ok", or what was wrong


def check(item: ArithmeticItem, response: str) -> ArithmeticResult:
    """Whether the response's expression uses exactly the item's numbers and equals its target."""
    text = expression_text(response)
    try:
        result, used = evaluate_expression(text)
    except ExpressionError as err:
        return ArithmeticResult(item.id, item.task, item.level, text[:MAX_EXPRESSION_CHARS], False, str(err))
    if Counter(used) != Counter(item.numbers):
        reason = f"uses {sorted(used)}, expected each of {list(item.numbers)} once"
    elif result != item.target:
        reason = f"equals {result}, not {item.target}"
    else:
        reason = "ok"
    return ArithmeticResult(item.id, item.task, item.level, text, reason == "ok", reason)


def summarize(results: list[ArithmeticResult], missing: int) -> dict[str, Any]:
    """Accuracy overall, per task and per task and level (`ROW/MEASURE` keys), with counts."""

    def accuracy(rows: list[ArithmeticResult]) -> float | None:
        return sum(r.correct for r in rows) / len(rows) if rows else None

    metrics: dict[str, Any] = {
        "accuracy": accuracy(results),
        "num_prompts": len(results),
        "missing_responses": missing,
    }
    for task in ("game24", "countdown"):
        rows = [r for r in results if r.task == task]
        metrics[f"{task}/accuracy"] = accuracy(rows)
        for level in LEVELS:
            metrics[f"{task} {level}/accuracy"] = accuracy([r for r in rows if r.level == level])
    return metrics


class ArithmeticBenchmark(FileBenchmark):
    """`lsrif eval arithmetic`: per-item verdicts in `arithmetic_results.jsonl`, accuracies in `metrics.json`."""

    name = BENCHMARK
    headline = HEADLINE
    card = CARD
    help = "arithmetic transfer: Game24 and Countdown (Enigmata style), checked without eval"
    description = (
        "Score responses on 600 generated Game24 / Countdown items (generating them first with --model); writes "
        "arithmetic_results.jsonl, metrics.json, results.json and results.md to --output-dir."
    )
    input_help = (
        f"items as JSONL (id, task, level, numbers, target); default: generator v{GENERATOR_VERSION} with its "
        "pinned seed"
    )

    def load(self) -> list[ArithmeticItem]:
        return load_items(self.input_data) if self.input_data else generate_items()

    @property
    def source(self) -> str:
        return str(self.input_data) if self.input_data else f"generator v{GENERATOR_VERSION} seed {SEED}"

    def score(self, examples, everything, responses, output_dir, allow_missing):
        answers = generation.load_responses(responses, {e.prompt for e in everything}, "the arithmetic items")
        missing = check_answers(examples, answers, "arithmetic", allow_missing)
        results = [check(item, answers.get(item.prompt, "")) for item in examples]
        output_dir.mkdir(parents=True, exist_ok=True)
        with (output_dir / "arithmetic_results.jsonl").open("w", encoding="utf-8") as handle:
            for result in results:
                handle.write(json.dumps(asdict(result)) + "\n")
        metrics = summarize(results, len(missing))
        (output_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
        details = self.details() | {"fingerprint": fingerprint(everything), "version": GENERATOR_VERSION}
        return Scores(metrics, details, {r.id: float(r.correct) for r in results})
