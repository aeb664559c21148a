"""Reading new inbound events for the partitions a process owns, with as few round trips as possible.

On a standalone Redis one XREADGROUP covers every owned partition, so a busy process reads many events per
round trip; on Redis Cluster, where a command may not span slots, each partition gets a reader of its own.
A read whose reply was lost with the connection has still moved its entries into this member's pending
list: after any error the reader asks for those again (id 0) before reading new ones.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

from adapters.backoff import backoff_delay
from adapters.whatsapp.inbox import InboxEntry, StreamInbox

log = logging.getLogger(__name__)

Partitions = Callable[[], Sequence[int]]
Feed = Callable[[int, list[InboxEntry]], None]


class Reader:
    def __init__(self, inbox: StreamInbox, member: str, partitions: Partitions, feed: Feed, *,
                 redis_errors: tuple[type[BaseException], ...], on_error: Callable[[], None],
                 on_ok: Callable[[], None], count: int = 100, block_ms: int = 250,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.inbox = inbox
        self.member = member
        self.partitions = partitions
        self.feed = feed
        self.redis_errors = redis_errors
        self.on_error = on_error
        self.on_ok = on_ok
        self.count = count
        self.block_ms = block_ms
        self.sleep = sleep

    async def run(self) -> None:
        lost_reply, failures = False, 0
        while True:
            partitions = list(self.partitions())
            if not partitions:
                await self.sleep(0.05)
                continue
            try:
                if lost_reply:
                    for partition in partitions:
                        self._feed(partition, await self.inbox.own_pending(partition, self.member))
                    lost_reply = False
                got = await self.inbox.read_many(partitions, self.member, count=self.count, block_ms=self.block_ms)
                self.on_ok()
                failures = 0
            except self.redis_errors as exc:
                self.on_error()
                lost_reply = True
                failures += 1
                delay = backoff_delay(failures, base=0.05, cap=2.0)
                log.warning("reading partitions %s failed (%s); retrying in %.2fs", partitions,
                            type(exc).__name__, delay)
                await self.sleep(delay)
                continue
            for partition, entries in got.items():
                self._feed(partition, entries)

    def _feed(self, partition: int, entries: list[InboxEntry]) -> None:
        if entries:
            self.feed(partition, entries)
