"""The webhook app in-process (httpx ASGITransport) with real Redis and the fake Graph API on loopback."""

from __future__ import annotations

import logging

from redis.asyncio import Redis

from tests.adapters.whatsapp import payloads as p
from tests.adapters.whatsapp.conftest import (
    VERIFY,
    EchoEngine,
    make_app,
    make_settings,
    post_signed,
    running,
    settle,
)

U1, U2 = "2348012345611", "2348012345612"


async def test_verification_handshake(fake_graph, redis, prefix):
    app = make_app(make_settings(fake_graph.url), EchoEngine(), redis, prefix)
    async with running(app) as client:
        ok = await client.get(
            "/api/v1/webhook",
            params={"hub.mode": "subscribe", "hub.verify_token": VERIFY, "hub.challenge": "1158201444"},
        )
        assert (ok.status_code, ok.text) == (200, "1158201444")
        assert ok.headers["content-type"].startswith("text/plain")
        bad = await client.get(
            "/api/v1/webhook", params={"hub.mode": "subscribe", "hub.verify_token": "nope", "hub.challenge": "1"}
        )
        missing = await client.get("/api/v1/webhook")
        assert bad.status_code == missing.status_code == 403


async def test_unsigned_and_wrongly_signed_posts_are_refused_and_not_processed(fake_graph, redis, prefix, caplog):
    engine = EchoEngine()
    app = make_app(make_settings(fake_graph.url), engine, redis, prefix)
    secret_body = p.body([p.text(U1, "my secret text")])
    async with running(app) as client:
        unsigned = await client.post("/api/v1/webhook", json=secret_body)
        assert unsigned.status_code == 401
        with caplog.at_level(logging.WARNING):
            wrong = await post_signed(client, secret_body, secret="another-secret")
        assert wrong.status_code == 403
        await settle(app)
    assert engine.calls == 0 and fake_graph.calls == []
    assert "my secret text" not in caplog.text and "wrong signature" in caplog.text
    assert app.state.stats.rejected == 2


async def test_development_mode_accepts_unsigned_posts(fake_graph, redis, prefix, caplog):
    engine = EchoEngine()
    app = make_app(make_settings(fake_graph.url, whatsapp_app_secret=""), engine, redis, prefix)
    with caplog.at_level(logging.WARNING):
        async with running(app) as client:
            r = await client.post("/api/v1/webhook", json=p.body([p.text(U1, "hi")], [p.contact(U1)]))
            assert r.status_code == 200
            await settle(app)
    assert engine.by_phone[U1] == ["hi"]
    assert caplog.text.count("unsigned webhook posts are accepted") == 1


async def test_malformed_json_with_valid_signature_is_400(fake_graph, redis, prefix, caplog):
    app = make_app(make_settings(fake_graph.url), EchoEngine(), redis, prefix)
    async with running(app) as client:
        with caplog.at_level(logging.WARNING):
            r = await post_signed(client, b"{not json")
        assert r.status_code == 400
        r2 = await post_signed(client, [1, 2, 3])
        assert r2.status_code == 200
    assert "malformed JSON" in caplog.text


async def test_text_message_is_answered_and_marked_read(fake_graph, redis, prefix):
    engine = EchoEngine()
    app = make_app(make_settings(fake_graph.url), engine, redis, prefix)
    m = p.text(U1, "hello")
    async with running(app) as client:
        r = await post_signed(client, p.body([m], [p.contact(U1, "Ada")]))
        assert (r.status_code, r.text) == (200, "OK")
        await settle(app)
    (sent,) = fake_graph.messages
    assert (sent.to, sent.text, sent.phone_id) == (U1, "echo:hello", p.PHONE_ID)
    assert sent.authorization == "Bearer test-token"
    assert [c.json["message_id"] for c in fake_graph.read_receipts] == [m["id"]]
    assert engine.events[0].profile_name == "Ada"


