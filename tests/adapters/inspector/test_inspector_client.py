"""The client against the sandbox, in-process (ASGI) and over real HTTP on loopback."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from inspector_support import NOW, no_sleep, serve

from adapters.inspector.client import InspectorClient
from adapters.inspector.errors import InspectorConflict, InspectorNotFound, InspectorRejected
from adapters.inspector.models import AlertPreferences
from adapters.inspector.sandbox import create_sandbox_app


async def test_users(any_client: InspectorClient) -> None:
    agent = await any_client.get_user_by_email("Agent@Example.com")
    assert agent is not None and (agent.id, agent.name, agent.role) == ("usr_tunde", "Tunde Agent", "agent")
    assert await any_client.get_user_by_email("nobody@example.com") is None
    assert (await any_client.get_user("usr_ngozi")).role == "inspector"
    assert {u.id for u in await any_client.users_by_role("seeker")} >= {"usr_ada", "usr_bola", "usr_chidi"}
    with pytest.raises(InspectorNotFound) as err:
        await any_client.get_user("usr_nope")
    assert err.value.endpoint == "GET /users/{id}"


async def test_properties_filters_and_paging(any_client: InspectorClient) -> None:
    page = await any_client.available_properties(limit=5)
    assert page.total == 13 and len(page.items) == 5  # the sold penthouse is not listed
    rest = await any_client.available_properties(limit=20, offset=5)
    assert len(rest.items) == 8 and not {p.id for p in rest.items} & {p.id for p in page.items}
    abuja = await any_client.available_properties(location="abuja", limit=20)
    assert abuja.total == 4 and all("Abuja" in p.location for p in abuja.items)
    cheap = await any_client.available_properties(max_price=20_000_000, limit=20)
    assert {p.id for p in cheap.items} == {"prp_03", "prp_13"}
    big = await any_client.available_properties(bedrooms=5, min_price=200_000_000, limit=20)
    assert [p.id for p in big.items] == ["prp_10"]
    fresh = await any_client.properties_created_after(NOW - timedelta(days=1, hours=12))
    assert {p.id for p in fresh} == {"prp_06", "prp_13"}
    assert (await any_client.get_property("prp_01")).price == 45_000_000
    assert len(await any_client.agent_properties("usr_tunde")) == 8
    assert await any_client.agent_properties("usr_nobody") == []
    names = [loc.name for loc in await any_client.locations()]
    assert "Lekki, Lagos" in names and "Maitama, Abuja" in names


async def test_slots_booking_and_idempotency(any_client: InspectorClient) -> None:
    slots = await any_client.inspection_slots("prp_01")
    assert slots and all(s.starts_at > NOW for s in slots)
    slot = slots[0]
    first = await any_client.book_inspection("prp_01", slot.id, "usr_bola", idempotency_key="key-1")
    again = await any_client.book_inspection("prp_01", slot.id, "usr_bola", idempotency_key="key-1")
    assert first == again and first.reference.startswith("INS-") and first.agent_id == "usr_tunde"
    after = {s.id: s for s in await any_client.inspection_slots("prp_01")}[slot.id]
    assert after.booked == slot.booked + 1
    with pytest.raises(InspectorConflict) as err:
        await any_client.book_inspection("prp_01", slot.id, "usr_bola", idempotency_key="key-2")
    assert err.value.code == "already_booked"
    with pytest.raises(InspectorNotFound):
        await any_client.book_inspection("prp_01", "slt_nope", "usr_bola")

    cancelled = await any_client.cancel_inspection(first.id)
    assert cancelled.status == "cancelled"
    assert (await any_client.cancel_inspection(first.id)).status == "cancelled"  # repeating is harmless
    with pytest.raises(InspectorConflict) as err:
        await any_client.complete_inspection(first.id)
    assert err.value.code == "not_scheduled"


async def test_inspections_for_roles_and_ranges(any_client: InspectorClient) -> None:
    start = NOW.replace(hour=0)
    today = await any_client.inspections_for("inspector", "usr_ngozi", start=start, end=start + timedelta(days=1))
    assert [i.reference for i in today] == ["INS-4MX9", "INS-7K3Q"]
    scheduled = await any_client.inspections_for("agent", "usr_tunde", start=NOW, status="scheduled")
    assert {i.id for i in scheduled} == {"ins_001", "ins_002", "ins_003", "ins_005"}
    assert await any_client.inspections_for("seeker", "usr_nobody") == []
    done = await any_client.complete_inspection("ins_002", "All good")
    assert (done.status, done.notes) == ("completed", "All good")
    assert (await any_client.get_inspection("ins_002")).status == "completed"


async def test_agent_slots(any_client: InspectorClient) -> None:
    starts = (NOW + timedelta(days=3)).replace(hour=16)
    slot = await any_client.add_slot("prp_04", starts, capacity=1)
    assert slot.starts_at == starts and slot.capacity == 1
    with pytest.raises(InspectorConflict):
        await any_client.add_slot("prp_04", starts)
    await any_client.remove_slot(slot.id)
    assert slot.id not in {s.id for s in await any_client.inspection_slots("prp_04")}
    with pytest.raises(InspectorNotFound):
        await any_client.remove_slot(slot.id)
    booked = await any_client.get_inspection("ins_003")
    with pytest.raises(InspectorConflict) as err:
        await any_client.remove_slot(booked.slot_id)
    assert err.value.code == "slot_has_bookings"


async def test_saved_properties_and_alerts(any_client: InspectorClient) -> None:
    assert [s.property_id for s in await any_client.saved_properties("usr_ada")] == ["prp_02", "prp_08"]
    await any_client.save_property("usr_bola", "prp_09")
    await any_client.save_property("usr_bola", "prp_09")
    saved = await any_client.saved_properties("usr_bola")
    assert [s.property.title for s in saved if s.property] == ["3-Bed Flat, Wuse 2"]
    await any_client.unsave_property("usr_bola", "prp_09")
    assert await any_client.saved_properties("usr_bola") == []
    with pytest.raises(InspectorNotFound):
        await any_client.save_property("usr_bola", "prp_nope")

    assert (await any_client.alert_preferences("usr_ngozi")).enabled is False
    prefs = AlertPreferences(user_id="usr_bola", enabled=True, location="Yaba", max_price=20_000_000)
    assert await any_client.set_alert_preferences(prefs) == prefs
    subscribers = {p.user_id for p in await any_client.alert_subscribers()}
    assert subscribers == {"usr_ada", "usr_bola", "usr_chidi"}


async def test_bearer_token_checked_only_when_configured() -> None:
    app = create_sandbox_app(now=lambda: NOW, api_key="s3cret")
    transport = httpx.ASGITransport(app=app)
    async with InspectorClient("http://sandbox", "s3cret", transport=transport, sleep=no_sleep) as good:
        assert (await good.get_user("usr_ada")).name == "Ada Seeker"
    async with InspectorClient("http://sandbox", "wrong", transport=transport, sleep=no_sleep) as bad:
        with pytest.raises(InspectorRejected) as err:
            await bad.get_user("usr_ada")
    assert err.value.status == 401 and "s3cret" not in str(err.value) and "wrong" not in str(err.value)


async def test_concurrent_last_place_over_loopback() -> None:
    app = create_sandbox_app(now=lambda: NOW)
    store = app.state.store
    slot = next(s for s in store.slots.values() if s.property_id == "prp_09" and s.starts_at > NOW)
    store.slots[slot.id] = slot.model_copy(update={"capacity": slot.booked + 1})
    with serve(app) as url:
        async with InspectorClient(url, timeout=2, sleep=no_sleep) as c:
            results = await asyncio.gather(
                c.book_inspection("prp_09", slot.id, "usr_ada", idempotency_key="a"),
                c.book_inspection("prp_09", slot.id, "usr_chidi", idempotency_key="c"),
                return_exceptions=True,
            )
    wins = [r for r in results if not isinstance(r, Exception)]
    losses = [r for r in results if isinstance(r, InspectorConflict)]
    assert len(wins) == 1 and len(losses) == 1 and losses[0].code == "slot_full"
    assert store.slots[slot.id].booked == store.slots[slot.id].capacity


def test_openapi_describes_every_sandbox_route() -> None:
    import yaml

    from adapters.inspector.sandbox import ROUTES

    spec = yaml.safe_load(Path("adapters/inspector/openapi.yaml").read_text())
    normalise = re.compile(r"\{[^}]+\}")
    documented = {(normalise.sub("{}", path), m.upper()) for path, ops in spec["paths"].items() for m in ops}
    served = {(normalise.sub("{}", r.path), m) for r in ROUTES for m in r.methods or () if m != "HEAD"}
    assert served == documented
