"""Staff routes on the served app: authenticated hot reload (old flows keep serving on a bad edit) and the SVG graph."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from collections.abc import Callable
from datetime import UTC, datetime

import httpx
import pytest

from adapters.inspector.sandbox_store import SandboxStore
from adapters.settings import Settings
from adapters.whatsapp.outbound import LogSender
from app.admin import admin_routes
from app.reload import FlowsReloader
from app.runtime import action_signatures, build_runtime
from app.web import create_app, staff_routes
from tests.shipped import SHIPPED_FLOWS, edited, states_of


@contextlib.asynccontextmanager
async def serving(tmp_path, clock: Callable[[], datetime] | None = None):
    """The app on the shipped flows; with `clock`, the runtime and the sandbox Inspector both run on it."""
    flows = tmp_path / "flows.yaml"
    shutil.copy(SHIPPED_FLOWS, flows)
    settings = Settings().model_copy(update=dict(flows_path=flows, database_url=f"sqlite:///{tmp_path / 'db.sqlite'}",
                       admin_token="s3cret"))
    runtime = build_runtime(settings, **({"clock": clock} if clock else {}))
    if clock is not None:
        runtime.inspector.sandbox_app.state.store = SandboxStore.load(None, clock)
    reloader = FlowsReloader(flows, action_signatures(runtime.actions), runtime.engine)
    app = create_app(runtime, sender=LogSender(), routes=staff_routes(runtime, reloader))
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://app") as client:
            yield client, flows, runtime
    await runtime.aclose()


@pytest.fixture
async def served(tmp_path):
    async with serving(tmp_path) as served:
        yield served


async def test_reload_needs_the_admin_token(served):
    client, _, _ = served
    assert (await client.post("/api/v1/admin/flows/reload")).status_code == 401
    wrong = await client.post("/api/v1/admin/flows/reload", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401


async def test_a_bad_edit_is_refused_and_a_good_one_swapped_in(served):
    client, flows, runtime = served
    auth = {"Authorization": "Bearer s3cret"}
    before = (await client.get("/api/v1/status")).json()["flows"]["hash"]
    original = flows.read_text()

    def retarget(data):
        states_of(data, "seeker")["menu"]["say"]["choices"][0]["goto"] = "nowhere"

    def reword(data):
        states_of(data, "seeker")["menu"]["say"]["text"] = "How can I help today?"

    flows.write_text(edited(retarget, original))
    refused = await client.post("/api/v1/admin/flows/reload", headers=auth)
    assert refused.status_code == 422
    assert any("state `nowhere` does not exist" in p for p in refused.json()["problems"])
    assert (await client.get("/api/v1/status")).json()["flows"]["hash"] == before
    flows.write_text(edited(reword, original))
    accepted = await client.post("/api/v1/admin/flows/reload", headers=auth)
    assert accepted.status_code == 200 and accepted.json()["ok"] is True
    status = (await client.get("/api/v1/status")).json()["flows"]
    assert status["hash"] != before and status["hash"] == accepted.json()["hash"]
    assert runtime.engine.flows.spec.flows["seeker"].states["menu"].say.text == "How can I help today?"


async def test_reload_is_disabled_without_a_token(tmp_path):
    settings = Settings().model_copy(update=dict(flows_path=SHIPPED_FLOWS, database_url=f"sqlite:///{tmp_path / 'db.sqlite'}"))
    runtime = build_runtime(settings)
    reloader = FlowsReloader(settings.flows_path, action_signatures(runtime.actions), runtime.engine)
    app = create_app(runtime, sender=LogSender(), routes=admin_routes(runtime.engine, reloader, ""))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://app") as client:
        response = await client.post("/api/v1/admin/flows/reload", headers={"Authorization": "Bearer "})
    assert response.status_code == 403 and "ADMIN_TOKEN" in response.json()["error"]
    await runtime.aclose()


async def test_graph_needs_the_admin_token(served):
    client, _, _ = served
    assert (await client.get("/flows/graph")).status_code == 401
    assert (await client.get("/flows/graph", headers={"Authorization": "Bearer nope"})).status_code == 401
    allowed = await client.get("/flows/graph", params={"flow": "nope"}, headers={"Authorization": "Bearer s3cret"})
    assert allowed.status_code == 404  # past the check: no such flow


async def test_security_headers_on_json_text_and_error_responses(served):
    client, _, _ = served
    responses = [await client.get("/health"), await client.get("/api/v1/status"), await client.get("/api/v1/webhook"),
                 await client.get("/no/such/route"), await client.post("/api/v1/admin/flows/reload"),
                 await client.post("/api/v1/auth/initiate-linking", json={}),
                 await client.post("/api/v1/webhook", content=b"{}"),  # the webhook's fast path (no route)
                 await client.put("/api/v1/webhook", content=b"{}")]
    assert [r.status_code for r in responses[-2:]] == [200, 405]  # no app secret in this app; PUT: routing
    assert responses[-2].text == "OK" and responses[-2].headers["content-type"] == "text/plain; charset=utf-8"
    for response in responses:
        headers = response.headers
        assert headers["x-content-type-options"] == "nosniff", response.url
        assert headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert headers["referrer-policy"] == "no-referrer" and headers["cache-control"] == "no-store"
        assert "strict-transport-security" not in headers  # plain HTTP here
    https = httpx.AsyncClient(transport=client._transport, base_url="https://app")
    async with https:
        assert "max-age" in (await https.get("/health")).headers["strict-transport-security"]


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` is not installed")
async def test_graph_is_served_as_svg(served):
    client, _, _ = served
    assert (await client.get("/flows/graph", params={"flow": "seeker"})).status_code == 401
    client.headers["Authorization"] = "Bearer s3cret"
    response = await client.get("/flows/graph", params={"flow": "seeker"})
    assert response.status_code == 200 and response.headers["content-type"] == "image/svg+xml"
    assert b"<svg" in response.content and b"property_detail" in response.content
    missing = await client.get("/flows/graph", params={"flow": "nope"})
    assert missing.status_code == 404 and "seeker" in missing.json()["flows"]


ADMIN_ROUTES = [("POST", "/api/v1/admin/flows/reload"), ("GET", "/flows/graph"), ("GET", "/api/v1/users/stats")]


@pytest.mark.parametrize("method,path", ADMIN_ROUTES)
async def test_every_admin_route_needs_the_token(served, method, path):
    client, _, _ = served
    for headers in [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "s3cret"}]:
        response = await client.request(method, path, headers=headers)
        assert response.status_code == 401, (headers, response.text)
        assert response.headers["www-authenticate"] == "Bearer"


# 00:30 on Wednesday 2 Dec in Lagos, still Tuesday in UTC: "today" is the Lagos day, on a clock that cannot
# cross midnight during the test (on the wall clock, one that did split the day's counts).
STATS_AT = datetime(2026, 12, 1, 23, 30, tzinfo=UTC)


async def test_user_stats_count_links_activity_messages_and_whatsapp_bookings(tmp_path):
    async with serving(tmp_path, clock=lambda: STATS_AT) as served:
        await user_stats_are_counted(*served)


async def user_stats_are_counted(client, _, runtime):
    from datetime import timedelta

    from engine.actions import ActionContext

    auth = {"Authorization": "Bearer s3cret"}
    empty = (await client.get("/api/v1/users/stats", headers=auth)).json()
    assert empty["linked_total"] == 0 and empty["messages_today"] == 0 and empty["bookings_today"] == 0
    seeker = {"id": "usr_ada", "role": "seeker", "name": "Ada", "email": "seeker@example.com"}
    await runtime.linking.link_demo_user("+2348010000001", seeker)
    await runtime.linking.link_demo_user("+2348010000002", {"id": "usr_x", "role": "agent", "name": "X"})
    await runtime.linking.link_demo_user("+2348010000003", {"id": "usr_y", "role": "agent", "name": "Y"})
    now = STATS_AT
    await runtime.linking.record_inbound("+2348010000001", "Ada", now - timedelta(hours=2))
    await runtime.linking.record_inbound("+2348010000002", "X", now - timedelta(days=3))
    for text in ["hi", "menu"]:  # development mode: unsigned posts are processed
        from tests.adapters.whatsapp import payloads as p

        assert (await client.post("/api/v1/webhook", json=p.body([p.text("2348010000001", text)]))).status_code == 200
    prop = (await runtime.inspector.available_properties()).items[0]
    slot = (await runtime.inspector.inspection_slots(prop.id))[0]
    ctx = ActionContext(phone="+2348010000001", user=seeker, vars={}, now=now)
    await runtime.actions.call("inspector.book_inspection", ctx, {"property_id": prop.id, "slot_id": slot.id})
    for _ in range(200):  # the webhook's events are processed in the background
        stats = (await client.get("/api/v1/users/stats", headers=auth)).json()
        if stats["messages_today"] == 2:
            break
        await asyncio.sleep(0.02)
    assert stats["linked_by_role"] == {"seeker": 1, "agent": 2} and stats["linked_total"] == 3
    assert stats["links_today"] == 3
    assert (stats["active_24h"], stats["active_7d"]) == (1, 2)
    assert stats["messages_today"] == 2 and stats["bookings_today"] == 1
    assert stats["date"] == "2026-12-02"  # the Lagos day
