"""Timeouts, retries and the circuit breaker against a misbehaving loopback server."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from inspector_support import free_port, serve
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from adapters.inspector.client import InspectorClient
from adapters.inspector.errors import InspectorBadResponse, InspectorUnavailable
from adapters.inspector.resilience import Backoff, CircuitBreaker, parse_retry_after

USER = {"id": 7, "name": "Ada Seeker", "email": "seeker@example.com", "phone": "+2348010000001", "role": "seeker"}
INSPECTION = {
    "id": "ins_1",
    "reference": "INS-7K3Q",
    "property_id": "prp_01",
    "seeker_id": "usr_ada",
    "agent_id": "usr_tunde",
    "slot_id": "slt_1",
    "starts_at": "2025-12-04T10:00:00+01:00",
    "status": "scheduled",
}


class Script:
    """Answers requests in order from `steps`; the last step repeats. A step is (status, body, headers)
    or ("sleep", seconds)."""

    def __init__(self) -> None:
        self.steps: list[tuple[Any, ...]] = [(200, USER, {})]
        self.hits: list[Request] = []

    async def __call__(self, request: Request) -> Response:
        self.hits.append(request)
        step = self.steps.pop(0) if len(self.steps) > 1 else self.steps[0]
        if step[0] == "sleep":
            await asyncio.sleep(step[1])
            step = (200, USER, {})
        status, body, headers = step
        content = body if isinstance(body, str) else json.dumps(body)
        return Response(content, status_code=status, headers=headers, media_type="application/json")


class Sleeps:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def script() -> Script:
    return Script()


@pytest.fixture
def url(script: Script) -> Iterator[str]:
    async def endpoint(request: Request) -> Response:
        return await script(request)

    app = Starlette(routes=[Route("/{path:path}", endpoint, methods=["GET", "POST", "PUT", "PATCH", "DELETE"])])
    with serve(app) as base:
        yield base


def make_client(url: str, *, retries: int = 2, timeout: float = 0.5, clock: Clock | None = None) -> InspectorClient:
    clock = clock or Clock()
    return InspectorClient(
        url,
        "secret-key",
        timeout=timeout,
        retries=retries,
        sleep=Sleeps(),
        breaker=CircuitBreaker(threshold=5, reset_after=30, clock=clock),
    )


async def test_500_then_200_is_retried_with_backoff(url: str, script: Script) -> None:
    script.steps = [(500, {"detail": "boom"}, {}), (200, USER, {})]
    async with make_client(url) as client:
        user = await client.get_user("7")
        assert user.id == "7" and len(script.hits) == 2
        assert len(client._caller.sleep.delays) == 1
        assert client.breaker.failures == 0
    assert script.hits[0].headers["authorization"] == "Bearer secret-key"


async def test_gives_up_after_retries(url: str, script: Script) -> None:
    script.steps = [(503, {}, {})]
    async with make_client(url, retries=2) as client:
        with pytest.raises(InspectorUnavailable) as err:
            await client.get_user("7")
    assert len(script.hits) == 3 and err.value.endpoint == "GET /users/{id}" and err.value.status == 503


async def test_timeout_is_retried_then_unavailable(url: str, script: Script) -> None:
    script.steps = [("sleep", 0.5)]
    async with make_client(url, retries=1, timeout=0.05) as client:
        with pytest.raises(InspectorUnavailable, match="timed out"):
            await client.get_property("prp_01")
    assert len(script.hits) == 2


async def test_429_honours_retry_after_capped(url: str, script: Script) -> None:
    script.steps = [(429, {}, {"Retry-After": "3"}), (429, {}, {"Retry-After": "600"}), (200, USER, {})]
    async with make_client(url, retries=2) as client:
        await client.get_user("7")
        assert client._caller.sleep.delays == [3.0, 10.0]
        assert client.breaker.failures == 0  # rate limiting is not an outage
    assert len(script.hits) == 3


async def test_post_without_idempotency_key_is_never_retried(url: str, script: Script) -> None:
    script.steps = [(500, {}, {})]
    async with make_client(url) as client:
        with pytest.raises(InspectorUnavailable):
            await client.book_inspection("prp_01", "slt_1", "usr_ada")
        assert len(script.hits) == 1
        with pytest.raises(InspectorUnavailable):
            await client.add_slot("prp_01", datetime.now(UTC))
        assert len(script.hits) == 2


async def test_post_with_idempotency_key_is_retried_with_the_same_key(url: str, script: Script) -> None:
    script.steps = [(502, {}, {}), (201, INSPECTION, {})]
    async with make_client(url) as client:
        booking = await client.book_inspection("prp_01", "slt_1", "usr_ada", idempotency_key="k-1")
    assert booking.reference == "INS-7K3Q" and len(script.hits) == 2
    assert [h.headers["idempotency-key"] for h in script.hits] == ["k-1", "k-1"]


async def test_patch_is_not_retried(url: str, script: Script) -> None:
    script.steps = [(500, {}, {})]
    async with make_client(url) as client:
        with pytest.raises(InspectorUnavailable):
            await client.complete_inspection("ins_1", "ok")
    assert len(script.hits) == 1


@pytest.mark.parametrize(
    ("body", "message"),
    [("this is not json", "not JSON"), ({"id": 7, "name": "Ada"}, "email"), ([USER], "<body>")],
)
async def test_malformed_response_names_the_endpoint(url: str, script: Script, body: Any, message: str) -> None:
    script.steps = [(200, body, {})]
    async with make_client(url) as client:
        with pytest.raises(InspectorBadResponse, match=message) as err:
            await client.get_user_by_email("seeker@example.com")
    assert str(err.value).startswith("GET /users/by-email/{email}:")
    assert "seeker@example.com" not in str(err.value)
    assert len(script.hits) == 1


async def test_connection_refused_on_a_closed_port() -> None:
    async with make_client(f"http://127.0.0.1:{free_port()}", retries=1) as client:
        with pytest.raises(InspectorUnavailable, match="connection failed"):
            await client.locations()
        assert client.breaker.failures == 2


async def test_circuit_opens_fails_fast_then_probes(url: str, script: Script) -> None:
    script.steps = [(500, {}, {})]
    clock = Clock()
    async with make_client(url, retries=2, clock=clock) as client:
        for _ in range(2):
            with pytest.raises(InspectorUnavailable):
                await client.get_user("7")
        # 3 + 2 attempts: the fifth consecutive failure opened the circuit.
        assert len(script.hits) == 5 and client.breaker.state == "open"
        with pytest.raises(InspectorUnavailable, match="circuit open"):
            await client.get_user("7")
        assert len(script.hits) == 5  # failed fast, Inspector not called

        clock.now += 31
        assert client.breaker.state == "half_open"
        with pytest.raises(InspectorUnavailable):
            await client.get_user("7")  # the probe fails: open again, no retries behind it
        assert len(script.hits) == 6 and client.breaker.state == "open"

        clock.now += 31
        script.steps = [(200, USER, {})]
        assert (await client.get_user("7")).name == "Ada Seeker"
        assert client.breaker.state == "closed" and len(script.hits) == 7


async def test_users_are_served_within_seconds_of_inspector_coming_back(url: str, script: Script) -> None:
    """The default breaker probes every couple of seconds; it used to refuse for 30 s after an outage."""
    script.steps = [(500, {}, {})]
    clock = Clock()
    client = InspectorClient(url, "secret-key", timeout=0.5, retries=0, sleep=Sleeps(), breaker=CircuitBreaker(clock=clock))
    async with client:
        for _ in range(5):
            with pytest.raises(InspectorUnavailable):
                await client.get_user("7")
        assert client.breaker.state == "open"
        script.steps = [(200, USER, {})]  # Inspector is back
        clock.now += 3
        assert (await client.get_user("7")).name == "Ada Seeker"
        assert client.breaker.state == "closed"


def test_a_probe_that_never_reports_does_not_keep_the_circuit_refusing() -> None:
    clock = Clock()
    breaker = CircuitBreaker(threshold=1, reset_after=2, probe_timeout=10, clock=clock)
    breaker.record_failure()
    clock.now += 2
    assert breaker.allow() is True  # the probe; its task is then cancelled and never reports
    assert breaker.allow() is False
    clock.now += 10
    assert breaker.allow() is True  # the lost probe expired: another one goes through


async def test_not_found_does_not_count_as_failure(url: str, script: Script) -> None:
    script.steps = [(404, {"detail": "no such user"}, {})]
    async with make_client(url) as client:
        for _ in range(6):
            assert await client.get_user_by_email("x@example.com") is None
        assert client.breaker.state == "closed"
    assert len(script.hits) == 6


def test_backoff_and_retry_after_parsing() -> None:
    backoff = Backoff(base=0.1, cap=1.0, retry_after_cap=5, rng=random.Random(1))
    assert all(0 <= backoff.delay(n) <= min(1.0, 0.1 * 2**n) for n in range(8))
    assert backoff.retry_after("2", 0) == 2 and backoff.retry_after("99", 0) == 5
    assert 0 <= backoff.retry_after(None, 0) <= 0.1
    assert parse_retry_after("garbage") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") < 0
