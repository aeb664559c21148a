"""Fixtures for the Inspector adapter: a sandbox at a fixed "now", reached in-process or over loopback."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from zoneinfo import ZoneInfo

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette

from adapters.inspector.client import InspectorClient
from adapters.inspector.sandbox import create_sandbox_app
from engine.actions import ActionContext

LAGOS = ZoneInfo("Africa/Lagos")
# A Wednesday morning: today's demo inspections (11:00, 17:00) are still ahead.
NOW = datetime(2025, 12, 3, 8, 0, tzinfo=LAGOS)

ADA = {"id": "usr_ada", "role": "seeker", "name": "Ada Seeker"}
BOLA = {"id": "usr_bola", "role": "seeker", "name": "Bola Adeyemi"}
CHIDI = {"id": "usr_chidi", "role": "seeker", "name": "Chidi Okafor"}
TUNDE = {"id": "usr_tunde", "role": "agent", "name": "Tunde Agent"}
AMAKA = {"id": "usr_amaka", "role": "agent", "name": "Amaka Eze"}
NGOZI = {"id": "usr_ngozi", "role": "inspector", "name": "Ngozi Inspector"}
EMEKA = {"id": "usr_emeka", "role": "inspector", "name": "Emeka Bello"}


async def no_sleep(seconds: float) -> None:
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serve(app: Starlette) -> Iterator[str]:
    """Run `app` with uvicorn on a free loopback port in a thread; yield its base URL."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    config.timeout_graceful_shutdown = 1
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("loopback server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(5)


@pytest.fixture
def sandbox_app() -> Starlette:
    return create_sandbox_app(now=lambda: NOW)


@pytest.fixture
async def client(sandbox_app: Starlette) -> AsyncIterator[InspectorClient]:
    async with InspectorClient(
        "http://sandbox", timeout=2, retries=1, sleep=no_sleep, transport=httpx.ASGITransport(app=sandbox_app)
    ) as c:
        yield c


@pytest.fixture(params=["asgi", "loopback"])
async def any_client(request: pytest.FixtureRequest, sandbox_app: Starlette) -> AsyncIterator[InspectorClient]:
    """The same client code over ASGITransport and over real HTTP on loopback."""
    if request.param == "asgi":
        transport = httpx.ASGITransport(app=sandbox_app)
        async with InspectorClient("http://sandbox", timeout=2, sleep=no_sleep, transport=transport) as c:
            yield c
        return
    with serve(sandbox_app) as url:
        async with InspectorClient(url, timeout=2, sleep=no_sleep) as c:
            yield c


@pytest.fixture
def ctx_for() -> Callable[..., ActionContext]:
    def make(user: dict | None, now: datetime = NOW) -> ActionContext:
        return ActionContext(phone="+2348010000001", user=user, vars={}, now=now)

    return make
