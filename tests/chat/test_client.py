"""The chat client against a loopback server: replies, retries, the whole-request deadline, refusals, concurrency;
and its construction from settings."""

import pickle
import threading
from dataclasses import dataclass

import pytest

from lsrif_trl.chat.client import ChatClient, EndpointRefused, MalformedReply, RequestFailed, reply_text
from lsrif_trl.chat.retry import RetryPolicy
from lsrif_trl.secret_args import SecretArgumentError

PAYLOAD = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
FAST_RETRY = RetryPolicy(max_retries=2, initial_backoff=0.01, max_backoff=0.05)


def answer(content: str = "hello") -> dict:
    return {"choices": [{"index": 0, "message": {"role": "assistant", "content": content}}]}


def client_for(url: str, **options) -> ChatClient:
    return ChatClient(url, **{"timeout": 2.0, "retry": FAST_RETRY, **options})


def test_a_reply_is_parsed_and_the_request_goes_to_chat_completions(serve):
    server = serve(lambda body, n: (200, answer(), {}, 0.0))
    client = client_for(server.base_url)
    assert client.complete(PAYLOAD, reply_text) == "hello"
    assert server.requests == [PAYLOAD] and client.stats["requests"] == 1
    client.close()


def test_server_errors_are_retried_then_answered(serve):
    script = {1: (503, None, {}, 0.0), 2: (429, None, {"Retry-After": "0"}, 0.0)}
    server = serve(lambda body, n: script.get(n, (200, answer(), {}, 0.0)))
    client = client_for(server.base_url)
    assert client.complete(PAYLOAD, reply_text) == "hello"
    assert client.stats["retries"] == 2 and client.stats["http_503"] == 1 and client.stats["http_429"] == 1


@pytest.mark.parametrize(
    "reply",
    [{"choices": []}, {"choices": [None]}, {"choices": [{"message": {"content": None}}]}, {"error": "x"}],
    ids=["no-choices", "null-choice", "null-content", "no-choices-key"],
)
def test_a_malformed_reply_is_retried_then_fails_naming_it(serve, reply):
    server = serve(lambda body, n: (200, reply, {}, 0.0))
    with pytest.raises(RequestFailed, match="malformed reply") as failure:
        client_for(server.base_url).complete(PAYLOAD, reply_text)
    assert failure.value.reason == "malformed" and len(server.requests) == 3


def test_a_truncated_body_is_retried(serve, raw_reply):
    full = b'{"choices": [{"message": {"content": "hello"}}]}'
    script = {1: (200, raw_reply(full[:20], declared_length=len(full)), {}, 0.0)}
    server = serve(lambda body, n: script.get(n, (200, answer(), {}, 0.0)))
    client = client_for(server.base_url)
    assert client.complete(PAYLOAD, reply_text) == "hello"
    assert client.stats["retries"] == 1


def test_a_parse_function_can_reject_a_reply(serve):
    def needs_yes(body):
        if reply_text(body) != "YES":
            raise MalformedReply("no verdict")
        return True

    server = serve(lambda body, n: (200, answer("YES" if n == 2 else "maybe"), {}, 0.0))
    assert client_for(server.base_url).complete(PAYLOAD, needs_yes) is True
    assert len(server.requests) == 2


def test_a_server_dripping_bytes_is_cut_by_the_deadline(serve, raw_reply):
    # 0.25 s per byte: each read arrives well within any per-read timeout, the whole reply would take ~12 s.
    drip = raw_reply(b'{"choices": [{"message": {"content": "YES"}}]}', drip=0.25)
    server = serve(lambda body, n: (200, drip, {}, 0.0))
    client = client_for(server.base_url, timeout=0.5, deadline=1.0, retry=RetryPolicy(5, 0.01, 0.05))
    with pytest.raises(RequestFailed, match="no complete reply within") as failure:
        client.complete(PAYLOAD, reply_text)
    assert failure.value.reason == "deadline" and client.stats["requests"] <= 3


def test_a_huge_retry_after_is_capped_and_the_deadline_ends_the_call(serve):
    server = serve(lambda body, n: (429, None, {"Retry-After": "3600"}, 0.0))
    client = client_for(server.base_url, deadline=1.0, retry=RetryPolicy(5, 0.01, max_backoff=0.3))
    with pytest.raises(RequestFailed, match="HTTP 429") as failure:
        client.complete(PAYLOAD, reply_text)
    assert failure.value.reason == "http_429" and 2 <= len(server.requests) <= 5  # waited 0.3 s, not an hour


