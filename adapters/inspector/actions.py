"""`register_inspector_actions`: the `inspector.*` actions the flows call (seeker, agent, inspector)."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any
from zoneinfo import ZoneInfo

from adapters.inspector import actions_seeker as seeker
from adapters.inspector import actions_staff as staff
from adapters.inspector.action_support import Deps
from adapters.inspector.client import InspectorClient
from adapters.inspector.results import RESULTS
from engine.actions import ActionRegistry

ACTIONS: dict[str, Callable[..., Awaitable[Any]]] = {
    "available_properties": seeker.available_properties,
    "property": seeker.property_detail,
    "locations": seeker.locations,
    "inspection_slots": seeker.inspection_slots,
    "book_inspection": seeker.book_inspection,
    "my_bookings": seeker.my_bookings,
    "booking": seeker.booking,
    "cancel_booking": seeker.cancel_booking,
    "save_property": seeker.save_property,
    "unsave_property": seeker.unsave_property,
    "saved_properties": seeker.saved_properties,
    "alert_preferences": seeker.alert_preferences,
    "set_alert_preferences": seeker.set_alert_preferences,
    "booking_history": seeker.booking_history,
    "reschedule_booking": seeker.reschedule_booking,
    "nearby_properties": seeker.nearby_properties,
    "agent_properties": staff.agent_properties,
    "agent_inquiries": staff.agent_inquiries,
    "property_slots": staff.property_slots,
    "add_slot": staff.add_slot,
    "remove_slot": staff.remove_slot,
    "assigned_inspections": staff.assigned_inspections,
    "inspection": staff.inspection,
    "complete_inspection": staff.complete_inspection,
    "report_progress": staff.report_progress,
    "mark_no_show": staff.mark_no_show,
}


def register_inspector_actions(
    registry: ActionRegistry, client: InspectorClient, *, timezone: str = "Africa/Lagos"
) -> None:
    """Register every action as `inspector.<name>`, each called as `fn(ctx, **args)`, with its result model."""
    deps = Deps(client=client, tz=ZoneInfo(timezone))
    for name, fn in ACTIONS.items():
        result, errors, doc = RESULTS[name]
        registry.register(f"inspector.{name}", functools.partial(fn, deps), result=result, errors=errors, doc=doc)
