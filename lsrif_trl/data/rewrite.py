"""Optional LLM rewording of built instructions through any OpenAI-compatible `/chat/completions` endpoint.

The model only rewords the instruction (task + constraints); the passage is kept verbatim and the tree stays
the ground truth. Calls go through `lsrif_trl.chat.ChatClient` (`concurrency` in flight, 429/5xx/timeouts and
malformed replies retried with capped backoff, a per-attempt and a per-rewrite deadline) and land in an sqlite
cache keyed by a hash of model + messages + sampling settings, so an interrupted build resumes without
repeating calls. A rewrite is accepted only if `check_rewrite` finds every
constraint's key facts in it; otherwise the row keeps its original wording. The API key is read from an
environment variable, sent only in the Authorization header, and never logged or put in an error message.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from lsrif_trl.chat.cache import ResponseCache, request_key
from lsrif_trl.chat.client import DEFAULT_API_KEY_ENV, ChatClient, ChatError, EndpointRefused, reply_text
from lsrif_trl.data.builder import BuiltExample
from lsrif_trl.data.rewrite_checks import check_rewrite
from lsrif_trl.rewards.think import MODEL_REPLY

SYSTEM_PROMPT = (
    "You reword instructions that will be given to an AI assistant. Rewrite the user's instruction so it reads "
    "like a natural request from a real person, with your own wording and sentence structure. Keep the task and "
    "every requirement exactly: all numbers, quoted text, keywords and phrases, every condition and what to do "
    "in each case, and the order of any steps. Do not add, drop or soften requirements, do not answer the "
    "instruction, and do not quote any passage. Reply with the rewritten instruction only."
)


class RewriteError(RuntimeError):
    """The endpoint refuses every call (bad key, unknown model or URL): stop the build."""


def clean_reply(content: str) -> str:
    """The rewritten instruction inside a reply: after the last `</think>`, without code fences or outer quotes."""
    text = MODEL_REPLY.answer(content).strip()
    if text.startswith("```") and text.endswith("```"):
        text = text[3:-3].split("\n", 1)[-1].strip() if "\n" in text[3:-3] else text[3:-3].strip()
    if len(text) > 1 and text[0] == text[-1] and text[0] in "\"'":
        text = text[1:-1].strip()
    return text


@dataclass
class RewriteClient:
    """Rewording calls through `chat.ChatClient` (retries, deadline, `concurrency` in flight) with the on-disk
    cache in front; safe to share between threads."""

    base_url: str
    model: str
    api_key_env: str = DEFAULT_API_KEY_ENV
    cache_path: str | Path | None = None
    concurrency: int = 8
    timeout: float = 60.0  # seconds one attempt may take, reply included
    deadline: float | None = 300.0  # seconds one rewrite may take, retries and waits included
    max_retries: int = 4
    backoff: float = 1.0  # seconds before the first retry (jittered); doubles each time, capped at `max_backoff`
    max_backoff: float = 30.0
    temperature: float = 0.0
    max_tokens: int = 1024
    cache_hits: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        self._chat = ChatClient.from_settings(self)
        self._cache = ResponseCache(self.cache_path) if self.cache_path else None

    @property
    def stats(self) -> Counter[str]:
        """Requests, retries, failures and HTTP statuses of the chat client, and cache hits."""
        return Counter({**self._chat.stats, "cache_hits": self.cache_hits})

    def _payload(self, messages: list[dict[str, str]]) -> dict[str, Any]:
        return {
            "model": self.model,
            "messages": messages,
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
        }

    def cache_key(self, messages: list[dict[str, str]]) -> str:
        """Hash of everything that determines the answer (model, messages, sampling settings)."""
        return request_key(self._payload(messages))

    def submit(self, messages: list[dict[str, str]]) -> Future[str]:
        """The reply's text as a future: already done when the cache has it, else sent to the endpoint."""
        cached = self._cache.get(self.cache_key(messages)) if self._cache is not None else None
        if cached is None:
            return self._chat.submit(self._payload(messages), reply_text)
        self.cache_hits += 1
        done: Future[str] = Future()
        done.set_result(cached)
        return done

    def remember(self, messages: list[dict[str, str]], content: str) -> None:
        """Put a reply in the cache (a no-op without one)."""
        if self._cache is not None:
            self._cache.put(self.cache_key(messages), content)

    def complete(self, messages: list[dict[str, str]]) -> str:
        """The assistant reply's content, from the cache or the endpoint; ChatError when the call fails."""
        content = self.submit(messages).result()
        self.remember(messages, content)
        return content

    def close(self) -> None:
        """Close the connections and the cache file."""
        self._chat.close()
        if self._cache is not None:
            self._cache.close()


def rewrite_messages(instruction: str) -> list[dict[str, str]]:
    """The chat messages that ask the model to reword one instruction."""
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": instruction}]


@dataclass
class RewriteReport:
    """How the rewriting went: accepted, rejected (with reasons), failed calls, cache hits."""

    total: int = 0
    accepted: int = 0
    rejected: int = 0
    failed: int = 0
    reasons: Counter = field(default_factory=Counter)
    client_stats: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        """One line for logs and the dataset card."""
        top = ", ".join(f"{reason} ({n})" for reason, n in self.reasons.most_common(3))
        return (
            f"{self.accepted}/{self.total} rewrites accepted, {self.rejected} rejected"
            + (f" [{top}]" if top else "")
            + f", {self.failed} failed calls kept their original wording; "
            f"{self.client_stats.get('cache_hits', 0)} cache hits, {self.client_stats.get('requests', 0)} requests"
        )


def rewrite_examples(
    examples: Sequence[BuiltExample], client: RewriteClient, progress: bool = False
) -> tuple[list[dict[str, Any]], RewriteReport]:
    """The examples' rows with accepted rewrites swapped into their prompts, and the report. Every distinct
    instruction is sent at once; the client bounds how many are in flight."""
    instructions = sorted({example.rendered.instruction for example in examples})
    futures = {instruction: client.submit(rewrite_messages(instruction)) for instruction in instructions}
    replies: dict[str, str | None] = {}
    try:
        for instruction in tqdm(instructions, desc="rewriting", disable=not progress):
            try:
                content = futures[instruction].result()
            except EndpointRefused as err:
                raise RewriteError(str(err)) from None
            except ChatError:
                replies[instruction] = None
                continue
            client.remember(rewrite_messages(instruction), content)
            replies[instruction] = clean_reply(content)
    finally:  # a refused key or Ctrl-C: drop the calls not yet made instead of sending them all
        for future in futures.values():
            future.cancel()
    report = RewriteReport(total=len(examples))
    rows = []
    for example in examples:
        row = dict(example.row)
        reply = replies[example.rendered.instruction]
        if reply is None:
            report.failed += 1
        else:
            problems = check_rewrite(
                example.tree, example.task, reply, example.render_seed, original=example.rendered.instruction
            )
            if problems:
                report.rejected += 1
                report.reasons[problems[0].split(":", 1)[0]] += 1
            else:
                report.accepted += 1
                row["prompt"] = [{"role": "user", "content": example.rendered.with_instruction(reply).text}]
                row["spans"] = None  # the reworded text's categories are unknown
        rows.append(row)
    report.client_stats = dict(client.stats)
    return rows, report
