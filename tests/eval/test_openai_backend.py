"""The OpenAI-compatible backend against a real HTTP server on loopback: answers, timeouts, retries, resume."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from lsrif_trl.eval.generation import (
    GenerationError,
    OpenAIGenerator,
    RetryPolicy,
    SamplingParams,
    read_responses,
    run_generation,
)


def completion(body: dict, content: str | None = None, reasoning: str | None = None) -> dict:
    """A well-formed chat completion answering the request's prompt."""
    prompt = body["messages"][-1]["content"]
    message = {"role": "assistant", "content": content if content is not None else f"answer to {prompt}"}
    if reasoning is not None:
        message["reasoning_content"] = reasoning
    return {
        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12},
    }


def generator(server, **options) -> OpenAIGenerator:
    options.setdefault("retry", RetryPolicy(max_retries=3, initial_backoff=0.01, max_backoff=0.05))
    options.setdefault("timeout", 5.0)
    return OpenAIGenerator("served-model", SamplingParams(max_new_tokens=32), base_url=server.base_url, **options)


PROMPTS = [f"prompt {i}" for i in range(6)]


def test_rendered_prompts_are_continued_as_text_by_the_completions_endpoint(serve, tmp_path: Path) -> None:
    def text_completion(body, n):
        return 200, {"choices": [{"text": f" then {body['prompt']}", "finish_reason": "length"}]}, {}, 0.0

    server = serve(text_completion)
    gen = generator(server, rendered_prompts=True)
    stats = run_generation(gen, ["<|user|>hi<|assistant|><think>\n\n</think>\n"], tmp_path / "r.jsonl")
    assert server.paths == ["/v1/completions"]
    body = server.requests[0]
    assert body["prompt"] == "<|user|>hi<|assistant|><think>\n\n</think>\n" and "messages" not in body
    assert body["add_special_tokens"] is False and body["max_tokens"] == 32
    row = read_responses(tmp_path / "r.jsonl")[body["prompt"]]
    assert row["response"] == " then " + body["prompt"] and row["finish_reason"] == "length"
    assert stats.to_dict()["extra"]["base_url"] == server.base_url


def test_every_prompt_is_answered_once_and_written_with_tokens_per_second(serve, tmp_path: Path) -> None:
    server = serve(lambda body, n: (200, completion(body), {}, 0.0))
    stats = run_generation(generator(server), PROMPTS, tmp_path / "responses.jsonl")
    rows = read_responses(tmp_path / "responses.jsonl")
    assert sorted(rows) == sorted(PROMPTS)
    assert rows["prompt 3"]["response"] == "answer to prompt 3"
    assert stats.generated == 6 and stats.completion_tokens == 42 and stats.tokens_per_second > 0
    assert stats.to_dict()["extra"]["base_url"] == server.base_url


def test_request_carries_sampling_settings_and_model_name(serve, tmp_path: Path) -> None:
    server = serve(lambda body, n: (200, completion(body), {}, 0.0))
    sampling = SamplingParams(max_new_tokens=17, temperature=0.7, top_p=0.9, seed=3, enable_thinking=False)
    gen = OpenAIGenerator("served-model", sampling, base_url=server.base_url + "/")
    run_generation(gen, ["hello"], tmp_path / "r.jsonl")
    body = server.requests[0]
    assert body["model"] == "served-model" and body["messages"] == [{"role": "user", "content": "hello"}]
    assert (body["max_tokens"], body["temperature"], body["top_p"], body["seed"]) == (17, 0.7, 0.9, 3)
    assert body["chat_template_kwargs"] == {"enable_thinking": False}


