"""Engine fixtures: the sample flows with in-memory actions, on fakeredis or the real Redis."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import fakeredis
import pytest
import redis.asyncio as aioredis

from engine.actions import ActionError, ActionRegistry
from engine.compiler import CompiledFlows
from engine.interpreter import Engine
from engine.store import ConversationStore
from flows.loader import load_flows
from tests.services import TEST_REDIS_URL

SAMPLE = Path(__file__).parent.parent / "flows" / "sample.yaml"


class Backend:
    """What the sample flows' actions read and write, so tests can steer them."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = [{"id": i, "name": f"Item {i}"} for i in range(12)]
        self.fail_items: str | None = None
        self.users: dict[str, dict[str, Any]] = {}
        self.remembered: list[tuple[str, str]] = []  # (phone, language) kept on the account


def sample_registry(backend: Backend) -> ActionRegistry:
    registry = ActionRegistry()

    @registry.action("test.identify")
    async def identify(ctx: Any) -> Any:
        return backend.users.get(ctx.phone)

    @registry.action("test.link")
    async def link(ctx: Any, email: str) -> Any:
        if email.startswith("bad"):
            raise ActionError("No account uses that email.", kind="unknown")
        user = {"id": "u1", "name": "Ada", "role": "seeker"}
        backend.users[ctx.phone] = user
        return user

    @registry.action("test.remember")
    async def remember(ctx: Any, language: str) -> Any:
        backend.remembered.append((ctx.phone, language))
        return {"remembered": True}

    @registry.action("test.items")
    async def items(ctx: Any, page: int) -> Any:
        if backend.fail_items:
            raise ActionError(backend.fail_items, kind="unavailable")
        return backend.items

    return registry


def signatures(registry: ActionRegistry) -> dict[str, set[str] | None]:
    return {name: registry.params(name) for name in registry}


def make_engine(path: Path, backend: Backend, redis: Any, prefix: str = "conv") -> Engine:
    registry = sample_registry(backend)
    loaded = load_flows(path, signatures(registry))
    return Engine(CompiledFlows(loaded), registry, ConversationStore(redis, prefix=prefix))


@pytest.fixture
def backend() -> Backend:
    return Backend()


@pytest.fixture
def engine(backend: Backend) -> Engine:
    return make_engine(SAMPLE, backend, fakeredis.FakeAsyncRedis())


@pytest.fixture
async def real_redis():
    client = aioredis.Redis.from_url(TEST_REDIS_URL)
    prefix = f"test-conv-{uuid.uuid4().hex[:8]}"
    yield client, prefix
    keys = [k async for k in client.scan_iter(f"{prefix}:*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()
