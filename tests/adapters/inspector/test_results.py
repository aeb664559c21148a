"""Every `inspector.*` action declares its result model, and what it really returns from the sandbox fits it
(extra fields forbidden), so `check`'s type-checking of template paths cannot drift from the actions."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from inspector_support import ADA, NGOZI, NOW, TUNDE
from pydantic import TypeAdapter

from adapters.inspector.actions import ACTIONS, register_inspector_actions
from adapters.inspector.client import InspectorClient
from engine.actions import ActionContext, ActionRegistry

Ctx = Callable[..., ActionContext]


@pytest.fixture
def registry(client: InspectorClient) -> ActionRegistry:
    registry = ActionRegistry()
    register_inspector_actions(registry, client)
    return registry


def test_every_action_declares_a_result_and_its_error_kinds(registry: ActionRegistry) -> None:
    for name in ACTIONS:
        spec = registry.spec(f"inspector.{name}")
        assert spec.result is not None, name
        assert {"unavailable", "not_found"} <= set(spec.errors), name


async def test_real_results_fit_the_declared_models(registry: ActionRegistry, ctx_for: Ctx) -> None:
    async def run(name: str, user: dict[str, Any] | None, at: datetime = NOW, **args: Any) -> Any:
        result = await registry.call(f"inspector.{name}", ctx_for(user, at), args)
        TypeAdapter(registry.spec(f"inspector.{name}").result).validate_python(result)
        checked.add(name)
        return result

    checked: set[str] = set()
    page = await run("available_properties", None, page=0)
    prop = page["items"][0]
    await run("property", None, property_id=prop["id"])
    await run("locations", None)
    slots = await run("inspection_slots", None, property_id="prp_07")
    booking = await run("book_inspection", ADA, property_id="prp_07", slot_id=slots[0]["id"])
    await run("my_bookings", ADA)
    await run("booking", ADA, inspection_id=booking["id"])
    await run("reschedule_booking", ADA, inspection_id=booking["id"], slot_id=slots[1]["id"])
    await run("cancel_booking", ADA, inspection_id=booking["id"])
    await run("booking_history", ADA)
    await run("nearby_properties", None, latitude=6.45, longitude=3.45)
    await run("save_property", ADA, property_id=prop["id"])
    await run("saved_properties", ADA)
    await run("unsave_property", ADA, property_id=prop["id"])
    await run("set_alert_preferences", ADA, enabled=True, location="Lekki", max_price=80_000_000)
    await run("alert_preferences", ADA)
    listings = await run("agent_properties", TUNDE)
    await run("agent_inquiries", TUNDE)
    await run("property_slots", TUNDE, property_id=listings[0]["id"])
    slot = await run("add_slot", TUNDE, property_id=listings[0]["id"], date="2025-12-20", time="10:00")
    await run("remove_slot", TUNDE, slot_id=slot["id"], property_id=listings[0]["id"])
    today = await run("assigned_inspections", NGOZI, period="week")
    await run("inspection", NGOZI, inspection_id=today[0]["id"])
    await run("report_progress", NGOZI, inspection_id=today[0]["id"], progress="running_late", late_minutes=15)
    await run("complete_inspection", NGOZI, inspection_id=today[0]["id"], notes="Roof checked.")
    await run("mark_no_show", NGOZI, NOW + timedelta(hours=12), inspection_id=today[1]["id"], notes="Nobody came.")
    assert checked == set(ACTIONS)
