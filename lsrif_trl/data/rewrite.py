"""Optional LLM rewording of built instructions through any OpenAI-compatible `/chat/completions` endpoint.

The model only rewords the instruction (task + constraints); the passage is kept verbatim and the tree stays
the ground truth. Calls run on a thread pool of `concurrency` workers, retry 429/5xx/timeouts with exponential
backoff (honouring `Retry-After`), and land in an sqlite cache keyed by a hash of model + messages, so an
interrupted build resumes without repeating calls. A rewrite is accepted only if `check_rewrite` finds every
constraint's key facts in it; otherwise the row keeps its original wording. The API key is read from an
environment variable, sent only in the Authorization header, and never logged or put in an error message.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from lsrif_trl.data.builder import BuiltExample
from lsrif_trl.data.http_retry import RETRY_STATUSES, RetryPolicy, chat_completions_url
from lsrif_trl.data.rewrite_checks import check_rewrite
from lsrif_trl.rewards.think import MODEL_REPLY

SYSTEM_PROMPT = (
    "You reword instructions that will be given to an AI assistant. Rewrite the user's instruction so it reads "
    "like a natural request from a real person, with your own wording and sentence structure. Keep the task and "
    "every requirement exactly: all numbers, quoted text, keywords and phrases, every condition and what to do "
    "in each case, and the order of any steps. Do not add, drop or soften requirements, do not answer the "
    "instruction, and do not quote any passage. Reply with the rewritten instruction only."
)
FATAL_STATUSES = frozenset({401, 403, 404})  # wrong key, model or URL: every call would fail the same way


class RewriteError(RuntimeError):
    """The endpoint refuses every call (bad key, unknown model or URL): stop the build."""


class RequestFailed(RuntimeError):
    """One call failed after all retries (or with a non-retryable status); its row keeps the original."""


class ResponseCache:
    """Model responses by request hash in an sqlite file; each write is committed at once (safe to interrupt)."""

    def __init__(self, path: str | Path) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False)
        self._db.execute("CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, content TEXT NOT NULL)")
        self._db.commit()

    def get(self, key: str) -> str | None:
        with self._lock:
            found = self._db.execute("SELECT content FROM responses WHERE key = ?", (key,)).fetchone()
        return found[0] if found else None

    def put(self, key: str, content: str) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO responses (key, content) VALUES (?, ?)", (key, content))
            self._db.commit()

    def close(self) -> None:
        with self._lock:
            self._db.close()


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
    """Chat-completions calls with retries, backoff and the on-disk cache; safe to share between threads."""

    base_url: str
    model: str
    api_key_env: str = "OPENAI_API_KEY"
    cache_path: str | Path | None = None
    timeout: float = 60.0
    max_retries: int = 4
    backoff: float = 1.0  # seconds before the first retry (jittered); doubles each time, capped at `max_backoff`
    max_backoff: float = 30.0
    temperature: float = 0.0
    max_tokens: int = 1024
    stats: Counter = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self.url = chat_completions_url(self.base_url)
        self._retry = RetryPolicy(self.max_retries, self.backoff, self.max_backoff)
        self._cache = ResponseCache(self.cache_path) if self.cache_path else None
        self._stats_lock = threading.Lock()

    def _count(self, name: str) -> None:
        with self._stats_lock:
            self.stats[name] += 1

    def _payload(self, messages: list[dict[str, str]]) -> dict[str, Any]:
        return {
            "model": self.model,
            "messages": messages,
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
        }

    def cache_key(self, messages: list[dict[str, str]]) -> str:
        """Hash of everything that determines the answer (model, messages, sampling settings)."""
        return hashlib.sha256(json.dumps(self._payload(messages), sort_keys=True).encode()).hexdigest()

    def complete(self, messages: list[dict[str, str]]) -> str:
        """The assistant reply's content, from the cache or the endpoint (with retries)."""
        key = self.cache_key(messages)
        if self._cache is not None:
            cached = self._cache.get(key)
            if cached is not None:
                self._count("cache_hits")
                return cached
        content = self._request_with_retries(self._payload(messages))
        if self._cache is not None:
            self._cache.put(key, content)
        return content

    def _request_with_retries(self, payload: dict[str, Any]) -> str:
        last_problem = ""
        for attempt in range(self.max_retries + 1):
            if attempt:
                self._count("retries")
            retry_after = None
            try:
                self._count("requests")
                return self._request(payload)
            except urllib.error.HTTPError as err:
                if err.code in FATAL_STATUSES:
                    raise RewriteError(
                        f"{self.url} answered HTTP {err.code} ({err.reason}); check the URL, the model name "
                        f"{self.model!r} and the key in ${self.api_key_env}"
                    ) from None
                if err.code not in RETRY_STATUSES:
                    raise RequestFailed(f"HTTP {err.code} ({err.reason})") from None
                last_problem = f"HTTP {err.code}"
                retry_after = err.headers.get("Retry-After") if err.headers else None
            except (urllib.error.URLError, TimeoutError, ConnectionError, OSError, ValueError, KeyError) as err:
                last_problem = f"{type(err).__name__}: {getattr(err, 'reason', err)}"
            if attempt < self.max_retries:
                time.sleep(self._retry.delay(attempt, retry_after))
        self._count("failures")
        raise RequestFailed(f"gave up after {self.max_retries + 1} attempts (last: {last_problem})")

    def _request(self, payload: dict[str, Any]) -> str:
        headers = {"Content-Type": "application/json"}
        api_key = os.environ.get(self.api_key_env)
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        request = urllib.request.Request(self.url, data=json.dumps(payload).encode(), headers=headers, method="POST")
        with urllib.request.urlopen(request, timeout=self.timeout) as response:
            body = json.loads(response.read().decode("utf-8"))
        return self._reply(body)

    def _reply(self, body: dict[str, Any]) -> str:
        """What `complete` returns (and caches) for a response body: the reply's text. Subclasses (the soft-
        constraint judge) override it together with `_payload` to keep more of the body, such as logprobs."""
        content = body["choices"][0]["message"]["content"]
        if not isinstance(content, str):
            raise ValueError("the reply has no text content")
        return content

    def close(self) -> None:
        """Close the cache file."""
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
    examples: Sequence[BuiltExample], client: RewriteClient, concurrency: int = 8, progress: bool = False
) -> tuple[list[dict[str, Any]], RewriteReport]:
    """The examples' rows with accepted rewrites swapped into their prompts, and the report."""
    if concurrency < 1:
        raise ValueError(f"concurrency={concurrency}: must be >= 1")
    instructions = sorted({example.rendered.instruction for example in examples})

    def call(instruction: str) -> str | None:
        try:
            return clean_reply(client.complete(rewrite_messages(instruction)))
        except RequestFailed:
            return None

    replies: dict[str, str | None] = {}
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        futures = [pool.submit(call, instruction) for instruction in instructions]
        try:
            for instruction, future in zip(
                instructions, tqdm(futures, desc="rewriting", disable=not progress), strict=True
            ):
                replies[instruction] = future.result()
        except BaseException:  # a refused key or Ctrl-C: drop the queued calls instead of sending them all
            pool.shutdown(wait=True, cancel_futures=True)
            raise
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
