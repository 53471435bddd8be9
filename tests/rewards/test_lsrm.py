"""LSRM and the baselines on hand-computed trees; expected values come from docs/lsrm.md, not the code."""

import pytest

from lsrif_trl.rewards.lsrm import LSRMConfig, aggregate, discounted_steps
from lsrif_trl.structure import ConditionalNode, ConstraintNode, ParallelNode, SequentialNode


def leaf(score: float) -> ConstraintNode:
    """A leaf that carries its own score, so the trees below read like the arithmetic."""
    return ConstraintNode(id="test:scored", kwargs={"score": score})


def reward(tree, **config):
    return aggregate(tree, lambda node: node.kwargs["score"], LSRMConfig(**config))


def par(*children):
    return ParallelNode(tuple(children))


def seq(*children):
    return SequentialNode(tuple(children))


def cond(active, then, else_=None):
    return ConditionalNode(condition="the input contains code", active=active, then=then, else_=else_)


def test_a_leaf_scores_its_own_value():
    assert reward(leaf(1.0)) == 1.0
    assert reward(leaf(0.0)) == 0.0
    assert reward(leaf(0.3)) == pytest.approx(0.3)


def test_parallel_is_the_mean_of_its_children():
    assert reward(par(leaf(1), leaf(0), leaf(1))) == pytest.approx(2 / 3)


def test_sequential_product_discounts_every_step_after_a_failure_by_gamma():
    # [0, 1, 1]: 0, 1*0.5, 1*0.5*1 -> mean 1/3
    assert reward(seq(leaf(0), leaf(1), leaf(1))) == pytest.approx(1 / 3)
    # [1, 0, 1]: 1, 0, 1*1*0.5 -> mean 0.5
    assert reward(seq(leaf(1), leaf(0), leaf(1))) == pytest.approx(0.5)
    # [0, 0, 1]: the last step is discounted twice -> 0.25 / 3
    assert reward(seq(leaf(0), leaf(0), leaf(1))) == pytest.approx(0.25 / 3)


def test_sequential_product_uses_partial_credit_of_soft_steps():
    # [0.5, 1] with gamma 0.5: second step * (0.5 + 0.5*0.5) = 0.75 -> mean (0.5 + 0.75) / 2
    assert reward(seq(leaf(0.5), leaf(1))) == pytest.approx(0.625)
    # gamma 0.2: factor 0.2 + 0.8*0.5 = 0.6 -> (0.5 + 0.6) / 2
    assert reward(seq(leaf(0.5), leaf(1)), gamma=0.2) == pytest.approx(0.55)


def test_sequential_count_mode_counts_earlier_steps_below_tau():
    # [0.4, 1, 1]: 0.4 < tau fails once -> 0.4, 0.5, 0.5
    assert reward(seq(leaf(0.4), leaf(1), leaf(1)), seq_mode="count") == pytest.approx(1.4 / 3)
    # [0, 0, 1]: two failures -> last step 0.25
    assert reward(seq(leaf(0), leaf(0), leaf(1)), seq_mode="count") == pytest.approx(0.25 / 3)
    # [0.5, 1]: 0.5 is not below tau, no discount
    assert reward(seq(leaf(0.5), leaf(1)), seq_mode="count") == pytest.approx(0.75)


def test_sequential_gate_mode_applies_gamma_once_after_any_failure():
    assert reward(seq(leaf(0), leaf(0), leaf(1)), seq_mode="gate") == pytest.approx(0.5 / 3)
    assert reward(seq(leaf(1), leaf(0), leaf(1), leaf(1)), seq_mode="gate") == pytest.approx((1 + 0 + 0.5 + 0.5) / 4)


def test_gamma_zero_zeroes_every_step_after_a_failure_and_gamma_one_ignores_order():
    assert reward(seq(leaf(0), leaf(1), leaf(1)), gamma=0.0) == 0.0
    assert reward(seq(leaf(0), leaf(1), leaf(1)), gamma=1.0) == pytest.approx(2 / 3)


