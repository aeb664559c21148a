"""`JobContext`: what every job needs, built once per worker and found in arq's `ctx["jobs"]`.

Also the three things jobs share: who to send to, whether they are inside WhatsApp's 24-hour
window, and sending a notification at most once per job and recipient.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from arq.worker import Retry

from adapters.accounts.linking import LinkingService
from adapters.backoff import backoff_delay
from adapters.email.sender import Deliver
from adapters.inspector.client import InspectorClient
from adapters.jobs.scheduler import JobScheduler
from adapters.jobs.store import JobStore
from adapters.privacy import mask_phone
from adapters.settings import Settings
from adapters.whatsapp.outbound import Sender
from engine.interpreter import Engine

log = logging.getLogger(__name__)

WINDOW = timedelta(hours=24)


@dataclass
class JobContext:
    settings: Settings
    engine: Engine  # renders the `notifications:` of flows.yaml
    inspector: InspectorClient
    linking: LinkingService
    sender: Sender  # its retry hook enqueues `deliver_whatsapp` jobs
    deliver_email: Deliver  # one real delivery attempt (SMTP, or the console in development)
    store: JobStore
    scheduler: JobScheduler
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    retry_base: float = 5.0  # seconds before the 2nd try; doubled for each later one

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.settings.timezone)

    @property
    def max_tries(self) -> int:
        return max(1, self.settings.job_max_tries)

    def backoff(self, job_try: int) -> float:
        return backoff_delay(job_try, base=self.retry_base, cap=float("inf"), jitter=False)

    async def phones_by_user(self, role: str) -> dict[str, list[str]]:
        """Linked WhatsApp numbers of a role, by Inspector user id."""
        phones: dict[str, list[str]] = {}
        for user in await self.linking.linked_users(role):
            if user.inspector_user_id:
                phones.setdefault(user.inspector_user_id, []).append(user.phone)
        return phones

    async def in_window(self, phone: str) -> bool:
        """Inside WhatsApp's 24-hour customer-service window (the user wrote to us in the last 24 h)."""
        last = await self.linking.last_inbound(phone)
        if last is None:
            return False
        if last.tzinfo is None:
            last = last.replace(tzinfo=UTC)
        return self.clock() - last < WINDOW

    async def language_of(self, phone: str) -> str:
        """The recipient's language: their conversation's, else their account's ("" when unknown)."""
        conversation = await self.engine.store.load(phone)
        if conversation is not None and conversation.language:
            return conversation.language
        user = await self.linking.get_user(phone)
        return (user.language or "") if user is not None else ""

    async def notify(self, ctx: dict[str, Any], name: str, phone: str, values: dict[str, Any], marker: str) -> str:
        """Send notification `name` once per (`marker`, phone): 'sent', 'queued', 'duplicate' or 'failed'."""
        if not await self.store.claim(marker, phone):
            log.info("%s to %s already sent (%s)", name, mask_phone(phone), marker)
            return "duplicate"
        try:
            in_window = await self.in_window(phone)
            message = self.engine.notification(name, phone, values, in_window=in_window,
                                               language=await self.language_of(phone))
            result = await self.sender.send(message)
        except BaseException:
            await self.store.release(marker, phone)
            raise
        if result.ok:
            log.info("%s sent to %s as %s", name, mask_phone(phone), message.kind)
            return "sent"
        if result.queued:
            return "queued"
        await self.store.dead_letter(
            job_id=str(ctx.get("job_id", "?")), kind=f"notification:{name}", recipient=mask_phone(phone),
            error=f"{result.error_code} {result.error}".strip(), tries=result.attempts, now=self.clock(),
        )
        return "failed"

    async def retry_or_give_up(self, ctx: dict[str, Any], *, kind: str, recipient: str, error: str) -> str:
        """Raise arq's Retry with exponential backoff, or after the last try record a dead letter."""
        job_try = int(ctx.get("job_try") or 1)
        if job_try < self.max_tries:
            delay = self.backoff(job_try)
            log.info("job %s (%s) try %d/%d failed (%s); again in %.1fs", ctx.get("job_id"), kind, job_try,
                     self.max_tries, error, delay)
            raise Retry(defer=delay)
        await self.store.dead_letter(job_id=str(ctx.get("job_id", "?")), kind=kind, recipient=recipient,
                                     error=error, tries=job_try, now=self.clock())
        return "dead-lettered"


def jobs_of(ctx: dict[str, Any]) -> JobContext:
    return ctx["jobs"]