def test_refused_statuses_raise_at_once_naming_url_and_status(serve):
    for status in (401, 403, 404):
        server = serve(lambda body, n, status=status: (status, {"error": "no"}, {}, 0.0))
        with pytest.raises(EndpointRefused, match=f"{server.base_url}/chat/completions answered HTTP {status}"):
            client_for(server.base_url).complete(PAYLOAD, reply_text)
        assert len(server.requests) == 1


def test_a_client_error_is_not_retried(serve):
    server = serve(lambda body, n: (400, {"error": "context too long"}, {}, 0.0))
    with pytest.raises(RequestFailed, match="HTTP 400.*context too long") as failure:
        client_for(server.base_url).complete(PAYLOAD, reply_text)
    assert failure.value.reason == "http_400" and len(server.requests) == 1


def test_connection_refused_is_retried_then_fails_naming_the_url(closed_port_url):
    with pytest.raises(RequestFailed, match=f"{closed_port_url}/chat/completions: gave up after 3") as failure:
        client_for(closed_port_url).complete(PAYLOAD, reply_text)
    assert failure.value.reason == "connection"


def test_concurrency_is_bounded_for_every_thread_that_submits(serve):
    server = serve(lambda body, n: (200, answer(), {}, 0.05))
    client = client_for(server.base_url, concurrency=3)
    results: list[str] = []

    def worker():
        futures = [client.submit(PAYLOAD, reply_text) for _ in range(5)]
        results.extend(f.result() for f in futures)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == ["hello"] * 15 and server.max_in_flight <= 3


def test_the_key_goes_in_the_header_only_and_is_not_pickled(serve, monkeypatch):
    monkeypatch.setenv("CHAT_TEST_KEY", "sk-secret-value")
    server = serve(lambda body, n: (200, answer(), {}, 0.0))
    client = client_for(server.base_url, api_key_env="CHAT_TEST_KEY")
    client.complete(PAYLOAD, reply_text)
    assert server.headers[0]["Authorization"] == "Bearer sk-secret-value"
    copy = pickle.loads(pickle.dumps(client))
    assert b"sk-secret-value" not in pickle.dumps(client)
    assert copy.complete(PAYLOAD, reply_text) == "hello"  # the copy starts its own loop and reads the key again


def test_bad_settings_fail_at_construction():
    with pytest.raises(ValueError, match="concurrency"):
        ChatClient("http://127.0.0.1:1/v1", concurrency=0)
    with pytest.raises(ValueError, match="not an http"):
        ChatClient("localhost:8000/v1")


@dataclass
class Settings:
    """An object holding `ChatSettings`, as the judge and the rewriter do."""

    base_url: str = "http://127.0.0.1:1/v1"
    api_key_env: str = "CHAT_TEST_KEY"
    concurrency: int = 3
    timeout: float = 4.0
    deadline: float | None = 9.0
    max_retries: int = 2
    backoff: float = 0.25
    max_backoff: float = 5.0


def test_from_settings_builds_the_client_those_settings_describe():
    client = ChatClient.from_settings(Settings())
    assert client.url == "http://127.0.0.1:1/v1/chat/completions"
    assert (client.api_key_env, client.concurrency, client.timeout, client.deadline) == ("CHAT_TEST_KEY", 3, 4.0, 9.0)
    assert client.retry == RetryPolicy(max_retries=2, initial_backoff=0.25, max_backoff=5.0)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (Settings(concurrency=0), "concurrency"),
        (Settings(deadline=0.0), "deadline"),
        (Settings(max_retries=-1), "retries and backoff"),
        (Settings(base_url="localhost:8000/v1"), "not an http"),
    ],
)
def test_from_settings_refuses_bad_settings_naming_them(settings, message):
    with pytest.raises(ValueError, match=message):
        ChatClient.from_settings(settings)


@pytest.mark.parametrize("value", ["sk-proj-abcdefghijklmnop1234567890", "my key"])
def test_an_api_key_env_that_is_not_a_variable_name_is_refused_without_repeating_it(value):
    with pytest.raises(SecretArgumentError, match="api_key_env") as raised:
        ChatClient.from_settings(Settings(api_key_env=value))
    assert value not in str(raised.value)
