"""Every `inspector.*` action through the registry, against the sandbox at a fixed "now"."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from inspector_support import ADA, AMAKA, BOLA, CHIDI, EMEKA, NGOZI, NOW, TUNDE, no_sleep
from starlette.applications import Starlette

from adapters.inspector.action_support import SLOT_TAKEN, UNAVAILABLE
from adapters.inspector.actions import ACTIONS, register_inspector_actions
from adapters.inspector.client import InspectorClient
from adapters.inspector.wiring import build_inspector_client
from adapters.settings import Settings
from engine.actions import ActionContext, ActionError, ActionRegistry

Ctx = Callable[..., ActionContext]


@pytest.fixture
def registry(client: InspectorClient) -> ActionRegistry:
    registry = ActionRegistry()
    register_inspector_actions(registry, client)
    return registry


@pytest.fixture
def call(registry: ActionRegistry, ctx_for: Ctx) -> Callable[..., Any]:
    async def run(name: str, user: dict | None, **args: Any) -> Any:
        return await registry.call(f"inspector.{name}", ctx_for(user), args)

    return run


async def expect_error(kind: str, coro: Any) -> ActionError:
    with pytest.raises(ActionError) as err:
        await coro
    assert err.value.kind == kind, err.value.detail
    return err.value


def test_all_actions_registered(registry: ActionRegistry) -> None:
    assert set(registry) == {f"inspector.{name}" for name in ACTIONS}
    assert registry.params("inspector.add_slot") == {"property_id", "date", "time", "capacity"}


async def test_available_properties_pages_and_filters(call: Any) -> None:
    first = await call("available_properties", None)
    assert (first["page"], first["has_prev"], first["has_next"], first["total"]) == (0, False, True, 13)
    item = first["items"][0]
    assert item["title"] == "1-Bed Mini Flat, Surulere" and item["price_text"] == "₦9,500,000"
    assert len(item["row_title"]) <= 24 and len(item["summary"]) <= 72
    last = await call("available_properties", None, page="2", page_size="5")
    assert (len(last["items"]), last["has_next"], last["has_prev"]) == (3, False, True)
    lekki = await call("available_properties", None, location="Lekki", max_price="80,000,000", bedrooms=3)
    assert [p["id"] for p in lekki["items"]] == ["prp_08", "prp_01"]
    none = await call("available_properties", None, location="Kaduna")
    assert none == {"items": [], "page": 0, "has_next": False, "has_prev": False, "total": 0}
    await expect_error("invalid", call("available_properties", None, max_price="lots"))


async def test_property_and_locations(call: Any) -> None:
    prop = await call("property", None, property_id="prp_10")
    assert prop["price_text"] == "₦350,000,000" and prop["location"] == "Maitama, Abuja"
    err = await expect_error("not_found", call("property", None, property_id="prp_nope"))
    assert err.user_message == "That property is no longer available."
    locs = await call("locations", None)
    assert {"id": "Lekki, Lagos", "name": "Lekki, Lagos", "title": "Lekki, Lagos", "available": 2} == {
        k: v for k, v in next(loc for loc in locs if loc["name"] == "Lekki, Lagos").items() if k != "summary"
    }


async def test_inspection_slots_only_future_with_room(call: Any, sandbox_app: Starlette) -> None:
    store = sandbox_app.state.store
    slots = await call("inspection_slots", None, property_id="prp_01")
    assert slots and all(s["free"] > 0 for s in slots)
    assert slots[0]["when"] == "Wed 3 Dec, 10:00" and slots[0]["time"] == "10:00"
    for slot in list(store.slots.values()):
        if slot.property_id == "prp_01":
            store.slots[slot.id] = slot.model_copy(update={"booked": slot.capacity})
    assert await call("inspection_slots", None, property_id="prp_01") == []
    await expect_error("not_found", call("inspection_slots", None, property_id="prp_nope"))


async def test_book_then_list_then_cancel(call: Any) -> None:
    slot = (await call("inspection_slots", None, property_id="prp_07"))[0]
    booking = await call("book_inspection", BOLA, property_id="prp_07", slot_id=slot["id"])
    assert booking["reference"].startswith("INS-") and booking["status"] == "scheduled"
    assert (booking["agent_name"], booking["agent_phone"]) == ("Amaka Eze", "+2348010000006")
    assert booking["when"] == slot["when"] and booking["property_title"] == "2-Bed Apartment, Ikeja GRA"
    again = await call("book_inspection", BOLA, property_id="prp_07", slot_id=slot["id"])
    assert again["id"] == booking["id"]  # a retried booking never books twice

    mine = await call("my_bookings", BOLA)
    assert booking["id"] in [b["id"] for b in mine] and all(len(b["summary"]) <= 72 for b in mine)
    assert (await call("booking", BOLA, inspection_id=booking["id"]))["reference"] == booking["reference"]
    await expect_error("forbidden", call("booking", CHIDI, inspection_id=booking["id"]))
    await expect_error("forbidden", call("cancel_booking", CHIDI, inspection_id=booking["id"]))
    cancelled = await call("cancel_booking", BOLA, inspection_id=booking["id"])
    assert cancelled["status"] == "cancelled"
    assert booking["id"] not in [b["id"] for b in await call("my_bookings", BOLA)]

    rebooked = await call("book_inspection", BOLA, property_id="prp_07", slot_id=slot["id"])
    assert rebooked["id"] != booking["id"] and rebooked["status"] == "scheduled"


async def test_booking_errors(call: Any) -> None:
    await expect_error("forbidden", call("book_inspection", None, property_id="prp_01", slot_id="x"))
    await expect_error("forbidden", call("book_inspection", TUNDE, property_id="prp_01", slot_id="x"))
    err = await expect_error("not_found", call("book_inspection", ADA, property_id="prp_01", slot_id="slt_nope"))
    assert err.user_message == "That slot is no longer available."
    await expect_error("not_found", call("booking", ADA, inspection_id="ins_nope"))
    assert await call("my_bookings", {"id": "usr_nobody", "role": "seeker"}) == []


async def test_concurrent_last_place_one_wins(call: Any, sandbox_app: Starlette) -> None:
    store = sandbox_app.state.store
    slot = next(s for s in store.slots.values() if s.property_id == "prp_11" and s.starts_at > NOW)
    store.slots[slot.id] = slot.model_copy(update={"capacity": 1, "booked": 0})
    results = await asyncio.gather(
        call("book_inspection", ADA, property_id="prp_11", slot_id=slot.id),
        call("book_inspection", CHIDI, property_id="prp_11", slot_id=slot.id),
        return_exceptions=True,
    )
    errors = [r for r in results if isinstance(r, ActionError)]
    assert len(errors) == 1 and errors[0].kind == "slot_taken"
    assert errors[0].user_message == SLOT_TAKEN  # the adapter's default sentence (flows.yaml may reword it)
    assert store.slots[slot.id].booked == 1


async def test_saved_properties(call: Any) -> None:
    assert [p["id"] for p in await call("saved_properties", ADA)] == ["prp_02", "prp_08"]
    assert await call("saved_properties", BOLA) == []
    saved = await call("save_property", BOLA, property_id="prp_12")
    assert saved == {"saved": True, "property_id": "prp_12", "title": "3-Bed Duplex, Asokoro"}
    assert [p["id"] for p in await call("saved_properties", BOLA)] == ["prp_12"]
    assert (await call("unsave_property", BOLA, property_id="prp_12"))["saved"] is False
    assert await call("saved_properties", BOLA) == []
    await expect_error("not_found", call("save_property", BOLA, property_id="prp_nope"))
    await expect_error("forbidden", call("saved_properties", None))


async def test_alert_preferences(call: Any) -> None:
    ada = await call("alert_preferences", ADA)
    assert ada["enabled"] is True and ada["summary"] == "On: Lekki, up to ₦80,000,000, 3+ bed"
    off = await call("alert_preferences", NGOZI)
    assert off["enabled"] is False and off["summary"] == "Off: any location"
    changed = await call("set_alert_preferences", ADA, location="any", max_price="50000000")
    assert (changed["enabled"], changed["location"], changed["max_price"], changed["bedrooms"]) == (
        True,
        None,
        50_000_000,
        3,
    )
    assert (await call("set_alert_preferences", ADA, enabled="no"))["enabled"] is False


async def test_agent_views(call: Any) -> None:
    mine = await call("agent_properties", TUNDE)
    assert len(mine) == 8 and {p["agent_id"] for p in mine} == {"usr_tunde"}
    await expect_error("forbidden", call("agent_properties", ADA))
    inquiries = await call("agent_inquiries", TUNDE)
    assert [i["reference"] for i in inquiries] == ["INS-4MX9", "INS-7K3Q", "INS-P2RD", "INS-H6NB"]
    assert inquiries[0]["seeker_name"] == "Bola Adeyemi" and inquiries[0]["when"] == "Wed 3 Dec, 11:00"
    assert await call("agent_inquiries", {"id": "usr_new", "role": "agent"}) == []

    slots = await call("property_slots", TUNDE, property_id="prp_01")
    assert any(s["booked"] for s in slots) and "booked)" in slots[0]["summary"]
    await expect_error("forbidden", call("property_slots", AMAKA, property_id="prp_01"))
    await expect_error("not_found", call("property_slots", TUNDE, property_id="prp_nope"))


async def test_agent_adds_and_removes_slots(call: Any) -> None:
    day = (NOW + timedelta(days=2)).date()
    slot = await call("add_slot", TUNDE, property_id="prp_04", date=day.isoformat(), time="16:30")
    assert slot["when"] == "Fri 5 Dec, 16:30" and slot["free"] == 1
    again = call("add_slot", TUNDE, property_id="prp_04", date=day, time="16:30")
    assert (await expect_error("invalid", again)).user_message == "There is already a slot at that time."
    await expect_error("invalid", call("add_slot", TUNDE, property_id="prp_04", date="5/12", time="16:30"))
    await expect_error("invalid", call("add_slot", TUNDE, property_id="prp_04", date="2025-12-01", time="10:00"))
    await expect_error("forbidden", call("add_slot", AMAKA, property_id="prp_04", date=day, time="09:00"))

    await expect_error("forbidden", call("remove_slot", AMAKA, slot_id=slot["id"]))
    assert await call("remove_slot", TUNDE, slot_id=slot["id"]) == {"removed": True, "slot_id": slot["id"]}
    await expect_error("forbidden", call("remove_slot", TUNDE, slot_id=slot["id"]))
    booked = next(s for s in await call("property_slots", TUNDE, property_id="prp_02") if s["booked"])
    await expect_error("invalid", call("remove_slot", TUNDE, slot_id=booked["id"], property_id="prp_02"))


async def test_inspector_views_and_completion(call: Any) -> None:
    today = await call("assigned_inspections", NGOZI, period="today")
    assert [i["reference"] for i in today] == ["INS-4MX9", "INS-7K3Q"]
    assert today[0]["address"] == "27 Herbert Macaulay Way, Yaba" and today[0]["seeker_name"] == "Bola Adeyemi"
    week = await call("assigned_inspections", NGOZI, period="week")
    assert [i["reference"] for i in week] == ["INS-4MX9", "INS-7K3Q", "INS-P2RD", "INS-H6NB"]
    assert await call("assigned_inspections", EMEKA, period="today") == []
    await expect_error("invalid", call("assigned_inspections", NGOZI, period="year"))
    await expect_error("forbidden", call("assigned_inspections", ADA))

    detail = await call("inspection", NGOZI, inspection_id="ins_002")
    assert detail["seeker_phone"] == "+2348010000004" and detail["agent_name"] == "Tunde Agent"
    await expect_error("forbidden", call("inspection", EMEKA, inspection_id="ins_002"))
    await expect_error("not_found", call("inspection", NGOZI, inspection_id="ins_nope"))
    await expect_error("forbidden", call("complete_inspection", EMEKA, inspection_id="ins_002", notes="x"))
    done = await call("complete_inspection", NGOZI, inspection_id="ins_002", notes="  Roof leaks.  ")
    assert (done["status"], done["notes"]) == ("completed", "Roof leaks.")
    await expect_error("invalid", call("complete_inspection", NGOZI, inspection_id="ins_002", notes=""))


async def test_outage_maps_to_unavailable(ctx_for: Ctx) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    client = InspectorClient("http://down", retries=0, sleep=no_sleep, transport=httpx.MockTransport(refuse))
    registry = ActionRegistry()
    register_inspector_actions(registry, client)
    with pytest.raises(ActionError) as err:
        await registry.call("inspector.available_properties", ctx_for(None), {})
    assert err.value.kind == "unavailable"
    assert err.value.user_message == UNAVAILABLE
    await client.aclose()


async def test_build_inspector_client_embeds_the_sandbox(ctx_for: Ctx) -> None:
    client = build_inspector_client(Settings())
    assert client.sandbox_app is not None and "usr_ada" in client.sandbox_app.state.store.users
    assert (await client.get_user_by_email("seeker@example.com")).id == "usr_ada"
    await client.aclose()
    remote = build_inspector_client(Settings(inspector_api_base_url="https://inspector.example/api/"))
    assert remote.sandbox_app is None and remote.base_url == "https://inspector.example/api"
    await remote.aclose()
