"""The pipeline's deferred bookkeeping: acknowledgements and outbox trims, batched for the whole process.

After a turn's replies are delivered, two writes remain: trim them from the user's outbox and acknowledge
the event in its stream. Neither changes what a user sees, so they wait a few milliseconds and go out
together, for every partition and user of the process, in one round trip (one per node on a Cluster).
If the process dies inside that window, the next owner sends those replies once more: a bounded
duplicate, never a loss. Until a trim is flushed, `unflushed(phone)` tells the consumer not to take the
trimmed replies for leftovers of an earlier owner.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from typing import Any

from adapters.whatsapp.keys import PipelineKeys

log = logging.getLogger(__name__)


class Flusher:
    def __init__(self, redis: Any, keys: PipelineKeys, *, interval: float = 0.005,
                 redis_errors: tuple[type[BaseException], ...] = (ConnectionError, OSError),
                 on_error: Any = None, on_ok: Any = None) -> None:
        self.redis = redis
        self.keys = keys
        self.interval = interval
        self.redis_errors = redis_errors
        self.on_error = on_error
        self.on_ok = on_ok
        self._acks: dict[int, list[str]] = defaultdict(list)
        self._trims: dict[str, int] = defaultdict(int)
        self._in_flight_trims: dict[str, int] = defaultdict(int)
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def ack(self, partition: int, entry_id: str) -> None:
        self._acks[partition].append(entry_id)
        self._wakeup.set()

    def trim(self, phone: str, count: int) -> None:
        if count > 0:
            self._trims[phone] += count
            self._wakeup.set()

    def unflushed(self, phone: str) -> int:
        """Outbox items of `phone` already delivered whose trim has not reached Redis yet."""
        return self._trims.get(phone, 0) + self._in_flight_trims.get(phone, 0)

    @property
    def pending(self) -> bool:
        return bool(self._acks or self._trims or self._in_flight_trims)

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="wa-flusher")

    async def stop(self) -> None:
        """Flush what is left (a few attempts), then stop."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for _ in range(5):
            if not self.pending or await self.flush():
                return
            await asyncio.sleep(0.2)
        if self.pending:
            log.warning("stopping with acknowledgements not written; their events' replies may be sent again")

    async def _loop(self) -> None:
        while True:
            await self._wakeup.wait()
            await asyncio.sleep(self.interval)  # let the other turns of this moment join the batch
            self._wakeup.clear()
            if not await self.flush():
                await asyncio.sleep(0.2)
                self._wakeup.set()

    async def flush(self) -> bool:
        """Write every pending ack and trim in one pipeline. False: Redis was unreachable (kept for later)."""
        acks, self._acks = self._acks, defaultdict(list)
        trims, self._trims = self._trims, defaultdict(int)
        for phone, count in trims.items():
            self._in_flight_trims[phone] += count
        if not acks and not trims:
            return True
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for partition, ids in acks.items():
                    stream = self.keys.stream(partition)
                    pipe.xack(stream, self.keys.group, *ids)
                    pipe.xdel(stream, *ids)
                for phone, count in trims.items():
                    pipe.ltrim(self.keys.outbox(phone), count, -1)
                results = await pipe.execute(raise_on_error=False)
        except self.redis_errors:
            for partition, ids in acks.items():
                self._acks[partition][:0] = ids
            for phone, count in trims.items():
                self._trims[phone] += count
            if self.on_error is not None:
                self.on_error()
            return False
        finally:
            for phone, count in trims.items():
                left = self._in_flight_trims[phone] - count
                if left > 0:
                    self._in_flight_trims[phone] = left
                else:
                    self._in_flight_trims.pop(phone, None)
        for result in results:
            if isinstance(result, Exception):  # a stream whose group is gone (Redis lost its data): nothing to ack
                log.warning("acknowledging events failed: %s", result)
        if self.on_ok is not None:
            self.on_ok()
        return True
