"""Fixtures for the Inspector adapter: a sandbox at a fixed "now", reached in-process or over loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import datetime

import httpx
import pytest
from inspector_support import NOW, no_sleep, serve
from starlette.applications import Starlette

from adapters.inspector.client import InspectorClient
from adapters.inspector.sandbox import create_sandbox_app
from engine.actions import ActionContext


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
