"""Exactly one applied turn and at-least-once (bounded) replies: across processes, crashes, retries, rate limits."""

from __future__ import annotations

import asyncio
import hashlib
import json
import random

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from adapters.whatsapp import StreamInbox
from adapters.whatsapp.inbound import parse_body
from adapters.whatsapp.turns import OutboxItem, UserTurns
from engine.messages import OutboundMessage
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
from tests.services import TEST_REDIS_URL

U1 = "2348012345621"


async def test_two_processes_sharing_redis_reply_once_to_the_same_wamid(fake_graph, redis, prefix):
    settings = make_settings(fake_graph.url)
    e1, e2 = EchoEngine(), EchoEngine()
    a1 = make_app(settings, e1, redis, prefix, label="one")
    a2 = make_app(settings, e2, redis, prefix, label="two")
    bodies = [p.body([p.text(U1, f"m{i}")], [p.contact(U1)]) for i in range(5)]
    async with running(a1) as c1, running(a2) as c2:
        for b in bodies:  # each delivered to both processes, at the same time
            r1, r2 = await asyncio.gather(post_signed(c1, b), post_signed(c2, b))
            assert r1.status_code == r2.status_code == 200
        await settle(a1)
        await settle(a2)
    assert e1.calls + e2.calls == 5
    assert [c.text for c in fake_graph.messages] == [f"echo:m{i}" for i in range(5)]  # once each, in order


async def test_two_processes_split_the_partitions_and_keep_each_users_order(fake_graph, redis, prefix):
    settings = make_settings(fake_graph.url)
    e1, e2 = EchoEngine(jitter=0.003), EchoEngine(jitter=0.003)
    a1 = make_app(settings, e1, redis, prefix, label="one")
    a2 = make_app(settings, e2, redis, prefix, label="two")
    users = [f"23480200000{i:02d}" for i in range(12)]
    async with running(a1) as c1, running(a2) as c2:
        p1, p2 = a1.state.pipeline, a2.state.pipeline
        for _ in range(100):  # the first took everything; the second's arrival makes it give half back
            if len(p1.partitions_owned) == len(p2.partitions_owned) == 2:
                break
            await asyncio.sleep(0.1)
        assert sorted(p1.partitions_owned + p2.partitions_owned) == [0, 1, 2, 3]
        for n in range(6):
            for i, u in enumerate(users):  # alternate the process Meta delivers to
                client = c1 if (n + i) % 2 else c2
                assert (await post_signed(client, p.body([p.text(u, f"{u}-{n}")]))).status_code == 200
        await settle(a1, 20)
        await settle(a2, 20)
    assert e1.calls and e2.calls
    for u in users:
        assert [c.text for c in fake_graph.messages_to(u)] == [f"echo:{u}-{n}" for n in range(6)]


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
        assert (await app.state.inbox.backlog())[0] == 0
    assert [c.text for c in fake_graph.messages] == ["echo:first", "echo:second"]
    assert app.state.stats.retried == 2 and app.state.stats.failed == 0


async def test_processing_that_keeps_failing_is_dead_lettered_and_the_user_is_told(fake_graph, redis, prefix):
    engine = EchoEngine(fail_times=3)
    app = make_app(make_settings(fake_graph.url), engine, redis, prefix)
    async with running(app) as client:
        await post_signed(client, p.body([p.text(U1, "doomed"), p.text(U1, "next")]))
        await settle(app)
        (dead,) = await app.state.inbox.dead_letters()
    assert dead["event"]["text"] == "doomed" and "engine exploded" in dead["error"]
    assert [c.text for c in fake_graph.messages] == ["notice:internal_error", "echo:next"]
    assert app.state.stats.failed == 1


async def test_events_accepted_before_a_crash_are_processed_by_the_next_process(fake_graph, redis, prefix):
    inbox = StreamInbox(redis, make_keys(prefix))
    events = parse_body(p.body([p.text(U1, "a"), p.text(U1, "b")])).events
    assert (await inbox.accept(events)).accepted == 2  # 200 sent, then the process died
    engine = EchoEngine()
    app = make_app(make_settings(fake_graph.url), engine, redis, prefix)
    async with running(app):
        await settle(app)
    assert [c.text for c in fake_graph.messages] == ["echo:a", "echo:b"]


async def test_events_a_dead_consumer_had_read_are_claimed_by_the_next_owner(fake_graph, redis, prefix):
    keys = make_keys(prefix)
    inbox = StreamInbox(redis, keys)
    await inbox.accept(parse_body(p.body([p.text(U1, "read-then-crash")])).events)
    partition = keys.partition(U1)
    await inbox.ensure_group(partition)
    (read,) = (await inbox.read_many([partition], "dead-member", block_ms=10))[partition]  # pending with it
    app = make_app(make_settings(fake_graph.url), EchoEngine(), redis, prefix)
    async with running(app):
        await settle(app)
    assert [c.text for c in fake_graph.messages] == ["echo:read-then-crash"]
    assert (await redis.xpending(keys.stream(partition), keys.group))["pending"] == 0


