"""Delivering a user's committed replies to WhatsApp, in order, with a bounded number of copies.

Each reply is sent at least once and at most twice:
- 429, 5xx and throttling codes are retried with backoff (only this user's later replies wait);
- a timeout is never retried blindly: the attempt is first recorded in Redis, then one more try is made
  with a longer timeout, and that is the last (Meta may have received the first one);
- a reply recovered from a dead process's outbox may already have been sent: it gets one try, no retry;
- permanent errors (131047 outside the 24-hour window, 131026 undeliverable, ...) are recorded, not retried.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from adapters.backoff import backoff_delay
from adapters.privacy import mask_phone
from adapters.whatsapp.outbound import Sender, SendResult
from adapters.whatsapp.redis_health import REDIS_ERRORS
from adapters.whatsapp.stats import WebhookStats
from adapters.whatsapp.turns import OutboxItem, UserTurns

log = logging.getLogger(__name__)


@dataclass(slots=True)
class DeliveryOptions:
    retry_attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 15.0
    sleep: Callable[[float], Awaitable[None]] = field(default=asyncio.sleep)


class Deliverer:
    def __init__(self, sender: Sender, turns: UserTurns, *, stats: WebhookStats,
                 options: DeliveryOptions | None = None) -> None:
        self.sender = sender
        self.turns = turns
        self.stats = stats
        self.options = options or DeliveryOptions()

    async def deliver(self, phone: str, items: Sequence[OutboxItem], *, offset: int = 0) -> list[SendResult]:
        """Send outbox items in order; `offset` is where the first sits in the user's outbox list (items
        already delivered whose trim is still to come precede it). The caller trims afterwards."""
        return [await self._send(phone, offset + index, item) for index, item in enumerate(items)]

    async def _send(self, phone: str, index: int, item: OutboxItem) -> SendResult:
        message = item.message
        if item.attempts > 0:  # may have reached Meta before its sender died: one more try at most
            self.stats.resent += 1
            return self._count(await self.sender.send_once(message, patient=True), message.to)
        result = await self.sender.send_once(message)
        attempt = 1
        while not result.ok:
            if result.timed_out:
                try:
                    await self.turns.mark_attempt(phone, index, item)
                except REDIS_ERRORS:  # unmarked, a takeover may send it a third time: rare, and logged
                    log.warning("could not record a timed-out attempt to %s", mask_phone(message.to))
                self.stats.send_timeouts += 1
                log.warning("sending %s to %s timed out; one more try with a longer timeout", message.kind,
                            mask_phone(message.to))
                result = await self.sender.send_once(message, patient=True)
                result.attempts = attempt + 1
                break
            if not result.retryable or attempt > self.options.retry_attempts:
                break
            await self.options.sleep(backoff_delay(attempt, base=self.options.base_delay, cap=self.options.max_delay))
            self.stats.retried_sends += 1
            result = await self.sender.send_once(message)
            attempt += 1
            result.attempts = attempt
        return self._count(result, message.to)

    def _count(self, result: SendResult, to: str) -> SendResult:
        if result.ok:
            self.stats.sent += 1
            self.stats.metrics.reply_sent(result.kind)
        else:
            self.stats.send_failed += 1
            self.stats.metrics.send_failed(result.error_code or result.error or None)
            self.stats.send_errors[str(result.error_code or result.error or "unknown")] += 1
            log.warning("reply to %s not delivered after %d attempt(s): %s %s", mask_phone(to), result.attempts,
                        result.error_code or "", result.error)
        return result
