"""The TRL reward functions: signature, columns, conversational input, strange completions, metrics, registry."""

import json
import math
import pickle

import pytest

from lsrif_trl.constraints import text
from lsrif_trl.constraints.nltk_resources import PunktUnavailableError
from lsrif_trl.rewards import REWARD_NAMES, get_reward_func, get_reward_funcs
from lsrif_trl.rewards.functions import ERRORS_METRIC, MISSING_METRIC
from lsrif_trl.rewards.soft import SoftScorerError
from lsrif_trl.rewards.think import AnswerPolicy
from lsrif_trl.structure import StructureError

pytestmark = pytest.mark.usefixtures("test_constraints")

NO_COMMA = {"type": "constraint", "id": "test:no_comma", "kwargs": {}, "kind": "hard"}
MIN3 = {"type": "constraint", "id": "test:min_words", "kwargs": {"num_words": 3}, "kind": "hard"}
SENTENCES = {"num_sentences": 2, "relation": "at least"}
SOFT = {"type": "constraint", "id": "soft:tone", "text": "Use a formal tone.", "kind": "soft"}
SEQ = json.dumps({"type": "sequential", "children": [NO_COMMA, MIN3]})
PAR = json.dumps({"type": "parallel", "children": [NO_COMMA, MIN3]})
NOTHING = json.dumps({"type": "conditional", "condition": "c", "active": "else", "then": NO_COMMA})


class MetricSink:
    """Stands in for GRPOTrainer's `_log_metric`."""

    def __init__(self):
        self.values = {}

    def __call__(self, name, value):
        self.values.setdefault(name, []).append(value)


def call(func, completions, structures, **extra):
    """Call a reward function exactly as GRPOTrainer 1.16 does (its kwargs included)."""
    sink = MetricSink()
    rewards = func(
        prompts=["Write something."] * len(completions),
        completions=completions,
        completion_ids=[[1, 2]] * len(completions),
        structure=structures,
        trainer_state=None,
        log_extra=lambda column, values: None,
        log_metric=sink,
        **extra,
    )
    return rewards, sink.values


def test_returns_one_reward_per_completion_with_the_lsrm_value():
    lsrm = get_reward_func("lsrm")
    # "a, b c": comma fails step 1, min-words passes -> (0 + 1*0.5) / 2; "a b c": both pass.
    rewards, _ = call(lsrm, ["a, b c", "a b c"], [SEQ, SEQ])
    assert rewards == [0.25, 1.0]


def test_every_registered_reward_has_its_own_name():
    names = [f.__name__ for f in get_reward_funcs(list(REWARD_NAMES))]
    assert len(set(names)) == len(REWARD_NAMES)


def test_structure_may_be_a_dict_as_well_as_a_json_string():
    lsrm = get_reward_func("lsrm")
    assert call(lsrm, ["a, b c"], [json.loads(SEQ)])[0] == call(lsrm, ["a, b c"], [SEQ])[0]


def test_conversational_completions_score_like_their_text():
    lsrm = get_reward_func("lsrm")
    text = ["<think>hm, commas</think>a, b c", "a b c"]
    chat = [[{"role": "assistant", "content": t}] for t in text]
    assert call(lsrm, chat, [SEQ, SEQ])[0] == call(lsrm, text, [SEQ, SEQ])[0] == [0.25, 1.0]


def test_reasoning_is_stripped_before_checking():
    lsrm = get_reward_func("lsrm")
    rewards, _ = call(lsrm, ["<think>maybe, maybe not</think>one two three"], [PAR])
    assert rewards == [1.0]


def test_an_unclosed_think_scores_zero_unless_configured_to_score_the_whole_text():
    text = ["<think>one two three four"]
    assert call(get_reward_func("lsrm"), text, [PAR])[0] == [0.0]
    assert call(get_reward_func("lsrm", policy=AnswerPolicy(unclosed="whole")), text, [PAR])[0] == [1.0]


@pytest.mark.parametrize(
    "completion",
    [None, 42, 3.5, {"unexpected": "shape"}, [{"role": "user", "content": "hi"}], ["a", "b"], b"bytes"],
)
def test_completions_of_the_wrong_type_score_zero_and_are_counted(completion):
    rewards, metrics = call(get_reward_func("lsrm"), [completion, "one two three"], [PAR, PAR])
    assert rewards == [0.0, 1.0]
    assert metrics[ERRORS_METRIC] == [1.0]


