"""The tree expert: one answer satisfies every followed leaf of a composed tree, deterministically, with noise."""

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lsrif_trl.constraints import constraint_ids, follows_strict, get_constraint
from lsrif_trl.data.compose import ComposeConfig, Condition, fill_shape, sample_leaves, sample_shape
from lsrif_trl.data.constraint_pool import ConstraintPool
from lsrif_trl.data.expert import ExpertConfig, base_text, expert_answer, plan
from lsrif_trl.rewards.think import DEFAULT_POLICY
from lsrif_trl.structure import ConditionalNode, ConstraintNode, ParallelNode, SequentialNode, active_leaves

EXPERT_POOL = ConstraintPool(tuple(cid for cid in constraint_ids() if get_constraint(cid).has_expert), ())
# Constraints a small model can learn from text alone; every tree the composer makes of them is answered exactly.
CORE_POOL = ConstraintPool(
    (
        "change_case:english_lowercase", "change_case:english_capital", "keywords:existence",
        "keywords:forbidden_words", "words:first_word", "words:last_word", "startend:end_checker",
        "startend:quotation", "detectable_format:title", "detectable_content:postscript",
        "detectable_format:number_bullet_lists", "length_constraints:number_sentences",
        "length_constraints:number_paragraphs", "punctuation:no_comma", "punctuation:no_exclamation",
        "detectable_format:json_format", "keywords:frequency", "repeat:phrase_times",
    ),
    (),
)  # fmt: skip
FULL_POOL_SHARE = 0.9  # measured about 0.95 over every constraint with an expert (depth 2, up to 6 leaves)
LOWER = ConstraintNode("change_case:english_lowercase")
UPPER = ConstraintNode("change_case:english_capital")


def composed_tree(seed: int, pool: ConstraintPool = CORE_POOL, max_constraints: int = 6, max_depth: int = 2):
    """A tree the builder could make from `pool` (conditions drawn at random)."""
    rng = random.Random(f"tree|{seed}")
    config = ComposeConfig(max_constraints=max_constraints, max_depth=max_depth)
    shape = sample_shape(config, rng)
    leaves = sample_leaves(shape.n_leaves, pool, rng)
    conditions = [Condition("the passage is long", rng.random() < 0.5) for _ in range(shape.n_conditionals)]
    return fill_shape(shape, leaves, conditions)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1))
def test_the_answer_satisfies_every_active_leaf_of_a_composed_tree(seed):
    tree = composed_tree(seed)
    rng = random.Random(seed)
    answer = expert_answer(tree, base_text(rng), rng)
    assert list(answer.rewritten) and not answer.dropped and answer.wrong_branches == 0
    assert {id(leaf) for leaf in answer.rewritten} == {id(leaf) for leaf in active_leaves(tree)}
    failing = [
        (leaf.id, leaf.kwargs) for leaf in active_leaves(tree) if not follows_strict(answer.text, leaf.id, leaf.kwargs)
    ]
    assert not failing, (answer.text, failing)


def test_nearly_every_tree_over_every_expert_is_answered_exactly():
    """Over all constraints the composer still lets through pairs no text or no pair of experts satisfies
    (listed in the README); the share of trees answered exactly is measured, and must stay high."""
    satisfied = 0
    for seed in range(300):
        tree = composed_tree(seed, EXPERT_POOL)
        rng = random.Random(seed)
        answer = expert_answer(tree, base_text(rng), rng)
        satisfied += answer.satisfied
    assert satisfied >= FULL_POOL_SHARE * 300


def test_the_same_seed_gives_the_same_answer():
    tree = composed_tree(11)
    first = expert_answer(tree, "We like plans. They need tools.", random.Random(5))
    assert first.text == expert_answer(tree, "We like plans. They need tools.", random.Random(5)).text


