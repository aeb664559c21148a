"""`GraphSession`, the sender's default road to the Graph API: pywa's requests on the wire as pywa meant them.

The outcomes of sends, Meta errors, timeouts and refused connections are compared with httpx's own
transport in test_transport.py; these tests look at the requests themselves on a loopback echo server, and
at the edges of aiohttp's keep-alive pool under it on a raw asyncio server that answers each request with
canned bytes, so the test decides exactly what reaches the client (a body that ends with the connection, a
server that hangs up, garbage, a self-signed certificate).
"""

from __future__ import annotations

import asyncio
import gzip
import json
import shutil
import ssl
import subprocess
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from adapters.whatsapp.outbound import WhatsAppSender
from adapters.whatsapp.session import GraphResponse, GraphSession
from adapters.whatsapp.transport import SharedPool
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
        status = int(request.query_params.get("status", 200))
        if "gzip" in request.query_params:
            return Response(gzip.compress(raw), status, media_type="application/json",
                            headers={"Content-Encoding": "gzip"})
        return Response(raw, status, media_type="application/json")

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
            refused = await session.request("GET", "/555", params={"gzip": 1, "status": 400})
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
    # An error answer is httpx's own Response for pywa's WhatsAppError, its gzip body decoded once.
    assert isinstance(refused, httpx.Response) and refused.status_code == 400
    assert refused.json()["path"] == "/proxy/v22.0/555" and refused.request.method == "GET"


async def test_a_header_with_a_line_break_is_refused_before_anything_is_sent():
    session = GraphSession("http://127.0.0.1:9")
    session.headers["Authorization"] = "Bearer tok\r\nX-Injected: 1"
    session.base_url = "https://graph.facebook.com/v22.0"
    with pytest.raises(httpx.LocalProtocolError):
        await session.request("POST", "/555/messages", json={})
    await session.aclose()


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


OK = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"ok\":true}"
Answer = Callable[[bytes, int], bytes | None]  # (request head, request number) -> bytes to send, None: hang up


@asynccontextmanager
async def raw_server(answer: Answer, *, tls: ssl.SSLContext | None = None) -> AsyncIterator[tuple[int, list]]:
    """A server that reads each request (head and Content-Length body) and writes `answer(...)`; then keeps the
    connection unless the answer asks to close. Yields (port, the client ports it saw)."""
    seen: list[int] = []
    count = 0

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal count
        seen.append(writer.get_extra_info("peername")[1])
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length:")), 0)
                await reader.readexactly(length)
                count += 1
                reply = answer(head, count)
                if reply is None:
                    break
                writer.write(reply)
                await writer.drain()
                if b"Connection: close" in reply:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=tls)
    try:
        yield server.sockets[0].getsockname()[1], seen
    finally:
        server.close()
        await server.wait_closed()


def _session(origin: str, *, read: float = 2.0, pool: SharedPool | None = None) -> GraphSession:
    session = GraphSession(origin, timeout=read, connect_timeout=2.0, pool=pool)
    session.headers["Authorization"] = "Bearer t"
    session.base_url = "https://graph.facebook.com/v22.0"
    return session


async def test_requests_share_one_keep_alive_connection_and_carry_host_and_length():
    heads = []

    def answer(head: bytes, n: int) -> bytes:
        heads.append(head)
        return OK

    async with raw_server(answer) as (port, seen):
        session = _session(f"http://127.0.0.1:{port}")
        first = await session.request("POST", "/1/messages", json={"x": 1})
        second = await session.request("POST", "/1/messages", json={})
        await session.aclose()
    assert (first.status_code, first.json(), second.json()) == (200, {"ok": True}, {"ok": True})
    assert heads[0].startswith(b"POST /v22.0/1/messages HTTP/1.1\r\n")
    assert f"Host: 127.0.0.1:{port}\r\n".encode() in heads[0] and b"Content-Length: 7\r\n" in heads[0]
    assert len(seen) == 1  # the second request reused the first one's connection


async def test_a_body_that_ends_with_the_connection_and_a_server_closing_between_requests():
    def answer(head: bytes, n: int) -> bytes:
        return b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n{\"until\":\"close\"}"

    async with raw_server(answer) as (port, seen):
        session = _session(f"http://127.0.0.1:{port}")
        first = await session.request("POST", "/a", json={})
        second = await session.request("POST", "/a", json={})  # the closed connection is not reused
        await session.aclose()
    assert first.json() == second.json() == {"until": "close"}
    assert len(seen) == 2


async def test_a_server_hanging_up_is_a_remote_protocol_error_and_a_slow_one_a_read_timeout():
    def answer(head: bytes, n: int) -> bytes | None:
        if n == 1:
            return None  # hang up without answering
        if n == 2:
            return b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"cut"  # promised 100 bytes
        return b""  # never answers

    async with raw_server(answer) as (port, _seen):
        session = _session(f"http://127.0.0.1:{port}", read=0.3)
        with pytest.raises(httpx.RemoteProtocolError):
            await session.request("POST", "/a", json={})
        with pytest.raises(httpx.ReadTimeout):  # the cut body never completes while the server keeps it open
            await session.request("POST", "/a", json={})
        with pytest.raises(httpx.ReadTimeout):
            await session.request("POST", "/a", json={})
        await session.aclose()


async def test_garbage_is_a_remote_protocol_error_and_nobody_listening_a_connect_error():
    async with raw_server(lambda head, n: b"SMTP ready\r\n\r\n") as (port, _seen):
        session = _session(f"http://127.0.0.1:{port}")
        with pytest.raises(httpx.RemoteProtocolError):
            await session.request("POST", "/a", json={})
    with pytest.raises(httpx.ConnectError):
        await session.request("POST", "/a", json={})
    await session.aclose()


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    return cert, key


async def test_https_is_verified_against_the_trusted_certificates(certificate):
    cert, key = certificate
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    async with raw_server(lambda head, n: OK, tls=server_tls) as (port, seen):
        trusting = _session(f"https://localhost:{port}", pool=SharedPool(tls=ssl.create_default_context(
            cafile=str(cert))))
        answers = [await trusting.request("POST", "/a", json={}) for _ in range(2)]
        await trusting.aclose()
        default = _session(f"https://localhost:{port}")  # certifi's bundle, as in production: refused
        with pytest.raises(httpx.ConnectError):
            await default.request("POST", "/a", json={})
        await default.aclose()
    assert [a.status_code for a in answers] == [200, 200]
    assert len(seen) == 1  # one TLS connection kept alive for both (the refused handshake never got served)