async def test_every_message_type_reaches_the_engine_and_statuses_do_not(fake_graph, redis, prefix, caplog):
    engine = EchoEngine()
    app = make_app(make_settings(fake_graph.url), engine, redis, prefix)
    msgs = [p.text(U1, "t"), p.button_reply(U1, "yes"), p.list_reply(U1, "row"), p.template_button(U1, "STOP")]
    msgs += [build(U1) for build in p.OTHER_MESSAGES.values()]
    statuses = [p.status(s, U1) for s in ("sent", "delivered", "read")]
    statuses.append(p.status("failed", U1, code=131047, title="Re-engagement message"))
    async with running(app) as client:
        with caplog.at_level(logging.WARNING):
            r = await post_signed(client, p.body(msgs, [p.contact(U1)], statuses))
            assert r.status_code == 200
            await settle(app)
        status = (await client.get("/api/v1/status")).json()
    assert engine.by_phone[U1][:4] == ["t", "yes", "row", "STOP"]
    assert engine.by_phone[U1][4:] == list(p.OTHER_MESSAGES)
    assert len(fake_graph.messages) == len(msgs)  # statuses are never answered
    assert "131047" in caplog.text and "Re-engagement message" in caplog.text
    counters = status["counters"]
    assert counters["statuses"] == {"sent": 1, "delivered": 1, "read": 1, "failed": 1}
    assert (counters["received"], counters["processed"]) == (len(msgs), len(msgs))


async def test_batched_body_three_messages_two_users(fake_graph, redis, prefix):
    engine = EchoEngine()
    app = make_app(make_settings(fake_graph.url), engine, redis, prefix)
    b = p.body([p.text(U1, "one"), p.text(U2, "two"), p.text(U1, "three")], [p.contact(U1), p.contact(U2)])
    async with running(app) as client:
        await post_signed(client, b)
        await settle(app)
    assert [c.text for c in fake_graph.messages_to(U1)] == ["echo:one", "echo:three"]
    assert [c.text for c in fake_graph.messages_to(U2)] == ["echo:two"]


async def test_duplicate_delivery_gets_one_reply(fake_graph, redis, prefix):
    engine = EchoEngine()
    app = make_app(make_settings(fake_graph.url), engine, redis, prefix)
    b = p.body([p.text(U1, "once")], [p.contact(U1)])
    async with running(app) as client:
        for _ in range(3):
            assert (await post_signed(client, b)).status_code == 200
        await settle(app)
        counters = (await client.get("/api/v1/status")).json()["counters"]
    assert len(fake_graph.messages) == 1 and engine.calls == 1
    assert counters["duplicates"] == 2


async def test_health_and_status(fake_graph, redis, prefix):
    async def db_down() -> bool:
        raise ConnectionError("db gone")

    app = make_app(make_settings(fake_graph.url), EchoEngine(), redis, prefix)
    async with running(app) as client:
        h = await client.get("/health")
        assert h.status_code == 200 and h.json()["checks"] == {"redis": "ok"}
        s = (await client.get("/api/v1/status")).json()
    assert s["partitions"] == [0, 1, 2, 3] and s["version"] and s["uptime_seconds"] >= 0
    assert set(s["counters"]) >= {"received", "processed", "duplicates", "failed", "statuses", "rate_limited"}

    app2 = make_app(make_settings(fake_graph.url), EchoEngine(), redis, prefix, health_checks={"database": db_down})
    async with running(app2) as client:
        h = await client.get("/health")
    assert h.status_code == 503 and h.json()["checks"] == {"redis": "ok", "database": "down"}


async def test_redis_down_means_503_so_meta_retries(fake_graph, prefix):
    broken = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    app = make_app(make_settings(fake_graph.url), EchoEngine(), broken, prefix)
    async with running(app) as client:
        r = await post_signed(client, p.body([p.text(U1)]))
        h = await client.get("/health")
    assert r.status_code == 503 and h.status_code == 503
    await broken.aclose()


async def test_extra_routes_are_mounted(fake_graph, redis, prefix):
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    async def link(request):
        return PlainTextResponse("linked")

    app = make_app(
        make_settings(fake_graph.url),
        EchoEngine(),
        redis,
        prefix,
        routes=[Route("/api/v1/link", link, methods=["POST"])],
    )
    async with running(app) as client:
        assert (await client.post("/api/v1/link")).text == "linked"