def test_discounted_steps_lists_each_steps_discounted_score():
    assert discounted_steps([1, 0, 1, 1], LSRMConfig(gamma=0.5)) == [1, 0, 0.5, 0.5]
    assert discounted_steps([0, 0, 1], LSRMConfig(gamma=0.5, seq_mode="count")) == [0, 0, 0.25]


def test_conditional_scores_only_its_active_branch():
    assert reward(cond("then", leaf(1), leaf(0))) == 1.0
    assert reward(cond("else", leaf(1), leaf(0))) == 0.0


def test_conditional_with_absent_active_branch_imposes_nothing():
    assert reward(cond("else", leaf(1))) is None
    assert reward(par(leaf(0), cond("else", leaf(1)))) == 0.0  # parent ignores the None child
    # a sequential node runs its formula over the remaining children: [0, 1] -> (0 + 0.5) / 2
    assert reward(seq(leaf(0), cond("else", leaf(1)), leaf(1))) == pytest.approx(0.25)


def test_nested_tree_combines_the_rules():
    # seq(par(1, 0), 1): first step 0.5, second 1 * (0.5 + 0.5*0.5) = 0.75 -> 0.625
    assert reward(seq(par(leaf(1), leaf(0)), leaf(1))) == pytest.approx(0.625)
    # par(cond(then: seq(1, 0)), 0) -> par(0.5, 0) = 0.25
    assert reward(par(cond("then", seq(leaf(1), leaf(0)), leaf(1)), leaf(0))) == pytest.approx(0.25)


def test_flat_averages_every_leaf_including_the_inactive_branch():
    tree = cond("then", leaf(1), leaf(0))
    assert reward(tree, aggregation="flat") == 0.5
    assert reward(seq(leaf(0), leaf(1), leaf(1)), aggregation="flat") == pytest.approx(2 / 3)
    assert reward(cond("else", leaf(1)), aggregation="flat") == 1.0  # flat never sees structure, never None


def test_all_is_one_only_when_every_active_leaf_passes():
    assert reward(par(leaf(1), leaf(1)), aggregation="all") == 1.0
    assert reward(par(leaf(1), leaf(0)), aggregation="all") == 0.0
    assert reward(par(leaf(1), cond("then", leaf(1), leaf(0))), aggregation="all") == 1.0
    assert reward(par(leaf(0.6), leaf(1)), aggregation="all") == 1.0  # a soft score >= tau passes
    assert reward(cond("else", leaf(1)), aggregation="all") is None


def test_raif_gives_plus_two_minus_two_or_the_fraction_passing():
    assert reward(par(leaf(1), leaf(1)), aggregation="raif") == 2.0
    assert reward(par(leaf(0), leaf(0)), aggregation="raif") == -2.0
    assert reward(par(leaf(1), leaf(0), leaf(1), leaf(1)), aggregation="raif") == 0.75
    assert reward(leaf(0), aggregation="raif") == -2.0
    assert reward(seq(leaf(0), leaf(1)), aggregation="raif") == 0.5  # structure-blind: no discount


def test_mean5_is_five_times_the_mean_active_score():
    assert reward(par(leaf(1), leaf(0)), aggregation="mean5") == 2.5
    assert reward(cond("then", par(leaf(1), leaf(0.5)), leaf(0)), aggregation="mean5") == pytest.approx(3.75)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"gamma": 1.5}, "gamma: expected a number in [0, 1]"),
        ({"gamma": True}, "gamma: expected a number in [0, 1]"),
        ({"tau": -0.1}, "tau: expected a number in [0, 1]"),
        ({"seq_mode": "sum"}, "seq_mode: expected one of ['product', 'count', 'gate']"),
        ({"aggregation": "max"}, "aggregation: expected one of ['lsrm', 'flat', 'all', 'raif', 'mean5']"),
    ],
)
def test_bad_options_are_rejected_with_the_field_and_allowed_values(options, message):
    with pytest.raises(ValueError) as err:
        LSRMConfig(**options)
    assert message in str(err.value)
