"""The seed's REST API through the composed app and the sandbox Inspector: API_KEY, paging, the booking
rules and idempotency; every answer is checked against the OpenAPI document it is served with."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from adapters.settings import Settings
from adapters.whatsapp.outbound import LogSender
from app.runtime import build_runtime
from app.web import create_app
from tests.app.test_openapi import check

ROOT = Path(__file__).resolve().parents[2]
KEY = {"Authorization": "Bearer the-api-key"}


async def serve(tmp_path, **values):
    settings = Settings().model_copy(update=dict(flows_path=ROOT / "flows.yaml", database_url=f"sqlite:///{tmp_path / 'db.sqlite'}",
                       **values))
    runtime = build_runtime(settings)
    app = create_app(runtime, sender=LogSender())
    return runtime, httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://app")


@pytest.fixture
async def api(tmp_path):
    runtime, client = await serve(tmp_path, api_key="the-api-key")
    doc = (await client.get("/openapi.json")).json()

    async def call(method: str, path: str, template: str | None = None, **kw) -> httpx.Response:
        response = await client.request(method, path, **kw)
        operation = doc["paths"][template or path.split("?")[0]][method.lower()]
        answer = operation["responses"].get(str(response.status_code))
        assert answer is not None, f"{method} {path} answered {response.status_code}, which is not documented"
        check(doc, answer["content"]["application/json"]["schema"], response.json())
        return response

    yield call, runtime
    await client.aclose()
    await runtime.aclose()


async def test_without_the_key_401_and_without_api_key_set_503(api, tmp_path):
    call, _ = api
    for headers in [{}, {"Authorization": "Bearer wrong"}]:
        assert (await call("GET", "/api/v1/properties", headers=headers)).status_code == 401
        assert (await call("POST", "/api/v1/inspections", headers=headers, json={})).status_code == 401
    runtime, client = await serve(tmp_path / "other")
    try:
        unset = await client.get("/api/v1/properties", headers=KEY)
        assert unset.status_code == 503 and "API_KEY" in unset.json()["error"]
    finally:
        await client.aclose()
        await runtime.aclose()


async def test_properties_are_paged_and_filtered(api):
    call, runtime = api
    first = (await call("GET", "/api/v1/properties?limit=2", headers=KEY)).json()
    second = (await call("GET", "/api/v1/properties?limit=2&offset=2", headers=KEY)).json()
    assert len(first["items"]) == len(second["items"]) == 2
    assert {p["id"] for p in first["items"]}.isdisjoint(p["id"] for p in second["items"])
    location = first["items"][0]["location"]
    filtered = (await call("GET", f"/api/v1/properties?location={location}&limit=50", headers=KEY)).json()
    assert filtered["items"] and all(p["location"] == location for p in filtered["items"])
    for bad in ["limit=51", "limit=0", "bedrooms=-1", "min_price=x"]:
        assert (await call("GET", f"/api/v1/properties?{bad}", headers=KEY)).status_code == 422, bad


async def test_booking_follows_the_flows_rules_and_is_idempotent(api):
    call, runtime = api
    prop = (await runtime.inspector.available_properties()).items[0]
    slot = next(s for s in await runtime.inspector.inspection_slots(prop.id) if s.free == 2)
    body = {"user_id": "usr_ada", "property_id": prop.id, "slot_id": slot.id}
    tpl = "/api/v1/inspections/{user_id}"

    assert (await call("POST", "/api/v1/inspections", headers=KEY, json=body)).status_code == 400  # no key
    made = await call("POST", "/api/v1/inspections", headers={**KEY, "Idempotency-Key": "k1"}, json=body)
    assert made.status_code == 201 and made.json()["status"] == "scheduled"
    again = await call("POST", "/api/v1/inspections", headers={**KEY, "Idempotency-Key": "k1"}, json=body)
    assert again.status_code == 200 and again.json()["id"] == made.json()["id"]
    mine = (await call("GET", "/api/v1/inspections/usr_ada", tpl, headers=KEY)).json()
    assert mine["role"] == "seeker" and [i["id"] for i in mine["items"] if i["slot_id"] == slot.id] == [made.json()["id"]]

    agent = await call("POST", "/api/v1/inspections", headers={**KEY, "Idempotency-Key": "k2"},
                       json={**body, "user_id": "usr_tunde"})
    assert agent.status_code == 403
    other = {**body, "user_id": "usr_bola"}
    assert (await call("POST", "/api/v1/inspections", headers={**KEY, "Idempotency-Key": "k3"},
                       json=other)).status_code == 201  # the last place
    full = await call("POST", "/api/v1/inspections", headers={**KEY, "Idempotency-Key": "k4"},
                      json={**body, "user_id": "usr_chidi"})
    assert full.status_code == 409 and full.json()["error"] == "slot_full"
    # Ada's replay still answers with her booking although the slot is now full.
    replay = await call("POST", "/api/v1/inspections", headers={**KEY, "Idempotency-Key": "k1"}, json=body)
    assert replay.status_code == 200 and replay.json()["id"] == made.json()["id"]
    unknown = await call("POST", "/api/v1/inspections", headers={**KEY, "Idempotency-Key": "k5"},
                         json={**body, "slot_id": "slot_nope"})
    assert unknown.status_code == 404
    invalid = await call("POST", "/api/v1/inspections", headers={**KEY, "Idempotency-Key": "k6"},
                         json={"user_id": "usr_ada"})
    assert invalid.status_code == 422
    assert (await call("GET", "/api/v1/inspections/usr_nobody", tpl, headers=KEY)).status_code == 404
