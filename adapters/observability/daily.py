"""Per-day counters in Redis (messages, bookings made through WhatsApp) for the admin stats.

Prometheus counters reset with a process and know nothing of "today"; these are keyed by the local date
(`TIMEZONE`), shared by every process and kept 8 days.

`add` is for counts taken on every message: they are summed in the process and written together at most
every `batch_delay` seconds (a Redis transaction per message had been a tenth of the pipeline's CPU). A
process that crashes loses at most that last second of counts; `flush` at shutdown writes the rest.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

log = logging.getLogger(__name__)

KEEP_SECONDS = 8 * 24 * 3600


class DailyCounters:
    def __init__(self, redis: Any, *, timezone: str = "UTC", prefix: str = "inspector:daily",
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC), batch_delay: float = 1.0) -> None:
        self.redis = redis
        self.tz = ZoneInfo(timezone)
        self.prefix = prefix
        self.clock = clock
        self.batch_delay = batch_delay
        self._pending: Counter[str] = Counter()
        self._flushing: asyncio.Task[None] | None = None

    def today(self) -> date:
        return self.clock().astimezone(self.tz).date()

    def key(self, kind: str, day: date) -> str:
        return f"{self.prefix}:{day.isoformat()}:{kind}"

    async def incr(self, kind: str, amount: int = 1) -> None:
        key = self.key(kind, self.today())
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incrby(key, amount)
            pipe.expire(key, KEEP_SECONDS)
            await pipe.execute()

    def add(self, kind: str, amount: int = 1) -> None:
        """Count now (on today's key), write with the next batch; needs a running event loop."""
        self._pending[self.key(kind, self.today())] += amount
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.get_running_loop().create_task(self._flush_later(), name="daily-counters")

    async def _flush_later(self) -> None:
        await asyncio.sleep(self.batch_delay)
        await self.flush()

    async def flush(self) -> bool:
        """Write every count taken by `add` in one transaction; False (counts kept for the next) if Redis
        could not take them."""
        pending, self._pending = self._pending, Counter()
        if not pending:
            return True
        try:
            async with self.redis.pipeline(transaction=True) as pipe:
                for key, amount in pending.items():
                    pipe.incrby(key, amount)
                    pipe.expire(key, KEEP_SECONDS)
                await pipe.execute()
        except Exception as exc:  # counts for the admin page: keep them and try with the next batch
            self._pending.update(pending)
            log.warning("daily counters not written (%s); kept for the next batch", type(exc).__name__)
            return False
        return True

    async def close(self) -> None:
        """At shutdown: no more waiting, write what is counted."""
        if self._flushing is not None and not self._flushing.done():
            self._flushing.cancel()
        await self.flush()

    async def get(self, kind: str, day: date | None = None) -> int:
        value = await self.redis.get(self.key(kind, day or self.today()))
        return int(value or 0)
