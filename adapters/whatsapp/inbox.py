"""The durable inbox: accepted webhook events live in Redis from before the 200 until processed.

Keys (all under `namespace`):
  `{ns}:seen:{wamid}`     claim of one wamid, SET NX with TTL `dedupe_ttl`; value is the token of the
                          one receipt allowed to process it, then `done`. Shared by all processes.
  `{ns}:inbox:{instance}` list of accepted entries in arrival order, one list per app instance;
                          an instance restarting under the same name picks up what it left.
  `{ns}:dead`             dead letters: events whose processing kept failing (JSON with the error).

Accepting is one MULTI round trip (claim + push for every event); a duplicate's pushed copy is then
removed, and a copy that survived a crash is recognised by its token and skipped.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from redis.asyncio import Redis

from engine.events import InboundEvent


@dataclass(frozen=True, slots=True)
class InboxEntry:
    event: InboundEvent
    token: str
    raw: str
    received_at: float

    @classmethod
    def new(cls, event: InboundEvent) -> InboxEntry:
        token = uuid.uuid4().hex
        received_at = time.time()
        raw = json.dumps({"event": event.to_dict(), "token": token, "received_at": received_at})
        return cls(event, token, raw, received_at)

    @classmethod
    def load(cls, raw: str | bytes) -> InboxEntry:
        text = raw.decode() if isinstance(raw, bytes) else raw
        data = json.loads(text)
        return cls(InboundEvent.from_dict(data["event"]), data["token"], text, data["received_at"])


class Inbox:
    """Exactly-once bookkeeping for inbound events, in Redis."""

    def __init__(self, redis: Redis, *, namespace: str = "wa", instance: str = "main",
                 dedupe_ttl: int = 7 * 24 * 3600) -> None:
        self.redis = redis
        self.namespace = namespace
        self.instance = instance
        self.dedupe_ttl = max(int(dedupe_ttl), 1)
        self.list_key = f"{namespace}:inbox:{instance}"
        self.dead_key = f"{namespace}:dead"

    def seen_key(self, wamid: str) -> str:
        return f"{self.namespace}:seen:{wamid}"

    async def accept(self, events: Sequence[InboundEvent]) -> tuple[list[InboxEntry], int]:
        """Claim and store `events` durably. Returns the new entries and the number of duplicates."""
        if not events:
            return [], 0
        entries = [InboxEntry.new(e) for e in events]
        async with self.redis.pipeline(transaction=True) as pipe:
            for entry in entries:
                pipe.set(self.seen_key(entry.event.wamid or entry.token), entry.token, nx=True,
                         ex=self.dedupe_ttl)
                pipe.rpush(self.list_key, entry.raw)
            replies = await pipe.execute()
        claimed = [bool(replies[2 * i]) for i in range(len(entries))]
        duplicates = [e for e, ok in zip(entries, claimed, strict=True) if not ok]
        if duplicates:
            async with self.redis.pipeline(transaction=False) as pipe:
                for entry in duplicates:
                    pipe.lrem(self.list_key, 1, entry.raw)
                await pipe.execute()
        return [e for e, ok in zip(entries, claimed, strict=True) if ok], len(duplicates)

    async def owns(self, entry: InboxEntry) -> bool:
        """Whether this entry is still the one allowed to process its wamid."""
        value = await self.redis.get(self.seen_key(entry.event.wamid or entry.token))
        if isinstance(value, bytes):
            value = value.decode()
        return value == entry.token

    async def done(self, entry: InboxEntry) -> None:
        """Processed: the wamid stays claimed (as `done`) for its TTL, the entry leaves the inbox."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(self.seen_key(entry.event.wamid or entry.token), "done", xx=True, keepttl=True)
            pipe.lrem(self.list_key, 1, entry.raw)
            await pipe.execute()

    async def discard(self, entry: InboxEntry) -> None:
        """A stale copy (duplicate left by a crash): drop it without touching the claim."""
        await self.redis.lrem(self.list_key, 1, entry.raw)

    async def dead_letter(self, entry: InboxEntry, error: str) -> None:
        """Gave up: keep the event in the dead-letter list and release its claim for a later replay."""
        record = json.dumps({"entry": json.loads(entry.raw), "error": error, "failed_at": time.time(),
                             "instance": self.instance})
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.rpush(self.dead_key, record)
            pipe.delete(self.seen_key(entry.event.wamid or entry.token))
            pipe.lrem(self.list_key, 1, entry.raw)
            await pipe.execute()

    async def pending(self) -> list[InboxEntry]:
        """Entries this instance accepted but did not finish (after a restart), in arrival order."""
        out = []
        for raw in await self.redis.lrange(self.list_key, 0, -1):
            try:
                out.append(InboxEntry.load(raw))
            except (ValueError, KeyError, TypeError):
                await self.redis.lrem(self.list_key, 1, raw)
        return out

    async def dead_letters(self) -> list[dict]:
        return [json.loads(r) for r in await self.redis.lrange(self.dead_key, 0, -1)]
