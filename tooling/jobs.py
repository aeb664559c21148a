"""Background jobs inside a conversation test: run what is due on the test clock, and show the user what
the jobs sent them as the bot's next turn, so a reminder or a notice is tested like any other reply.

```yaml
      - advance: 2d
      - jobs: run                 # every queued job due by the test clock (reminders, notices)
      - bot: {says: "⏰ Reminder", buttons: [Call agent, Get directions, My bookings]}
      - user: {button: Get directions}
      - jobs: sweep_reminders     # enqueue a cron job by name now, then run what is due
```

The jobs are the worker's own functions on the world's Redis, called one at a time in due order (a retry
is not repeated: the test sees the first try). Messages go to a sender that keeps them; the test user is
taken to have written a minute ago (inside WhatsApp's 24-hour window), so they get the free-form text.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from arq.constants import job_key_prefix
from arq.jobs import deserialize_job
from arq.worker import Retry

from adapters.jobs.context import JobContext
from adapters.jobs.worker import job_functions
from adapters.whatsapp.outbound import SendResult
from app.jobs import build_job_context
from engine.messages import OutboundMessage

log = logging.getLogger(__name__)

MAX_ROUNDS = 5  # jobs may enqueue jobs (a reminder's retry, a notice): run those too, a few rounds deep


@dataclass
class KeptSender:
    """A WhatsApp sender that keeps every message instead of sending it."""

    sent: list[OutboundMessage] = field(default_factory=list)

    async def send(self, message: OutboundMessage) -> SendResult:
        self.sent.append(message)
        return SendResult(message.to, message.kind, True, wamid=f"wamid.test.{len(self.sent)}")

    async def send_once(self, message: OutboundMessage, *, patient: bool = False) -> SendResult:
        return await self.send(message)

    async def mark_read(self, wamid: str) -> None:
        return None

    async def aclose(self) -> None:
        return None


async def run_due_jobs(world: Any, phone: str, enqueue: str | None = None) -> list[OutboundMessage]:
    """Run every job due by the world's clock (after enqueueing `enqueue` by name); what `phone` was sent."""
    jobs = _context(world)
    sender: KeptSender = jobs.sender  # type: ignore[assignment]
    first = len(sender.sent)
    await world.runtime.linking.record_inbound(phone, None, world.clock().replace(microsecond=0))
    if enqueue:
        await jobs.scheduler.enqueue(enqueue)  # due now by the world's clock, which is the scheduler's
    functions = {f.name: f.coroutine for f in job_functions(world.runtime.settings)}
    queue, name = jobs.scheduler.queue, jobs.scheduler.queue_name
    for _ in range(MAX_ROUNDS):
        due = await queue.zrangebyscore(name, "-inf", int(world.clock().timestamp() * 1000), withscores=True)
        if not due:
            break
        found = []
        for raw, score in due:
            data = await queue.get(job_key_prefix + raw.decode())
            found.append((score, deserialize_job(data).enqueue_time if data else 0, raw.decode(), data))
        # Jobs due at the same instant of the test clock (two notices of one turn) run in the order they were
        # enqueued, not in the order of their ids.
        for _, _, job_id, data in sorted(found):
            removed = await queue.zrem(name, job_id)  # 0: an earlier job of this round took it off the queue
            await queue.delete(job_key_prefix + job_id)
            if data is None or not removed:
                continue
            job = deserialize_job(data)
            try:
                await functions[job.function]({"jobs": jobs, "job_id": job_id, "job_try": 1}, *job.args, **job.kwargs)
            except Retry:
                log.info("job %s asked for a retry; a conversation test sees the first try only", job_id)
    return [m for m in sender.sent[first:] if m.to == phone]


def _context(world: Any) -> JobContext:
    if getattr(world, "jobs", None) is None:
        world.jobs = build_job_context(world.runtime, sender=KeptSender(),
                                       scheduler=world.runtime.extras["jobs.scheduler"],
                                       deliver_email=_no_email, clock=world.clock)
    return world.jobs


async def _no_email(message: Any) -> None:
    return None
