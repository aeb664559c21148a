"""Shared pieces: a fake engine, the fake Graph API, a real Redis with a unique key prefix per test."""

from __future__ import annotations

import asyncio
import contextlib
import random
import uuid
from collections import defaultdict

import httpx
import pytest
from redis.asyncio import Redis

from adapters.settings import Settings
from adapters.whatsapp import DispatchOptions, create_webhook_app
from engine.events import InboundEvent
from engine.messages import Button, OutboundMessage
from engine.turn import Turn
from tests.adapters.whatsapp import payloads
from tests.fakes.graph_api import FakeGraphAPI
from tests.services import TEST_REDIS_URL

REDIS_URL = TEST_REDIS_URL
SECRET = "test-app-secret"
VERIFY = "verify-me"


class EchoEngine:
    """Answers every event with `echo:<text or reply id or type>`; can fail, be slow, or ask to choose."""

    def __init__(self, *, fail_times: int = 0, jitter: float = 0.0, buttons: bool = False) -> None:
        self.events: list[InboundEvent] = []
        self.by_phone: dict[str, list[str]] = defaultdict(list)
        self.fail_times = fail_times
        self.jitter = jitter
        self.buttons = buttons
        self.calls = 0

    async def handle(self, event: InboundEvent) -> Turn:
        self.calls += 1
        if self.fail_times > 0:
            self.fail_times -= 1
            raise RuntimeError("engine exploded")
        if self.jitter:
            await asyncio.sleep(random.random() * self.jitter)
        self.events.append(event)
        said = event.text if event.kind == "text" else (event.reply_id or event.message_type)
        self.by_phone[event.phone].append(said)
        msg = OutboundMessage(to=event.phone, text=f"echo:{said}")
        if self.buttons:
            msg.kind = "buttons"
            msg.buttons = [Button("yes", "Yes"), Button("no", "No")]
        return Turn(messages=[msg])

    def notice(self, phone: str, key: str, **values: object) -> OutboundMessage:
        return OutboundMessage(to=phone, text=f"notice:{key}")


@pytest.fixture(scope="session")
def graph():
    with FakeGraphAPI() as server:
        yield server


@pytest.fixture
def fake_graph(graph):
    graph.reset()
    yield graph
    graph.reset()


@pytest.fixture
def prefix():
    return f"test:wa:{uuid.uuid4().hex[:10]}"


@pytest.fixture
async def redis(prefix):
    client = Redis.from_url(REDIS_URL)
    yield client
    keys = [k async for k in client.scan_iter(match=f"{prefix}*", count=500)]
    if keys:
        await client.delete(*keys)
    await client.aclose()


def make_settings(graph_url: str, **overrides) -> Settings:
    values = dict(
        whatsapp_token="test-token",
        whatsapp_phone_id=payloads.PHONE_ID,
        whatsapp_verify_token=VERIFY,
        whatsapp_app_secret=SECRET,
        whatsapp_graph_url=graph_url,
        rate_limit_per_minute=1000,
    )
    values.update(overrides)
    return Settings(**values)


FAST = DispatchOptions(max_attempts=3, base_delay=0.01, max_delay=0.05)


def make_app(settings, engine, redis, prefix, **kw):
    kw.setdefault("dispatch_options", FAST)
    kw.setdefault("instance", "test")
    return create_webhook_app(settings, engine, redis, namespace=prefix, **kw)


@contextlib.asynccontextmanager
async def running(app):
    """The app with its lifespan running, and an httpx client talking to it in-process."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://wa.test") as client:
            yield client


async def post_signed(client, payload, secret=SECRET):
    raw, headers = payloads.signed(payload, secret)
    return await client.post("/api/v1/webhook", content=raw, headers=headers)


async def settle(app, timeout: float = 10.0) -> None:
    assert await app.state.dispatcher.drain(timeout), "dispatcher did not finish in time"
