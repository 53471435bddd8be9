"""The OpenAI-compatible judge: verdicts, logprobs, the cache, and every failure class scored missing, never a pass."""

import logging
import math
import pickle

import pytest

from lsrif_trl.chat.retry import RetryPolicy
from lsrif_trl.judges.openai_judge import (
    FAILURE_MIN_ITEMS,
    JudgeFailureBudgetExceeded,
    JudgeUnavailable,
    OpenAIJudge,
    logprob_verdict,
    text_verdict,
)
from lsrif_trl.rewards.soft import score_soft

REQUEST = ("Write about tea.", "Tea is a calm, warm drink.", "Use a warm, friendly tone.")


def make_judge(url, **options):
    settings = {"timeout": 2.0, "deadline": 4.0, "backoff": 0.01, "max_retries": 2, "top_logprobs": 0, **options}
    return OpenAIJudge(base_url=url, model="judge-model", **settings)


def first_token(token, probability, alternatives=()):
    return {
        "token": token,
        "logprob": math.log(probability),
        "top_logprobs": [{"token": t, "logprob": math.log(p)} for t, p in [(token, probability), *alternatives]],
    }


def batch(n):
    return [(f"Prompt {i}.", f"Answer {i}.", "Be kind.") for i in range(n)]


def test_yes_scores_one_and_no_scores_zero(judge_server):
    judge_server.replies = [{"content": "YES"}, {"content": "no."}]
    judge = make_judge(judge_server.base_url)
    assert judge(*REQUEST) == 1.0
    assert judge("another", "answer", "text") == 0.0
    assert judge.stats["text_verdicts"] == 2


def test_the_request_carries_model_request_answer_and_requirement(judge_server):
    make_judge(judge_server.base_url)(*REQUEST)
    sent = judge_server.requests[0]
    assert sent["model"] == "judge-model" and sent["temperature"] == 0.0
    user = sent["messages"][-1]["content"]
    assert all(part in user for part in REQUEST)


def test_reasoning_before_the_verdict_is_skipped(judge_server):
    judge_server.replies = [{"content": "<think>The tone is cold, so yes it fails.</think>\n**NO**"}]
    assert make_judge(judge_server.base_url)(*REQUEST) == 0.0


def test_logprobs_give_the_yes_probability(judge_server):
    judge_server.replies = [{"content": "YES", "first_token": first_token("YES", 0.7, [("NO", 0.2), ("Yes", 0.1)])}]
    judge = make_judge(judge_server.base_url, top_logprobs=5)
    assert judge(*REQUEST) == pytest.approx(0.8)
    assert judge_server.requests[0]["logprobs"] is True and judge_server.requests[0]["top_logprobs"] == 5
    assert judge.stats["logprob_verdicts"] == 1


def test_logprobs_are_ignored_when_the_first_token_is_not_the_verdict():
    assert logprob_verdict(first_token("<think>", 0.9, [("YES", 0.05)])) is None
    assert logprob_verdict(None) is None
    assert text_verdict("Sure! YES") is None  # only a reply that starts with the verdict counts


def test_identical_requests_are_sent_once_and_the_cache_answers_repeats(judge_server):
    judge = make_judge(judge_server.base_url)
    assert judge.score_batch([REQUEST] * 3) == [1.0] * 3
    assert judge(*REQUEST) == 1.0
    assert len(judge_server.requests) == 1 and judge.stats["cache_hits"] == 1


def test_disk_cache_survives_a_new_judge(judge_server, tmp_path):
    make_judge(judge_server.base_url, cache_path=tmp_path / "judge.sqlite")(*REQUEST)
    judge_server.replies = [{"content": "NO"}]
    assert make_judge(judge_server.base_url, cache_path=tmp_path / "judge.sqlite")(*REQUEST) == 1.0
    assert len(judge_server.requests) == 1


def test_the_cache_is_keyed_by_endpoint_and_model(judge_server, serve, tmp_path):
    cache = tmp_path / "judge.sqlite"
    make_judge(judge_server.base_url, cache_path=cache)(*REQUEST)
    other = serve(lambda body, n: (200, {"choices": [{"message": {"content": "NO"}}]}, {}, 0.0))
    assert make_judge(other.base_url, cache_path=cache)(*REQUEST) == 0.0  # another endpoint asks again
    judge_server.replies = [{"content": "NO"}]
    assert OpenAIJudge(judge_server.base_url, "other-model", cache_path=cache, top_logprobs=0)(*REQUEST) == 0.0


