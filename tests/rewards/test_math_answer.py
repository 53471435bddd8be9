"""The maths rewards: the answer after the think block against the row's `solution`, by math-verify, never raising."""

import pytest

from lsrif_trl.rewards import get_reward_func
from lsrif_trl.rewards.functions import ERRORS_METRIC
from lsrif_trl.rewards.math_answer import MathAnswerReward, gold_text
from lsrif_trl.rewards.think import AnswerPolicy

pytest.importorskip("math_verify", reason="the maths rewards need math-verify (a core dependency)")


def scores(name, completions, solutions, **options):
    logged = {}
    func = get_reward_func(name, **options)
    rewards = func(
        prompts=["q"] * len(completions),
        completions=completions,
        solution=solutions,
        log_metric=lambda key, value: logged.setdefault(key, []).append(value),
    )
    return rewards, logged, func


def test_accuracy_is_one_for_an_equal_boxed_answer_and_zero_otherwise():
    completions = ["<think>17+25</think>The sum is \\boxed{42}.", "<think>.</think>\\boxed{41}", "42"]
    rewards, _, func = scores("math_accuracy", completions, ["42"] * 3)
    assert rewards == [1.0, 0.0, 0.0]  # an answer without LaTeX is not read (TRL's accuracy_reward extraction)
    assert func.__name__ == "math_accuracy_reward"


def test_equal_means_mathematically_equal_not_the_same_text():
    rewards, _, _ = scores(
        "math_accuracy",
        ["\\boxed{\\frac{2}{6}}", "\\boxed{0.5}", "$\\boxed{2\\sqrt{3}}$"],
        ["\\frac{1}{3}", "\\frac{1}{2}", "\\sqrt{12}"],
    )
    assert rewards == [1.0, 1.0, 1.0]


def test_raif_shape_rewards_right_wrong_and_unboxed_answers_as_raif_does():
    completions = ["<think>a</think>\\boxed{8}", "<think>a</think>\\boxed{9}", "<think>a</think>it is 8"]
    rewards, _, func = scores("math_raif", completions, ["8"] * 3)
    assert rewards == [2.0, -1.5, -2.0]
    assert func.__name__ == "math_raif_reward"


def test_only_the_text_after_the_think_block_is_the_answer():
    completions = ["<think>maybe \\boxed{8}</think> no, 9", "<think>never closed \\boxed{8}"]
    assert scores("math_accuracy", completions, ["8", "8"])[0] == [0.0, 0.0]
    # unclosed_think: whole scores the whole text, and a template-opened block needs no leading <think>
    whole = AnswerPolicy("completion", "whole")
    assert scores("math_accuracy", ["<think>never closed \\boxed{8}"], ["8"], policy=whole)[0] == [1.0]
    template = AnswerPolicy("template")
    assert scores("math_accuracy", ["reasoning \\boxed{1}</think>\\boxed{8}"], ["8"], policy=template)[0] == [1.0]


def test_a_solution_the_verifier_cannot_read_leaves_the_row_unscored():
    rewards, _, _ = scores("math_raif", ["\\boxed{8}", "\\boxed{8}"], ["", None])
    assert rewards == [None, None]


def test_strange_completions_score_as_wrong_answers_and_are_counted_never_raised():
    strange = [None, 42, {"role": "assistant"}, [{"role": "user", "content": "x"}], "\\boxed{" * 5000, "x" * 100_000]
    rewards, logged, func = scores("math_raif", strange, ["8"] * len(strange))
    assert rewards == [-2.0, -2.0, -2.0, -2.0, -1.5, -2.0]  # the unclosed boxes are a \boxed answer that is wrong
    assert func.error_count == 4 and logged[ERRORS_METRIC] == [4.0]  # the four that are not completions at all


def test_conversational_completions_are_read_from_the_assistant_message():
    rewards, _, _ = scores("math_accuracy", [[{"role": "assistant", "content": "\\boxed{3}"}]], ["3"])
    assert rewards == [1.0]


def test_a_short_answer_is_read_as_latex_and_a_worked_solution_as_written():
    assert gold_text("\\frac{1}{3}") == "$\\frac{1}{3}$"
    assert gold_text("so \\boxed{3}") == "so \\boxed{3}"
    rewards, _, _ = scores("math_accuracy", ["\\boxed{3}"], ["First 1 + 2, so the answer is $\\boxed{3}$."])
    assert rewards == [1.0]


def test_with_policy_keeps_the_shape_and_an_unknown_shape_is_refused():
    reward = MathAnswerReward("raif").with_policy(AnswerPolicy("none"))
    assert reward.shape == "raif" and reward.policy == AnswerPolicy("none")
    with pytest.raises(ValueError, match="shape: expected one of"):
        MathAnswerReward("exact")
    with pytest.raises(ValueError, match="func_name"):
        get_reward_func("math_raif", func_name="other")