def test_api_key_comes_from_the_environment_and_is_never_written(serve, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("MY_TEST_KEY", "sk-secret-value")
    server = serve(lambda body, n: (200, completion(body), {}, 0.0))
    gen = generator(server, api_key_env="MY_TEST_KEY")
    stats = run_generation(gen, ["hello"], tmp_path / "r.jsonl")
    assert server.headers[0]["Authorization"] == "Bearer sk-secret-value"
    assert "sk-secret-value" not in (tmp_path / "r.jsonl").read_text()
    assert "sk-secret-value" not in json.dumps(stats.to_dict())


def test_reasoning_is_kept_beside_the_scored_answer(serve, tmp_path: Path) -> None:
    def reply(body: dict, n: int):
        if body["messages"][0]["content"] == "separate":
            return 200, completion(body, content="Final.", reasoning="step one"), {}, 0.0
        return 200, completion(body, content="<think>inline thought</think>Answer."), {}, 0.0

    server = serve(reply)
    run_generation(generator(server), ["separate", "inline"], tmp_path / "r.jsonl")
    rows = read_responses(tmp_path / "r.jsonl")
    assert (rows["separate"]["response"], rows["separate"]["reasoning"]) == ("Final.", "step one")
    assert rows["inline"]["response"] == "Answer."
    assert rows["inline"]["reasoning"] == "<think>inline thought</think>"


def test_concurrency_limit_bounds_requests_in_flight(serve, tmp_path: Path) -> None:
    server = serve(lambda body, n: (200, completion(body), {}, 0.05))
    run_generation(generator(server, concurrency=2), PROMPTS, tmp_path / "r.jsonl")
    assert server.max_in_flight <= 2
    assert len(server.requests) == len(PROMPTS)


def test_slow_answer_hits_the_timeout_and_is_retried(serve, tmp_path: Path) -> None:
    server = serve(lambda body, n: (200, completion(body), {}, 1.0 if n == 1 else 0.0))
    run_generation(generator(server, timeout=0.2), ["slow"], tmp_path / "r.jsonl")
    assert len(server.requests) == 2  # the first, slow request timed out and was sent again
    assert read_responses(tmp_path / "r.jsonl")["slow"]["response"] == "answer to slow"


def test_server_errors_and_rate_limits_are_retried_with_backoff(serve, tmp_path: Path) -> None:
    script = {1: (503, None, {}, 0.0), 2: (429, None, {"Retry-After": "0"}, 0.0), 3: (500, None, {}, 0.0)}
    server = serve(lambda body, n: script.get(n, (200, completion(body), {}, 0.0)))
    run_generation(generator(server, concurrency=1), ["flaky"], tmp_path / "r.jsonl")
    assert len(server.requests) == 4
    assert read_responses(tmp_path / "r.jsonl")["flaky"]["response"] == "answer to flaky"


def test_client_errors_are_not_retried_and_name_the_status(serve, tmp_path: Path) -> None:
    server = serve(lambda body, n: (400, {"error": "model not found"}, {}, 0.0))
    with pytest.raises(GenerationError, match="HTTP 400.*model not found"):
        run_generation(generator(server), ["bad"], tmp_path / "r.jsonl")
    assert len(server.requests) == 1


def test_retries_run_out_with_a_clear_error(serve, tmp_path: Path) -> None:
    server = serve(lambda body, n: (503, None, {}, 0.0))
    with pytest.raises(GenerationError, match="gave up after 4 attempt.*HTTP 503"):
        run_generation(generator(server, concurrency=1), ["down"], tmp_path / "r.jsonl")


def test_server_dying_mid_run_keeps_what_was_written_and_the_rerun_resumes(serve, tmp_path: Path) -> None:
    output = tmp_path / "r.jsonl"
    first = serve(lambda body, n: (200, completion(body), {}, 0.0))

    def dying(body: dict, n: int):
        if n > 3:  # the fourth request on: the server goes away
            threading.Thread(target=first.stop, daemon=True).start()  # later connections are refused
            return 503, None, {}, 0.0
        return 200, completion(body), {}, 0.0

    first.behaviour = dying
    with pytest.raises(GenerationError, match="rerun to resume"):
        run_generation(generator(first, concurrency=1), PROMPTS, output)
    written = read_responses(output)
    assert len(written) == 3

    second = serve(lambda body, n: (200, completion(body), {}, 0.0))
    stats = run_generation(generator(second, concurrency=1), PROMPTS, output)
    assert (stats.resumed, stats.generated) == (3, 3)
    assert sorted(m["messages"][0]["content"] for m in second.requests) == sorted(set(PROMPTS) - set(written))
    assert sorted(read_responses(output)) == sorted(PROMPTS)


def test_a_line_cut_off_by_a_crash_is_dropped_and_regenerated(serve, tmp_path: Path) -> None:
    output = tmp_path / "r.jsonl"
    output.write_text(json.dumps({"prompt": "prompt 0", "response": "done"}) + '\n{"prompt": "prompt 1", "resp')
    server = serve(lambda body, n: (200, completion(body), {}, 0.0))
    stats = run_generation(generator(server), PROMPTS[:2], output)
    assert (stats.resumed, stats.generated) == (1, 1)
    assert [json.loads(line)["prompt"] for line in output.read_text().splitlines()] == ["prompt 0", "prompt 1"]


def test_a_corrupt_line_in_the_middle_is_an_error_naming_the_line(tmp_path: Path) -> None:
    output = tmp_path / "r.jsonl"
    output.write_text('{"prompt": "a", "response": "x"}\nnot json\n{"prompt": "b", "response": "y"}\n')
    with pytest.raises(ValueError, match=r"line 2 \(fix or delete the line\): not valid JSON"):
        read_responses(output)


def test_resuming_with_other_sampling_settings_is_refused_before_any_request(serve, tmp_path: Path) -> None:
    server = serve(lambda body, n: (200, completion(body), {}, 0.0))
    run_generation(generator(server), PROMPTS[:2], tmp_path / "r.jsonl")
    hotter = OpenAIGenerator("served-model", SamplingParams(max_new_tokens=32, temperature=1.0), server.base_url)
    with pytest.raises(ValueError, match=r"other settings \(before: .*'temperature': 0.0"):
        run_generation(hotter, PROMPTS, tmp_path / "r.jsonl")
    assert len(server.requests) == 2


def test_a_last_answer_without_its_newline_is_kept_and_the_next_one_starts_a_new_line(serve, tmp_path: Path) -> None:
    output = tmp_path / "r.jsonl"
    output.write_text(json.dumps({"prompt": "prompt 0", "response": "done"}))
    server = serve(lambda body, n: (200, completion(body), {}, 0.0))
    run_generation(generator(server), PROMPTS[:2], output)
    assert sorted(read_responses(output)) == ["prompt 0", "prompt 1"]
    assert len(server.requests) == 1


def test_a_request_that_fails_for_good_stops_the_others_retrying(serve, tmp_path: Path) -> None:
    def reply(body: dict, n: int):
        return (400 if body["messages"][0]["content"] == "bad" else 503), None, {}, 0.0

    server = serve(reply)
    slow_backoff = RetryPolicy(max_retries=5, initial_backoff=5.0, max_backoff=5.0)
    with pytest.raises(GenerationError, match="HTTP 400"):
        run_generation(generator(server, concurrency=2, retry=slow_backoff), ["flaky", "bad"], tmp_path / "r.jsonl")
    # without the stop, "flaky" would be sent 6 times over 12-25 s of backoff
    assert [r["messages"][0]["content"] for r in server.requests].count("flaky") == 1


def test_a_server_dripping_its_reply_is_cut_by_the_timeout_not_waited_for(serve, tmp_path: Path, raw_reply) -> None:
    drip = raw_reply(json.dumps(completion({"messages": [{"content": "x"}]})).encode(), drip=0.25)
    server = serve(lambda body, n: (200, drip, {}, 0.0))
    with pytest.raises(GenerationError, match="no complete reply within"):
        run_generation(generator(server, timeout=0.5, deadline=1.0), ["slow"], tmp_path / "r.jsonl")
    assert read_responses(tmp_path / "r.jsonl") == {}


def test_a_reply_without_choices_is_retried(serve, tmp_path: Path) -> None:
    server = serve(lambda body, n: (200, {"choices": []} if n == 1 else completion(body), {}, 0.0))
    run_generation(generator(server), ["empty first"], tmp_path / "r.jsonl")
    assert len(server.requests) == 2
