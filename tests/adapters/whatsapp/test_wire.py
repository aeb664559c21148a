"""`Wire`, the HTTP/1.1 client under the Graph sends: keep-alive, framing, TLS and failures, on loopback servers.

The edge cases are served by a raw asyncio server that answers each request with canned bytes, so the test
decides exactly what reaches the client (a body that ends with the connection, a server that hangs up).
"""

from __future__ import annotations

import asyncio
import shutil
import ssl
import subprocess
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from adapters.whatsapp.wire import Wire

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


async def _post(wire: Wire, url: str, body: bytes = b"{}", read: float = 2.0):
    return await wire.request("POST", httpx.URL(url), b"Content-Type: application/json\r\n", body,
                              connect_timeout=2.0, read_timeout=read)


async def test_requests_share_one_keep_alive_connection_and_carry_host_and_length():
    heads = []

    def answer(head: bytes, n: int) -> bytes:
        heads.append(head)
        return OK

    wire = Wire()
    async with raw_server(answer) as (port, seen):
        first = await _post(wire, f"http://127.0.0.1:{port}/v22.0/1/messages?a=b", b'{"x":1}')
        second = await _post(wire, f"http://127.0.0.1:{port}/v22.0/1/messages")
        await wire.aclose()
    assert (first.status, first.content, second.content) == (200, b'{"ok":true}', b'{"ok":true}')
    assert heads[0].startswith(b"POST /v22.0/1/messages?a=b HTTP/1.1\r\n")
    assert f"Host: 127.0.0.1:{port}\r\n".encode() in heads[0] and b"Content-Length: 7\r\n" in heads[0]
    assert len(seen) == 1  # the second request reused the first one's connection


async def test_a_body_that_ends_with_the_connection_and_a_server_closing_between_requests():
    def answer(head: bytes, n: int) -> bytes:
        return b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n{\"until\":\"close\"}"

    wire = Wire()
    async with raw_server(answer) as (port, seen):
        first = await _post(wire, f"http://127.0.0.1:{port}/a")
        second = await _post(wire, f"http://127.0.0.1:{port}/a")  # the closed connection is not reused
        await wire.aclose()
    assert first.content == second.content == b'{"until":"close"}'
    assert len(seen) == 2


async def test_a_server_hanging_up_is_a_remote_protocol_error_and_a_slow_one_a_read_timeout():
    def answer(head: bytes, n: int) -> bytes | None:
        if n == 1:
            return None  # hang up without answering
        if n == 2:
            return b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"cut"  # promised 100 bytes
        return b""  # never answers

    wire = Wire()
    async with raw_server(answer) as (port, _seen):
        with pytest.raises(httpx.RemoteProtocolError):
            await _post(wire, f"http://127.0.0.1:{port}/a")
        with pytest.raises(httpx.ReadTimeout):  # the cut body never completes while the server keeps it open
            await _post(wire, f"http://127.0.0.1:{port}/a", read=0.3)
        with pytest.raises(httpx.ReadTimeout):
            await _post(wire, f"http://127.0.0.1:{port}/a", read=0.3)
        await wire.aclose()


async def test_garbage_is_a_remote_protocol_error_and_nobody_listening_a_connect_error():
    wire = Wire()
    async with raw_server(lambda head, n: b"SMTP ready\r\n\r\n") as (port, _seen):
        with pytest.raises(httpx.RemoteProtocolError):
            await _post(wire, f"http://127.0.0.1:{port}/a")
    with pytest.raises(httpx.ConnectError):
        await _post(wire, f"http://127.0.0.1:{port}/a")
    await wire.aclose()


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
        trusting = Wire(tls=ssl.create_default_context(cafile=str(cert)))
        answers = [await _post(trusting, f"https://localhost:{port}/a") for _ in range(2)]
        await trusting.aclose()
        default = Wire()  # certifi's bundle, as in production: a self-signed server is refused
        with pytest.raises(httpx.ConnectError):
            await _post(default, f"https://localhost:{port}/a")
        await default.aclose()
    assert [a.status for a in answers] == [200, 200]
    assert len(seen) == 1  # one TLS connection kept alive for both (the refused handshake never got served)