@pytest.mark.parametrize("completion", ["", "   \n\t", "\x00\x07\x1b[31m one two", "word " * 200_000, "é" * 10_000])
def test_odd_strings_are_scored_without_raising(completion):
    rewards, metrics = call(get_reward_func("lsrm"), [completion], [PAR])
    assert rewards[0] is not None and 0.0 <= rewards[0] <= 1.0
    assert metrics[ERRORS_METRIC] == [0.0]


def test_an_empty_answer_satisfies_nothing_even_a_no_comma_rule():
    rewards, _ = call(get_reward_func("lsrm"), ["  "], [json.dumps(NO_COMMA)])
    assert rewards == [0.0]


def test_a_verifier_that_raises_scores_zero_and_is_counted():
    tree = json.dumps({"type": "parallel", "children": [MIN3, {"type": "constraint", "id": "test:raises"}]})
    func = get_reward_func("lsrm")
    rewards, metrics = call(func, ["one two three"], [tree])
    assert rewards == [0.5]
    assert metrics[ERRORS_METRIC] == [1.0]
    assert func.error_count == 1


def test_missing_punkt_parameters_stop_scoring_instead_of_zeroing_every_sentence_check(monkeypatch):
    def unavailable():
        raise PunktUnavailableError("punkt_tab is not installed")

    monkeypatch.setattr(text, "punkt_tokenizer", unavailable)
    tree = json.dumps({"type": "constraint", "id": "length_constraints:number_sentences", "kwargs": SENTENCES})
    with pytest.raises(PunktUnavailableError, match="punkt_tab"):
        call(get_reward_func("lsrm"), ["A sentence that no other test scores. And a second one."], [tree])


def test_a_row_whose_tree_imposes_nothing_returns_none_for_the_structure_aware_rewards():
    for name in ("lsrm", "all", "raif", "mean5"):
        assert call(get_reward_func(name), ["a, b"], [NOTHING])[0] == [None], name
    assert call(get_reward_func("flat"), ["a, b"], [NOTHING])[0] == [0.0]  # flat scores the inactive branch


def test_flat_ifeval_columns_are_read_as_a_parallel_node():
    func = get_reward_func("lsrm")
    rewards = func(
        prompts=["p", "p"],
        completions=["a, b c", "a b c"],
        instruction_id_list=[["test:no_comma", "test:min_words"]] * 2,
        kwargs=[[{}, {"num_words": 3}]] * 2,
    )
    assert rewards == [0.5, 1.0]


def test_the_anchor_shapes_score_the_same_batch_on_their_own_scales():
    completions, trees = ["a, b c", "a b c", "a,b"], [PAR, PAR, PAR]
    assert call(get_reward_func("raif"), completions, trees)[0] == [0.5, 2.0, -2.0]
    assert call(get_reward_func("mean5"), completions, trees)[0] == [2.5, 5.0, 0.0]
    assert call(get_reward_func("all"), completions, trees)[0] == [0.0, 1.0, 0.0]


def test_metrics_give_mean_reward_per_structure_type_and_depth_and_share_satisfying_all():
    rewards, metrics = call(get_reward_func("lsrm"), ["a, b c", "a b c", "a b c", "x"], [SEQ, SEQ, PAR, NOTHING])
    assert rewards == [0.25, 1.0, 1.0, None]
    assert metrics["lsrif/lsrm_reward/type/sequential"] == [pytest.approx(0.625)]
    assert metrics["lsrif/lsrm_reward/type/parallel"] == [1.0]
    assert metrics["lsrif/lsrm_reward/depth/1"] == [pytest.approx((0.25 + 1 + 1) / 3)]
    assert metrics["lsrif/lsrm_reward/all_satisfied"] == [pytest.approx(2 / 3)]
    assert "lsrif/lsrm_reward/type/conditional" not in metrics  # None rows are left out, as TRL does


def test_each_distinct_structure_is_parsed_once():
    from lsrif_trl.trees import read_tree

    unique = json.dumps({"type": "parallel", "children": [MIN3, NO_COMMA, MIN3]})
    before = read_tree.cache_info().misses
    call(get_reward_func("lsrm"), ["a b c"] * 8, [unique] * 8)
    call(get_reward_func("flat"), ["a b c"] * 8, [unique] * 8)
    assert read_tree.cache_info().misses == before + 1


def test_missing_tree_columns_raise_a_clear_error():
    with pytest.raises(ValueError, match="need a `structure` column or the IFEval columns"):
        get_reward_func("lsrm")(prompts=["p"], completions=["c"], answer=["x"])


