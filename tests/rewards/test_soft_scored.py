"""Hard constraints scored as if soft (`soft_scored`): their leaves go to the soft scorer with the constraint's
rendered text, every other leaf to its verifier; bad ids and a missing scorer are refused at construction."""

import json

import pytest

from lsrif_trl.constraints.registry import get_constraint
from lsrif_trl.rewards import get_reward_func
from lsrif_trl.rewards.soft import requirement_text, soft_scored_ids
from lsrif_trl.structure import ConstraintNode, parse_structure

LOWER = {"type": "constraint", "id": "change_case:english_lowercase", "kwargs": {}, "kind": "hard"}
NO_COMMA = {"type": "constraint", "id": "punctuation:no_comma", "kwargs": {}, "kind": "hard"}
TREE = json.dumps({"type": "parallel", "children": [LOWER, NO_COMMA]})
PROMPT = [{"role": "user", "content": "Describe tea in lowercase, without commas."}]


class Recorder:
    """A soft scorer that answers a fixed probability and remembers what it was asked."""

    def __init__(self, probability: float) -> None:
        self.probability, self.asked = probability, []

    def score_batch(self, requests):
        self.asked += list(requests)
        return [self.probability] * len(requests)

    def __call__(self, prompt, answer, text):
        return self.score_batch([(prompt, answer, text)])[0]


def test_a_held_out_leaf_is_scored_by_the_scorer_and_the_others_by_their_verifiers():
    scorer = Recorder(0.25)
    reward = get_reward_func("lsrm", soft_scorer=scorer, soft_scored=["change_case:english_lowercase"])
    # The answer is lowercase (its verifier would pass it: 1.0) and has a comma (no_comma fails: 0.0).
    assert reward([PROMPT], ["tea is warm, and green."], structure=[TREE]) == [pytest.approx((0.25 + 0.0) / 2)]
    text = get_constraint("change_case:english_lowercase").render({})
    assert scorer.asked == [(PROMPT[0]["content"], "tea is warm, and green.", text)]


def test_without_the_option_the_same_leaf_is_scored_by_its_verifier_and_the_scorer_is_not_asked():
    scorer = Recorder(0.25)
    reward = get_reward_func("lsrm", soft_scorer=scorer)
    assert reward([PROMPT], ["tea is warm, and green."], structure=[TREE]) == [0.5]
    assert scorer.asked == []


def test_a_blank_answer_satisfies_nothing_and_asks_nobody():
    scorer = Recorder(1.0)
    reward = get_reward_func("all", soft_scorer=scorer, soft_scored=["change_case:english_lowercase"])
    assert reward([PROMPT], ["   "], structure=[TREE]) == [0.0]
    assert scorer.asked == []


def test_the_requirement_text_is_a_soft_leafs_own_text_or_the_hard_constraint_rendered():
    soft = ConstraintNode(id="soft:tone", kind="soft", text="Be warm.")
    assert requirement_text(soft) == "Be warm."
    leaf = parse_structure({"type": "constraint", "id": "keywords:existence", "kwargs": {"keywords": ["sun"]}})
    assert requirement_text(leaf) == get_constraint("keywords:existence").render({"keywords": ["sun"]})
    assert "sun" in requirement_text(leaf)


@pytest.mark.parametrize(
    ("ids", "scorer", "message"),
    [
        (["change_case:lowercase"], Recorder(1.0), "unknown constraint id 'change_case:lowercase'; did you mean"),
        (["soft:tone"], Recorder(1.0), "'soft:tone' is a soft constraint"),
        (["change_case:english_lowercase"], None, "no soft scorer is set"),
    ],
)
def test_bad_ids_or_no_scorer_are_refused(ids, scorer, message):
    with pytest.raises(ValueError, match=message):
        soft_scored_ids(ids, scorer)
    with pytest.raises(ValueError, match=message):
        get_reward_func("lsrm", soft_scorer=scorer, soft_scored=ids)
