"""The jobs' own Redis keys: sent-markers, the dead-letter list, high-water marks, what the booking
sweep has seen, and short locks.

Every key lives under one namespace (`inspector:jobs` in production, a unique one per test), so
several deployments or test runs can share one Redis without touching each other's keys.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Awaitable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, cast

from redis.asyncio import Redis

log = logging.getLogger(__name__)

DEFAULT_NAMESPACE = "inspector:jobs"
DEAD_LETTER_KEEP = 10_000
SENT_TTL = 8 * 24 * 3600  # longer than any job can be deferred or retried
_UNLOCK = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"


class JobStore:
    """Small Redis helpers the jobs share; `redis` is any redis.asyncio client (bytes responses)."""

    def __init__(self, redis: Redis, namespace: str = DEFAULT_NAMESPACE) -> None:
        self.redis = redis
        self.namespace = namespace

    def key(self, *parts: str) -> str:
        return ":".join((self.namespace, *parts))

    @property
    def dead_letter_key(self) -> str:
        return self.key("dead-letter")

    # -- sent-markers: one message per job and recipient ------------------------------------------

    async def claim(self, marker: str, recipient: str, ttl: int = SENT_TTL) -> bool:
        """True the first time `marker` is claimed for `recipient` (SET NX), False ever after."""
        return bool(await self.redis.set(self.key("sent", marker, recipient), b"1", nx=True, ex=ttl))

    async def release(self, marker: str, recipient: str) -> None:
        """Undo a claim whose send never happened (an exception), so a retry may send it."""
        await self.redis.delete(self.key("sent", marker, recipient))

    # -- dead letters -----------------------------------------------------------------------------

    async def dead_letter(self, *, job_id: str, kind: str, recipient: str, error: str,
                          tries: int, now: datetime | None = None) -> dict[str, Any]:
        """Record a job that gave up; `recipient` must already be masked. Never raises silently."""
        entry = {
            "job_id": job_id, "kind": kind, "recipient": recipient, "error": error[:300], "tries": tries,
            "at": (now or datetime.now(UTC)).isoformat(),
        }
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.lpush(self.dead_letter_key, json.dumps(entry))
            pipe.ltrim(self.dead_letter_key, 0, DEAD_LETTER_KEEP - 1)
            await pipe.execute()
        log.error("job %s (%s) to %s dead-lettered after %d tries: %s", job_id, kind, recipient, tries, error)
        return entry

    async def dead_letters(self, limit: int = 100) -> list[dict[str, Any]]:
        """Newest first."""
        raw = await cast(Awaitable[list[bytes]], self.redis.lrange(self.dead_letter_key, 0, limit - 1))
        return [json.loads(item) for item in raw]

    # -- the property-alerts high-water mark ------------------------------------------------------

    async def high_water(self, name: str) -> datetime | None:
        raw = await self.redis.get(self.key("high-water", name))
        return datetime.fromisoformat(raw.decode() if isinstance(raw, bytes) else raw) if raw else None

    async def set_high_water(self, name: str, moment: datetime) -> None:
        await self.redis.set(self.key("high-water", name), moment.astimezone(UTC).isoformat())

    # -- what the booking sweep has seen: inspection id -> its status and start when last seen -------

    def seen_key(self, inspection_id: str) -> str:
        return self.key("booking-seen", inspection_id)

    async def seen_statuses(self, inspection_ids: Sequence[str]) -> dict[str, str]:
        """What was remembered of each inspection seen before (`status@start`, see booking_sweep.memory);
        unseen ones are left out."""
        if not inspection_ids:
            return {}
        raw = await self.redis.mget([self.seen_key(i) for i in inspection_ids])
        return {i: v.decode() for i, v in zip(inspection_ids, raw, strict=True) if v is not None}

    async def remember_statuses(self, seen: Mapping[str, tuple[str, int]]) -> None:
        """Remember `{inspection id: (status@start, ttl seconds)}`; each key goes when its inspection is long past."""
        if not seen:
            return
        async with self.redis.pipeline(transaction=False) as pipe:
            for inspection_id, (status, ttl) in seen.items():
                pipe.set(self.seen_key(inspection_id), status, ex=max(ttl, 60))
            await pipe.execute()

    # -- a short lock, so two runs of one periodic job never overlap --------------------------------

    async def try_lock(self, name: str, ttl: int) -> str | None:
        """A token when the lock `name` was free (it expires after `ttl` s if never released), else None."""
        token = uuid.uuid4().hex
        taken = await self.redis.set(self.key("lock", name), token, nx=True, ex=ttl)
        return token if taken else None

    async def unlock(self, name: str, token: str) -> None:
        """Release the lock if it is still ours (an expired one may have been taken by another run)."""
        await cast(Awaitable[Any], self.redis.eval(_UNLOCK, 1, self.key("lock", name), token))  # compare, delete
