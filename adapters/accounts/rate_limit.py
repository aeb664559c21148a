"""Fixed-window counters in Redis: "at most N codes per phone (or email) per hour"."""

from __future__ import annotations

from redis.asyncio import Redis


class RedisCounter:
    """`await counter.hit(key)` counts one event in the window starting at the key's first hit."""

    def __init__(self, redis: Redis, prefix: str, window_seconds: int) -> None:
        self._redis = redis
        self._prefix = prefix.rstrip(":")
        self._window = window_seconds

    def key(self, *parts: str) -> str:
        return ":".join((self._prefix, *parts))

    async def hit(self, key: str) -> int:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(key, 0, ex=self._window, nx=True)
            pipe.incr(key)
            _, count = await pipe.execute()
        return int(count)

    async def undo(self, key: str) -> None:
        """Give one back (an email that never went out should not count against the user)."""
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.decr(key)
            await pipe.execute()
