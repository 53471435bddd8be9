"""RAIF's sample-wise contrast on hand-made rewards: which samples stay in the policy loss."""

import math

import pytest

from lsrif_trl.training.superior_cot import SuperiorCoTConfig, contrast_keep, parse_reference

NAN = math.nan


def config(reference: str = "none", n: int = 4, fraction: float = 0.25) -> SuperiorCoTConfig:
    kind, column = parse_reference(reference)
    return SuperiorCoTConfig(num_generations=n, no_cot_fraction=fraction, reference=kind, reference_column=column)


def test_the_last_quarter_of_each_group_answers_directly():
    c = config(n=8)
    assert [c.is_no_cot(i) for i in range(16)] == ([False] * 6 + [True] * 2) * 2
    assert c.no_cot_per_group == 2


@pytest.mark.parametrize("n, fraction", [(4, 0.3), (4, 0.0), (4, 1.0), (6, 0.25)])
def test_a_fraction_that_is_not_a_whole_number_of_samples_is_refused(n, fraction):
    with pytest.raises(ValueError, match="no_cot_fraction"):
        SuperiorCoTConfig(num_generations=n, no_cot_fraction=fraction, reference="none")


@pytest.mark.parametrize("text", ["column", "sometimes", "online extra"])
def test_reference_spellings_outside_the_three_are_refused(text):
    with pytest.raises(ValueError, match="superior_cot_reference"):
        parse_reference(text)


def test_reference_column_spellings():
    assert parse_reference("column base_score") == ("column", "base_score")
    assert parse_reference("column:base_score") == ("column", "base_score")
    assert parse_reference("online") == ("online", None)


def test_no_cot_samples_are_always_dropped_and_cot_samples_kept_without_a_reference():
    result = contrast_keep(config(), [0.5, 0.2, 0.9, 0.1], [True] * 4)
    assert result.keep == [True, True, True, False]
    assert result.masked_prompts == [False]


def test_a_column_reference_keeps_only_cot_samples_that_reach_it():
    result = contrast_keep(config("column ref"), [0.5, 0.2, 0.7, 0.1], [True] * 4, reference=[0.5] * 4)
    assert result.keep == [True, False, True, False]


def test_online_reference_is_the_mean_of_the_prompts_direct_samples():
    c = config("online", n=8)  # samples 6 and 7 answer directly: mean 0.4
    answer = [0.4, 0.39, 0.5, 0.1, 0.4, 0.9, 0.3, 0.5]
    assert contrast_keep(c, answer, [True] * 8).keep == [True, False, True, False, True, True, False, False]


def test_when_every_cot_sample_is_worse_than_every_direct_one_the_prompts_cot_samples_are_all_dropped():
    c = config(n=8)
    answer = [0.1, 0.2, 0.3, 0.0, 0.2, 0.1, 0.5, 0.6] + [0.9, 0.2, 0.3, 0.0, 0.2, 0.1, 0.5, 0.6]
    result = contrast_keep(c, answer, [True] * 16)
    assert result.keep == [False] * 8 + [True] * 6 + [False] * 2
    assert result.masked_prompts == [True, False]


def test_all_equal_cot_scores_below_the_direct_ones_do_not_trigger_the_group_rule():
    result = contrast_keep(config(), [0.1, 0.1, 0.1, 0.9], [True] * 4)
    assert result.keep == [True, True, True, False]
    assert result.masked_prompts == [False]


def test_format_failures_stay_in_the_loss_even_when_the_group_rule_fires():
    result = contrast_keep(config("column r"), [0.1, 0.3, 0.0, 0.9], [True, False, True, True], reference=[0.5] * 4)
    assert result.keep == [False, True, False, False]
    assert result.masked_prompts == [True]


def test_an_unscored_sample_never_beats_a_reference_and_is_left_out_of_the_group_rule():
    result = contrast_keep(config("column r"), [NAN, 0.6, 0.2, 0.5], [True] * 4, reference=[0.5] * 4)
    assert result.keep == [False, True, False, False]
    assert result.masked_prompts == [False]


def test_a_batch_of_partial_groups_is_refused():
    with pytest.raises(ValueError, match="whole groups"):
        contrast_keep(config(), [0.1] * 6, [True] * 6)


def test_a_prompt_the_contrast_does_not_apply_to_keeps_every_sample():
    # Two identical groups where the "all CoT worse" rule fires; only the first prompt is contrasted (RAIF: the
    # instruction prompt, not the maths one), so the second keeps all four samples, its last one included.
    answer = [0.1, 0.2, 0.0, 0.9] * 2
    result = contrast_keep(config(), answer, [True] * 8, contrasted=[True] * 4 + [False] * 4)
    assert result.keep == [False, False, False, False] + [True] * 4
    assert result.masked_prompts == [True, False]


def test_a_mixture_contrasts_the_rows_of_its_instruction_sources_only():
    c = SuperiorCoTConfig(num_generations=4, sources=frozenset({"instructions"}))
    assert c.applies("instructions") and not c.applies("math") and not c.applies(None)
    assert config().applies("math")  # no mixture: every row
