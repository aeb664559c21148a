"""Draining one partition: read its stream, run each user's events in order, users in parallel.

The consumer holds the partition's lease (see `leases`). Per event: load (one round trip) -> the
engine's turn -> commit state + replies + applied-mark (one round trip) -> deliver the replies -> ack.
A user whose Inspector call or Graph send is slow holds up only their own later events. Redis errors are
retried with backoff until Redis answers again: an accepted event is never dropped.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from adapters.backoff import backoff_delay
from adapters.privacy import mask_phone
from adapters.whatsapp.delivery import Deliverer
from adapters.whatsapp.flusher import Flusher
from adapters.whatsapp.inbox import InboxEntry, StreamInbox, entry_after
from adapters.whatsapp.outbound import SendResult
from adapters.whatsapp.redis_health import REDIS_ERRORS, RedisHealth
from adapters.whatsapp.stats import WebhookStats
from adapters.whatsapp.turns import ALREADY_APPLIED, CONFLICT, OutboxItem, UserTurns
from engine.context import turn_scope
from engine.conversation import Conversation
from engine.events import InboundEvent
from engine.messages import OutboundMessage
from engine.turn import ConversationEngine, Turn

log = logging.getLogger(__name__)

T = TypeVar("T")
InboundHook = Callable[[InboundEvent], Awaitable[None]]
TurnHook = Callable[[InboundEvent, list[SendResult]], Awaitable[None]]


@dataclass(slots=True)
class ConsumerOptions:
    read_count: int = 100
    block_ms: int = 250  # a newly owned partition joins the shared read within this
    max_attempts: int = 4  # engine failures (not Redis) before the event is dead-lettered
    base_delay: float = 0.5
    max_delay: float = 10.0
    redis_max_delay: float = 2.0
    rate_limit: int = 10
    mark_read: bool = True
    inbound_every: float = 60.0  # seconds between writes of a user's last-inbound time to the accounts DB
    ack_interval: float = 0.005  # acks and outbox trims of the whole process go out together this often
    # Events computing at once in this process: enough to overlap Redis and Graph round trips, few enough
    # that the webhook's acks are not queued behind dozens of ready turn steps on the one event loop
    # (measured, 50 users in a closed loop: ack p99 ~450 ms with 64, ~90-140 ms with 8, same msg/s).
    max_in_progress: int = 8
    slot_hold: float = 0.5  # seconds a turn keeps its slot; a slower one is waiting, not computing
    sleep: Callable[[float], Awaitable[None]] = field(default=asyncio.sleep)


class Stopped(Exception):
    """The consumer is stopping and Redis is not answering: leave the event pending for the next owner."""


class PartitionConsumer:
    def __init__(
        self,
        partition: int,
        member: str,
        *,
        inbox: StreamInbox,
        turns: UserTurns,
        engine: ConversationEngine,
        deliverer: Deliverer,
        stats: WebhookStats,
        health: RedisHealth,
        options: ConsumerOptions,
        on_inbound: InboundHook | None = None,
        on_turn: TurnHook | None = None,
        spawn: Callable[[Awaitable[Any]], None],
        flusher: Flusher,
        slots: asyncio.Semaphore | None = None,
    ) -> None:
        self.partition = partition
        self.member = member
        self.inbox = inbox
        self.turns = turns
        self.engine = engine
        self.deliverer = deliverer
        self.stats = stats
        self.health = health
        self.options = options
        self.on_inbound = on_inbound
        self.on_turn = on_turn
        self.spawn = spawn
        self.slots = slots or asyncio.Semaphore(options.max_in_progress)
        self.queues: dict[str, deque[InboxEntry]] = {}
        self.workers: dict[str, asyncio.Task[None]] = {}
        self.flusher = flusher
        self._stopped = asyncio.Event()
        self.ready = False  # pending entries recovered: the reader may feed new ones
        self._stopping = False
        self._routed: set[str] = set()  # entry ids queued or in progress here (a re-read must not double them)

    # -- lifecycle --------------------------------------------------------------------------------------

    async def run(self) -> None:
        """Recover what the partition's previous owner left pending, then take what the reader feeds in
        until stopped; finish the users in progress before returning."""
        try:
            await self._redis(lambda: self.inbox.ensure_group(self.partition))
            pending = await self._redis(lambda: self.inbox.claim_pending(self.partition, self.member))
            if pending:
                log.info("partition %d: recovering %d pending event(s)", self.partition, len(pending))
            self._route(pending)
            self.ready = True
            await self._stopped.wait()
        except Stopped:
            pass
        finally:
            self._stopping = True
            if self.workers:  # `finish(timeout)` bounds this wait by cancelling what is left
                await asyncio.wait(list(self.workers.values()))

    def feed(self, entries: list[InboxEntry]) -> None:
        """New entries the reader got for this partition (ignored once stopping: they stay pending)."""
        if not self._stopping:
            self._route(entries)

    def stop(self) -> None:
        """Take no more entries; events already taken are finished (see `finish`)."""
        self._stopping = True
        self._stopped.set()

    async def finish(self, timeout: float) -> bool:
        """Wait up to `timeout` for the users in progress; what is left stays pending in the stream."""
        self.stop()
        return await self._finish_workers(timeout)

    @property
    def busy(self) -> bool:
        return bool(self.workers)

    async def _finish_workers(self, timeout: float) -> bool:
        if self.workers and timeout > 0:
            await asyncio.wait(list(self.workers.values()), timeout=timeout)
        left = list(self.workers.values())
        for task in left:
            task.cancel()
        await asyncio.gather(*left, return_exceptions=True)
        return not left

    # -- routing ------------------------------------------------------------------------------------------

    def _route(self, entries: list[InboxEntry]) -> None:
        for entry in entries:
            if entry.id in self._routed:
                continue
            self._routed.add(entry.id)
            phone = entry.event.phone
            self.queues.setdefault(phone, deque()).append(entry)
            if phone not in self.workers:
                self.workers[phone] = asyncio.create_task(self._user(phone), name="wa-user")

    async def _user(self, phone: str) -> None:
        queue = self.queues[phone]
        last_wamid = None
        try:
            while queue:
                entry = queue[0]
                try:
                    with turn_scope(phone, entry.event.wamid or ""):  # every log line of the turn is correlated
                        await self._process_in_slot(entry)
                except (Stopped, asyncio.CancelledError):
                    raise
                except Exception as exc:  # a bug: do not let one event block this user for good
                    log.exception("event %s for %s could not be processed; dead-lettered", entry.id,
                                  mask_phone(phone))
                    self.stats.failed += 1
                    self.stats.metrics.message_failed()
                    await self._dead_letter(entry, f"{type(exc).__name__}: {exc}")
                queue.popleft()
                self._routed.discard(entry.id)
                last_wamid = entry.event.wamid or last_wamid
            if last_wamid and self.options.mark_read:  # one read receipt per burst, off the reply's path
                self.spawn(self.deliverer.sender.mark_read(last_wamid))
        except Stopped:
            pass
        finally:
            self.workers.pop(phone, None)
            if not queue:
                self.queues.pop(phone, None)

    # -- one event ---------------------------------------------------------------------------------------

    async def _process_in_slot(self, entry: InboxEntry) -> None:
        """Run the event holding one of the process's slots; a turn still running after `slot_hold` is
        waiting on I/O (a slow Inspector, a Graph retry), so a timer gives its slot to the next user.
        (The turn runs in this task: a task per event and `asyncio.wait` had cost more than the timer.)"""
        await self.slots.acquire()
        held = True

        def give_back() -> None:
            nonlocal held
            if held:
                held = False
                self.slots.release()

        timer = asyncio.get_running_loop().call_later(self.options.slot_hold, give_back)
        try:
            await self._process(entry)
        finally:
            timer.cancel()
            give_back()

    async def _process(self, entry: InboxEntry) -> None:
        event, phone = entry.event, entry.event.phone
        for _conflict in range(3):
            load = await self._redis(lambda: self.turns.load(phone))
            if load.outbox_length > self.flusher.unflushed(phone):  # an earlier owner's unsent replies: first
                await self._deliver_leftovers(phone)
            if not entry_after(entry.id, load.last_id):
                self.stats.duplicates += 1
                self.stats.metrics.webhook_duplicates(1)
                log.info("event %s for %s was already applied; acknowledging it", entry.id, mask_phone(phone))
                self._ack(entry)
                return
            limit = self.options.rate_limit
            if limit > 0 and load.rate_count > limit:
                self.stats.rate_limited += 1
                self.stats.metrics.message_rate_limited()
                language = load.conversation.language if load.conversation is not None else ""
                notice = [self.engine.notice(phone, "rate_limited", language=language)
                          ] if load.rate_count == limit + 1 else []
                if notice:
                    log.info("rate limit reached for %s: one notice sent, further messages dropped",
                             mask_phone(phone))
                await self._commit_and_deliver(entry, None, 0, notice)
                return
            if self.on_inbound is not None and (
                    load.previous_inbound is None or time.time() - load.previous_inbound >= self.options.inbound_every):
                self.spawn(self.on_inbound(event))
            version = load.conversation.version if load.conversation is not None else 0
            raw = load.conversation.dumps() if load.conversation is not None else None
            turn, error = await self._run_turn(event, raw)
            if turn is None:
                self.stats.failed += 1
                self.stats.metrics.message_failed()
                log.error("processing event %s for %s failed %d times; dead-lettered: %s", entry.id,
                          mask_phone(phone), self.options.max_attempts, error)
                language = load.conversation.language if load.conversation is not None else ""
                await self._commit_and_deliver(entry, None, 0, [self.engine.notice(phone, "internal_error",
                                                                                   language=language)],
                                               dead=error)
                return
            outcome = await self._commit_and_deliver(entry, turn.conversation, version, turn.messages, turn=turn)
            if outcome != CONFLICT:
                return
            self.stats.retried += 1
            log.warning("conversation of %s changed during the turn; running it again", mask_phone(phone))
        self.stats.failed += 1
        self.stats.metrics.message_failed()
        await self._dead_letter(entry, "conversation kept changing")

    async def _dead_letter(self, entry: InboxEntry, error: str) -> None:
        await self._redis(lambda: self.inbox.dead_letter(self.partition, entry, error, self.member))

    async def _run_turn(self, event: InboundEvent, raw: str | None) -> tuple[Turn | None, str]:
        opts, error = self.options, ""
        for attempt in range(1, opts.max_attempts + 1):
            conversation = Conversation.loads(raw) if raw is not None else None
            try:
                return await self.engine.run_turn(event, conversation), ""
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                error = f"{type(exc).__name__}: {exc}"[:300]
                if attempt == opts.max_attempts:
                    break
                self.stats.retried += 1
                delay = backoff_delay(attempt, base=opts.base_delay, cap=opts.max_delay, jitter=False)
                log.warning("turn for %s failed (attempt %d/%d), retrying in %.1fs: %s", mask_phone(event.phone),
                            attempt, opts.max_attempts, delay, error)
                await opts.sleep(delay)
        return None, error

    async def _commit_and_deliver(self, entry: InboxEntry, conversation: Conversation | None, version: int,
                                  messages: list[OutboundMessage], *, turn: Turn | None = None,
                                  dead: str = "") -> int:
        phone = entry.event.phone
        outcome, _ = await self._redis(lambda: self.turns.commit(phone, entry.id, conversation, version, messages))
        if outcome == CONFLICT:
            return outcome
        if outcome == ALREADY_APPLIED:
            # A redelivery, or our own commit whose reply was lost: its replies may still be in the outbox.
            await self._deliver_leftovers(phone)
            self.stats.duplicates += 1
            self.stats.metrics.webhook_duplicates(1)
            self._ack(entry)
            return outcome
        results = await self._deliver(phone, [OutboxItem(m) for m in messages])
        if dead:
            await self._dead_letter(entry, dead)
        else:
            self.stats.processed += 1
            if turn is not None:
                self.stats.metrics.message_processed(turn.flow, turn.state)
                self.stats.metrics.turn_finished(time.time() - entry.received_at)
            self._ack(entry)
        if turn is not None and self.on_turn is not None:
            try:
                await self.on_turn(entry.event, results)
            except Exception:
                log.exception("on_turn hook failed")
        return outcome

    async def _deliver(self, phone: str, items: list[OutboxItem]) -> list[SendResult]:
        """Send in order; the outbox trim follows with the next flush (a resend there would duplicate)."""
        if not items:
            return []
        results = await self.deliverer.deliver(phone, items, offset=self.flusher.unflushed(phone))
        self.flusher.trim(phone, len(items))
        return results

    async def _deliver_leftovers(self, phone: str) -> None:
        """Replies in the outbox that no trim of ours accounts for: an earlier owner committed them and may
        have sent them, so each gets one more try at most."""
        items = await self._redis(lambda: self.turns.outbox(phone))
        items = items[self.flusher.unflushed(phone):]
        if items:
            await self._deliver(phone, [OutboxItem(i.message, max(i.attempts, 1)) for i in items])

    def _ack(self, entry: InboxEntry) -> None:
        self.flusher.ack(self.partition, entry.id)

    # -- Redis calls that must not be lost ----------------------------------------------------------------

    async def _redis(self, call: Callable[[], Awaitable[T]]) -> T:
        """Retry `call` with backoff while Redis is unreachable; give up only when stopping."""
        failures = 0
        while True:
            try:
                result = await call()
                self.health.recovered()
                return result
            except REDIS_ERRORS as exc:
                self.health.failed()
                if self._stopping:
                    raise Stopped() from exc
                failures += 1
                delay = backoff_delay(failures, base=0.05, cap=self.options.redis_max_delay)
                log.warning("partition %d: redis unavailable (%s); retrying in %.2fs", self.partition,
                            type(exc).__name__, delay)
                await self.options.sleep(delay)
