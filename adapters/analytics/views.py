"""Counting property views on WhatsApp: one Redis counter per property and day, kept for 35 days.

Inspector cannot know what seekers opened in the bot, so the bot counts it: opening a property from a list
(browse, saved, near me, search) is one view. Daily buckets make "the last 7 / 30 days" a sum of at most
30 keys read in one MGET, and they expire on their own.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, tzinfo
from typing import Any

KEEP = timedelta(days=35)


class ViewCounter:
    def __init__(self, redis: Any, *, namespace: str, tz: tzinfo, clock: Callable[[], datetime]) -> None:
        self.redis, self.namespace, self.tz, self.clock = redis, namespace, tz, clock

    def _key(self, property_id: str, day: datetime) -> str:
        return f"{self.namespace}:views:{property_id}:{day.astimezone(self.tz):%Y%m%d}"

    async def record(self, property_id: str) -> int:
        key = self._key(str(property_id), self.clock())
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, int(KEEP.total_seconds()))
            count, _ = await pipe.execute()
        return int(count)

    async def count(self, property_id: str, days: int) -> int:
        """Views in the last `days` days, today included."""
        now = self.clock()
        keys = [self._key(str(property_id), now - timedelta(days=back)) for back in range(days)]
        return sum(int(v) for v in await self.redis.mget(keys) if v is not None)
