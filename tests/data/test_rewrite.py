"""LLM rewriting against a loopback OpenAI-compatible server: retries, timeouts, cache, rejection of bad rewrites."""

import threading

import pytest

from lsrif_trl.chat.retry import RetryPolicy
from lsrif_trl.data.builder import build_examples
from lsrif_trl.data.loading import load_training_dataset
from lsrif_trl.data.render import render_prompt
from lsrif_trl.data.rewrite import RewriteClient, RewriteError, clean_reply, rewrite_examples
from lsrif_trl.data.rewrite_checks import check_rewrite
from lsrif_trl.secret_args import SecretArgumentError
from lsrif_trl.structure import ConditionalNode, ConstraintNode, ParallelNode, SequentialNode

API_KEY = "sk-test-secret-123"


def faithful(instruction: str) -> str:
    """A rewrite that rewords the opening but keeps every requirement."""
    return "Could you help me with something? " + instruction.replace("Your response", "Your reply")


@pytest.fixture
def server(serve):
    """The loopback chat server; `script` holds actions for the next calls, then `default` answers every call.

    An action is ("reply", function of the instruction), ("sleep", seconds before a faithful reply) or
    ("status", HTTP error code, sent with `Retry-After: 0`)."""
    lock = threading.Lock()

    def act(body: dict, number: int) -> tuple[int, dict | None, dict, float]:
        with lock:
            kind, value = fake.script.pop(0) if fake.script else fake.default
        if kind == "status":
            return value, None, {"Retry-After": "0"}, 0.0
        wait, rewrite = (value, faithful) if kind == "sleep" else (0.0, value)
        content = rewrite(body["messages"][-1]["content"])
        return 200, {"choices": [{"message": {"role": "assistant", "content": content}}]}, {}, wait

    fake = serve(act)
    fake.script = []
    fake.default = ("reply", faithful)
    return fake


@pytest.fixture(scope="module")
def examples():
    return build_examples(4, seed=11, max_depth=2, structure_mix={"sequential": 0.5, "conditional": 0.5})


def client_for(server, tmp_path, **options) -> RewriteClient:
    settings = {"cache_path": tmp_path / "cache.sqlite", "backoff": 0.01, "timeout": 5.0, "max_retries": 3}
    return RewriteClient(server.base_url, "tiny-rewriter", api_key_env="TEST_REWRITE_KEY", **{**settings, **options})


def test_faithful_rewrites_are_accepted_and_the_passage_stays_verbatim(server, tmp_path, examples, monkeypatch):
    monkeypatch.setenv("TEST_REWRITE_KEY", API_KEY)
    rows, report = rewrite_examples(examples, client_for(server, tmp_path, concurrency=2))
    assert report.accepted == len(examples) and report.rejected == report.failed == 0
    for row, example in zip(rows, examples, strict=True):
        content = row["prompt"][0]["content"]
        assert content.startswith("Could you help me with something?")
        if example.rendered.passage:
            assert content.endswith(example.rendered.text.split(example.rendered.instruction, 1)[1])
        assert row["structure"] == example.row["structure"]
    assert {headers["Authorization"] for headers in server.headers} == {f"Bearer {API_KEY}"}
    assert server.requests[0]["model"] == "tiny-rewriter" and server.requests[0]["messages"][0]["role"] == "system"
    assert API_KEY not in report.summary()


def test_server_errors_are_retried_with_backoff(server, tmp_path, examples):
    server.script = [("status", 500), ("status", 503), ("status", 429)]
    client = client_for(server, tmp_path, concurrency=1)
    rows, report = rewrite_examples(examples[:1], client)
    assert report.accepted == 1
    assert client.stats["retries"] == 3 and len(server.requests) == 4


def test_a_slow_answer_times_out_and_is_retried(server, tmp_path, examples):
    server.script = [("sleep", 2.0)]
    client = client_for(
        server, tmp_path, timeout=0.8, concurrency=1
    )  # generous: a loaded CI machine still answers in time
    _, report = rewrite_examples(examples[:1], client)
    assert report.accepted == 1 and client.stats["retries"] == 1


def test_a_call_that_keeps_failing_keeps_the_original_wording(server, tmp_path, examples):
    server.default = ("status", 502)
    client = client_for(server, tmp_path, max_retries=2, concurrency=1)
    rows, report = rewrite_examples(examples[:1], client)
    assert report.failed == 1 and rows[0]["prompt"] == examples[0].row["prompt"]
    assert len(server.requests) == 3


def test_a_rewrite_that_drops_constraints_is_rejected(server, tmp_path, examples):
    server.default = ("reply", lambda instruction: instruction.split("\n")[0].split(". ")[0] + ".")
    rows, report = rewrite_examples(examples, client_for(server, tmp_path, concurrency=2))
    assert report.rejected == len(examples) and report.accepted == 0
    assert [r["prompt"] for r in rows] == [e.row["prompt"] for e in examples]


def test_a_rerun_is_served_from_the_cache_with_the_server_gone(server, tmp_path, examples):
    first_rows, _ = rewrite_examples(examples, client_for(server, tmp_path, concurrency=2))
    calls = len(server.requests)
    server.stop()
    client = client_for(server, tmp_path, max_retries=0, timeout=0.5, concurrency=2)
    rows, report = rewrite_examples(examples, client)
    assert rows == first_rows and report.accepted == len(examples)
    assert client.stats["cache_hits"] == calls and client.stats["requests"] == 0


