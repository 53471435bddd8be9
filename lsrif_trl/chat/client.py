"""Calls to one OpenAI-compatible `/chat/completions` endpoint (or `endpoint="completions"`, for raw text), from any
thread, on one background event loop.

    client = ChatClient("http://localhost:8000/v1", concurrency=64, timeout=30, deadline=60)
    future = client.submit({"model": "m", "messages": [...]}, parse=reply_text)   # concurrent.futures.Future
    client.complete(payload, parse)                                               # the same, blocking
    ChatClient.from_settings(judge)   # from any object holding the `ChatSettings` (the judge's, the rewriter's)

Every call is bounded three ways: at most `concurrency` requests are in flight for the whole client (one
semaphore, whichever threads submit); one attempt lasts at most `timeout` seconds wall-clock, from sending to
the last byte of the reply (a server dripping one byte at a time is cut); and the call as a whole, retries and
waits included, ends `deadline` seconds after its first attempt started (time spent queued behind the
concurrency limit does not count; None: only the per-attempt limit and the retry count bound it). Timeouts, dropped connections, HTTP 408/409/425/429/5xx and replies that
`parse` rejects (`MalformedReply`: bad JSON, `choices: []`, a missing field) are retried with the backoff of
`retry.RetryPolicy`; a `Retry-After` is honoured up to `max_backoff`, and a wait that would pass the deadline
ends the call at once. HTTP 401/403/404 raise `EndpointRefused` without retrying (every call would fail alike);
anything else that does not succeed raises `RequestFailed` naming the URL and the last problem.

The API key is read from the environment variable `api_key_env` when the client starts, sent only in the
Authorization header and never logged, pickled or put in an error message; an `api_key_env` that is not the name
of an environment variable (the key itself, say) is refused at construction without being repeated. The client
pickles as its settings (a TRL rollout worker rebuilds it) and restarts its loop after a fork.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import Future, InvalidStateError
from typing import Any, Protocol, TypeVar

from lsrif_trl.chat.http import ConnectionPool, HTTPReply, Origin, ProtocolError
from lsrif_trl.chat.retry import REFUSED_STATUSES, RETRY_STATUSES, RetryPolicy, chat_completions_url
from lsrif_trl.secret_args import SecretArgumentError, secret_problem

T = TypeVar("T")
Parse = Callable[[Any], T]
DEFAULT_API_KEY_ENV = "OPENAI_API_KEY"


class ChatSettings(Protocol):
    """What `ChatClient.from_settings` reads: the endpoint, the key's variable name, the limits and the backoff."""

    base_url: str
    api_key_env: str
    concurrency: int
    timeout: float  # seconds one attempt may take, reply included
    deadline: float | None  # seconds one call may take, retries and waits included
    max_retries: int
    backoff: float  # seconds before the first retry (jittered); doubles each time, capped at `max_backoff`
    max_backoff: float  # also the cap on a server's Retry-After


class ChatError(RuntimeError):
    """A chat call that did not produce a reply."""


class EndpointRefused(ChatError):
    """HTTP 401/403/404: the URL, the model name or the key is wrong, so every call would fail the same way."""


class RequestFailed(ChatError):
    """One call failed for good: retries used up, the deadline passed, or a status that is not worth retrying.

    `reason` is a short class for counting: `http_<status>`, `timeout`, `connection`, `malformed`, `deadline`."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class MalformedReply(ValueError):
    """Raised by a `parse` function: the reply is not what was asked for (it is retried like a failed request)."""


def reply_message(body: Any) -> dict[str, Any]:
    """The first choice's message of a chat-completions body; MalformedReply when there is none."""
    choices = body.get("choices") if isinstance(body, dict) else None
    choice = choices[0] if isinstance(choices, list) and choices else None
    message = choice.get("message") if isinstance(choice, dict) else None
    if not isinstance(message, dict):
        raise MalformedReply("the reply has no choices[0].message")
    return message


def reply_text(body: Any) -> str:
    """The text of the first choice's message; MalformedReply when it is not a string."""
    content = reply_message(body).get("content")
    if not isinstance(content, str):
        raise MalformedReply("the reply's message has no text content")
    return content


