"""Soft leaves of an LSRM reward are scored by the scorer the recipe chooses (judge, classifier or none)."""

import json

import pytest

from lsrif_trl.judges import build_soft_scorer
from lsrif_trl.judges.classifier import ClassifierScorer
from lsrif_trl.judges.openai_judge import OpenAIJudge
from lsrif_trl.judges.scorer_args import SoftScorerArguments
from lsrif_trl.rewards import get_reward_funcs
from lsrif_trl.tiny import build_tiny_model

NO_COMMA = {"type": "constraint", "id": "punctuation:no_comma", "kwargs": {}, "kind": "hard"}
TONE = {"type": "constraint", "id": "soft:tone", "text": "Use a warm, friendly tone throughout.", "kind": "soft"}
PROMPT = [{"role": "user", "content": "Describe tea without commas. Use a warm, friendly tone throughout."}]


def test_lsrm_reward_averages_the_hard_check_with_the_judges_probability(judge_server):
    judge_server.decide = lambda body: {"content": "YES" if "Dear friend" in body["messages"][-1]["content"] else "NO"}
    judge = build_soft_scorer("judge", base_url=judge_server.base_url, model="judge", top_logprobs=0)
    (lsrm,) = get_reward_funcs(["lsrm"], soft_scorer=judge)
    tree = json.dumps({"type": "parallel", "children": [NO_COMMA, TONE]})
    completions = [[{"role": "assistant", "content": "Tea is cold; drink it."}], "Dear friend: tea is a hug."]
    rewards = lsrm([PROMPT, PROMPT], completions, structure=[tree, tree])
    assert rewards == [0.5, 1.0]  # no comma (1) + NO (0); no comma (1) + YES (1)
    judged = {m["messages"][-1]["content"].split("BEGIN RESPONSE")[1] for m in judge_server.requests}
    assert any("Tea is cold" in r for r in judged) and all(
        TONE["text"] in m["messages"][-1]["content"] for m in judge_server.requests
    )


def test_a_failing_judge_leaves_the_reward_missing_and_counted_not_a_half_pass(judge_server):
    judge_server.replies = [{"status": 500}]
    judge = build_soft_scorer("judge", base_url=judge_server.base_url, model="judge", max_retries=0, top_logprobs=0)
    (lsrm,) = get_reward_funcs(["lsrm"], soft_scorer=judge)
    tree = json.dumps({"type": "parallel", "children": [NO_COMMA, TONE]})
    assert lsrm([PROMPT], ["Warm tea."], structure=[tree]) == [None]
    assert lsrm.error_count == 1 and lsrm.missing_count == 1 and judge.failure_reasons() == {"http_500": 1}


def test_recipe_arguments_build_the_chosen_scorer(judge_server):
    assert SoftScorerArguments().build_soft_scorer() is None
    judge = SoftScorerArguments(soft_scorer="judge", judge_base_url=judge_server.base_url, judge_model="m")
    assert isinstance(judge.build_soft_scorer(), OpenAIJudge)
    classifier = SoftScorerArguments(soft_scorer="classifier", soft_rm_path=str(build_tiny_model()))
    assert isinstance(classifier.build_soft_scorer(), ClassifierScorer)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"soft_scorer": "judge", "judge_model": "m"}, "judge needs judge_base_url"),
        ({"soft_scorer": "classifier"}, "classifier needs soft_rm_path"),
    ],
)
def test_missing_scorer_settings_name_the_key(arguments, message):
    with pytest.raises(ValueError, match=message):
        SoftScorerArguments(**arguments).build_soft_scorer()


def test_unknown_scorer_kind_or_option_is_refused():
    with pytest.raises(ValueError, match="expected one of"):
        build_soft_scorer("oracle")
    with pytest.raises(ValueError, match="soft_scorer 'judge'"):
        build_soft_scorer("judge", base_url="http://x", model="m", temperature=1.0)