@pytest.mark.parametrize("active", ["then", "else"])
def test_a_conditional_follows_its_active_branch(active):
    tree = ConditionalNode("the passage mentions a river", active, LOWER, UPPER)
    answer = expert_answer(tree, "We like plans. They need tools.", random.Random(0))
    wanted, other = (LOWER, UPPER) if active == "then" else (UPPER, LOWER)
    assert follows_strict(answer.text, wanted.id) and not follows_strict(answer.text, other.id)


def test_wrong_branch_one_always_takes_the_inactive_branch():
    tree = SequentialNode((ConditionalNode("c", "then", LOWER, UPPER), ConstraintNode("punctuation:no_comma")))
    answer = expert_answer(tree, "We, like plans.", random.Random(0), ExpertConfig(wrong_branch=1.0))
    assert answer.wrong_branches == 1
    assert follows_strict(answer.text, UPPER.id) and follows_strict(answer.text, "punctuation:no_comma")


def test_noise_one_drops_every_rewrite_and_noise_leaves_a_share():
    tree = ParallelNode((LOWER, ConstraintNode("punctuation:no_comma")))
    base = "We, Like plans."
    dropped = expert_answer(tree, base, random.Random(0), ExpertConfig(noise=1.0))
    assert dropped.text == base and len(dropped.dropped) == 2 and not dropped.rewritten
    kept = [len(expert_answer(tree, base, random.Random(s), ExpertConfig(noise=0.5)).dropped) for s in range(200)]
    assert 150 < sum(kept) < 250  # 400 leaves, half dropped on average


def test_the_plan_skips_an_absent_branch_and_says_how_the_condition_was_read():
    tree = ConditionalNode("c", "else", LOWER, None)
    misread = plan(tree, random.Random(0), wrong_branch=1.0)
    assert (misread.leaves, misread.wrong_branches, misread.lines) == ((LOWER,), 1, ("c: yes", "- english lowercase"))
    read = plan(tree, random.Random(0))
    assert (read.leaves, read.wrong_branches, read.lines) == ((), 0, ("c: no",))


def test_soft_leaves_are_reported_not_rewritten():
    soft = ConstraintNode("soft:tone", kind="soft", text="Use a warm tone.")
    answer = expert_answer(ParallelNode((soft, LOWER)), "We Like plans.", random.Random(0))
    assert answer.unsupported == (soft,) and answer.rewritten == (LOWER,) and answer.satisfied


@pytest.mark.parametrize("field, value", [("noise", 1.5), ("wrong_branch", -0.1), ("max_rounds", 0)])
def test_config_rejects_bad_values(field, value):
    with pytest.raises(ValueError, match=field):
        ExpertConfig(**{field: value})


def test_reasoning_plans_the_answer_in_a_think_block_the_answer_policy_strips():
    tree = SequentialNode(
        (ConditionalNode("the passage is long", "then", LOWER, UPPER), ConstraintNode("punctuation:no_comma"))
    )
    plain = expert_answer(tree, "We, like plans.", random.Random(0))
    reasoned = expert_answer(tree, "We, like plans.", random.Random(0), ExpertConfig(reasoning=True))
    assert reasoned.text == plain.text and plain.completion == plain.text  # the same answer, drawn the same way
    assert reasoned.completion == (
        "<think>\nthe passage is long: yes\n- english lowercase\n- no comma\n</think>\n" + plain.text
    )
    assert DEFAULT_POLICY.answer(reasoned.completion) == "\n" + plain.text  # what the rewards check


def test_a_misread_condition_is_planned_as_read_and_a_dropped_leaf_is_still_planned():
    tree = ParallelNode(
        (
            ConditionalNode("c", "then", LOWER, UPPER),
            ConstraintNode("keywords:existence", kwargs={"keywords": ["sun", "sea"]}),
        )
    )
    config = ExpertConfig(wrong_branch=1.0, noise=1.0, reasoning=True)
    answer = expert_answer(tree, "We like plans.", random.Random(0), config)
    assert answer.reasoning == "c: no\n- english capital\n- existence: sun, sea"
    assert len(answer.dropped) == 2 and answer.text == "We like plans."
