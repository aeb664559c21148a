"""The pipeline under a misbehaving Graph API, a Redis restart, and on Redis Cluster.

Each of these reproduces a failure measured on the earlier design (replies inverted after a 429, the same
reply sent 4 times behind a slow Graph, acked messages dropped when Redis restarted) and checks it is gone.
"""

from __future__ import annotations

import asyncio
import random

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster

from adapters.whatsapp.outbound import WhatsAppSender
from tests.adapters.whatsapp import payloads as p
from tests.adapters.whatsapp.conftest import (
    EchoEngine,
    make_app,
    make_keys,
    make_settings,
    post_signed,
    running,
    settle,
)
from tests.redis_servers import redis_cluster, redis_server

USERS = [f"23480300000{i:02d}" for i in range(8)]


def replies_by_user(fake_graph) -> dict[str, list[str]]:
    return {u: [c.text for c in fake_graph.messages_to(u)] for u in USERS}


async def post_until_accepted(client, body, *, tries: int = 200) -> int:
    """What Meta does: a delivery answered with anything but 2xx is delivered again later."""
    for attempt in range(tries):
        try:
            r = await post_signed(client, body)
            if r.status_code == 200:
                return attempt
        except Exception:
            pass
        await asyncio.sleep(0.05)
    raise AssertionError("the webhook never accepted the delivery")


async def test_429s_and_500s_from_graph_keep_each_users_order(fake_graph, redis, prefix):
    app = make_app(make_settings(fake_graph.url), EchoEngine(jitter=0.002), redis, prefix)
    rng = random.Random(3)
    async with running(app) as client:
        for n in range(6):
            for u in USERS:
                if rng.random() < 0.3:
                    fake_graph.fail_next(1, status=rng.choice([429, 500, 503]))
                await post_signed(client, p.body([p.text(u, f"{u}-{n}")]))
        await settle(app, 30)
    for u, texts in replies_by_user(fake_graph).items():
        assert texts == [f"echo:{u}-{n}" for n in range(6)], u
    assert app.state.stats.retried_sends > 0 and app.state.stats.send_failed == 0


async def test_a_user_waiting_on_retries_does_not_hold_up_the_others(fake_graph, redis, prefix):
    from tests.adapters.whatsapp.conftest import fast_options

    options = fast_options()
    options.delivery.base_delay = options.delivery.max_delay = 0.3
    app = make_app(make_settings(fake_graph.url), EchoEngine(), redis, prefix, options=options,
                   partitions=1)  # both users share one partition
    slow, quick = USERS[0], USERS[1]
    async with running(app) as client:
        fake_graph.fail_next(3, status=429, to=slow)
        await post_signed(client, p.body([p.text(slow, "first")]))
        await asyncio.sleep(0.05)
        for n in range(3):
            await post_signed(client, p.body([p.text(quick, f"q{n}")]))
        await asyncio.sleep(0.3)
        assert [c.text for c in fake_graph.messages_to(quick)] == ["echo:q0", "echo:q1", "echo:q2"]
        assert fake_graph.messages_to(slow) == []  # still backing off, alone
        await settle(app)
    assert [c.text for c in fake_graph.messages_to(slow)] == ["echo:first"]


async def test_a_graph_slower_than_the_timeout_gets_one_resend_at_most(fake_graph, redis, prefix):
    settings = make_settings(fake_graph.url)
    sender = WhatsAppSender(settings, timeout=0.3, patient_timeout=3.0)
    app = make_app(settings, EchoEngine(), redis, prefix, sender=sender)
    fake_graph.delay = 0.6  # every send takes longer than the first timeout
    try:
        async with running(app) as client:
            await post_signed(client, p.body([p.text(USERS[0], "slow")]))
            await settle(app, 15)
            fake_graph.wait_for_messages(2, timeout=5)
    finally:
        fake_graph.delay = 0.0
        await sender.aclose()
    texts = [c.text for c in fake_graph.messages]
    assert texts == ["echo:slow", "echo:slow"]  # Meta got the timed-out one too: two copies, never four
    assert app.state.stats.send_timeouts == 1 and app.state.stats.sent == 1


