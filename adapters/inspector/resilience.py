"""Retry timing and the circuit breaker that make an Inspector outage fail fast instead of piling up."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Literal

from tenacity import RetryCallState

from adapters.inspector.errors import InspectorError

BreakerState = Literal["closed", "open", "half_open"]


@dataclass
class CircuitBreaker:
    """`threshold` consecutive failed attempts open the circuit for `reset_after` seconds.

    After that one probe is let through (half-open): its success closes the circuit, its failure opens
    it again. While open, or while the probe is in flight, `allow()` is False and callers fail fast.
    """

    threshold: int = 5
    reset_after: float = 30.0
    clock: Callable[[], float] = time.monotonic
    failures: int = 0
    opened_at: float | None = None
    _probing: bool = field(default=False, repr=False)

    @property
    def state(self) -> BreakerState:
        if self.opened_at is None:
            return "closed"
        if self.clock() - self.opened_at >= self.reset_after:
            return "half_open"
        return "open"

    def allow(self) -> bool:
        state = self.state
        if state == "closed":
            return True
        if state == "half_open" and not self._probing:
            self._probing = True
            return True
        return False

    def record_success(self) -> None:
        self.failures = 0
        self.opened_at = None
        self._probing = False

    def record_failure(self) -> None:
        self.failures += 1
        if self._probing or self.failures >= self.threshold:
            self.opened_at = self.clock()
        self._probing = False

    def release(self) -> None:
        """A call that was let through ended without telling anything about Inspector's health."""
        self._probing = False


class RetryableFailure(Exception):
    """One failed attempt worth another: the error to raise if it was the last, and a 429's Retry-After."""

    def __init__(self, error: InspectorError, retry_after: str | None = None) -> None:
        super().__init__(str(error))
        self.error = error
        self.retry_after = retry_after


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with full jitter: attempt n waits uniform(0, min(cap, base * 2**n)).

    Also a tenacity wait strategy: after a 429 it waits what Retry-After says (capped)."""

    base: float = 0.2
    cap: float = 3.0
    retry_after_cap: float = 10.0
    rng: random.Random = field(default_factory=random.Random)

    def __call__(self, state: RetryCallState) -> float:
        attempt = state.attempt_number - 1
        failed = state.outcome.exception() if state.outcome is not None else None
        if isinstance(failed, RetryableFailure) and failed.retry_after is not None:
            return self.retry_after(failed.retry_after or None, attempt)
        return self.delay(attempt)

    def delay(self, attempt: int) -> float:
        return self.rng.uniform(0, min(self.cap, self.base * (2**attempt)))

    def retry_after(self, header: str | None, attempt: int) -> float:
        """Honour a 429's Retry-After (seconds or HTTP date), never waiting longer than the cap."""
        seconds = parse_retry_after(header)
        if seconds is None:
            return self.delay(attempt)
        return min(max(seconds, 0.0), self.retry_after_cap)


def parse_retry_after(header: str | None) -> float | None:
    if not header:
        return None
    header = header.strip()
    try:
        return float(header)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return None
    return when.timestamp() - time.time()