def test_a_missing_verdict_is_not_cached_so_a_fixed_endpoint_answers_it(judge_server, tmp_path):
    cache = tmp_path / "judge.sqlite"
    judge_server.replies = [{"content": "maybe"}]
    assert math.isnan(make_judge(judge_server.base_url, cache_path=cache, max_retries=0)(*REQUEST))
    judge_server.replies = [{"content": "YES"}]
    assert make_judge(judge_server.base_url, cache_path=cache)(*REQUEST) == 1.0


def test_api_key_goes_in_the_header_only(judge_server, monkeypatch):
    monkeypatch.setenv("JUDGE_TEST_KEY", "sk-secret-value")
    judge = make_judge(judge_server.base_url, api_key_env="JUDGE_TEST_KEY")
    judge(*REQUEST)
    assert judge_server.headers[0]["Authorization"] == "Bearer sk-secret-value"
    assert "sk-secret-value" not in repr(judge) + str(judge_server.requests)
    assert b"sk-secret-value" not in pickle.dumps(judge)


def test_the_judge_pickles_and_the_copy_still_judges(judge_server):
    judge = make_judge(judge_server.base_url)
    judge(*REQUEST)
    assert pickle.loads(pickle.dumps(judge))("other", "request", "text") == 1.0


def test_the_judge_calls_through_a_client_of_its_own_settings(judge_server):
    judge = make_judge(judge_server.base_url, concurrency=5, max_retries=1, backoff=0.2, max_backoff=2.0)
    client = judge._client
    assert (client.concurrency, client.timeout, client.deadline) == (5, 2.0, 4.0)
    assert client.retry == RetryPolicy(max_retries=1, initial_backoff=0.2, max_backoff=2.0)


def test_bad_settings_fail_at_construction(judge_server):
    with pytest.raises(ValueError, match="model"):
        OpenAIJudge(base_url=judge_server.base_url, model="")
    for options, message in [
        ({"concurrency": 0}, "concurrency"),
        ({"max_failure_rate": 1.5}, "max_failure_rate"),
        ({"timeout": 10.0, "deadline": 5.0}, "deadline"),
        ({"api_key_env": "sk-proj-abcdefghijklmnop1234567890"}, "judge api_key_env"),
    ]:
        with pytest.raises(ValueError, match=message):
            make_judge(judge_server.base_url, **options)


def test_huge_inputs_are_cut_before_sending(judge_server):
    judge = make_judge(judge_server.base_url, max_chars=1000)
    assert judge("Describe tea.", "tea " * 500_000, "Be concise.") == 1.0
    assert len(judge_server.requests[0]["messages"][-1]["content"]) < 1500


# Every reply shape that holds no verdict: retried, then missing (NaN), counted by reason, never a pass or 0.
MALFORMED = {
    "no-choices": {"choices": []},
    "null-choice": {"choices": [None]},
    "no-verdict": {"choices": [{"message": {"content": "maybe"}}]},
    "empty": {"choices": [{"message": {"content": ""}}]},
    "absurd-logprob": {
        "choices": [{"message": {"content": "YES"}, "logprobs": {"content": [{"token": "YES", "logprob": 1000}]}}]
    },
}


