"""The durable inbox: accepted webhook events live in Redis Streams, one stream per partition.

`accept` runs before the webhook answers 200: per partition, one Lua call claims each wamid
(`SET NX EX dedupe_ttl`) and appends the new ones to the partition's stream, atomically, so a
duplicate delivery from Meta is never appended twice and an appended event is never unclaimed.
Readers use the stream's consumer group: an entry stays in the pending-entries list until it is
acknowledged, after its turn is committed and its replies delivered, so a crash anywhere leaves it
pending for the partition's next owner (`claim_pending`, XAUTOCLAIM).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from redis.exceptions import ResponseError

from adapters.whatsapp.keys import PipelineKeys
from engine.events import InboundEvent

_ACCEPT = """
local added = 0
for i = 1, #ARGV - 1, 2 do
  if redis.call('SET', KEYS[(i + 1) / 2 + 1], '1', 'NX', 'EX', ARGV[#ARGV]) then
    redis.call('XADD', KEYS[1], '*', 'e', ARGV[i], 't', ARGV[i + 1])
    added = added + 1
  end
end
return added
"""

_DEAD_LETTER = """
redis.call('RPUSH', KEYS[2], ARGV[3])
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
return redis.call('XDEL', KEYS[1], ARGV[2])
"""


@dataclass(frozen=True, slots=True)
class InboxEntry:
    """One accepted event as read back from its stream: `id` is the stream entry id (ms-seq)."""

    id: str
    event: InboundEvent
    received_at: float

    @classmethod
    def from_fields(cls, entry_id: bytes | str, fields: dict[Any, Any]) -> InboxEntry:
        get = {(k.decode() if isinstance(k, bytes) else k): v for k, v in fields.items()}
        event = InboundEvent.from_dict(_loads(get["e"]))
        received = float(get.get("t") or 0.0)
        return cls(entry_id.decode() if isinstance(entry_id, bytes) else entry_id, event, received)


@dataclass(frozen=True, slots=True)
class AcceptResult:
    accepted: int
    duplicates: int


class StreamInbox:
    """Accepting, reading, acknowledging and dead-lettering inbound events, partition by partition."""

    def __init__(self, redis: Any, keys: PipelineKeys, *, dedupe_ttl: int = 7 * 24 * 3600) -> None:
        self.redis = redis
        self.keys = keys
        self.dedupe_ttl = max(int(dedupe_ttl), 1)
        self._accept = redis.register_script(_ACCEPT)
        self._dead_letter = redis.register_script(_DEAD_LETTER)

    async def accept(self, events: Sequence[InboundEvent], now: float | None = None) -> AcceptResult:
        """Claim and append `events` durably (one round trip per partition involved, in parallel)."""
        if not events:
            return AcceptResult(0, 0)
        received = str(time.time() if now is None else now)
        by_partition: dict[int, list[InboundEvent]] = defaultdict(list)
        for event in events:
            by_partition[self.keys.partition(event.phone)].append(event)
        calls = []
        for partition, group in by_partition.items():
            keys = [self.keys.stream(partition)]
            args: list[str | bytes] = []
            for event in group:
                # An event without a wamid (never from Meta) is claimed by a unique key: never a duplicate.
                keys.append(self.keys.seen(partition, event.wamid or f"nowamid:{time.time_ns()}:{id(event)}"))
                args += [dump_event(event), received]
            calls.append(self._accept(keys=keys, args=[*args, str(self.dedupe_ttl)]))
        if len(calls) == 1:  # the usual body: one user, one partition (no task to gather)
            return _result(int(await calls[0]), len(events))
        added = sum(int(n) for n in await asyncio.gather(*calls))
        return _result(added, len(events))

    async def ensure_group(self, partition: int) -> None:
        """Create the partition's consumer group (and stream) unless it exists, reading from the start."""
        try:
            await self.redis.xgroup_create(self.keys.stream(partition), self.keys.group, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def read_many(self, partitions: Sequence[int], consumer: str, *, count: int = 100,
                        block_ms: int = 1000) -> dict[int, list[InboxEntry]]:
        """New entries of several partitions in one XREADGROUP (their streams must share a node and, on
        Redis Cluster, a slot: there it is one partition per call)."""
        streams = {self.keys.stream(p): ">" for p in partitions}
        by_stream = {self.keys.stream(p): p for p in partitions}
        try:
            reply = await self.redis.xreadgroup(self.keys.group, consumer, streams, count=count, block=block_ms)
        except ResponseError as exc:
            if "NOGROUP" not in str(exc):
                raise
            for partition in partitions:
                await self.ensure_group(partition)
            return {}
        out: dict[int, list[InboxEntry]] = {}
        for stream, items in reply or []:
            name = stream.decode() if isinstance(stream, bytes) else stream
            out[by_stream[name]] = [InboxEntry.from_fields(i, f) for i, f in items if f]
        return out

    async def own_pending(self, partition: int, consumer: str) -> list[InboxEntry]:
        """Entries already delivered to `consumer` and not acknowledged, e.g. by a read whose reply was lost
        when the connection dropped (Redis redelivers those only when asked with id 0)."""
        try:
            reply = await self.redis.xreadgroup(self.keys.group, consumer, {self.keys.stream(partition): "0"},
                                                count=10_000)
        except ResponseError as exc:
            if "NOGROUP" not in str(exc):
                raise
            return []
        return [InboxEntry.from_fields(i, f) for _, items in reply or [] for i, f in items if f]

    async def claim_pending(self, partition: int, consumer: str) -> list[InboxEntry]:
        """Every pending entry of the partition, whoever read it, now owned by `consumer`, in id order.

        Safe with min-idle 0 because only the lease holder calls it."""
        stream, start, out = self.keys.stream(partition), "0-0", []
        while True:
            reply = await self.redis.xautoclaim(stream, self.keys.group, consumer, 0, start, count=500)
            start, items = reply[0], reply[1]
            out += [InboxEntry.from_fields(i, f) for i, f in items if f]
            deleted = reply[2] if len(reply) > 2 else []
            if deleted:  # entries gone from the stream but still pending: acknowledge them away
                await self.redis.xack(stream, self.keys.group, *deleted)
            if start in (b"0-0", "0-0"):
                break
        out.sort(key=lambda e: _id_key(e.id))
        return out

    async def dead_letter(self, partition: int, entry: InboxEntry, error: str, member: str) -> None:
        """Gave up on this event: keep it with the error in the partition's dead letters, and ack it."""
        record = json.dumps({"event": entry.event.to_dict(), "entry": entry.id, "error": error[:500],
                             "failed_at": time.time(), "member": member})
        await self._dead_letter(keys=[self.keys.stream(partition), self.keys.dead(partition)],
                                args=[self.keys.group, entry.id, record])

    async def dead_letters(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for partition in range(self.keys.partitions):
            out += [json.loads(r) for r in await self.redis.lrange(self.keys.dead(partition), 0, -1)]
        return out

    async def backlog(self) -> tuple[int, float]:
        """(events not yet finished, age in seconds of the oldest), over every partition."""
        total, oldest = 0, 0.0
        now_ms = time.time() * 1000
        for partition in range(self.keys.partitions):
            stream = self.keys.stream(partition)
            length = await self.redis.xlen(stream)
            total += int(length)
            if length:
                first = await self.redis.xrange(stream, count=1)
                if first:
                    oldest = max(oldest, (now_ms - _id_key(first[0][0])[0]) / 1000)
        return total, oldest


def _result(added: int, events: int) -> AcceptResult:
    return AcceptResult(added, events - added)


def dump_event(event: InboundEvent) -> bytes:
    """The event as stored in its stream: orjson reads the dataclass directly (dataclasses.asdict, then
    json.dumps, had cost more than the rest of the accept). What orjson refuses (an integer past 64 bits
    in `extra`, a lone surrogate) is written by stdlib json after a space, so `_loads` reads it back with
    stdlib json too (orjson would turn such an integer into a float)."""
    try:
        return orjson.dumps(event)
    except (orjson.JSONEncodeError, TypeError):
        return b" " + json.dumps(event.to_dict(), separators=(",", ":")).encode()


def _loads(raw: bytes | str) -> Any:
    if raw[:1] in (b" ", " "):
        return json.loads(raw)
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return json.loads(raw)


def _id_key(entry_id: bytes | str) -> tuple[int, int]:
    text = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    ms, _, seq = text.partition("-")
    return int(ms), int(seq or 0)


def entry_after(entry_id: str, last_id: str | None) -> bool:
    """Whether stream id `entry_id` comes after `last_id` (None: nothing applied yet)."""
    return last_id is None or _id_key(entry_id) > _id_key(last_id)
