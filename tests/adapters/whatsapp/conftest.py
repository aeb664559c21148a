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
from starlette.applications import Starlette

from adapters.health import health_routes
from adapters.settings import Settings
from adapters.whatsapp import (
    ConsumerOptions,
    DeliveryOptions,
    Pipeline,
    PipelineKeys,
    PipelineOptions,
    build_sender,
    webhook_routes,
)
from adapters.whatsapp.stats import WebhookStats
from engine.conversation import Conversation
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

    async def run_turn(self, event: InboundEvent, conversation: Conversation | None) -> Turn:
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
        conversation = conversation or Conversation(phone=event.phone, flow="echo", state="echo")
        conversation.vars["turns"] = conversation.vars.get("turns", 0) + 1
        return Turn(messages=[msg], conversation=conversation)

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
    keys += [k async for k in client.scan_iter(match=f"{{{prefix}*", count=500)]
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


def fast_options(**consumer: object) -> PipelineOptions:
    """Short delays and a short lease, so failure paths and takeovers run in test time."""
    values: dict = dict(max_attempts=3, base_delay=0.01, max_delay=0.05, block_ms=200, rate_limit=1000)
    values.update(consumer)
    return PipelineOptions(lease_ttl_ms=1500, heartbeat=0.3, stop_timeout=3.0,
                           consumer=ConsumerOptions(**values),
                           delivery=DeliveryOptions(base_delay=0.01, max_delay=0.05))


def make_keys(prefix: str, partitions: int = 4) -> PipelineKeys:
    return PipelineKeys(namespace=prefix, partitions=partitions, conversation_prefix=f"{prefix}:conv")


def make_app(settings, engine, redis, prefix, *, sender=None, options=None, routes=(), health_checks=None,
             on_inbound=None, on_turn=None, partitions: int = 4, label: str = "test"):
    """The webhook routes, health and the pipeline, assembled as app/web.py does, on test keys."""
    own_sender = sender is None
    sender = sender or build_sender(settings)
    stats = WebhookStats()
    if options is None:
        options = fast_options(rate_limit=settings.rate_limit_per_minute)
    pipeline = Pipeline(redis, engine, sender, keys=make_keys(prefix, partitions), options=options, stats=stats,
                        on_inbound=on_inbound, on_turn=on_turn, label=label)

    async def redis_ok() -> bool:
        return bool(await redis.ping()) and pipeline.health.ok

    async def status_info():
        return {"counters": stats.to_dict(), "partitions": pipeline.partitions_owned}

    @contextlib.asynccontextmanager
    async def lifespan(app):
        await pipeline.start()
        try:
            yield
        finally:
            await pipeline.stop()
            if own_sender:
                await sender.aclose()

    app = Starlette(routes=[
        *webhook_routes(pipeline.inbox, verify_token=settings.whatsapp_verify_token,
                        app_secret=settings.whatsapp_app_secret, stats=stats),
        *health_routes({"redis": redis_ok, **(health_checks or {})}, status_info),
        *routes,
    ], lifespan=lifespan)
    app.state.pipeline = pipeline
    app.state.inbox = pipeline.inbox
    app.state.stats = stats
    app.state.sender = sender
    return app


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
    assert await app.state.pipeline.drain(timeout), "the pipeline did not finish in time"
