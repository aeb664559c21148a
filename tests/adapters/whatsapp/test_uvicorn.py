"""The app served by uvicorn on loopback: real HTTP in, real HTTP out to the fake Graph API."""

from __future__ import annotations

import httpx
from redis.asyncio import Redis

from tests.adapters.whatsapp import payloads as p
from tests.adapters.whatsapp.conftest import REDIS_URL, SECRET, VERIFY, EchoEngine, make_app, make_settings
from tests.fakes.loopback import LoopbackServer

U1, U2 = "2348012345641", "2348012345642"


async def test_served_by_uvicorn(fake_graph, redis, prefix):
    app_redis = Redis.from_url(REDIS_URL)  # used only inside the server's own event loop
    engine = EchoEngine(buttons=True)
    app = make_app(make_settings(fake_graph.url), engine, app_redis, prefix)
    with LoopbackServer(app) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=5) as client:
            ok = await client.get("/api/v1/webhook", params={
                "hub.mode": "subscribe", "hub.verify_token": VERIFY, "hub.challenge": "42"})
            assert (ok.status_code, ok.text) == (200, "42")
            b = p.body([p.text(U1, "a"), p.button_reply(U2, "yes"), p.text(U1, "b")],
                       [p.contact(U1), p.contact(U2)])
            raw, headers = p.signed(b, SECRET)
            assert (await client.post("/api/v1/webhook", content=raw, headers=headers)).status_code == 200
            assert (await client.post("/api/v1/webhook", content=raw, headers=headers)).status_code == 200
            unsigned = await client.post("/api/v1/webhook", content=raw,
                                         headers={"Content-Type": "application/json"})
            assert unsigned.status_code == 401
            fake_graph.wait_for_messages(3)
            assert (await client.get("/health")).status_code == 200
    assert [c.text for c in fake_graph.messages_to(U1)] == ["echo:a", "echo:b"]
    assert [c.json["interactive"]["type"] for c in fake_graph.messages_to(U2)] == ["button"]
    assert len(fake_graph.messages) == 3
