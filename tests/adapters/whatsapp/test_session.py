"""`GraphSession`, the sender's default road to the Graph API: pywa's requests on the wire as pywa meant them.

The outcomes of sends, Meta errors, timeouts and refused connections are compared with httpx's own
transport in test_transport.py; these tests look at the requests themselves on a loopback echo server.
"""

from __future__ import annotations

import asyncio
import gzip
import json

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from adapters.whatsapp.outbound import WhatsAppSender
from adapters.whatsapp.session import GraphResponse, GraphSession
from engine.messages import OutboundMessage
from tests.adapters.whatsapp.conftest import make_settings
from tests.fakes.loopback import LoopbackServer

TO = "2348012345631"


def _echo_app() -> Starlette:
    async def echo(request: Request) -> Response:
        body = await request.body()
        seen = {"method": request.method, "path": request.url.path, "query": request.url.query,
                "body": body.decode(), "port": request.client.port if request.client else 0,
                "authorization": request.headers.get("authorization"),
                "content_type": request.headers.get("content-type"), "agent": request.headers.get("user-agent"),
                "messages": [{"id": "wamid.echo.1"}], "contacts": [{"input": TO, "wa_id": TO}]}
        raw = json.dumps(seen).encode()
        if "gzip" in request.query_params:
            return Response(gzip.compress(raw), media_type="application/json", headers={"Content-Encoding": "gzip"})
        return Response(raw, media_type="application/json")

    return Starlette(routes=[Route("/{path:path}", echo, methods=["GET", "POST", "DELETE"])])


def test_the_sender_sends_through_graph_sessions_by_default():
    sender = WhatsAppSender(make_settings("http://127.0.0.1:9"))
    assert isinstance(sender.wa.api._session, GraphSession)
    assert isinstance(sender.wa_patient.api._session, GraphSession)


async def test_pywa_requests_reach_the_configured_url_under_its_path_with_pywa_headers():
    with LoopbackServer(_echo_app()) as server:
        session = GraphSession(server.url + "/proxy/")
        session.headers.update({"Authorization": "Bearer tok-1", "User-Agent": "PyWa/test"})
        session.base_url = "https://graph.facebook.com/v22.0"  # what pywa's constructor does
        try:
            sent = await session.request("POST", "/555/messages", json={"to": TO, "text": {"body": "é ok"}})
            zipped = await session.request("GET", "/555", params={"fields": "id,name", "gzip": 1, "flag": True})
            session.headers["Authorization"] = "Bearer tok-2"  # pywa's token setter
            again = await session.request("DELETE", "/media/1")
        finally:
            await session.aclose()
    assert isinstance(sent, GraphResponse) and sent.status_code == 200
    first = sent.json()
    assert (first["method"], first["path"]) == ("POST", "/proxy/v22.0/555/messages")
    assert json.loads(first["body"]) == {"to": TO, "text": {"body": "é ok"}}
    assert (first["authorization"], first["content_type"], first["agent"]) == (
        "Bearer tok-1", "application/json", "PyWa/test")
    second = zipped.json()  # gzip decoded; the query encoded as httpx encodes it
    expected = httpx.URL("http://x/", params={"fields": "id,name", "gzip": 1, "flag": True}).query.decode()
    assert (second["path"], second["query"]) == ("/proxy/v22.0/555", expected)
    third = again.json()
    assert (third["method"], third["path"], third["authorization"]) == ("DELETE", "/proxy/v22.0/media/1",
                                                                       "Bearer tok-2")
    assert first["port"] == second["port"] == third["port"]  # one pooled keep-alive connection


async def test_a_request_it_does_not_know_takes_httpx_with_the_same_headers():
    with LoopbackServer(_echo_app()) as server:
        session = GraphSession(server.url)
        session.headers.update({"Authorization": "Bearer tok"})
        session.base_url = "https://graph.facebook.com/v22.0"
        try:
            response = await session.request("POST", "/555/media", files={"file": ("a.txt", b"abc", "text/plain")},
                                             data={"messaging_product": "whatsapp"})
        finally:
            await session.aclose()
    seen = response.json()
    assert seen["path"] == "/v22.0/555/media" and seen["authorization"] == "Bearer tok"
    assert seen["content_type"].startswith("multipart/form-data") and "abc" in seen["body"]


def test_one_sender_serves_one_event_loop_after_another(fake_graph):
    """A sender built before a loop runs, or used by a second `asyncio.run`, gets a pool per loop."""
    sender = WhatsAppSender(make_settings(fake_graph.url))
    first = asyncio.run(sender.send_once(OutboundMessage(to=TO, text="first loop")))
    second = asyncio.run(sender.send_once(OutboundMessage(to=TO, text="second loop")))
    asyncio.run(sender.aclose())
    assert first.ok and second.ok
    assert [c.json["text"]["body"] for c in fake_graph.messages] == ["first loop", "second loop"]
