"""The pipeline of one process: balance partition leases with the other processes, run their consumers.

Any number of processes (uvicorn workers, containers) share the work through Redis alone: each is a
member with a random id, holds about `partitions / members` leases, and drains those partitions. A
process that dies stops renewing; within one lease TTL its partitions, their pending events and their
undelivered replies go to the survivors. Nothing needs a stable name, and nothing needs a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from adapters.whatsapp.consumer import ConsumerOptions, InboundHook, PartitionConsumer, TurnHook
from adapters.whatsapp.delivery import Deliverer, DeliveryOptions
from adapters.whatsapp.flusher import Flusher
from adapters.whatsapp.inbox import StreamInbox
from adapters.whatsapp.keys import PipelineKeys
from adapters.whatsapp.leases import LOST, Leases
from adapters.whatsapp.outbound import Sender
from adapters.whatsapp.reader import Reader
from adapters.whatsapp.redis_health import REDIS_ERRORS, RedisHealth
from adapters.whatsapp.stats import WebhookStats
from adapters.whatsapp.turns import UserTurns
from engine.turn import ConversationEngine

log = logging.getLogger(__name__)


@dataclass(slots=True)
class PipelineOptions:
    lease_ttl_ms: int = 5000
    heartbeat: float = 1.0
    stop_timeout: float = 5.0
    conversation_ttl: int = 24 * 3600
    dedupe_ttl: int = 7 * 24 * 3600
    consumer: ConsumerOptions = field(default_factory=ConsumerOptions)
    delivery: DeliveryOptions = field(default_factory=DeliveryOptions)


class Pipeline:
    def __init__(
        self,
        redis: Any,
        engine: ConversationEngine,
        sender: Sender,
        *,
        keys: PipelineKeys | None = None,
        options: PipelineOptions | None = None,
        stats: WebhookStats | None = None,
        on_inbound: InboundHook | None = None,
        on_turn: TurnHook | None = None,
        label: str | None = None,
    ) -> None:
        self.redis = redis
        self.engine = engine
        self.sender = sender
        self.keys = keys or PipelineKeys()
        self.options = options or PipelineOptions()
        self.stats = stats or WebhookStats()
        self.on_inbound = on_inbound
        self.on_turn = on_turn
        self.member = f"{label or socket.gethostname()}:{uuid.uuid4().hex[:8]}"
        self.health = RedisHealth()
        self.inbox = StreamInbox(redis, self.keys, dedupe_ttl=self.options.dedupe_ttl)
        self.turns = UserTurns(redis, self.keys, ttl=self.options.conversation_ttl,
                               rate_limit=self.options.consumer.rate_limit)
        self.deliverer = Deliverer(sender, self.turns, stats=self.stats, options=self.options.delivery)
        self.leases = Leases(redis, self.keys, self.member, ttl_ms=self.options.lease_ttl_ms)
        self.consumers: dict[int, tuple[PartitionConsumer, asyncio.Task[None]]] = {}
        self.flusher = Flusher(redis, self.keys, redis_errors=REDIS_ERRORS, on_error=self.health.failed,
                               on_ok=self.health.recovered, interval=self.options.consumer.ack_interval)
        self.cluster = _is_cluster(redis)
        self._readers: dict[int | None, asyncio.Task[None]] = {}  # None: the one reader of a standalone Redis
        self._releasing: set[int] = set()
        self._side_tasks: set[asyncio.Task[Any]] = set()
        self._balancer: asyncio.Task[None] | None = None
        self._slots = asyncio.Semaphore(self.options.consumer.max_in_progress)

    # -- lifecycle ---------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Take a first share of partitions now (so a lone process serves at once), then keep balancing.

        Redis being down at start-up is not fatal: the webhook answers 503 and balancing retries."""
        self.flusher.start()
        if not self.cluster:
            self._start_reader(None, self._readable)
        try:
            await self.balance()
        except REDIS_ERRORS as exc:
            self.health.failed()
            log.error("redis unavailable at start-up (%s); partitions will be taken when it answers",
                      type(exc).__name__)
        self._balancer = asyncio.create_task(self._balance_loop(), name="wa-balance")

    async def stop(self, timeout: float | None = None) -> None:
        """Finish the events in progress (up to `timeout`), give every lease back, leave the members."""
        timeout = self.options.stop_timeout if timeout is None else timeout
        if self._balancer is not None:
            self._balancer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._balancer
        await asyncio.gather(*(self._release(p, timeout) for p in list(self.consumers)), return_exceptions=True)
        for task in self._readers.values():
            task.cancel()
        await asyncio.gather(*self._readers.values(), return_exceptions=True)
        self._readers.clear()
        await self.flusher.stop()
        if self._side_tasks:
            await asyncio.wait(list(self._side_tasks), timeout=timeout)
        with contextlib.suppress(*REDIS_ERRORS):
            await self.leases.leave()

    @property
    def partitions_owned(self) -> list[int]:
        return sorted(self.consumers)

    async def idle(self) -> bool:
        """No event in progress here and none waiting in any stream (tests and benchmarks wait for this)."""
        if any(c.busy for c, _ in self.consumers.values()) or self._side_tasks or self.flusher.pending:
            return False
        pending, _ = await self.inbox.backlog()
        return pending == 0

    async def drain(self, timeout: float = 10.0) -> bool:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            if await self.idle():
                return True
            await asyncio.sleep(0.02)
        return False

    def spawn(self, coro: Awaitable[Any]) -> None:
        """A side job (read receipt, last-inbound write) that must not fail or delay a turn."""
        task = asyncio.ensure_future(_guarded(coro))
        self._side_tasks.add(task)
        task.add_done_callback(self._side_tasks.discard)

    # -- balancing ---------------------------------------------------------------------------------------

    async def _balance_loop(self) -> None:
        while True:
            await asyncio.sleep(self.options.heartbeat)
            try:
                await self.balance()
            except asyncio.CancelledError:
                raise
            except REDIS_ERRORS as exc:
                self.health.failed()
                log.warning("lease heartbeat failed (%s); consumers keep their events", type(exc).__name__)
            except Exception:
                log.exception("lease balancing failed")

    async def balance(self) -> None:
        members = await self.leases.live_members()
        self.health.recovered()
        for partition in list(self.consumers):
            if partition in self._releasing:
                continue
            if await self.leases.renew(partition) == LOST:
                log.warning("partition %d is held by another member now; stopping its consumer", partition)
                consumer, _ = self.consumers[partition]
                consumer.stop()
                self.spawn(self._forget(partition))
        share = self.leases.fair_share(members)
        held = [p for p in self.consumers if p not in self._releasing]
        if len(held) < share:
            for partition in self.leases.preferred_order():
                if len(held) >= share:
                    break
                if partition in self.consumers:
                    continue
                if await self.leases.acquire(partition):
                    self._start_consumer(partition)
                    held.append(partition)
        elif len(held) > share:
            for partition in sorted(held, reverse=True)[: len(held) - share]:
                self._releasing.add(partition)
                self.spawn(self._release(partition, self.options.stop_timeout))

    def _start_consumer(self, partition: int) -> None:
        consumer = PartitionConsumer(
            partition, self.member, inbox=self.inbox, turns=self.turns, engine=self.engine,
            deliverer=self.deliverer, stats=self.stats, health=self.health, options=self.options.consumer,
            on_inbound=self.on_inbound, on_turn=self.on_turn, spawn=self.spawn, flusher=self.flusher,
            slots=self._slots)
        task = asyncio.create_task(consumer.run(), name=f"wa-partition-{partition}")
        self.consumers[partition] = (consumer, task)
        if self.cluster:  # a command may not span slots there: one reader per partition
            self._start_reader(partition, lambda: [partition] if self._is_readable(partition) else [])
        log.debug("member %s took partition %d", self.member, partition)

    def _start_reader(self, key: int | None, partitions: Callable[[], list[int]]) -> None:
        options = self.options.consumer
        reader = Reader(self.inbox, self.member, partitions, self._feed, redis_errors=REDIS_ERRORS,
                        on_error=self.health.failed, on_ok=self.health.recovered, count=options.read_count,
                        block_ms=options.block_ms)
        self._readers[key] = asyncio.create_task(reader.run(), name=f"wa-reader-{key}")

    def _stop_reader(self, key: int | None) -> None:
        task = self._readers.pop(key, None)
        if task is not None:
            task.cancel()

    def _is_readable(self, partition: int) -> bool:
        entry = self.consumers.get(partition)
        return entry is not None and entry[0].ready and partition not in self._releasing

    def _readable(self) -> list[int]:
        """Owned partitions whose pending entries are recovered (new ones must not overtake them)."""
        return [p for p in self.consumers if self._is_readable(p)]

    def _feed(self, partition: int, entries: list[Any]) -> None:
        entry = self.consumers.get(partition)
        if entry is not None:  # else: released meanwhile; the entries stay pending for the next owner
            entry[0].feed(entries)

    async def _release(self, partition: int, timeout: float) -> None:
        """Finish this partition's users in progress, then hand the lease back for another member."""
        entry = self.consumers.get(partition)
        if entry is None:
            return
        consumer, task = entry
        self._stop_reader(partition)
        consumer.stop()
        await consumer.finish(timeout)
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.wait_for(task, timeout=max(1.0, self.options.consumer.block_ms / 1000 + 1))
        self.consumers.pop(partition, None)
        self._releasing.discard(partition)
        with contextlib.suppress(*REDIS_ERRORS):
            await self.leases.release(partition)

    async def _forget(self, partition: int) -> None:
        self._stop_reader(partition)
        entry = self.consumers.pop(partition, None)
        if entry is not None:
            await entry[0].finish(0)
            entry[1].cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await entry[1]


async def _guarded(coro: Awaitable[Any]) -> None:
    try:
        await coro
    except asyncio.CancelledError:
        raise
    except Exception:
        log.warning("side task failed", exc_info=True)


def _is_cluster(redis: Any) -> bool:
    from redis.asyncio.cluster import RedisCluster

    return isinstance(redis, RedisCluster)