def test_concurrency_is_limited(server, tmp_path):
    server.default = ("sleep", 0.3)
    many = build_examples(8, seed=12)
    rewrite_examples(many, client_for(server, tmp_path, concurrency=2))
    assert server.max_in_flight == 2


def test_a_rejected_key_stops_the_build_without_revealing_it(server, tmp_path, examples, monkeypatch):
    monkeypatch.setenv("TEST_REWRITE_KEY", API_KEY)
    server.default = ("status", 401)
    with pytest.raises(RewriteError, match="HTTP 401") as caught:
        rewrite_examples(examples[:1], client_for(server, tmp_path, concurrency=1))
    assert API_KEY not in str(caught.value)


def test_the_rewriter_calls_through_a_client_of_its_own_settings(server, tmp_path):
    client = client_for(server, tmp_path, concurrency=3, deadline=20.0, max_backoff=2.0)
    chat = client._chat
    assert (chat.api_key_env, chat.concurrency, chat.timeout, chat.deadline) == ("TEST_REWRITE_KEY", 3, 5.0, 20.0)
    assert chat.retry == RetryPolicy(max_retries=3, initial_backoff=0.01, max_backoff=2.0)
    client.close()


def test_a_key_given_as_its_variable_name_is_refused_without_repeating_it(server, tmp_path):
    with pytest.raises(SecretArgumentError, match="api_key_env") as caught:
        RewriteClient(server.base_url, "tiny-rewriter", api_key_env=API_KEY)
    assert API_KEY not in str(caught.value)


WORDS = ConstraintNode("length_constraints:number_words", kwargs={"num_words": 3, "relation": "less than"})
KEYWORDS = ConstraintNode("keywords:existence", kwargs={"keywords": ["lantern"]})
END = ConstraintNode("startend:end_checker", kwargs={"end_phrase": "Any other questions?"})
NO_COMMA = ConstraintNode("punctuation:no_comma")


def _original(tree, seed=0):
    return render_prompt(tree, "Describe a lighthouse at night.", None, seed).instruction


def test_changed_numbers_and_phrases_are_caught_but_number_words_are_fine():
    tree = ParallelNode((WORDS, END))
    text = _original(tree)
    assert check_rewrite(tree, "Describe a lighthouse at night.", text, 0) == []
    assert check_rewrite(tree, "Describe a lighthouse at night.", text.replace(" 3 ", " three "), 0) == []
    assert any("number 3" in p for p in check_rewrite(tree, "x", text.replace(" 3 ", " 5 "), 0))
    changed = text.replace("Any other questions?", "Anything else?")
    assert any("end_phrase 'Any other questions?'" in p for p in check_rewrite(tree, "x", changed, 0))
    assert check_rewrite(tree, "Describe a lighthouse at night.", text.replace("fewer than", "under"), 0) == []


def test_swapped_steps_and_lost_conditions_are_caught():
    sequence = SequentialNode((KEYWORDS, END))
    swapped = "Describe a lighthouse at night. First end your reply with 'Any other questions?' then use lantern."
    assert any(p.startswith("order:") for p in check_rewrite(sequence, "Describe a lighthouse at night.", swapped, 0))
    conditional = ConditionalNode("the passage mentions a year", "then", KEYWORDS, NO_COMMA)
    text = _original(conditional)
    assert check_rewrite(conditional, "Describe a lighthouse at night.", text, 0) == []
    no_condition = text.replace("the passage mentions a year", "you like")
    assert any(p.startswith("condition") for p in check_rewrite(conditional, "x", no_condition, 0))


def test_dropped_negation_is_caught():
    tree = ParallelNode((NO_COMMA, KEYWORDS))
    flipped = 'Describe a lighthouse at night. Use plenty of commas, and mention the word "lantern".'
    assert any(p.startswith("negation") for p in check_rewrite(tree, "Describe a lighthouse at night.", flipped, 0))


def test_replies_are_cleaned_of_reasoning_fences_and_quotes():
    assert clean_reply("<think>hmm</think>\n```\nWrite it.\n```") == "Write it."
    assert clean_reply('"Write it."') == "Write it."


def test_cli_build_rewrites_through_the_endpoint_and_notes_it_in_the_card(server, tmp_path, capsys):
    from lsrif_trl.cli import main

    out = tmp_path / "lsr"
    argv = ["data", "build", "--num-examples", "5", "--output", str(out), "--rewrite-endpoint", server.base_url,
            "--rewrite-model", "tiny-rewriter", "--rewrite-cache", str(tmp_path / "c.sqlite")]  # fmt: skip
    assert main(argv) == 0
    assert "5/5 rewrites accepted" in capsys.readouterr().out
    rows = load_training_dataset(str(out))
    assert all(p[0]["content"].startswith("Could you help me with something?") for p in rows["prompt"])
    assert "Wording rewritten by `tiny-rewriter`" in (out / "README.md").read_text()


def test_a_reply_that_answers_instead_of_rewording_is_rejected():
    tree = ParallelNode((WORDS, END))
    text = _original(tree)
    answer = text + " Sure! " + "The lighthouse glows over the dark sea. " * 40
    assert check_rewrite(tree, "Describe a lighthouse at night.", answer, 0, original=text)[0].startswith("length:")


def test_built_instructions_pass_their_own_check_unchanged():
    for example in build_examples(300, seed=3, max_depth=3, soft_share=0.2):
        text = example.rendered.instruction
        assert check_rewrite(example.tree, example.task, text, example.render_seed, original=text) == [], text