def test_an_invalid_structure_names_the_batch_item_and_the_path():
    bad = json.dumps({"type": "parallel", "children": [{"type": "constraint", "id": "test:min_words", "kwargs": {}}]})
    with pytest.raises(StructureError, match=r"batch item 1: structure: children\[0\]\.kwargs\.num_words"):
        call(get_reward_func("lsrm"), ["a", "b"], [PAR, bad])


class FakeJudge:
    """A soft scorer that scores by answer length and records how it was called."""

    def __init__(self):
        self.batches = []

    def __call__(self, prompt, answer, constraint_text):
        raise AssertionError("score_batch should be preferred")

    def score_batch(self, requests):
        self.batches.append(list(requests))
        return [min(1.0, len(answer) / 10) for _, answer, _ in requests]


def test_soft_leaves_go_to_the_scorer_in_one_batched_call():
    judge = FakeJudge()
    tree = json.dumps({"type": "parallel", "children": [SOFT, MIN3]})
    rewards, _ = call(get_reward_func("lsrm", soft_scorer=judge), ["one two three", "a b"], [tree, tree])
    assert rewards == [pytest.approx((1.0 + 1) / 2), pytest.approx((0.3 + 0) / 2)]
    assert judge.batches == [
        [
            ("Write something.", "one two three", "Use a formal tone."),
            ("Write something.", "a b", "Use a formal tone."),
        ]
    ]


def test_a_scorer_that_fails_or_gives_no_number_leaves_the_reward_missing_and_is_counted():
    replies = iter([RuntimeError("judge down"), float("nan"), 1.7, 0.4])

    def flaky(prompt, answer, text):
        reply = next(replies)
        if isinstance(reply, Exception):
            raise reply
        return reply

    tree = json.dumps(SOFT)
    rewards, metrics = call(get_reward_func("lsrm", soft_scorer=flaky), ["x"] * 4, [tree] * 4)
    assert rewards == [None, None, 1.0, 0.4]  # missing is neither a pass nor 0; an out-of-range 1.7 is clipped
    assert metrics[ERRORS_METRIC] == [3.0] and metrics[MISSING_METRIC] == [2.0]


def test_a_missing_soft_leaf_makes_the_whole_reward_missing_not_the_mean_of_the_rest():
    tree = json.dumps({"type": "parallel", "children": [SOFT, MIN3]})
    func = get_reward_func("lsrm", soft_scorer=lambda prompt, answer, text: float("nan"))
    rewards, _ = call(func, ["one two three"], [tree])
    assert rewards == [None] and func.missing_count == 1


def test_a_scorer_that_says_it_cannot_go_on_stops_scoring():
    def broken(prompt, answer, text):
        raise SoftScorerError("judge refuses every call")

    with pytest.raises(SoftScorerError, match="refuses"):
        call(get_reward_func("lsrm", soft_scorer=broken), ["x"], [json.dumps(SOFT)])


def test_soft_leaves_without_a_scorer_are_a_configuration_error():
    with pytest.raises(ValueError, match="needs a soft scorer"):
        call(get_reward_func("lsrm"), ["x"], [json.dumps(SOFT)])


def test_think_format_reward_follows_the_raif_rule():
    func = get_reward_func("think_format")
    assert func.__name__ == "think_format_reward"
    assert call(func, ["<think>plan</think>answer", "answer", None], [PAR] * 3)[0] == [1.0, -1.0, -1.0]


def test_templates_that_open_think_in_the_prompt_are_supported_by_one_policy():
    lsrm, think = get_reward_funcs(["lsrm", "think_format"], policy=AnswerPolicy("template"))
    completions = ["plan, with commas</think>one two three", "one two three but never closed"]
    assert call(lsrm, completions, [PAR, PAR])[0] == [1.0, 0.0]
    assert call(think, completions, [PAR, PAR])[0] == [1.0, -1.0]


def test_junk_before_a_bare_closing_tag_is_scored_unless_a_think_block_was_opened():
    hack, honest = "Kitchen, kitchen, KITCHEN!!! ...\n</think>\none two three", "one two three"
    for policy in (AnswerPolicy("none"), AnswerPolicy("completion")):
        lsrm = get_reward_func("lsrm", policy=policy)
        assert call(lsrm, [hack, honest], [PAR, PAR])[0] == [0.5, 1.0]  # the comma in the junk fails no_comma
    template = get_reward_func("lsrm", policy=AnswerPolicy("template"))
    assert call(template, [hack], [PAR])[0] == [1.0]  # the template opened the block: the junk is reasoning


