"""Per-day counters in Redis (messages, bookings made through WhatsApp) for the admin stats.

Prometheus counters reset with a process and know nothing of "today"; these are keyed by the local date
(`TIMEZONE`), shared by every process and kept 8 days.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

KEEP_SECONDS = 8 * 24 * 3600


class DailyCounters:
    def __init__(self, redis: Any, *, timezone: str = "UTC", prefix: str = "inspector:daily",
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.redis = redis
        self.tz = ZoneInfo(timezone)
        self.prefix = prefix
        self.clock = clock

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

    async def get(self, kind: str, day: date | None = None) -> int:
        value = await self.redis.get(self.key(kind, day or self.today()))
        return int(value or 0)
