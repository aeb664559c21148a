"""The aiohttp roads under pywa: the same sends and the same error mapping as httpx's own transport.

Every scenario runs three times against a fake Graph API on loopback, through httpcore (what the sender
used first), through httpx on `AiohttpTransport`, and through `GraphSession` (the default: aiohttp with no
httpx on the way), and must give the same `SendResult`s.
"""

from __future__ import annotations

import asyncio
import gzip

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from adapters.whatsapp.graph import GraphURLTransport, graph_session
from adapters.whatsapp.outbound import SendResult, WhatsAppSender
from adapters.whatsapp.transport import AiohttpTransport
from engine.messages import OutboundMessage
from tests.adapters.whatsapp.conftest import make_settings
from tests.fakes.graph_api import FakeGraphAPI
from tests.fakes.loopback import LoopbackServer, free_port

TO = "2348012345631"

TRANSPORTS = {
    "httpcore": lambda: httpx.AsyncHTTPTransport(retries=0),
    "aiohttp": lambda: AiohttpTransport(),
    "direct": lambda: None,  # the default: pywa's calls straight onto aiohttp (adapters/whatsapp/session.py)
}


async def _first_try_only(message: OutboundMessage, first: SendResult, send_once) -> SendResult:
    return first


def _outcome(result: SendResult) -> tuple:
    """What callers act on: everything but the wamid (the fake numbers them)."""
    return (result.ok, result.error_code, result.error, result.retryable, result.attempts)


async def _send_all(url: str, transport_name: str, messages: list[OutboundMessage], *,
                    timeout: float = 10.0) -> list[SendResult]:
    sender = WhatsAppSender(make_settings(url), retry=_first_try_only, timeout=timeout,
                            transport=TRANSPORTS[transport_name]())
    try:
        return [await sender.send(m) for m in messages]
    finally:
        await sender.aclose()


async def test_sends_and_meta_errors_map_the_same_through_every_road(fake_graph):
    outcomes = {}
    for name in TRANSPORTS:
        fake_graph.reset()
        fake_graph.fail_next(1, status=429)
        fake_graph.fail_next(1, status=500)
        fake_graph.fail_next(1, code=131047)
        texts = ["throttled", "broken", "outside window", "fine"]
        results = await _send_all(fake_graph.url, name, [OutboundMessage(to=TO, text=t) for t in texts])
        outcomes[name] = [_outcome(r) for r in results]
        assert [c.status for c in fake_graph.calls] == [429, 500, 400, 200]
        assert fake_graph.messages[0].json["text"]["body"] == "fine"
        assert fake_graph.messages[0].authorization == "Bearer test-token"
        assert results[3].wamid == fake_graph.messages[0].wamid
    assert outcomes["direct"] == outcomes["aiohttp"] == outcomes["httpcore"]
    throttled, broken, permanent, fine = outcomes["aiohttp"]
    assert throttled[:2] == (False, 130429) and throttled[3] is True
    assert broken[:2] == (False, 131000) and broken[3] is True
    assert permanent[:2] == (False, 131047) and permanent[3] is False
    assert fine[0] is True


async def test_a_slow_graph_times_out_as_a_retryable_read_timeout_through_every_road():
    with FakeGraphAPI(delay=1.5) as slow:
        outcomes = {name: [_outcome(r) for r in await _send_all(
            slow.url, name, [OutboundMessage(to=TO, text="late")], timeout=0.3)] for name in TRANSPORTS}
    assert outcomes["direct"] == outcomes["aiohttp"] == outcomes["httpcore"] == [(False, None, "ReadTimeout", True, 1)]


async def test_nobody_listening_is_a_retryable_connect_error_through_every_road():
    url = f"http://127.0.0.1:{free_port()}"
    outcomes = {name: [_outcome(r) for r in await _send_all(url, name, [OutboundMessage(to=TO, text="x")])]
                for name in TRANSPORTS}
    assert outcomes["direct"] == outcomes["aiohttp"] == outcomes["httpcore"] == [(False, None, "ConnectError", True, 1)]