def test_every_reward_object_pickles_with_its_policy():
    funcs = get_reward_funcs(list(REWARD_NAMES), policy=AnswerPolicy("template", "whole"))
    for func in funcs:
        copy = pickle.loads(pickle.dumps(func))
        assert copy.__name__ == func.__name__ and copy.policy == func.policy
        assert (
            call(copy, ["<think>a</think>one two three"], [PAR])[0]
            == call(func, ["<think>a</think>one two three"], [PAR])[0]
        )


def test_with_policy_keeps_the_name_options_and_scorer():
    lsrm = get_reward_func("lsrm", gamma=0.2, func_name="lsrm_g02")
    moved = lsrm.with_policy(AnswerPolicy("template"))
    assert (moved.__name__, moved.config, moved.soft_scorer) == ("lsrm_g02", lsrm.config, lsrm.soft_scorer)
    assert moved.policy == AnswerPolicy("template") and lsrm.policy == AnswerPolicy()


def test_think_format_cannot_be_asked_of_a_policy_that_opens_no_block():
    with pytest.raises(ValueError, match="reward 'think_format': think_opened_by is 'none'"):
        get_reward_func("think_format", policy=AnswerPolicy("none"))


def test_unknown_reward_name_lists_the_known_ones():
    with pytest.raises(ValueError, match="unknown reward 'lsrn'; known rewards: lsrm, flat, all, raif, mean5"):
        get_reward_funcs(["lsrn"])


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"gamma": 2}, "reward 'lsrm': gamma: expected a number in [0, 1], got 2"),
        ({"seq_mode": "sum"}, "reward 'lsrm': seq_mode: expected one of"),
        ({"policy": "zero"}, "reward 'lsrm': policy: expected an AnswerPolicy"),
        ({"soft_scorer": "gpt"}, "reward 'lsrm': soft_scorer: expected a callable"),
        ({"gama": 0.3}, "reward 'lsrm': unknown option 'gama'; known options:"),
    ],
)
def test_bad_options_name_the_reward_and_the_option(options, message):
    with pytest.raises(ValueError) as err:
        get_reward_funcs(["lsrm"], **options)
    assert message in str(err.value)


def test_entries_may_override_shared_options_and_need_distinct_names():
    strict, lenient = get_reward_funcs(
        [{"name": "lsrm", "gamma": 0.0, "func_name": "lsrm_g0"}, {"name": "lsrm", "gamma": 1.0}], seq_mode="count"
    )
    assert (strict.__name__, lenient.__name__) == ("lsrm_g0", "lsrm_reward")
    assert call(strict, ["a, b c"], [SEQ])[0] == [0.0]
    assert call(lenient, ["a, b c"], [SEQ])[0] == [0.5]
    with pytest.raises(ValueError, match="both named 'lsrm_reward'"):
        get_reward_funcs(["lsrm", {"name": "lsrm", "gamma": 0.9}])


def test_real_ifeval_constraints_score_with_strict_semantics():
    tree = json.dumps(
        {
            "type": "sequential",
            "children": [
                {"type": "constraint", "id": "change_case:english_lowercase", "kwargs": {}, "kind": "hard"},
                {"type": "constraint", "id": "punctuation:no_comma", "kwargs": {}, "kind": "hard"},
                {
                    "type": "constraint",
                    "id": "length_constraints:number_words",
                    "kwargs": {"num_words": 8, "relation": "less than"},
                    "kind": "hard",
                },
            ],
        }
    )
    completions = [
        "<think>Keep it short, lower case, no commas.</think>the cat sat on the mat today",
        "The cat sat on the mat today",  # fails step 1: the next two steps are discounted once
        "the cat, the dog and the bird all sat on the mat together today",  # passes 1, fails 2 and 3
    ]
    rewards, _ = call(get_reward_func("lsrm"), completions, [tree] * 3)
    assert rewards == [1.0, pytest.approx((0 + 0.5 + 0.5) / 3), pytest.approx(1 / 3)]


def test_the_answer_reward_sums_the_weighted_rewards_without_the_format_rule_by_the_names_a_trainer_sees():
    from lsrif_trl.rewards.registry import answer_reward

    names = [f.__name__ for f in get_reward_funcs(["raif", "think_format", "lsrm"])]  # TRL's reward_func_names
    scores = [[2.0, -1.0, 1.0], [None, 1.0, 0.5], [None, 1.0, float("nan")]]
    assert answer_reward(names, [1.0, 1.0, 0.5], scores)[:2] == [2.5, 0.25]
    assert math.isnan(answer_reward(names, [1.0, 1.0, 0.5], scores)[2])  # no answer reward scored it
    with pytest.raises(ValueError, match="needs a reward besides the format reward"):
        answer_reward(["think_format_reward"], [1.0], [[1.0]])
