"""ConversationStore against the real Redis: hash-tagged keys, TTL, and no lost update under concurrency."""

from __future__ import annotations

import asyncio
import json

import pytest
import redis.asyncio as aioredis

from engine.actions import ActionRegistry
from engine.compiler import CompiledFlows
from engine.conversation import Conversation
from engine.events import InboundEvent
from engine.interpreter import Engine
from engine.store import ConflictError, ConversationStore, LockTimeout
from flows.loader import load_flows
from tests.engine.conftest import SAMPLE
from tests.services import TEST_REDIS_URL

# A command works from every state, so every event increments `n` whatever the interleaving.
COUNTER = SAMPLE.read_text().replace(
    "commands:\n",
    "commands:\n  tick:\n    keywords: [tick]\n    set: {n: \"{{ (n or 0) + 1 }}\"}\n",
)


async def test_save_detects_a_concurrent_writer(real_redis):
    client, prefix = real_redis
    store = ConversationStore(client, prefix=prefix, ttl=60)
    await store.save(Conversation(phone="+1", flow="f", state="s"))
    first = await store.load("+1")
    second = await store.load("+1")
    first.vars["a"] = 1
    await store.save(first)
    second.vars["b"] = 2
    with pytest.raises(ConflictError):
        await store.save(second)
    again = await store.load("+1")
    assert again.vars == {"a": 1} and again.version == 2
    assert 0 < await client.ttl(store.key("+1")) <= 60


async def test_lock_times_out_while_another_holder_keeps_it(real_redis):
    client, prefix = real_redis
    store = ConversationStore(client, prefix=prefix, lock_wait=0.2)
    async with store.lock("+1"):
        with pytest.raises(LockTimeout):
            async with store.lock("+1"):
                pass
    async with store.lock("+1"):  # released: usable again
        pass


async def test_two_engines_one_user_lose_no_update(real_redis, tmp_path):
    """Two engines with their own connections (as two processes would) step one user 40 times."""
    _, prefix = real_redis
    path = tmp_path / "flows.yaml"
    path.write_text(COUNTER)
    registry = ActionRegistry()

    @registry.action("test.identify")
    async def identify(ctx):
        return {"id": "u1", "name": "Ada", "role": "seeker"}

    @registry.action("test.link")
    async def link(ctx, email):
        return None

    @registry.action("test.items")
    async def items(ctx, page):
        await asyncio.sleep(0)
        return []

    loaded = load_flows(path, {n: registry.params(n) for n in registry})
    clients = [aioredis.Redis.from_url(TEST_REDIS_URL) for _ in range(2)]
    engines = [Engine(CompiledFlows(loaded), registry, ConversationStore(c, prefix=prefix)) for c in clients]
    phone = "+2348000000099"
    await engines[0].handle(InboundEvent(phone=phone, text="hi"))

    async def press(engine: Engine, times: int) -> None:
        for _ in range(times):
            await engine.handle(InboundEvent(phone=phone, text="tick"))

    await asyncio.gather(press(engines[0], 20), press(engines[1], 20), press(engines[0], 10))
    raw = await clients[0].hget(f"{prefix}:{{{phone}}}", "data")
    saved = json.loads(raw)
    assert saved["vars"]["n"] == 50
    assert int(await clients[0].hget(f"{prefix}:{{{phone}}}", "version")) == 51  # the first "hi" + 50 ticks
    for client in clients:
        await client.aclose()


async def test_checkout_holds_the_lock_until_commit(real_redis):
    client, prefix = real_redis
    store = ConversationStore(client, prefix=prefix, lock_wait=0.1)
    async with store.checkout("+2") as held:
        assert held.conversation is None
        with pytest.raises(LockTimeout):
            async with store.checkout("+2"):
                pass
        await held.commit(Conversation(phone="+2", flow="f", state="s"))
    async with store.checkout("+2") as again:  # committed and unlocked in the same round trip
        assert again.conversation.state == "s" and again.conversation.version == 1
    assert await client.exists(store.key("+2") + ":lock") == 0
