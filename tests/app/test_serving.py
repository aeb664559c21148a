"""uvicorn as `serve` configures it: a request's headers and body each have a deadline, so a trickling
client cannot hold a connection forever; an ordinary request is unaffected."""

from __future__ import annotations

import pickle
import socket

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from adapters.settings import Settings
from app.serving import GuardedH11Protocol, GuardedHttpToolsProtocol, uvicorn_config_options
from tests.fakes.loopback import LoopbackServer


async def echo(request: Request) -> PlainTextResponse:
    return PlainTextResponse(f"got {len(await request.body())}")


def serve(protocol) -> LoopbackServer:
    settings = Settings(http_header_timeout=0.3, http_body_timeout=0.3, http_keep_alive_timeout=1)
    options = uvicorn_config_options(settings)
    options.pop("log_level")
    options["http"] = protocol
    return LoopbackServer(Starlette(routes=[Route("/", echo, methods=["POST"])]), **options)


def closed_by_server(sock: socket.socket) -> bool:
    """True when the server hangs up (recv gives b"") within 5 s; False when it keeps waiting."""
    sock.settimeout(5)
    try:
        while True:
            data = sock.recv(4096)
            if not data:
                return True
            if b"HTTP/1.1 2" in data:  # answered instead of hanging up
                return False
    except TimeoutError:
        return False


PROTOCOLS = [GuardedH11Protocol] + ([GuardedHttpToolsProtocol] if GuardedHttpToolsProtocol else [])


@pytest.mark.parametrize("protocol", PROTOCOLS, ids=lambda p: p.__name__)
def test_trickled_headers_and_bodies_are_cut_off_and_normal_requests_pass(protocol):
    with serve(protocol) as server, \
            socket.create_connection(("127.0.0.1", server.port)) as headers_only, \
            socket.create_connection(("127.0.0.1", server.port)) as short_body, \
            socket.create_connection(("127.0.0.1", server.port)) as normal:
        headers_only.sendall(b"POST / HTTP/1.1\r\nHost: x\r\n")  # ...and never the blank line
        short_body.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789")
        normal.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc")
        normal.settimeout(5)
        assert b"got 3" in normal.recv(4096)
        normal.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nok")  # kept alive: again
        assert b"got 2" in normal.recv(4096)
        assert closed_by_server(headers_only)
        assert closed_by_server(short_body)


def test_serve_options_carry_the_limits():
    options = uvicorn_config_options(Settings(http_limit_concurrency=7, http_max_header_bytes=4096))
    assert options["limit_concurrency"] == 7 and options["h11_max_incomplete_event_size"] == 4096
    assert options["timeout_keep_alive"] == Settings().http_keep_alive_timeout
    assert options["http"].header_timeout == Settings().http_header_timeout  # configured for this process
    assert pickle.loads(pickle.dumps(options["http"])) is options["http"]  # `serve --workers` pickles it
