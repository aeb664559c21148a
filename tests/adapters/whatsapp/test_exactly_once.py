"""At most once across processes, per-user order, retries, dead letters, restart, rate limit."""

from __future__ import annotations

import asyncio
import random

from adapters.whatsapp import Inbox
from adapters.whatsapp.inbound import parse_body
from tests.adapters.whatsapp import payloads as p
from tests.adapters.whatsapp.conftest import EchoEngine, make_app, make_settings, post_signed, running, settle

U1 = "2348012345621"


async def test_two_instances_sharing_redis_reply_once_to_the_same_wamid(fake_graph, redis, prefix):
    settings = make_settings(fake_graph.url)
    e1, e2 = EchoEngine(), EchoEngine()
    a1 = make_app(settings, e1, redis, prefix, instance="one")
    a2 = make_app(settings, e2, redis, prefix, instance="two")
    bodies = [p.body([p.text(U1, f"m{i}")], [p.contact(U1)]) for i in range(5)]
    async with running(a1) as c1, running(a2) as c2:
        for b in bodies:  # each delivered to both instances, at the same time
            r1, r2 = await asyncio.gather(post_signed(c1, b), post_signed(c2, b))
            assert r1.status_code == r2.status_code == 200
        await settle(a1)
        await settle(a2)
    assert e1.calls + e2.calls == 5
    assert sorted(c.text for c in fake_graph.messages) == sorted(f"echo:m{i}" for i in range(5))


async def test_burst_of_200_messages_from_20_users_keeps_each_users_order(fake_graph, redis, prefix):
    engine = EchoEngine(jitter=0.005)
    app = make_app(make_settings(fake_graph.url), engine, redis, prefix)
    users = [f"23480100000{i:02d}" for i in range(20)]
    sequence = [(u, n) for n in range(10) for u in users]
    random.Random(7).shuffle(sequence)  # users interleaved, each user's own messages still in order
    per_user: dict[str, int] = {u: 0 for u in users}
    bodies = []
    for u, _ in sequence:
        bodies.append(p.body([p.text(u, f"{u}-{per_user[u]}")], [p.contact(u)]))
        per_user[u] += 1
    async with running(app) as client:
        for b in bodies:
            assert (await post_signed(client, b)).status_code == 200
        await settle(app, 20)
    for u in users:
        assert [c.text for c in fake_graph.messages_to(u)] == [f"echo:{u}-{i}" for i in range(10)]
    assert len(fake_graph.messages) == 200


async def test_failed_processing_is_retried_then_succeeds(fake_graph, redis, prefix):
    engine = EchoEngine(fail_times=2)
    app = make_app(make_settings(fake_graph.url), engine, redis, prefix)
    async with running(app) as client:
        await post_signed(client, p.body([p.text(U1, "first"), p.text(U1, "second")]))
        await settle(app)
        assert await app.state.inbox.pending() == []
    assert [c.text for c in fake_graph.messages] == ["echo:first", "echo:second"]
    assert app.state.stats.retried == 2 and app.state.stats.failed == 0


async def test_processing_that_keeps_failing_goes_to_dead_letters_and_is_released(fake_graph, redis, prefix):
    engine = EchoEngine(fail_times=3)  # FAST allows 3 attempts
    app = make_app(make_settings(fake_graph.url), engine, redis, prefix)
    m = p.text(U1, "doomed")
    async with running(app) as client:
        await post_signed(client, p.body([m, p.text(U1, "after")]))
        await settle(app)
        (dead,) = await app.state.inbox.dead_letters()
        assert dead["entry"]["event"]["wamid"] == m["id"] and "engine exploded" in dead["error"]
        assert await app.state.inbox.pending() == []
        # the claim was released: a redelivery of the same wamid is processed
        await post_signed(client, p.body([m]))
        await settle(app)
    assert [c.text for c in fake_graph.messages] == ["echo:after", "echo:doomed"]
    assert app.state.stats.failed == 1


async def test_restart_picks_up_events_left_in_the_inbox(fake_graph, redis, prefix):
    inbox = Inbox(redis, namespace=prefix, instance="box")
    events = [
        parsed
        for parsed in __import__("adapters.whatsapp.inbound", fromlist=["parse_body"])
        .parse_body(p.body([p.text(U1, "left-1"), p.text(U1, "left-2")]))
        .events
    ]
    entries, dups = await inbox.accept(events)  # accepted (200 sent), then the process died
    assert len(entries) == 2 and dups == 0
    engine = EchoEngine()
    app = make_app(make_settings(fake_graph.url), engine, redis, prefix, instance="box")
    async with running(app):
        await settle(app)
    assert [c.text for c in fake_graph.messages] == ["echo:left-1", "echo:left-2"]
    assert await inbox.pending() == []


async def test_stale_copy_left_in_inbox_is_not_processed_twice(fake_graph, redis, prefix):
    (event,) = parse_body(p.body([p.text(U1, "x")])).events
    inbox = Inbox(redis, namespace=prefix, instance="box")
    (entry,), _ = await inbox.accept([event])
    await inbox.done(entry)
    await redis.rpush(inbox.list_key, entry.raw)  # a crash between processing and removal
    app = make_app(make_settings(fake_graph.url), EchoEngine(), redis, prefix, instance="box")
    async with running(app):
        await settle(app)
    assert fake_graph.messages == [] and await inbox.pending() == []


async def test_on_inbound_runs_before_the_engine(fake_graph, redis, prefix):
    order: list[str] = []

    class Engine(EchoEngine):
        async def handle(self, event):
            order.append("engine")
            return await super().handle(event)

    async def on_inbound(event):
        order.append(f"inbound:{event.phone}")

    app = make_app(make_settings(fake_graph.url), Engine(), redis, prefix, on_inbound=on_inbound)
    async with running(app) as client:
        await post_signed(client, p.body([p.text(U1)]))
        await settle(app)
    assert order == [f"inbound:{U1}", "engine"]


async def test_rate_limit_one_notice_per_window_and_no_engine_work(fake_graph, redis, prefix):
    engine = EchoEngine()
    app = make_app(make_settings(fake_graph.url, rate_limit_per_minute=3), engine, redis, prefix)
    async with running(app) as client:
        for i in range(8):
            await post_signed(client, p.body([p.text(U1, f"flood{i}")]))
        await settle(app)
        counters = (await client.get("/api/v1/status")).json()["counters"]
    assert engine.calls == 3
    assert [c.text for c in fake_graph.messages] == ["echo:flood0", "echo:flood1", "echo:flood2", "notice:rate_limited"]
    assert counters["rate_limited"] == 5
