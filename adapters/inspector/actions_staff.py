"""Agent and inspector actions: listings, inquiries, slots, assigned inspections, completing them."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, time, timedelta
from typing import Any

from adapters.inspector.action_support import (
    Deps,
    current_user,
    forbid_unless,
    handles_errors,
    optional_int,
    properties_by_id,
    users_by_id,
)
from adapters.inspector.display import inspection_view, property_view, slot_view
from adapters.inspector.models import Property
from engine.actions import ActionContext, ActionError

GONE = "That property could not be found."
SLOT_GONE = "That slot could not be found."
INSPECTION_GONE = "That inspection could not be found."


async def _own_property(deps: Deps, agent_id: str, property_id: str) -> Property:
    prop = await deps.client.get_property(str(property_id))
    forbid_unless(prop.agent_id == agent_id, "property belongs to another agent")
    return prop


@handles_errors(GONE)
async def agent_properties(deps: Deps, ctx: ActionContext) -> list[dict[str, Any]]:
    user = current_user(ctx, "agent")
    return [property_view(p) for p in await deps.client.agent_properties(str(user["id"]))]


@handles_errors(GONE)
async def agent_inquiries(deps: Deps, ctx: ActionContext) -> list[dict[str, Any]]:
    """Upcoming scheduled bookings on the agent's properties, soonest first, with the seeker's contact."""
    user = current_user(ctx, "agent")
    found = await deps.client.inspections_for("agent", str(user["id"]), start=ctx.now, status="scheduled")
    props = await properties_by_id(deps.client, (i.property_id for i in found))
    people = await users_by_id(deps.client, {i.seeker_id for i in found} | {i.inspector_id for i in found})
    return [inspection_view(i, deps.tz, props.get(i.property_id), people) for i in found]


@handles_errors(GONE)
async def property_slots(deps: Deps, ctx: ActionContext, property_id: str) -> list[dict[str, Any]]:
    """Every future slot of one of the agent's properties, full ones included."""
    user = current_user(ctx, "agent")
    prop = await _own_property(deps, str(user["id"]), property_id)
    slots = await deps.client.inspection_slots(prop.id)
    return [slot_view(s, deps.tz) for s in sorted(slots, key=lambda s: s.starts_at) if s.starts_at > ctx.now]


def _slot_start(value: Any, hhmm: Any, deps: Deps) -> datetime:
    try:
        day = value if isinstance(value, date) else date.fromisoformat(str(value).strip())
        at = time.fromisoformat(str(hhmm).strip())
    except ValueError:
        raise ActionError(
            "Please send the date as YYYY-MM-DD and the time as HH:MM, e.g. 2025-12-01 and 10:00.",
            kind="invalid",
        ) from None
    return datetime.combine(day, at.replace(second=0, microsecond=0), deps.tz)


@handles_errors(GONE)
async def add_slot(
    deps: Deps, ctx: ActionContext, property_id: str, date: Any, time: Any, capacity: Any = 1
) -> dict[str, Any]:
    user = current_user(ctx, "agent")
    starts = _slot_start(date, time, deps)
    if starts <= ctx.now:
        raise ActionError("That time has already passed. Please pick a future time.", kind="invalid")
    try:
        places = max(int(capacity), 1)
    except (TypeError, ValueError):
        raise ActionError("Please send the number of places as a number.", kind="invalid") from None
    prop = await _own_property(deps, str(user["id"]), property_id)
    return slot_view(await deps.client.add_slot(prop.id, starts, capacity=places), deps.tz)


@handles_errors(SLOT_GONE)
async def remove_slot(deps: Deps, ctx: ActionContext, slot_id: str, property_id: Any = None) -> dict[str, Any]:
    """Remove an unbooked slot of one of the agent's properties (`property_id` narrows the search)."""
    user = current_user(ctx, "agent")
    slot_id = str(slot_id)
    if property_id:
        owned = [await _own_property(deps, str(user["id"]), property_id)]
    else:
        owned = await deps.client.agent_properties(str(user["id"]))
    slot_lists = await asyncio.gather(*(deps.client.inspection_slots(p.id) for p in owned))
    forbid_unless(any(s.id == slot_id for slots in slot_lists for s in slots), "slot is not on the agent's properties")
    await deps.client.remove_slot(slot_id)
    return {"removed": True, "slot_id": slot_id}


def _period(ctx: ActionContext, deps: Deps, period: str) -> tuple[datetime, datetime]:
    start = datetime.combine(ctx.now.astimezone(deps.tz).date(), time(0), deps.tz)
    if period == "today":
        return start, start + timedelta(days=1)
    if period == "week":
        return start, start + timedelta(days=7)
    raise ActionError("Please choose today or this week.", kind="invalid", detail=f"period {period!r}")