class ChatClient:
    """See the module docstring; safe to share between threads."""

    def __init__(
        self,
        base_url: str,
        *,
        api_key_env: str = DEFAULT_API_KEY_ENV,
        concurrency: int = 8,
        timeout: float = 60.0,
        deadline: float | None = None,
        retry: RetryPolicy | None = None,
        max_reply_bytes: int = 16 * 1024 * 1024,
        endpoint: str = "chat/completions",
    ) -> None:
        if concurrency < 1:
            raise ValueError(f"concurrency: expected >= 1, got {concurrency}")
        if not timeout > 0 or (deadline is not None and not deadline > 0):
            raise ValueError(f"timeout and deadline must be > 0 seconds, got {timeout} and {deadline}")
        problem = secret_problem("api_key_env", api_key_env)
        if problem:
            raise SecretArgumentError(problem)
        self.url = chat_completions_url(base_url, endpoint)
        self.origin = Origin.parse(self.url)
        self.api_key_env, self.concurrency, self.timeout = api_key_env, concurrency, timeout
        self.deadline = deadline
        self.retry = retry or RetryPolicy()
        self.max_reply_bytes = max_reply_bytes
        self.stats: Counter[str] = Counter()  # requests, retries, failures, refused, http_<status>, ...
        self._start_lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pid = -1

    @classmethod
    def from_settings(cls, settings: ChatSettings) -> ChatClient:
        """The client those settings describe; ValueError naming the bad setting (never the key)."""
        return cls(
            settings.base_url,
            api_key_env=settings.api_key_env,
            concurrency=settings.concurrency,
            timeout=settings.timeout,
            deadline=settings.deadline,
            retry=RetryPolicy(settings.max_retries, settings.backoff, settings.max_backoff),
        )

    # -- pickling: settings only; the loop, connections and key are rebuilt where the client is used
    def __getstate__(self) -> dict[str, Any]:
        state = {k: v for k, v in self.__dict__.items() if k not in ("_start_lock", "_loop", "_thread", "_pool")}
        state.update(_headers=None, _slots=None, stats=Counter())
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state, _start_lock=threading.Lock(), _loop=None, _pid=-1)

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        with self._start_lock:
            if self._loop is None or self._pid != os.getpid():  # first use, or a forked child without the thread
                headers = {"Content-Type": "application/json", "Accept": "application/json"}
                api_key = os.environ.get(self.api_key_env)
                if api_key:
                    headers["Authorization"] = f"Bearer {api_key}"
                self._headers = headers
                self._pool = ConnectionPool(self.origin, self.concurrency, self.max_reply_bytes)
                self._slots = asyncio.Semaphore(self.concurrency)
                loop = asyncio.new_event_loop()
                self._thread = threading.Thread(target=loop.run_forever, name="lsrif-chat", daemon=True)
                self._thread.start()
                self._loop, self._pid = loop, os.getpid()
            return self._loop

    def submit(self, payload: dict[str, Any], parse: Parse[T]) -> Future[T]:
        """Start one call; the future holds `parse(reply JSON)` or a ChatError. Cancelling it stops the call."""
        return self.submit_all([payload], parse)[0]

    def submit_all(self, payloads: Sequence[dict[str, Any]], parse: Parse[T]) -> list[Future[T]]:
        """`submit` for many payloads, handed to the loop in one wake-up (cheaper than one per call)."""
        loop = self._running_loop()
        bodies = [json.dumps(payload).encode() for payload in payloads]
        futures: list[Future[T]] = [Future() for _ in bodies]

        def start() -> None:
            for body, future in zip(bodies, futures, strict=True):
                if future.cancelled():
                    continue
                task = loop.create_task(self._call(body, parse))
                task.add_done_callback(functools.partial(_settle, future))
                future.add_done_callback(functools.partial(_cancel_task, loop, task))

        loop.call_soon_threadsafe(start)
        return futures

    def complete(self, payload: dict[str, Any], parse: Parse[T]) -> T:
        """`submit(payload, parse).result()`."""
        return self.submit(payload, parse).result()

    async def _call(self, body: bytes, parse: Parse[T]) -> T:
        loop = asyncio.get_running_loop()
        ends_at: float | None = None
        problem, reason = "", "connection"
        for attempt in range(self.retry.max_retries + 1):
            retry_after = None
            async with self._slots:
                if ends_at is None:
                    ends_at = loop.time() + (self.deadline if self.deadline is not None else float("inf"))
                budget = min(self.timeout, ends_at - loop.time())
                if budget <= 0:
                    break
                self.stats["requests"] += 1
                self.stats["retries"] += bool(attempt)
                try:
                    async with asyncio.timeout(budget):
                        reply = await self._pool.post(self.origin.path, body, self._headers)
                except TimeoutError:
                    problem, reason = f"no complete reply within {budget:.3g} s", "timeout"
                except (OSError, asyncio.IncompleteReadError) as err:  # refused, reset, cut short, not HTTP, TLS
                    problem, reason = f"{type(err).__name__}: {_short(err)}", "connection"
                else:
                    self.stats[f"http_{reply.status}"] += 1
                    if reply.status == 200:
                        try:
                            return parse(json.loads(reply.body))
                        except (ValueError, LookupError, TypeError) as err:  # a reply is untrusted data
                            problem, reason = f"malformed reply ({_short(err)})", "malformed"
                    elif reply.status in REFUSED_STATUSES:
                        self.stats["refused"] += 1
                        raise EndpointRefused(
                            f"{self.url} answered HTTP {reply.status} ({_detail(reply)}); check the URL, the model "
                            f"name and the key in ${self.api_key_env}"
                        )
                    elif reply.status in RETRY_STATUSES:
                        problem, reason = f"HTTP {reply.status} ({_detail(reply)})", f"http_{reply.status}"
                        retry_after = reply.headers.get("retry-after")
                    else:
                        self.stats["failures"] += 1
                        raise RequestFailed(
                            f"{self.url} answered HTTP {reply.status}: {_detail(reply)}", f"http_{reply.status}"
                        )
            if attempt == self.retry.max_retries:
                break
            wait = self.retry.delay(attempt, retry_after)
            if loop.time() + wait >= ends_at:
                problem += f"; the next try (in {wait:.3g} s) would pass the {self.deadline} s deadline"
                reason = "deadline" if reason in ("timeout", "connection") else reason
                break
            await asyncio.sleep(wait)
        self.stats["failures"] += 1
        raise RequestFailed(f"{self.url}: gave up after {attempt + 1} attempt(s); last problem: {problem}", reason)

    def close(self) -> None:
        """Close the connections and stop the loop thread (a later call starts them again)."""
        with self._start_lock:
            loop, self._loop = self._loop, None
        if loop is None or self._pid != os.getpid():
            return
        pool = self._pool
        loop.call_soon_threadsafe(pool.close)
        loop.call_soon_threadsafe(loop.stop)
        self._thread.join(timeout=5)
        loop.close()


def _settle(future: Future, task: asyncio.Task) -> None:
    """Copy a finished task's outcome into the caller's future (unless the caller cancelled it meanwhile)."""
    try:
        if task.cancelled():
            future.cancel()
        elif task.exception() is not None:
            future.set_exception(task.exception())
        else:
            future.set_result(task.result())
    except InvalidStateError:  # cancelled by the caller between the check and the set
        pass


def _cancel_task(loop: asyncio.AbstractEventLoop, task: asyncio.Task, future: Future) -> None:
    if future.cancelled() and not loop.is_closed():
        loop.call_soon_threadsafe(task.cancel)


def _short(err: BaseException) -> str:
    return str(err)[:200] or type(err).__name__


def _detail(reply: HTTPReply) -> str:
    """The first 200 characters of an error body: servers explain there what was wrong."""
    return reply.body[:200].decode("utf-8", errors="replace").strip() or "no body"


__all__ = [
    "DEFAULT_API_KEY_ENV",
    "ChatClient",
    "ChatError",
    "ChatSettings",
    "EndpointRefused",
    "MalformedReply",
    "ProtocolError",
    "RequestFailed",
    "reply_message",
    "reply_text",
]
