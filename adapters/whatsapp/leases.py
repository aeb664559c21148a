"""Who drains which partition: processes register as members, and each partition has one lease holder.

A member is a random id (its host name is only a label). Every heartbeat a member refreshes its entry in
a sorted set, counts the live members, and holds about `partitions / members` leases: it renews the ones
it has, takes free ones up to its share, and gives back the excess. A lease is a key with a TTL whose value
is the holder's id, so a holder that comes back after a Redis hiccup simply takes its own lease again,
and a dead holder's partitions are free as soon as its lease expires (a few seconds).
"""

from __future__ import annotations

import math
import time
import zlib
from typing import Any

from adapters.whatsapp.keys import PipelineKeys

_RENEW = """
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
if not holder then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 2 end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

RENEWED, RETAKEN, LOST = 1, 2, 0


class Leases:
    def __init__(self, redis: Any, keys: PipelineKeys, member: str, *, ttl_ms: int = 5000) -> None:
        self.redis = redis
        self.keys = keys
        self.member = member
        self.ttl_ms = ttl_ms
        self._renew = redis.register_script(_RENEW)
        self._release = redis.register_script(_RELEASE)

    async def live_members(self, now: float | None = None) -> int:
        """Refresh this member's heartbeat and count the members seen within one lease TTL."""
        now_ms = int((time.time() if now is None else now) * 1000)
        key = self.keys.members
        await self.redis.zadd(key, {self.member: now_ms})
        await self.redis.zremrangebyscore(key, "-inf", now_ms - self.ttl_ms)
        return max(1, int(await self.redis.zcard(key)))

    def fair_share(self, members: int) -> int:
        return math.ceil(self.keys.partitions / max(1, members))

    async def renew(self, partition: int) -> int:
        """RENEWED, RETAKEN (it had expired and was free) or LOST (someone else holds it)."""
        return int(await self._renew(keys=[self.keys.lease(partition)], args=[self.member, str(self.ttl_ms)]))

    async def acquire(self, partition: int) -> bool:
        return bool(await self.redis.set(self.keys.lease(partition), self.member, nx=True, px=self.ttl_ms))

    async def release(self, partition: int) -> None:
        await self._release(keys=[self.keys.lease(partition)], args=[self.member])

    async def leave(self) -> None:
        await self.redis.zrem(self.keys.members, self.member)

    def preferred_order(self) -> list[int]:
        """Partitions in an order that differs per member, so members starting together spread out."""
        offset = zlib.crc32(self.member.encode()) % self.keys.partitions
        return [(offset + i) % self.keys.partitions for i in range(self.keys.partitions)]
