"""Exact-answer rewards for maths rows: the answer after any reasoning against the row's `solution`, by math-verify.

The verifier is Hugging Face's `math-verify` with the extraction TRL's `trl.rewards.accuracy_reward` uses: the
answer must be written in LaTeX (`\\boxed{...}` first, no anchorless guesses). The gold `solution` may be a short
answer (`8`, `\\frac{1}{3}`: read as `$...$`) or a whole worked solution (its `\\boxed{}` is the answer). Shapes:

    accuracy   1 if the answer equals the solution, else 0                        (TRL's accuracy_reward)
    raif       +2 if it equals, -1.5 if not, -2 when the answer has no \\boxed{}  (RAIF's maths reward)

A solution the verifier cannot read makes the reward None (TRL leaves the row out), as accuracy_reward does. A
completion of a strange type, or one the verifier fails or times out on, scores as an answer without a box and is
counted in `lsrif/reward_errors`; only the last `MAX_ANSWER_CHARS` of an answer are read.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any, Literal, get_args

from lsrif_trl.rewards.functions import ERRORS_METRIC
from lsrif_trl.rewards.think import DEFAULT_POLICY, AnswerPolicy

MathShape = Literal["accuracy", "raif"]
MATH_SHAPES: tuple[str, ...] = get_args(MathShape)
SOLUTION_COLUMN = "solution"
MAX_ANSWER_CHARS = 20_000
BOX = "\\boxed"
SCORES = {"accuracy": (1.0, 0.0, 0.0), "raif": (2.0, -1.5, -2.0)}  # (equal, not equal, no \boxed)


def math_verify_missing() -> str | None:
    """Why the maths rewards cannot run (math-verify not importable), or None."""
    try:
        import math_verify  # noqa: F401
    except ImportError as err:
        return f"needs math-verify ({err}); pip install 'math-verify==0.9.0'"
    return None


def gold_text(solution: str) -> str:
    """The solution as math-verify reads it: as written when it holds `$` or `\\boxed`, else inside `$...$`."""
    return solution if "$" in solution or BOX in solution else f"${solution}$"


def _timeouts() -> tuple[int | None, int | None]:
    """(parse, verify) timeouts in seconds: math-verify's use SIGALRM, which works in the main thread only."""
    return (10, 5) if threading.current_thread() is threading.main_thread() else (None, None)


def read_solution(solution: Any) -> list | None:
    """The solution as math-verify parsed it, or None when it cannot be read (never raises)."""
    from math_verify import parse

    if not isinstance(solution, str) or not solution.strip():
        return None
    try:
        return parse(gold_text(solution), parsing_timeout=_timeouts()[0]) or None
    except Exception:  # noqa: BLE001 - an unreadable solution skips the row, as accuracy_reward does
        return None


def is_equal(answer: str, gold: list) -> bool:
    """Whether the answer's first LaTeX answer (`\\boxed{}` first) equals the parsed solution; raises on failure."""
    from latex2sympy2_extended import NormalizationConfig
    from math_verify import LatexExtractionConfig, parse, verify

    parse_timeout, verify_timeout = _timeouts()
    extraction = LatexExtractionConfig(
        normalization_config=NormalizationConfig(units=True), boxed_match_priority=0, try_extract_without_anchor=False
    )
    predicted = parse(
        answer, extraction_config=[extraction], extraction_mode="first_match", parsing_timeout=parse_timeout
    )
    return bool(verify(gold, predicted, timeout_seconds=verify_timeout))


class MathAnswerReward:
    """A TRL reward function: the answer `policy` extracts from each completion against the row's `solution`."""

    column_sets = ((SOLUTION_COLUMN,),)  # the columns its rows must carry (lsrif_trl.training.mixture checks them)

    def __init__(self, shape: MathShape = "accuracy", *, policy: AnswerPolicy = DEFAULT_POLICY) -> None:
        if shape not in MATH_SHAPES:
            raise ValueError(f"shape: expected one of {list(MATH_SHAPES)}, got {shape!r}")
        if not isinstance(policy, AnswerPolicy):
            raise ValueError(f"policy: expected an AnswerPolicy, got {policy!r}")
        missing = math_verify_missing()
        if missing:
            raise ValueError(missing)
        self.shape, self.policy = shape, policy
        self.__name__ = f"math_{shape}_reward"  # TRL logs rewards/<__name__>/mean
        self.error_count = 0  # completions the verifier failed on, since construction
        self.missing_count = 0  # kept for the run totals every project reward reports (no soft leaves here)

    def with_policy(self, policy: AnswerPolicy) -> MathAnswerReward:
        """This reward reading answers under `policy`."""
        return MathAnswerReward(self.shape, policy=policy)

    def score(self, completion: Any, gold: list | None) -> tuple[float | None, bool]:
        """(reward, whether the completion could not be checked) against a parsed solution (None: unreadable)."""
        if gold is None:
            return None, False
        equal, wrong, unboxed = SCORES[self.shape]
        try:
            answer = self.policy.answer(completion)[-MAX_ANSWER_CHARS:]
            if is_equal(answer, gold):
                return equal, False
        except Exception:  # noqa: BLE001 - a strange completion, or the verifier's timeout or bug: no valid answer
            return unboxed, True
        return (wrong if BOX in answer else unboxed), False

    def __call__(self, prompts: Sequence[Any], completions: Sequence[Any], **columns: Any) -> list[float | None]:
        solutions = columns.get(SOLUTION_COLUMN) or [None] * len(completions)
        golds: dict[Any, list | None] = {}  # GRPO repeats each row num_generations times: parse its solution once
        for solution in solutions:
            if isinstance(solution, str) and solution not in golds:
                golds[solution] = read_solution(solution)
        scored = [
            self.score(c, golds.get(s) if isinstance(s, str) else None)
            for c, s in zip(completions, solutions, strict=True)
        ]
        errors = sum(failed for _, failed in scored)
        self.error_count += errors
        log_metric = columns.get("log_metric")
        if callable(log_metric):
            log_metric(ERRORS_METRIC, float(errors))
        return [reward for reward, _ in scored]
