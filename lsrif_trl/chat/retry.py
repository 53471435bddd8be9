"""When a chat request is tried again: the retryable statuses and the backoff schedule (capped `Retry-After`)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

# Worth another try: request timeout, conflict, too early, rate limit, server-side failures.
RETRY_STATUSES = frozenset({408, 409, 425, 429, 500, 502, 503, 504})
# Wrong key, no permission, wrong URL or model: every call would fail the same way, so the caller stops.
REFUSED_STATUSES = frozenset({401, 403, 404})


ENDPOINTS = ("chat/completions", "completions")  # chat messages; raw text continued as it is


def chat_completions_url(base_url: str, endpoint: str = "chat/completions") -> str:
    """The URL of `endpoint` (one of ENDPOINTS) on a server given by its `/v1` base or by either endpoint's URL."""
    if endpoint not in ENDPOINTS:
        raise ValueError(f"endpoint: expected one of {list(ENDPOINTS)}, got {endpoint!r}")
    base = base_url.rstrip("/")
    known = next((e for e in ENDPOINTS if base.endswith(f"/{e}")), None)
    if known:
        base = base[: -len(known) - 1]
    return f"{base}/{endpoint}"


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter, capped at `max_backoff`; a numeric `Retry-After` is honoured up to that cap.

    delay(attempt) = min(max_backoff, initial_backoff * 2**attempt) * U(0.5, 1)."""

    max_retries: int = 3
    initial_backoff: float = 1.0
    max_backoff: float = 30.0
    rng: random.Random = field(default_factory=random.Random, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.max_retries < 0 or self.initial_backoff < 0 or self.max_backoff < 0:
            raise ValueError(f"retries and backoff must be >= 0, got {self}")

    def delay(self, attempt: int, retry_after: str | None = None) -> float:
        """Seconds to wait before retry number `attempt` (0-based)."""
        if retry_after is not None:
            try:
                return min(self.max_backoff, max(0.0, float(retry_after)))
            except ValueError:
                pass  # an HTTP date: fall back to our own schedule
        return min(self.max_backoff, self.initial_backoff * 2**attempt) * self.rng.uniform(0.5, 1.0)
