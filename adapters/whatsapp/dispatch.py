"""From the inbox to the engine and back out: one serial queue per user, users in parallel.

Each entry is checked against its claim (at most once across processes), rate limited, handed to
`on_inbound` and the engine, then its replies are sent in order. An engine failure is retried with
backoff (the user's later messages wait, so order holds); after `max_attempts` the event goes to
the dead-letter list. Replies are sent after the entry is marked done, so a failed send never makes
the engine run a turn twice.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from adapters.observability.metrics import Metrics
from adapters.privacy import mask_phone
from adapters.whatsapp.inbound import describe
from adapters.whatsapp.inbox import Inbox, InboxEntry
from adapters.whatsapp.outbound import Sender, SendResult
from adapters.whatsapp.ratelimit import RateLimiter
from adapters.whatsapp.stats import WebhookStats
from engine.context import turn_scope
from engine.events import InboundEvent
from engine.messages import OutboundMessage
from engine.turn import ConversationEngine

log = logging.getLogger(__name__)

InboundHook = Callable[[InboundEvent], Awaitable[None]]
TurnHook = Callable[[InboundEvent, list[SendResult]], Awaitable[None]]


@dataclass(slots=True)
class DispatchOptions:
    max_attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 10.0
    concurrency: int = 64
    mark_read: bool = True
    sleep: Callable[[float], Awaitable[None]] = field(default=asyncio.sleep)


class Dispatcher:
    """Runs accepted events through the engine. `submit()` never blocks; `start()` recovers the inbox."""

    def __init__(
        self,
        engine: ConversationEngine,
        sender: Sender,
        inbox: Inbox,
        *,
        rate_limiter: RateLimiter | None = None,
        stats: WebhookStats | None = None,
        on_inbound: InboundHook | None = None,
        on_turn: TurnHook | None = None,
        options: DispatchOptions | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.engine = engine
        self.sender = sender
        self.inbox = inbox
        self.rate_limiter = rate_limiter
        self.stats = stats or WebhookStats()
        self.metrics = metrics or Metrics()
        self.on_inbound = on_inbound
        self.on_turn = on_turn
        self.options = options or DispatchOptions()
        self._queues: dict[str, deque[InboxEntry]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._side_tasks: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(self.options.concurrency)

    async def start(self) -> int:
        """Queue what this instance left in its inbox (after a restart). Returns how many."""
        pending = await self.inbox.pending()
        if pending:
            log.info("recovering %d event(s) left in inbox %s", len(pending), self.inbox.list_key)
            self.submit(pending)
        return len(pending)

    def submit(self, entries: Iterable[InboxEntry]) -> None:
        for entry in entries:
            phone = entry.event.phone
            self._queues.setdefault(phone, deque()).append(entry)
            if phone not in self._workers:
                self._workers[phone] = asyncio.create_task(self._work(phone), name=f"wa-user-{phone}")

    @property
    def queued_users(self) -> int:
        """Users with events queued or in progress in this process."""
        return len(self._workers)

    async def drain(self, timeout: float | None = None) -> bool:
        """Wait until every queued event is handled. True when idle, False on timeout."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while self._workers or self._side_tasks:
            left = None if deadline is None else deadline - loop.time()
            if left is not None and left <= 0:
                return False
            await asyncio.wait([*self._workers.values(), *self._side_tasks], timeout=left)
        return True

    async def stop(self, timeout: float = 5.0) -> None:
        """Finish what is queued within `timeout`; what is left stays in the inbox for the restart."""
        if not await self.drain(timeout):
            log.warning("stopping with %d user queue(s) unfinished; they stay in the inbox",
                        len(self._workers))
        for task in [*self._workers.values(), *self._side_tasks]:
            task.cancel()
        await asyncio.gather(*self._workers.values(), *self._side_tasks, return_exceptions=True)

    async def _work(self, phone: str) -> None:
        queue = self._queues[phone]
        try:
            while queue:
                entry = queue.popleft()
                try:
                    with turn_scope(entry.event.phone, entry.event.wamid or ""):  # correlates every log line
                        await self.process(entry)
                except asyncio.CancelledError:
                    raise
                except Exception:  # process() handles its own failures; this is a last guard
                    log.exception("unexpected failure dispatching %s", describe(entry.event))
        finally:
            self._workers.pop(phone, None)
            if not queue:
                self._queues.pop(phone, None)

    async def process(self, entry: InboxEntry) -> None:
        event = entry.event
        opts = self.options
        if not await self._retrying(lambda: self.inbox.owns(entry), entry, "checking the claim"):
            self.stats.duplicates += 1
            self.metrics.webhook_duplicates(1)
            log.info("duplicate %s skipped", describe(event))
            await self.inbox.discard(entry)
            return
        verdict = "ok"
        if self.rate_limiter is not None:
            verdict = await self._retrying(lambda: self.rate_limiter.hit(event.phone), entry, "rate limit")
        if verdict != "ok":
            self.stats.rate_limited += 1
            self.metrics.message_rate_limited()
            await self.inbox.done(entry)
            if verdict == "notify":
                log.info("rate limit reached for %s: one notice sent, further messages dropped",
                         mask_phone(event.phone))
                await self._deliver(event, [self.engine.notice(event.phone, "rate_limited")])
            return

        turn, error = None, ""
        for attempt in range(1, opts.max_attempts + 1):
            try:
                async with self._slots:
                    if self.on_inbound is not None:
                        await self.on_inbound(event)
                    turn = await self.engine.handle(event)
                break
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                error = f"{type(exc).__name__}: {exc}"[:300]
                if attempt == opts.max_attempts:
                    break
                self.stats.retried += 1
                delay = min(opts.max_delay, opts.base_delay * 2 ** (attempt - 1))
                log.warning("processing %s failed (attempt %d/%d), retrying in %.1fs: %s",
                            describe(event), attempt, opts.max_attempts, delay, error)
                await opts.sleep(delay)
        if turn is None:
            self.stats.failed += 1
            self.metrics.message_failed()
            log.error("processing %s failed %d times; moved to dead letters %s: %s",
                      describe(event), opts.max_attempts, self.inbox.dead_key, error)
            await self.inbox.dead_letter(entry, error)
            return

        await self.inbox.done(entry)
        self.stats.processed += 1
        self.metrics.message_processed(turn.flow, turn.state)
        if opts.mark_read and event.wamid and turn.messages:
            self.spawn(self.sender.mark_read(event.wamid))
        results = await self._deliver(event, turn.messages)
        self.metrics.turn_finished(time.time() - entry.received_at)
        if self.on_turn is not None:
            try:
                await self.on_turn(event, results)
            except Exception:
                log.exception("on_turn hook failed for %s", describe(event))

    async def _deliver(self, event: InboundEvent, messages: list[OutboundMessage]) -> list[SendResult]:
        results = []
        for message in messages:
            result = await self.sender.send(message)
            results.append(result)
            if result.ok or result.queued:
                self.stats.sent += 1
                self.metrics.reply_sent(message.kind)
            else:
                self.stats.send_failed += 1
                self.metrics.send_failed(result.error_code or result.error or None)
                self.stats.send_errors[str(result.error_code or result.error or "unknown")] += 1
        return results

    async def _retrying(self, call, entry: InboxEntry, what: str):
        """Redis bookkeeping with a few quick retries; raises after that (the entry stays in the inbox)."""
        for attempt in range(3):
            try:
                return await call()
            except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
                if attempt == 2:
                    raise
                log.warning("redis error while %s for %s: %s", what, describe(entry.event), exc)
                await self.options.sleep(0.1 * 2**attempt)

    def spawn(self, coro: Awaitable[None]) -> None:
        """Run a side job (read receipt, status hook) that `drain()` and `stop()` wait for."""
        task = asyncio.ensure_future(coro)
        self._side_tasks.add(task)
        task.add_done_callback(self._side_tasks.discard)
