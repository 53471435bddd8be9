import random

from lsrif_trl.chat.retry import RetryPolicy, chat_completions_url


def test_chat_url_is_built_from_a_v1_base_or_kept_when_already_full():
    assert chat_completions_url("http://h:8000/v1/") == "http://h:8000/v1/chat/completions"
    assert chat_completions_url("http://h:8000/v1/chat/completions") == "http://h:8000/v1/chat/completions"


def test_the_completions_url_comes_from_the_same_base_or_from_either_full_url():
    for given in ("http://h:8000/v1", "http://h:8000/v1/completions", "http://h:8000/v1/chat/completions"):
        assert chat_completions_url(given, "completions") == "http://h:8000/v1/completions"
    assert chat_completions_url("http://h:8000/v1/completions") == "http://h:8000/v1/chat/completions"


def test_backoff_doubles_with_jitter_and_is_capped():
    policy = RetryPolicy(initial_backoff=1.0, max_backoff=5.0, rng=random.Random(0))
    for attempt, full in [(0, 1.0), (1, 2.0), (2, 4.0), (5, 5.0)]:
        assert full / 2 <= policy.delay(attempt) <= full


def test_numeric_retry_after_wins_but_is_capped_and_an_http_date_falls_back_to_backoff():
    policy = RetryPolicy(initial_backoff=1.0, max_backoff=5.0)
    assert policy.delay(3, "2") == 2.0
    assert policy.delay(0, "120") == 5.0
    assert policy.delay(0, "-1") == 0.0
    assert 0.5 <= policy.delay(0, "Wed, 21 Oct 2015 07:28:00 GMT") <= 1.0
