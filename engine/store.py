"""ConversationStore: per-user state in Redis, safe when two processes handle one user at once.

Keys carry a hash tag per user (`conv:{+234...}`) so a user's keys land in one Redis Cluster slot. A
per-user lock serialises handling (so actions never run twice concurrently for one user) and a
version check on save catches a lock that expired mid-step instead of silently losing an update.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from typing import Any, cast

from redis.asyncio import Redis

from engine.conversation import Conversation

logger = logging.getLogger(__name__)

_SAVE = """
local current = redis.call('HGET', KEYS[1], 'version')
if (current or '0') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'data', ARGV[2], 'version', ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[4])
return 1
"""
_LOCK_AND_LOAD = """
if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return {1, redis.call('HGET', KEYS[1], 'data'), redis.call('HGET', KEYS[1], 'version')}
end
return {0}
"""
_SAVE_AND_UNLOCK = """
local current = redis.call('HGET', KEYS[1], 'version')
local saved = 0
if (current or '0') == ARGV[1] then
  redis.call('HSET', KEYS[1], 'data', ARGV[2], 'version', ARGV[3])
  redis.call('EXPIRE', KEYS[1], ARGV[4])
  saved = 1
end
if redis.call('GET', KEYS[2]) == ARGV[5] then redis.call('DEL', KEYS[2]) end
return saved
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class ConflictError(Exception):
    """The conversation changed under us (another process saved first); the event must be retried."""


class LockTimeout(Exception):
    """Another process holds this user's lock for too long; the event must be retried later."""


class ConversationStore:
    def __init__(
        self,
        redis: Redis,
        *,
        prefix: str = "conv",
        ttl: int = 24 * 3600,
        lock_ttl_ms: int = 30_000,
        lock_wait: float = 10.0,
    ) -> None:
        self.redis = redis
        self.prefix = prefix
        self.ttl = ttl
        self.lock_ttl_ms = lock_ttl_ms
        self.lock_wait = lock_wait
        self._save = redis.register_script(_SAVE)
        self._release = redis.register_script(_RELEASE)
        self._lock_and_load = redis.register_script(_LOCK_AND_LOAD)
        self._save_and_unlock = redis.register_script(_SAVE_AND_UNLOCK)

    def key(self, phone: str) -> str:
        return f"{self.prefix}:{{{phone}}}"

    async def load(self, phone: str) -> Conversation | None:
        # redis-py types a command as "awaitable or value" for its sync and async clients alike.
        fields = cast(Awaitable[list[Any]], self.redis.hmget(self.key(phone), ["data", "version"]))
        data, version = await fields
        if data is None:
            return None
        conversation = Conversation.loads(data)
        conversation.version = int(version or 0)
        return conversation

    async def save(self, conversation: Conversation) -> None:
        """Write if nobody else saved since we loaded; bump the version."""
        expected = conversation.version
        conversation.version = expected + 1
        ok = await self._save(
            keys=[self.key(conversation.phone)],
            args=[str(expected), conversation.dumps(), str(expected + 1), str(self.ttl)],
        )
        if not ok:
            conversation.version = expected
            raise ConflictError(f"conversation changed concurrently (expected version {expected})")

    async def delete(self, phone: str) -> None:
        await self.redis.delete(self.key(phone))

    @asynccontextmanager
    async def lock(self, phone: str) -> AsyncIterator[None]:
        """Hold the user's lock: one event per user at a time across every process."""
        key = self.key(phone) + ":lock"
        token = secrets.token_hex(8)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.lock_wait
        delay = 0.002
        while not await self.redis.set(key, token, nx=True, px=self.lock_ttl_ms):
            if loop.time() > deadline:
                raise LockTimeout("user is busy in another process")
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.05)
        try:
            yield
        finally:
            try:
                await self._release(keys=[key], args=[token])
            except Exception:  # the lock expires by itself; never hide the real outcome
                logger.warning("could not release a conversation lock; it will expire", exc_info=True)

    @asynccontextmanager
    async def checkout(self, phone: str) -> AsyncIterator[Checkout]:
        """Lock and load in one round trip; `commit` saves and unlocks in one more (the hot path)."""
        key, lock_key = self.key(phone), self.key(phone) + ":lock"
        token = secrets.token_hex(8)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.lock_wait
        delay = 0.002
        while True:
            got, *rest = await self._lock_and_load(keys=[key, lock_key], args=[token, str(self.lock_ttl_ms)])
            if got:
                break
            if loop.time() > deadline:
                raise LockTimeout("user is busy in another process")
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.05)
        data, version = (rest + [None, None])[:2]
        conversation = None
        if data is not None:
            conversation = Conversation.loads(data)
            conversation.version = int(version or 0)
        checkout = Checkout(self, phone, token, conversation)
        try:
            yield checkout
        finally:
            if not checkout.committed:
                try:
                    await self._release(keys=[lock_key], args=[token])
                except Exception:
                    logger.warning("could not release a conversation lock; it will expire", exc_info=True)

    async def memory_usage(self, phone: str) -> int | None:
        used: int | None = await self.redis.memory_usage(self.key(phone))
        return used


class Checkout:
    """One user's conversation, held under their lock until `commit` (or the end of the block)."""

    def __init__(self, store: ConversationStore, phone: str, token: str, conversation: Conversation | None) -> None:
        self.store = store
        self.phone = phone
        self.token = token
        self.conversation = conversation
        self.committed = False

    async def commit(self, conversation: Conversation) -> None:
        store = self.store
        expected = conversation.version
        conversation.version = expected + 1
        key = store.key(self.phone)
        ok = await store._save_and_unlock(
            keys=[key, key + ":lock"],
            args=[str(expected), conversation.dumps(), str(expected + 1), str(store.ttl), self.token],
        )
        self.committed = True
        if not ok:
            conversation.version = expected
            raise ConflictError(f"conversation changed concurrently (expected version {expected})")
