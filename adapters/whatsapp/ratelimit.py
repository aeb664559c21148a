"""Per-phone rate limit in Redis: a fixed one-minute window, one polite notice per window."""

from __future__ import annotations

import time
from typing import Literal

from redis.asyncio import Redis

Verdict = Literal["ok", "notify", "drop"]


class RateLimiter:
    """`hit(phone)` -> `ok` (process), `notify` (first excess message: answer once), `drop` (ignore)."""

    def __init__(self, redis: Redis, *, namespace: str = "wa", per_window: int = 10,
                 window: int = 60) -> None:
        self.redis = redis
        self.namespace = namespace
        self.per_window = per_window
        self.window = window

    async def hit(self, phone: str, now: float | None = None) -> Verdict:
        if self.per_window <= 0:
            return "ok"
        slot = int((time.time() if now is None else now) // self.window)
        key = f"{self.namespace}:rate:{phone}:{slot}"
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, self.window + 5)
            count, _ = await pipe.execute()
        if count <= self.per_window:
            return "ok"
        return "notify" if count == self.per_window + 1 else "drop"