async def test_a_redis_restart_under_load_loses_no_accepted_message_and_answers_each_once(fake_graph, prefix):
    with redis_server(aof=True, appendfsync="everysec") as server:
        redis = Redis.from_url(server.url, socket_timeout=2, socket_connect_timeout=0.5)
        engine = EchoEngine()
        app = make_app(make_settings(fake_graph.url), engine, redis, prefix)
        accepted, refused = 0, 0
        restarted = asyncio.Event()
        sent: dict[str, int] = {}
        async with running(app) as client:

            async def user_load(u: str) -> None:
                """Keep talking until well after the restart, so the outage always falls inside the load."""
                nonlocal accepted, refused
                n, after = 0, 0
                while n < 15 or after < 5:
                    refused += await post_until_accepted(client, p.body([p.text(u, f"{u}-{n}")]))
                    accepted += 1
                    n += 1
                    after += restarted.is_set()
                    await asyncio.sleep(0.02)
                sent[u] = n

            async def restart() -> None:
                while accepted < len(USERS) * 5:
                    await asyncio.sleep(0.005)
                await asyncio.to_thread(server.restart)  # a clean restart: the AOF is flushed first
                restarted.set()

            await asyncio.gather(*(user_load(u) for u in USERS), restart())
            await settle(app, 30)
            health = (await client.get("/health")).json()
        await redis.aclose()
    assert health["status"] == "ok"  # healthy again without a restart of ours
    for u, texts in replies_by_user(fake_graph).items():
        assert texts == [f"echo:{u}-{n}" for n in range(sent[u])], u  # none lost, none twice, in order
    assert app.state.pipeline.health.failures + refused > 0, "the restart never overlapped the load"


async def test_while_redis_is_down_health_is_degraded_and_accepted_events_wait_for_it(fake_graph, prefix):
    with redis_server(aof=True) as server:
        redis = Redis.from_url(server.url, socket_timeout=2, socket_connect_timeout=0.5)
        app = make_app(make_settings(fake_graph.url), EchoEngine(), redis, prefix)
        async with running(app) as client:
            await post_signed(client, p.body([p.text(USERS[0], "before")]))
            await settle(app)
            await asyncio.to_thread(server.stop)
            refused = await post_signed(client, p.body([p.text(USERS[0], "during")]))
            down = await client.get("/health")
            await asyncio.sleep(0.5)  # consumers and heartbeats meet the outage and keep retrying
            await asyncio.to_thread(server.start)
            await post_until_accepted(client, p.body([p.text(USERS[0], "during")]))  # Meta's retry
            await settle(app, 15)
            up = await client.get("/health")
        await redis.aclose()
    assert refused.status_code == 503
    assert (down.status_code, down.json()["status"]) == (503, "degraded")
    assert (up.status_code, up.json()["status"]) == (200, "ok")
    assert [c.text for c in fake_graph.messages_to(USERS[0])] == ["echo:before", "echo:during"]


async def test_the_pipeline_runs_unchanged_on_a_redis_cluster(fake_graph, prefix):
    with redis_cluster(masters=3) as cluster:
        redis = await RedisCluster.from_url(cluster.urls[0]).initialize()
        try:
            keys = make_keys(prefix, partitions=6)
            nodes = {redis.get_node_from_key(keys.stream(n)).name for n in range(6)}
            assert len(nodes) > 1  # the partitions really are spread over the masters
            engine = EchoEngine()
            app = make_app(make_settings(fake_graph.url), engine, redis, prefix, partitions=6)
            async with running(app) as client:
                for n in range(4):
                    for u in USERS:
                        assert (await post_signed(client, p.body([p.text(u, f"{u}-{n}")]))).status_code == 200
                dup = p.body([p.text(USERS[0], "again")])
                await post_signed(client, dup)
                await post_signed(client, dup)
                await settle(app, 20)
        finally:
            await redis.aclose()
    by_user = replies_by_user(fake_graph)
    assert by_user[USERS[0]] == [f"echo:{USERS[0]}-{n}" for n in range(4)] + ["echo:again"]
    for u in USERS[1:]:
        assert by_user[u] == [f"echo:{u}-{n}" for n in range(4)]


async def test_a_turn_waiting_on_a_slow_inspector_gives_its_slot_to_other_users(fake_graph, redis, prefix):
    from tests.adapters.whatsapp.conftest import fast_options

    class SlowInspector(EchoEngine):
        async def run_turn(self, event, conversation):
            if event.text == "slow":
                await asyncio.sleep(1.5)  # an Inspector call of seconds
            return await super().run_turn(event, conversation)

    options = fast_options(max_in_progress=1, slot_hold=0.1)  # one slot for the whole process
    app = make_app(make_settings(fake_graph.url), SlowInspector(), redis, prefix, options=options)
    slow, quick = USERS[0], USERS[1]
    async with running(app) as client:
        await post_signed(client, p.body([p.text(slow, "slow")]))
        await asyncio.sleep(0.05)
        await post_signed(client, p.body([p.text(quick, "quick")]))
        await settle(app)
    order = [c.to for c in fake_graph.messages]
    assert order == [quick, slow]