@pytest.mark.parametrize("body", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_reply_without_a_verdict_is_retried_then_missing_and_the_batch_keeps_its_other_verdicts(serve, body):
    def behaviour(request, n):
        bad = "Answer 3." in request["messages"][-1]["content"]
        return 200, body if bad else {"choices": [{"message": {"content": "YES"}}]}, {}, 0.0

    server = serve(behaviour)
    judge = make_judge(server.base_url, top_logprobs=5)
    scores = judge.score_batch(batch(8))
    assert math.isnan(scores[3]) and scores[:3] + scores[4:] == [1.0] * 7
    assert judge.stats["missing"] == 1 and judge.failure_reasons() == {"malformed": 1}
    assert len(server.requests) == 8 + 2  # the bad item was tried three times
    assert score_soft(judge, [batch(8)[3]]) == ([None], [True])


def test_a_truncated_body_is_retried_then_missing(serve, raw_reply):
    server = serve(lambda body, n: (200, raw_reply(b'{"choices": [{"mess', declared_length=60), {}, 0.0))
    judge = make_judge(server.base_url)
    assert math.isnan(judge(*REQUEST)) and len(server.requests) == 3


def test_a_server_dripping_one_byte_every_quarter_second_is_cut_by_the_deadline(serve, raw_reply):
    drip = raw_reply(b'{"choices": [{"message": {"content": "YES"}}]}', drip=0.25)
    server = serve(lambda body, n: (200, drip, {}, 0.0))
    judge = make_judge(server.base_url, timeout=0.5, deadline=1.0)
    assert math.isnan(judge(*REQUEST))  # without the deadline this YES would arrive after ~12 s and count
    assert judge.failure_reasons() == {"deadline": 1}


def test_a_429_asking_for_an_hour_is_capped_and_ends_at_the_deadline(serve):
    server = serve(lambda body, n: (429, None, {"Retry-After": "3600"}, 0.0))
    judge = make_judge(server.base_url, timeout=1.0, deadline=1.0, max_backoff=0.3, max_retries=5)
    assert math.isnan(judge(*REQUEST))
    assert judge.failure_reasons() == {"http_429": 1} and len(server.requests) >= 2


def test_a_503_is_retried_then_missing_and_a_warning_says_so(serve, caplog):
    server = serve(lambda body, n: (503, None, {}, 0.0))
    judge = make_judge(server.base_url)
    with caplog.at_level(logging.WARNING):
        assert math.isnan(judge(*REQUEST))
    assert len(server.requests) == 3 and judge.failure_reasons() == {"http_503": 1}
    assert any(
        "verdict is missing (http_503)" in r.getMessage() and "HTTP 503" in r.getMessage() for r in caplog.records
    )


def test_connection_refused_is_missing_and_warned(closed_port_url, caplog):
    judge = make_judge(closed_port_url, max_retries=1)
    with caplog.at_level(logging.WARNING):
        assert math.isnan(judge(*REQUEST))
    assert judge.failure_reasons() == {"connection": 1}
    assert any(closed_port_url in r.getMessage() for r in caplog.records)


def test_a_401_stops_the_run_at_once(serve):
    server = serve(lambda body, n: (401, {"error": "bad key"}, {}, 0.0))
    with pytest.raises(JudgeUnavailable, match="HTTP 401"):
        make_judge(server.base_url).score_batch(batch(4))
    with pytest.raises(JudgeUnavailable):  # the reward functions let it through: it is not a completion's fault
        score_soft(make_judge(server.base_url), batch(2))


@pytest.mark.parametrize("status", [401, 404, 503])
def test_the_preflight_fails_fast_naming_url_and_status(serve, status):
    server = serve(lambda body, n: (status, {"error": "nope"}, {}, 0.0))
    with pytest.raises(
        JudgeUnavailable, match=f"preflight failed: .*{server.base_url}/chat/completions.*HTTP {status}"
    ):
        make_judge(server.base_url).preflight()


def test_the_preflight_names_a_judge_that_gives_no_verdict(judge_server):
    judge_server.replies = [{"content": "<think>Let me see"}]
    with pytest.raises(JudgeUnavailable, match="larger judge_max_tokens"):
        make_judge(judge_server.base_url).preflight()
    judge_server.replies = [{"content": "YES"}]
    make_judge(judge_server.base_url).preflight()  # a working judge passes (and its verdict is not cached)


def test_the_failure_budget_stops_the_run_when_too_many_verdicts_are_missing(serve):
    server = serve(
        lambda body, n: (200, {"choices": [{"message": {"content": "maybe" if n % 4 == 0 else "YES"}}]}, {}, 0.0)
    )
    judge = make_judge(server.base_url, max_retries=0, max_failure_rate=0.1)
    with pytest.raises(JudgeFailureBudgetExceeded, match=r"of the last \d+ soft verdicts are missing.*malformed"):
        for start in range(0, 4 * FAILURE_MIN_ITEMS, 10):
            judge.score_batch([(f"p{i}", "a", "t") for i in range(start, start + 10)])
    assert judge.stats["missing"] >= FAILURE_MIN_ITEMS // 10


def test_a_few_missing_verdicts_stay_within_the_budget(serve):
    server = serve(
        lambda body, n: (200, {"choices": [{"message": {"content": "maybe" if n % 20 == 0 else "YES"}}]}, {}, 0.0)
    )
    judge = make_judge(server.base_url, max_retries=0, max_failure_rate=0.1)
    for start in range(0, 200, 20):
        judge.score_batch([(f"p{i}", "a", "t") for i in range(start, start + 20)])
    totals = judge.run_totals()
    assert totals["missing"] == 10 and totals["verdicts"] == 190 and totals["malformed"] == 10
