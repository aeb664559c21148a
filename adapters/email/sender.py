"""The `EmailSender` protocol and the retry loop around a single "deliver this email" step.

A sender builds an `email.message.EmailMessage` and hands it to a `Deliver` callable. Today that
callable talks SMTP; a background job queue can take the step over later by injecting a `deliver`
that enqueues the message instead, without touching the callers.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from email.message import EmailMessage
from typing import Protocol

from tenacity import AsyncRetrying, RetryCallState, stop_after_attempt, wait_exponential

log = logging.getLogger(__name__)

Deliver = Callable[[EmailMessage], Awaitable[None]]
Sleep = Callable[[float], Awaitable[None]]


class EmailSendError(Exception):
    """The email could not be delivered, even after retrying. Never carries the message body."""


class EmailSender(Protocol):
    """Sends one plain-text email. Raises `EmailSendError` when it finally gives up."""

    async def send(self, *, to: str, subject: str, text: str) -> None: ...


def build_message(*, sender: str, to: str, subject: str, text: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message.set_content(text)
    return message


async def deliver_with_retry(
    deliver: Deliver,
    message: EmailMessage,
    *,
    attempts: int = 3,
    backoff: float = 0.5,
    sleep: Sleep = asyncio.sleep,
) -> None:
    """Call `deliver` up to `attempts` times, doubling the pause after each failure (tenacity runs the loop).

    Logs only the exception type (never recipients or content); raises `EmailSendError` at the end.
    """

    def before_sleep(state: RetryCallState) -> None:
        failed = state.outcome.exception() if state.outcome is not None else None
        log.warning("email delivery failed (attempt %d/%d): %s", state.attempt_number, attempts,
                    type(failed).__name__)

    retrying = AsyncRetrying(stop=stop_after_attempt(attempts), wait=wait_exponential(multiplier=backoff, max=60),
                             sleep=sleep, before_sleep=before_sleep, reraise=True)
    try:
        await retrying(deliver, message)
    except Exception as exc:  # noqa: BLE001 - any transport failure is retried the same way
        log.warning("email delivery failed (attempt %d/%d): %s", attempts, attempts, type(exc).__name__)
        raise EmailSendError(f"email not delivered after {attempts} attempts") from exc