async def test_a_turn_committed_before_a_crash_is_not_applied_again_and_its_replies_go_out_once(
        fake_graph, redis, prefix):
    """Crash windows: after the commit (state + outbox + applied mark), before delivery and before the ack."""
    keys = make_keys(prefix)
    inbox = StreamInbox(redis, keys)
    await inbox.accept(parse_body(p.body([p.text(U1, "booked")])).events)
    partition = keys.partition(U1)
    await inbox.ensure_group(partition)
    (entry,) = (await inbox.read_many([partition], "dead-member", block_ms=10))[partition]
    turns = UserTurns(redis, keys)
    await turns.load(U1)
    engine = EchoEngine()
    turn = await engine.run_turn(entry.event, None)  # the dead process ran the turn and committed it...
    outcome, length = await turns.commit(U1, entry.id, turn.conversation, 0, turn.messages)
    assert (outcome, length) == (1, 1)  # ...and died before sending the reply and acknowledging the event
    engine.calls = 0
    app = make_app(make_settings(fake_graph.url), engine, redis, prefix)
    async with running(app):
        await settle(app)
    assert engine.calls == 0  # not applied twice
    assert [c.text for c in fake_graph.messages] == ["echo:booked"]  # the committed reply was not lost
    assert app.state.stats.resent == 1 and await turns.outbox(U1) == []
    data = await redis.hget(keys.conversation(U1), "data")
    assert json.loads(data)["vars"]["turns"] == 1


async def test_a_second_commit_of_the_same_event_writes_nothing(redis, prefix):
    keys = make_keys(prefix)
    turns = UserTurns(redis, keys)
    msg = [OutboundMessage(to=U1, text="x")]
    assert (await turns.commit(U1, "100-1", None, 0, msg))[0] == 1
    assert (await turns.commit(U1, "100-1", None, 0, msg))[0] == 0
    assert (await turns.commit(U1, "99-5", None, 0, msg))[0] == 0
    assert [i.message.text for i in await turns.outbox(U1)] == ["x"]
    assert (await turns.commit(U1, "100-2", None, 0, msg))[0] == 1


async def test_the_last_inbound_time_is_written_through_at_most_once_a_minute(fake_graph, redis, prefix):
    seen: list[str] = []

    async def on_inbound(event):
        seen.append(event.text)

    app = make_app(make_settings(fake_graph.url), EchoEngine(), redis, prefix, on_inbound=on_inbound)
    async with running(app) as client:
        for i in range(4):
            await post_signed(client, p.body([p.text(U1, f"m{i}")]))
        await settle(app)
    assert seen == ["m0"]
    stored = await redis.hget(make_keys(prefix).conversation(U1), "last_in")
    assert float(stored) > 0


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


async def test_outbox_items_carry_their_attempts(redis, prefix):
    item = OutboxItem(OutboundMessage(to=U1, text="hi"), attempts=1)
    assert OutboxItem.loads(item.dumps()) == item


class LosesOneReply(Redis):
    """A client whose chosen command reaches Redis and runs, but whose reply is lost once (a dropped link)."""

    lose = ""
    lost = 0

    @classmethod
    def losing(cls, lose: str) -> LosesOneReply:
        client = cls.from_url(TEST_REDIS_URL)
        client.lose = lose
        return client

    async def execute_command(self, *args, **options):
        result = await super().execute_command(*args, **options)
        name = str(args[0]).upper()
        if self.lost == 0 and result and (name == self.lose or (name == "EVALSHA" and self.lose in str(args[1:3]))):
            self.lost += 1
            raise RedisConnectionError("connection lost after the command ran")
        return result


async def test_a_commit_whose_reply_was_lost_still_delivers_its_replies_once(fake_graph, prefix):
    from adapters.whatsapp.turns import _COMMIT

    commit_sha = hashlib.sha1(_COMMIT.encode()).hexdigest()
    redis = LosesOneReply.losing(commit_sha)
    engine = EchoEngine()
    app = make_app(make_settings(fake_graph.url), engine, redis, prefix)
    try:
        async with running(app) as client:
            await post_signed(client, p.body([p.text(U1, "only")]))  # no later message to carry it out
            await settle(app)
    finally:
        await _cleanup(redis, prefix)
    assert redis.lost == 1 and engine.calls == 1
    assert [c.text for c in fake_graph.messages] == ["echo:only"]


async def test_a_read_whose_reply_was_lost_is_not_left_pending(fake_graph, prefix):
    redis = LosesOneReply.losing("XREADGROUP")
    app = make_app(make_settings(fake_graph.url), EchoEngine(), redis, prefix)
    try:
        async with running(app) as client:
            await asyncio.sleep(0.3)  # the consumers are blocked in XREADGROUP when the message arrives
            await post_signed(client, p.body([p.text(U1, "read-and-lost")]))
            await settle(app)
    finally:
        await _cleanup(redis, prefix)
    assert redis.lost == 1
    assert [c.text for c in fake_graph.messages] == ["echo:read-and-lost"]


async def _cleanup(redis, prefix):
    keys = [k async for k in redis.scan_iter(match=f"{prefix}*")] + [k async for k in redis.scan_iter(match=f"{{{prefix}*")]
    if keys:
        await redis.delete(*keys)
    await redis.aclose()


async def test_a_bug_after_the_turn_dead_letters_that_event_and_the_user_carries_on(fake_graph, redis, prefix):
    class Buggy(EchoEngine):
        async def run_turn(self, event, conversation):
            turn = await super().run_turn(event, conversation)
            if event.text == "boom":
                turn.conversation = "not a conversation"  # the commit cannot serialise it
            return turn

    app = make_app(make_settings(fake_graph.url), Buggy(), redis, prefix)
    async with running(app) as client:
        await post_signed(client, p.body([p.text(U1, "boom"), p.text(U1, "after")]))
        await settle(app)
        (dead,) = await app.state.inbox.dead_letters()
    assert dead["event"]["text"] == "boom" and "AttributeError" in dead["error"]
    assert [c.text for c in fake_graph.messages] == ["echo:after"]
