"""Staff routes on the served app: authenticated hot reload (old flows keep serving on a bad edit) and the SVG graph."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from adapters.settings import Settings
from adapters.whatsapp.outbound import LogSender
from app.admin import admin_routes
from app.reload import FlowsReloader
from app.runtime import action_signatures, build_runtime
from app.web import create_app

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def served(tmp_path):
    flows = tmp_path / "flows.yaml"
    shutil.copy(ROOT / "flows.yaml", flows)
    settings = replace(Settings(), flows_path=flows, database_url=f"sqlite:///{tmp_path / 'db.sqlite'}",
                       admin_token="s3cret")
    runtime = build_runtime(settings)
    reloader = FlowsReloader(flows, action_signatures(runtime.actions), runtime.engine)
    app = create_app(runtime, sender=LogSender(), routes=admin_routes(runtime.engine, reloader, settings.admin_token))
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://app") as client:
            yield client, flows, runtime
    await runtime.aclose()


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
    flows.write_text(original.replace("goto: filter_location}", "goto: nowhere}", 1))
    refused = await client.post("/api/v1/admin/flows/reload", headers=auth)
    assert refused.status_code == 422
    assert any("state `nowhere` does not exist" in p for p in refused.json()["problems"])
    assert (await client.get("/api/v1/status")).json()["flows"]["hash"] == before
    flows.write_text(original.replace("What would you like to do?", "How can I help today?"))
    accepted = await client.post("/api/v1/admin/flows/reload", headers=auth)
    assert accepted.status_code == 200 and accepted.json()["ok"] is True
    status = (await client.get("/api/v1/status")).json()["flows"]
    assert status["hash"] != before and status["hash"] == accepted.json()["hash"]
    assert "How can I help today?" in runtime.engine.flows.spec.flows["seeker"].states["menu"].say.text


async def test_reload_is_disabled_without_a_token(tmp_path):
    settings = replace(Settings(), flows_path=ROOT / "flows.yaml", database_url=f"sqlite:///{tmp_path / 'db.sqlite'}")
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
                 await client.post("/api/v1/auth/initiate-linking", json={})]
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
    client.headers["Authorization"] = "Bearer s3cret"
    response = await client.get("/flows/graph", params={"flow": "seeker"})
    assert response.status_code == 200 and response.headers["content-type"] == "image/svg+xml"
    assert b"<svg" in response.content and b"property_detail" in response.content
    missing = await client.get("/flows/graph", params={"flow": "nope"})
    assert missing.status_code == 404 and "seeker" in missing.json()["flows"]
