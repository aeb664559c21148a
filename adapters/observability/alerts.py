"""Admin alerts: staff hear when dead letters grow or the Inspector circuit breaker opens.

By email to ALERT_EMAIL and/or WhatsApp text to ALERT_PHONES (free-form text only reaches a phone that wrote
to the bot in the last 24 hours: staff keep that window open, or read the email). Each kind of alert is sent
at most once per ALERT_THROTTLE_SECONDS across all processes (a Redis key with that TTL), so an outage
gives one message, not one per minute per process.

`AlertWatchdog` checks every `interval` seconds: dead-letter counts against the last ones seen (kept in
Redis, so a restart does not re-alert old entries), and the breaker of this process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from adapters.email.sender import EmailSender
from adapters.privacy import mask_email, mask_phone
from engine.messages import OutboundMessage

log = logging.getLogger(__name__)


class AdminAlerts:
    def __init__(self, redis: Any, *, emails: Sequence[str] = (), phones: Sequence[str] = (),
                 email: EmailSender | None = None, sender: Any = None, throttle_seconds: int = 1800,
                 prefix: str = "inspector:alerts") -> None:
        self.redis = redis
        self.emails = [e for e in emails if e] if email is not None else []
        self.phones = [p for p in phones if p] if sender is not None else []
        self.email = email
        self.sender = sender
        self.throttle_seconds = max(1, throttle_seconds)
        self.prefix = prefix

    @property
    def enabled(self) -> bool:
        return bool(self.emails or self.phones)

    async def alert(self, kind: str, text: str) -> bool:
        """Send `text` to every recipient unless `kind` was alerted within the throttle; True when sent."""
        if not self.enabled:
            return False
        if not await self.redis.set(f"{self.prefix}:throttle:{kind}", b"1", nx=True, ex=self.throttle_seconds):
            log.info("alert %s throttled", kind)
            return False
        log.warning("admin alert %s: %s", kind, text)
        for address in self.emails:
            assert self.email is not None  # emails is empty without a sender
            try:
                await self.email.send(to=address, subject=f"[Inspector WhatsApp bot] {kind}", text=text)
            except Exception as exc:  # one failed channel must not stop the others
                log.error("alert email to %s failed: %s", mask_email(address), type(exc).__name__)
        for phone in self.phones:
            result = await self.sender.send(OutboundMessage(to=phone, text=f"⚠️ {text}"))
            if not getattr(result, "ok", True) and not getattr(result, "queued", False):
                log.error("alert WhatsApp to %s failed: %s", mask_phone(phone), getattr(result, "error_code", "?"))
        return True

    async def check(self, dead_letters: dict[str, int], breaker_state: str) -> list[str]:
        """Alert on dead-letter lists that grew since the last check and on an open breaker; returns kinds sent."""
        sent = []
        for queue, count in dead_letters.items():
            key = f"{self.prefix}:dead-seen"
            previous = await self.redis.hget(key, queue)
            await self.redis.hset(key, queue, count)
            if previous is not None and count > int(previous):
                text = (f"{count - int(previous)} new dead letter(s) in {queue} ({count} in all). "
                        "See DEPLOYMENT.md, troubleshooting.")
                if await self.alert(f"dead_letters_{queue}", text):
                    sent.append(f"dead_letters_{queue}")
        if breaker_state == "open":
            text = "The Inspector API is failing: the circuit breaker is open, users see 'try again later'."
            if await self.alert("inspector_breaker_open", text):
                sent.append("inspector_breaker_open")
        return sent


class AlertWatchdog:
    """Runs `AdminAlerts.check` every `interval` seconds as a background task of this process."""

    def __init__(self, alerts: AdminAlerts, dead_letters: Callable[[], Awaitable[dict[str, int]]],
                 breaker_state: Callable[[], str], *, interval: float = 30.0) -> None:
        self.alerts = alerts
        self.dead_letters = dead_letters
        self.breaker_state = breaker_state
        self.interval = interval
        self._task: asyncio.Task[None] | None = None

    async def tick(self) -> list[str]:
        return await self.alerts.check(await self.dead_letters(), self.breaker_state())

    def start(self) -> None:
        if self.alerts.enabled and self._task is None:
            self._task = asyncio.create_task(self._run(), name="alert-watchdog")

    async def _run(self) -> None:
        while True:
            try:
                await self.tick()
            except Exception as exc:  # Redis down: try again next time, the outage has its own alerts
                log.warning("alert check failed: %s", type(exc).__name__)
            await asyncio.sleep(self.interval)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