async def test_each_requests_own_timeout_is_honoured():
    with FakeGraphAPI(delay=0.5) as slow:
        transport = GraphURLTransport(slow.url, AiohttpTransport())
        async with httpx.AsyncClient(transport=transport, timeout=10.0) as client:
            url = "https://graph.facebook.com/v22.0/123/messages"
            with pytest.raises(httpx.ReadTimeout):
                await client.post(url, json={"to": TO, "type": "text", "text": {"body": "a"}}, timeout=0.1)
            ok = await client.post(url, json={"to": TO, "type": "text", "text": {"body": "b"}}, timeout=5.0)
        assert ok.status_code == 200 and ok.json()["messages"][0]["id"].startswith("wamid.fake.")
        # The second reached the fake at the rewritten address (the first was abandoned mid-wait).
        assert [c.json["text"]["body"] for c in slow.calls][-1:] == ["b"]


def _echo_app() -> Starlette:
    async def echo(request: Request) -> Response:
        body = await request.body()
        payload = {"method": request.method, "path": request.url.path, "query": request.url.query,
                   "body": body.decode(), "port": request.client.port,
                   "content_type": request.headers.get("content-type"), "x": request.headers.getlist("x-multi")}
        raw = JSONResponse(payload).body
        if "gzip" in request.query_params:
            return Response(gzip.compress(raw), media_type="application/json",
                            headers={"Content-Encoding": "gzip", "Set-Cookie": "a=1"})
        return Response(raw, media_type="application/json", headers={"Set-Cookie": "a=1"})

    return Starlette(routes=[Route("/{path:path}", echo, methods=["GET", "POST", "DELETE"])])


async def test_requests_and_responses_pass_through_unchanged_on_pooled_connections():
    with LoopbackServer(_echo_app()) as server:
        async with httpx.AsyncClient(transport=AiohttpTransport(), base_url=server.url) as client:
            first = await client.post("/v1/a%20b", params={"q": "x y"}, content=b"raw\x00bytes",
                                      headers=[("X-Multi", "1"), ("X-Multi", "2")])
            zipped = await client.get("/v1/z", params={"gzip": "1"})
            burst = await asyncio.gather(*(client.delete(f"/v1/{i}") for i in range(20)))
    seen = first.json()
    assert (seen["method"], seen["path"], seen["query"]) == ("POST", "/v1/a b", "q=x+y")
    assert seen["body"] == "raw\x00bytes" and seen["x"] == ["1", "2"]
    # httpx, not aiohttp, decodes the body; cookies stay with httpx (the transport keeps none).
    assert zipped.headers["content-encoding"] == "gzip" and zipped.json()["path"] == "/v1/z"
    assert client.cookies.get("a") == "1"
    assert first.http_version == "HTTP/1.1" and first.reason_phrase == "OK"
    # Keep-alive: the second request reused the first one's connection.
    assert zipped.json()["port"] == seen["port"]
    assert sorted(r.json()["path"] for r in burst) == sorted(f"/v1/{i}" for i in range(20))


async def test_graph_session_rewrites_to_the_configured_url_over_aiohttp(fake_graph):
    session = graph_session(make_settings(fake_graph.url))
    assert isinstance(session._transport, GraphURLTransport)
    assert isinstance(session._transport._inner, AiohttpTransport)
    async with session:
        response = await session.post("https://graph.facebook.com/v22.0/555/messages",
                                      json={"to": TO, "type": "text", "text": {"body": "hi"}})
    assert response.status_code == 200
    assert fake_graph.messages[0].phone_id == "555"
    production = graph_session(make_settings(""))
    assert isinstance(production._transport, AiohttpTransport)
    await production.aclose()


def test_one_client_serves_one_event_loop_after_another(fake_graph):
    """A sender built before a loop runs, or used again by a second `asyncio.run`, gets a session per loop."""
    client = httpx.AsyncClient(transport=GraphURLTransport(fake_graph.url, AiohttpTransport()))

    async def send(text: str) -> int:
        response = await client.post("https://graph.facebook.com/v22.0/1/messages",
                                     json={"to": TO, "type": "text", "text": {"body": text}})
        return response.status_code

    assert asyncio.run(send("first loop")) == 200
    assert asyncio.run(send("second loop")) == 200  # a fresh session: the first died with its loop
    asyncio.run(client.aclose())
    assert [c.json["text"]["body"] for c in fake_graph.messages] == ["first loop", "second loop"]