@handles_errors(INSPECTION_GONE)
async def assigned_inspections(deps: Deps, ctx: ActionContext, period: str = "today") -> list[dict[str, Any]]:
    """The inspector's inspections today (or in the 7 days from today), cancelled ones left out."""
    user = current_user(ctx, "inspector")
    start, end = _period(ctx, deps, str(period).strip().lower())
    found = await deps.client.inspections_for("inspector", str(user["id"]), start=start, end=end)
    found = [i for i in found if i.status != "cancelled"]
    props = await properties_by_id(deps.client, (i.property_id for i in found))
    people = await users_by_id(deps.client, {i.seeker_id for i in found} | {i.agent_id for i in found})
    return [inspection_view(i, deps.tz, props.get(i.property_id), people) for i in found]


@handles_errors(INSPECTION_GONE)
async def inspection(deps: Deps, ctx: ActionContext, inspection_id: str) -> dict[str, Any]:
    user = current_user(ctx, "inspector", "agent")
    found = await deps.client.get_inspection(str(inspection_id))
    forbid_unless(str(user["id"]) in (found.inspector_id, found.agent_id), "not assigned to this inspection")
    props = await properties_by_id(deps.client, [found.property_id])
    people = await users_by_id(deps.client, [found.seeker_id, found.agent_id, found.inspector_id])
    return inspection_view(found, deps.tz, props.get(found.property_id), people)


@handles_errors(INSPECTION_GONE)
async def complete_inspection(deps: Deps, ctx: ActionContext, inspection_id: str, notes: Any = "") -> dict[str, Any]:
    user = current_user(ctx, "inspector")
    found = await deps.client.get_inspection(str(inspection_id))
    forbid_unless(found.inspector_id == str(user["id"]), "not assigned to this inspection")
    if found.status != "scheduled":
        raise ActionError(f"That inspection is already {found.status}.", kind="invalid")
    done = await deps.client.complete_inspection(found.id, str(notes or "").strip()[:2000])
    props = await properties_by_id(deps.client, [found.property_id])
    return inspection_view(done, deps.tz, props.get(found.property_id))


async def _assigned(deps: Deps, ctx: ActionContext, inspection_id: str) -> Any:
    user = current_user(ctx, "inspector")
    found = await deps.client.get_inspection(str(inspection_id))
    forbid_unless(found.inspector_id == str(user["id"]), "not assigned to this inspection")
    if found.status != "scheduled":
        raise ActionError(f"That inspection is already {found.status.replace('_', '-')}.", kind="invalid")
    return found


@handles_errors(INSPECTION_GONE)
async def report_progress(
    deps: Deps, ctx: ActionContext, inspection_id: str, progress: str, late_minutes: Any = None
) -> dict[str, Any]:
    """The inspector is on the way, or running late by `late_minutes` (the seeker is told by a job)."""
    if progress not in ("on_my_way", "running_late"):
        raise ActionError("Please choose on my way or running late.", kind="invalid", detail=f"progress {progress!r}")
    minutes = optional_int("late_minutes", late_minutes) if progress == "running_late" else None
    if progress == "running_late" and not minutes:
        raise ActionError("Please send how many minutes late, e.g. 20.", kind="invalid")
    if minutes is not None and minutes > 600:
        raise ActionError("That is more than 10 hours late; please reschedule instead.", kind="invalid")
    found = await _assigned(deps, ctx, inspection_id)
    updated = await deps.client.update_inspection(found.id, progress=progress, late_minutes=minutes)
    props = await properties_by_id(deps.client, [found.property_id])
    people = await users_by_id(deps.client, [found.seeker_id])
    return inspection_view(updated, deps.tz, props.get(found.property_id), people)


@handles_errors(INSPECTION_GONE)
async def mark_no_show(deps: Deps, ctx: ActionContext, inspection_id: str, notes: Any = "") -> dict[str, Any]:
    """The seeker did not come: the inspection ends as a no-show (it counts in the agent's analytics)."""
    found = await _assigned(deps, ctx, inspection_id)
    if found.starts_at > ctx.now:
        raise ActionError("It has not started yet: a no-show can be marked from its start time.", kind="invalid")
    note = str(notes or "").strip()[:2000] or None
    done = await deps.client.update_inspection(found.id, status="no_show", notes=note)
    props = await properties_by_id(deps.client, [found.property_id])
    return inspection_view(done, deps.tz, props.get(found.property_id))
