"""A user's side of a turn in Redis: load (one round trip) and commit (one round trip), atomically per user.

`load` folds the rate limit, the last-inbound time and the leftover-outbox check into the read of the
conversation. `commit` is the transactional outbox: the new state, the replies to send and the "this
event is applied" mark (`last_id`, the stream id of the event) are written by one Lua script on keys
of one hash slot (`{phone}`), so it runs unchanged on Redis Cluster. A second commit of the same event
(a crash before the ack, a stale owner) finds `last_id` already there and writes nothing: a turn is
never applied twice, and a committed reply stays in the outbox until it is delivered.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from adapters.whatsapp.keys import PipelineKeys
from engine.conversation import Conversation
from engine.messages import OutboundMessage

_LOAD = """
local count = 0
if tonumber(ARGV[3]) > 0 then
  count = redis.call('INCR', KEYS[2])
  if count == 1 then redis.call('EXPIRE', KEYS[2], 70) end
end
local previous = redis.call('HGET', KEYS[1], 'last_in')
redis.call('HSET', KEYS[1], 'last_in', ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
local state = redis.call('HMGET', KEYS[1], 'data', 'version', 'last_id')
return {count, previous or '', state[1] or '', state[2] or '0', state[3] or '', redis.call('LLEN', KEYS[3])}
"""

_COMMIT = """
local function after(a, b)
  local am, as = string.match(a, '^(%d+)-(%d+)$')
  local bm, bs = string.match(b, '^(%d+)-(%d+)$')
  am, as, bm, bs = tonumber(am), tonumber(as), tonumber(bm), tonumber(bs)
  return am > bm or (am == bm and as > bs)
end
local last = redis.call('HGET', KEYS[1], 'last_id')
if last and not after(ARGV[1], last) then return {0, 0} end
if ARGV[3] ~= '' then
  if (redis.call('HGET', KEYS[1], 'version') or '0') ~= ARGV[2] then return {-1, 0} end
  redis.call('HSET', KEYS[1], 'data', ARGV[3], 'version', ARGV[4])
end
redis.call('HSET', KEYS[1], 'last_id', ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[5])
if #ARGV > 5 then
  redis.call('RPUSH', KEYS[2], unpack(ARGV, 6))
  redis.call('EXPIRE', KEYS[2], ARGV[5])
end
return {1, redis.call('LLEN', KEYS[2])}
"""

APPLIED, ALREADY_APPLIED, CONFLICT = 1, 0, -1


@dataclass(slots=True)
class UserLoad:
    """What `load` found: the rate-limit count this minute, the previous inbound time, the conversation."""

    rate_count: int
    previous_inbound: float | None
    conversation: Conversation | None
    last_id: str | None
    outbox_length: int


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """One committed reply: `attempts` counts sends that may have reached Meta (bounded duplicates)."""

    message: OutboundMessage
    attempts: int = 0

    def dumps(self) -> bytes:
        item = {"m": self.message.to_dict(), "a": self.attempts}
        try:
            return orjson.dumps(item)
        except (orjson.JSONEncodeError, TypeError):  # a lone surrogate in a text: stdlib json writes it escaped
            return json.dumps(item, separators=(",", ":")).encode()

    @classmethod
    def loads(cls, raw: bytes | str) -> OutboxItem:
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError:
            data = json.loads(raw)
        return cls(OutboundMessage.from_dict(data["m"]), int(data.get("a", 0)))


class UserTurns:
    """Load and commit one user's turn; read their outbox (its trims go out batched, see flusher.py)."""

    def __init__(self, redis: Any, keys: PipelineKeys, *, ttl: int = 24 * 3600, rate_limit: int = 10) -> None:
        self.redis = redis
        self.keys = keys
        self.ttl = ttl
        self.rate_limit = rate_limit
        self._load = redis.register_script(_LOAD)
        self._commit = redis.register_script(_COMMIT)

    async def load(self, phone: str, now: float | None = None) -> UserLoad:
        now = time.time() if now is None else now
        rate_key = f"{self.keys.rate(phone)}:{int(now // 60)}"
        count, previous, data, version, last_id, outbox = await self._load(
            keys=[self.keys.conversation(phone), rate_key, self.keys.outbox(phone)],
            args=[repr(now), str(self.ttl), str(self.rate_limit)])
        conversation = None
        if data:
            conversation = Conversation.loads(data)
            conversation.version = int(version or 0)
        return UserLoad(int(count), float(previous) if previous else None, conversation,
                        _text(last_id) or None, int(outbox))

    async def commit(self, phone: str, entry_id: str, conversation: Conversation | None, expected_version: int,
                     messages: Sequence[OutboundMessage]) -> tuple[int, int]:
        """(APPLIED | ALREADY_APPLIED | CONFLICT, outbox length). `conversation` None: state unchanged."""
        data = ""
        if conversation is not None:
            conversation.version = expected_version + 1
            data = conversation.dumps()
        items = [OutboxItem(m).dumps() for m in messages]
        outcome, length = await self._commit(
            keys=[self.keys.conversation(phone), self.keys.outbox(phone)],
            args=[entry_id, str(expected_version), data, str(expected_version + 1), str(self.ttl), *items])
        if int(outcome) != APPLIED and conversation is not None:
            conversation.version = expected_version
        return int(outcome), int(length)

    async def outbox(self, phone: str) -> list[OutboxItem]:
        return [OutboxItem.loads(raw) for raw in await self.redis.lrange(self.keys.outbox(phone), 0, -1)]

    async def mark_attempt(self, phone: str, index: int, item: OutboxItem) -> None:
        """Record, before a resend, that this item may already have reached Meta."""
        await self.redis.lset(self.keys.outbox(phone), index, OutboxItem(item.message, item.attempts + 1).dumps())


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else (value or "")
