"""Sending a broadcast: paced, inside or outside the 24-hour window, resumable, nobody twice.

`BroadcastRunner.run(id)` takes the broadcast's lease, then claims recipients one by one (the claim comes
before the send), starts each send at the pacer's rate and at most `concurrency` at a time, and records every
outcome. A graceful stop (cancellation: the worker shutting down, Ctrl-C) lets the sends in flight finish and
be recorded; the rest stays queued for the next run. `budget` bounds one run, so a long broadcast is a chain of
short jobs that a restarted worker picks up.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from adapters.broadcast.pacer import Pacer
from adapters.broadcast.store import BroadcastMessage, BroadcastStore
from adapters.privacy import mask_phone
from engine.messages import OutboundMessage, TemplateRef

log = logging.getLogger(__name__)

WINDOW = timedelta(hours=24)
LastInbound = Callable[[str], Awaitable[datetime | None]]
Progress = Callable[[dict[str, Any]], None]


@dataclass
class RunOutcome:
    finished: bool
    attempted: int


class BroadcastRunner:
    def __init__(self, store: BroadcastStore, sender: Any, last_inbound: LastInbound, *, rate: float = 80.0,
                 concurrency: int = 32, clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 pacer: Pacer | None = None, lease_ms: int = 60_000) -> None:
        self.store = store
        self.sender = sender
        self.last_inbound = last_inbound
        self.rate = rate
        self.concurrency = max(1, concurrency)
        self.clock = clock
        self.pacer = pacer
        self.lease_ms = lease_ms
        self.owner = uuid.uuid4().hex

    async def message_for(self, phone: str, message: BroadcastMessage) -> OutboundMessage | None:
        """Text inside the window, the template outside; None when the only option is not allowed."""
        last = await self.last_inbound(phone)
        if last is not None and last.tzinfo is None:
            last = last.replace(tzinfo=UTC)
        inside = last is not None and self.clock() - last < WINDOW
        if message.text and (inside or not message.template):
            return OutboundMessage(to=phone, text=message.text) if inside else None
        if message.template:
            return OutboundMessage(to=phone, kind="template", text=message.text,
                                   template=TemplateRef(message.template, message.language, list(message.params)))
        return None

    async def run(self, broadcast_id: str, *, budget: float | None = None,
                  on_progress: Progress | None = None) -> RunOutcome:
        if not await self.store.lease(broadcast_id, self.owner, self.lease_ms):
            log.info("broadcast %s is already running elsewhere", broadcast_id)
            return RunOutcome(False, 0)
        if (await self.store.progress(broadcast_id))["status"] == "done":
            await self.store.release(broadcast_id, self.owner)
            return RunOutcome(True, 0)
        message = await self.store.message(broadcast_id)
        await self.store.set_status(broadcast_id, "running")
        pacer = self.pacer or Pacer(self.rate)
        slots = asyncio.Semaphore(self.concurrency)
        in_flight: set[asyncio.Task[None]] = set()
        started, attempted, finished = time.monotonic(), 0, False
        try:
            while budget is None or time.monotonic() - started < budget:
                await slots.acquire()
                await pacer.wait()
                claim = asyncio.ensure_future(self.store.next_recipient(broadcast_id))
                try:
                    phone = await asyncio.shield(claim)
                except asyncio.CancelledError:  # stopping: a recipient claimed just now is still sent
                    phone = await claim
                    if phone is not None:
                        in_flight.add(asyncio.ensure_future(
                            self._send(broadcast_id, phone, message, slots, on_progress)))
                    raise
                if phone is None:
                    slots.release()
                    finished = True
                    break
                attempted += 1
                task = asyncio.create_task(self._send(broadcast_id, phone, message, slots, on_progress))
                in_flight.add(task)
                task.add_done_callback(in_flight.discard)
                if attempted % 50 == 0:
                    await self.store.lease(broadcast_id, self.owner, self.lease_ms)
        finally:
            if in_flight:  # claimed recipients: finish their sends even when stopping, so none is lost
                await asyncio.shield(asyncio.gather(*in_flight, return_exceptions=True))
            if finished:
                await self.store.finish(broadcast_id)
            else:
                await self.store.set_status(broadcast_id, "interrupted" if budget is None else "running")
            await self.store.release(broadcast_id, self.owner)
        if on_progress is not None:
            on_progress(await self.store.progress(broadcast_id))
        return RunOutcome(finished, attempted)

    async def _send(self, broadcast_id: str, phone: str, message: BroadcastMessage, slots: asyncio.Semaphore,
                    on_progress: Progress | None) -> None:
        try:
            outbound = await self.message_for(phone, message)
            if outbound is None:
                await self.store.record(broadcast_id, False, "outside_window")
                return
            result = await self.sender.send(outbound)
            code = "" if result.ok or result.queued else str(result.error_code or result.error or "unknown")
            await self.store.record(broadcast_id, result.ok or result.queued, code)
            if code:
                log.info("broadcast %s to %s failed: %s", broadcast_id, mask_phone(phone), code)
        except Exception as exc:  # one recipient's failure is counted, never the end of the broadcast
            await self.store.record(broadcast_id, False, type(exc).__name__)
            log.exception("broadcast %s to %s crashed", broadcast_id, mask_phone(phone))
        finally:
            slots.release()
            if on_progress is not None:
                on_progress(await self.store.progress(broadcast_id))
