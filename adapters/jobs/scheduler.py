"""Putting jobs on the arq queue: reminders (deferred, replaceable, cancellable) and deliveries.

Job ids are deterministic where a duplicate must be harmless: a reminder's id is made of the
namespace, the inspection and its start time, so a retried or replayed booking enqueues nothing
new (arq refuses a second job with the same id), and several workers never run it twice.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any

from arq.connections import ArqRedis
from arq.constants import job_key_prefix

from adapters.jobs.store import DEFAULT_NAMESPACE
from adapters.privacy import mask_phone
from engine.messages import OutboundMessage

if TYPE_CHECKING:
    from engine.timeouts import Timer

log = logging.getLogger(__name__)

# A booking closer than the lead time gets its reminder at once, unless it starts within this.
MIN_NOTICE = timedelta(hours=1)
# How long a job not yet started is kept past its due time (arq's own default).
KEPT_PAST_DUE = timedelta(days=1)


def queue_name_for(namespace: str) -> str:
    return f"{namespace}:queue"


def parse_moment(value: datetime | str) -> datetime:
    """An aware UTC datetime from a datetime or an ISO string (a naive one is taken as UTC)."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value).strip())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def duration_text(span: timedelta) -> str:
    """`24 hours`, `1 hour`, `30 minutes`, `2 days`: a lead time as people say it."""
    minutes = int(span.total_seconds() // 60)
    for size, unit in ((1440, "day"), (60, "hour"), (1, "minute")):
        if minutes >= size and (minutes % size == 0 or unit == "minute") and not (unit == "day" and minutes < 2880):
            count = minutes // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return "a moment"


class JobScheduler:
    """Enqueues the jobs the web process (actions, retry hooks) hands to the workers."""

    def __init__(
        self,
        queue: ArqRedis,
        *,
        namespace: str = DEFAULT_NAMESPACE,
        lead: timedelta = timedelta(hours=24),
        min_notice: timedelta = MIN_NOTICE,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.queue = queue
        self.namespace = namespace
        self.queue_name = queue_name_for(namespace)
        self.lead = lead
        self.min_notice = min_notice
        self.clock = clock

    # -- reminders --------------------------------------------------------------------------------

    def reminder_job_id(self, inspection_id: str, starts_at: datetime) -> str:
        return f"{self.namespace}:reminder:{inspection_id}:{starts_at:%Y%m%dT%H%M%SZ}"

    def _pointer(self, inspection_id: str) -> str:
        return f"{self.namespace}:reminder-of:{inspection_id}"

    def reminder_time(self, starts_at: datetime) -> datetime | None:
        """When to remind: `lead` before; at once when that is past but the start is > min_notice away."""
        now = self.clock()
        if starts_at - now > self.lead:
            return starts_at - self.lead
        if starts_at - now > self.min_notice:
            return now
        return None

    async def schedule_reminder(self, inspection_id: str, starts_at: datetime | str) -> dict[str, Any]:
        """Schedule (or keep, or replace) the reminder of one inspection. Safe to call twice."""
        inspection_id = str(inspection_id)
        starts = parse_moment(starts_at)
        job_id = self.reminder_job_id(inspection_id, starts)
        previous = await self.queue.get(self._pointer(inspection_id))
        if previous is not None and previous.decode() != job_id:
            await self._drop(previous.decode())  # rebooked at another time: the old reminder goes
        at = self.reminder_time(starts)
        # What the rule decided, for the confirmation text ("We'll remind you 24 hours before").
        rule = {"lead_text": duration_text(self.lead), "min_notice_text": duration_text(self.min_notice)}
        if at is None:
            await self.queue.delete(self._pointer(inspection_id))
            log.info("no reminder for inspection %s: it starts within %s", inspection_id, self.min_notice)
            return {"scheduled": False, "job_id": None, "at": None, "immediate": False, **rule}
        job = await self._enqueue("send_inspection_reminder", inspection_id, starts.isoformat(), job_id=job_id, at=at)
        ttl = max(int((starts - self.clock()).total_seconds()) + 86_400, 60)
        await self.queue.set(self._pointer(inspection_id), job_id, ex=ttl)
        log.info("reminder for inspection %s %s for %s", inspection_id,
                 "scheduled" if job is not None else "already scheduled", at.isoformat())
        return {"scheduled": True, "job_id": job_id, "at": at.isoformat(), "new": job is not None,
                "immediate": starts - at < self.lead, **rule}

    async def cancel_reminder(self, inspection_id: str) -> bool:
        """Drop the pending reminder of an inspection; False when there was none."""
        pointer = self._pointer(str(inspection_id))
        job_id = await self.queue.get(pointer)
        await self.queue.delete(pointer)
        if job_id is None:
            return False
        dropped = await self._drop(job_id.decode())
        log.info("reminder for inspection %s cancelled (%s)", inspection_id, "dropped" if dropped else "not queued")
        return dropped

    async def _drop(self, job_id: str) -> bool:
        """Take a job that has not started off the queue. (arq's Job.abort would first run a deferred
        job at once and wait for it; the reminder job also re-checks the inspection, so a job that
        already started sends nothing for a cancelled inspection.)"""
        async with self.queue.pipeline(transaction=True) as pipe:
            pipe.zrem(self.queue_name, job_id)
            pipe.delete(job_key_prefix + job_id)
            removed, _ = await pipe.execute()
        return bool(removed)

    # -- notices about one inspection ----------------------------------------------------------------

    async def enqueue_notice(self, function: str, inspection_id: str, change: str, *, key: str = "",
                             extra: tuple[str, ...] = ()) -> dict[str, Any]:
        """Run `send_booking_notice` / `send_inspection_update` at once, under a deterministic job id, so a
        replayed booking or a double tap enqueues the notice once; `extra` goes to the job as more arguments."""
        job_id = f"{self.namespace}:{function}:{inspection_id}:{change}{':' + key if key else ''}"
        job = await self._enqueue(function, str(inspection_id), change, *extra, job_id=job_id)
        return {"job_id": job_id, "new": job is not None}

    # -- deliveries ------------------------------------------------------------------------------

    async def enqueue_whatsapp(self, message: OutboundMessage, *, reason: str = "", defer: float = 1.0) -> str:
        """Hand a message that failed with a retryable error to a `deliver_whatsapp` job."""
        job_id = f"{self.namespace}:wa:{uuid.uuid4().hex}"
        await self._enqueue("deliver_whatsapp", message.to_dict(), reason, job_id=job_id,
                            at=self.clock() + timedelta(seconds=defer))
        log.info("%s to %s queued for retry as job %s (%s)", message.kind, mask_phone(message.to), job_id, reason)
        return job_id

    async def enqueue_email(self, message: EmailMessage, *, not_after: datetime | None = None) -> str:
        """Hand an email to a `deliver_email` job (tried until `not_after`, e.g. the code's expiry)."""
        job_id = f"{self.namespace}:email:{uuid.uuid4().hex}"
        deadline = parse_moment(not_after).isoformat() if not_after else None
        await self._enqueue("deliver_email", bytes(message), deadline, job_id=job_id)
        return job_id

    # -- conversation timeouts --------------------------------------------------------------------

    async def schedule_timeouts(self, timers: list[Timer]) -> list[str]:
        """One deferred `conversation_timeout` job per timer; ids name the commit, so repeats are no-ops. Due
        by the scheduler's clock (not arq's wall clock), so a test clock moved on by `advance:` makes it due."""
        ids = []
        now = self.clock()
        for timer in timers:
            job_id = f"{self.namespace}:timeout:{timer.phone}:{timer.stamp!r}:{timer.index}"
            await self._enqueue("conversation_timeout", timer.phone, timer.flow, timer.state, timer.stamp,
                                timer.index, job_id=job_id, at=now + timedelta(seconds=timer.delay))
            ids.append(job_id)
        return ids

    async def enqueue_broadcast(self, broadcast_id: str, part: int, *, after: float = 0.0) -> None:
        """Part `part` of a broadcast's sending, `after` seconds from now (by this scheduler's clock); the id
        names the part, so a part is queued once."""
        await self._enqueue("send_broadcast", broadcast_id, part, job_id=f"broadcast:{broadcast_id}:{part}",
                            at=self.clock() + timedelta(seconds=after))

    async def enqueue(self, function: str, *args: Any, **kwargs: Any) -> str:
        """Run a job by name now (e.g. `send_daily_digests` by hand); returns its job id."""
        job_id = f"{self.namespace}:{function}:{uuid.uuid4().hex}"
        await self._enqueue(function, *args, job_id=job_id, **kwargs)
        return job_id

    async def _enqueue(self, function: str, *args: Any, job_id: str, at: datetime | None = None,
                       **kwargs: Any) -> Any:
        """Put a job on the queue, due at `at` (now when None) by the scheduler's clock, kept a day past that.

        arq would stamp a job that is not deferred with the wall clock, and count a deferred job's lifetime
        from it: the same thing in production, where the clock is the wall clock, but a conversation test's
        clock is pinned days away from it, and there jobs due "now" never came due (or could not be stored:
        a job due more than a day before the wall clock gets a negative lifetime)."""
        now = self.clock()
        due = now if at is None else at
        return await self.queue.enqueue_job(function, *args, _job_id=job_id, _queue_name=self.queue_name,
                                            _defer_until=due, _expires=max(due - now, timedelta(0)) + KEPT_PAST_DUE,
                                            **kwargs)
