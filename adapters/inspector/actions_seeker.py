"""Seeker actions: browse properties, book and cancel inspections, saved properties, alerts.

Each is `fn(deps, ctx, **args)`; `register_inspector_actions` binds `deps`. Empty results are empty
lists (flows route on empty), never errors.
"""

from __future__ import annotations

import hashlib
from typing import Any

from adapters.inspector.action_support import (
    Deps,
    current_user,
    forbid_unless,
    handles_errors,
    optional_int,
    optional_text,
    properties_by_id,
    users_by_id,
)
from adapters.inspector.display import SUMMARY, alert_view, clip, inspection_view, property_view, slot_view
from adapters.inspector.errors import InspectorNotFound
from adapters.inspector.geo import distance_km, distance_text
from adapters.inspector.models import AlertPreferences
from engine.actions import ActionContext, ActionError

GONE = "That property is no longer available."
BOOKING_GONE = "That booking could not be found."


@handles_errors(GONE)
async def available_properties(
    deps: Deps,
    ctx: ActionContext,
    page: Any = 0,
    page_size: Any = 5,
    location: Any = None,
    min_price: Any = None,
    max_price: Any = None,
    bedrooms: Any = None,
) -> dict[str, Any]:
    page_no = optional_int("page", page) or 0
    size = min(max(optional_int("page_size", page_size) or 5, 1), 50)
    # One extra item tells whether a next page exists even when Inspector gives no total.
    result = await deps.client.available_properties(
        limit=size + 1,
        offset=page_no * size,
        location=optional_text(location),
        min_price=optional_int("min_price", min_price),
        max_price=optional_int("max_price", max_price),
        bedrooms=optional_int("bedrooms", bedrooms),
    )
    items = [property_view(p) for p in result.items[:size]]
    return {
        "items": items,
        "page": page_no,
        "has_next": len(result.items) > size,
        "has_prev": page_no > 0,
        "total": result.total if result.total is not None else page_no * size + len(items),
    }


@handles_errors(GONE)
async def property_detail(deps: Deps, ctx: ActionContext, property_id: str) -> dict[str, Any]:
    """The property with its agent's name and phone (for "Contact agent") and its photos."""
    prop = await deps.client.get_property(str(property_id))
    agent = (await users_by_id(deps.client, [prop.agent_id])).get(prop.agent_id)
    return {**property_view(prop), "agent_name": agent.name if agent else "",
            "agent_phone": agent.phone if agent else ""}


@handles_errors("No locations found.")
async def locations(deps: Deps, ctx: ActionContext) -> list[dict[str, Any]]:
    return [
        {
            "id": loc.name,
            "name": loc.name,
            "title": clip(loc.name, 24),
            "available": loc.available,
            "summary": f"{loc.available} available",
        }
        for loc in await deps.client.locations()
    ]


@handles_errors(GONE)
async def inspection_slots(deps: Deps, ctx: ActionContext, property_id: str) -> list[dict[str, Any]]:
    """Future slots with at least one free place, soonest first."""
    slots = await deps.client.inspection_slots(str(property_id))
    open_slots = sorted((s for s in slots if s.starts_at > ctx.now and s.free > 0), key=lambda s: s.starts_at)
    return [slot_view(s, deps.tz) for s in open_slots]


def booking_key(user_id: str, slot_id: str, generation: str = "") -> str:
    """Same user + slot -> same key, so a retried booking never books twice."""
    digest = hashlib.sha256(f"{user_id}\x00{slot_id}\x00{generation}".encode()).hexdigest()
    return f"wa-book-{digest[:32]}"


@handles_errors("That slot is no longer available.")
async def book_inspection(deps: Deps, ctx: ActionContext, property_id: str, slot_id: str) -> dict[str, Any]:
    user = current_user(ctx, "seeker")
    user_id, slot_id = str(user["id"]), str(slot_id)
    generation = ""
    for _ in range(5):
        booking = await deps.client.book_inspection(
            str(property_id), slot_id, user_id, idempotency_key=booking_key(user_id, slot_id, generation)
        )
        if booking.status != "cancelled":
            break
        # The key replayed a booking the user has since cancelled: booking again is a new booking,
        # keyed (still deterministically) on the cancelled one.
        generation = booking.id
    else:
        raise ActionError("That booking could not be made; please try again.", kind="invalid")
    prop = await deps.client.get_property(booking.property_id)
    people = await users_by_id(deps.client, [booking.agent_id])
    return inspection_view(booking, deps.tz, prop, people)


@handles_errors(BOOKING_GONE)
async def my_bookings(deps: Deps, ctx: ActionContext) -> list[dict[str, Any]]:
    """The seeker's upcoming scheduled inspections, soonest first."""
    user = current_user(ctx, "seeker")
    found = await deps.client.inspections_for("seeker", str(user["id"]), start=ctx.now, status="scheduled")
    props = await properties_by_id(deps.client, (i.property_id for i in found))
    people = await users_by_id(deps.client, {i.agent_id for i in found})
    return [inspection_view(i, deps.tz, props.get(i.property_id), people) for i in found]


@handles_errors(BOOKING_GONE)
async def booking(deps: Deps, ctx: ActionContext, inspection_id: str) -> dict[str, Any]:
    user = current_user(ctx)
    found = await deps.client.get_inspection(str(inspection_id))
    uid = str(user["id"])
    forbid_unless(uid in (found.seeker_id, found.agent_id, found.inspector_id), "not a party to this inspection")
    props = await properties_by_id(deps.client, [found.property_id])
    people = await users_by_id(deps.client, [found.agent_id, found.inspector_id])
    return inspection_view(found, deps.tz, props.get(found.property_id), people)


@handles_errors(BOOKING_GONE)
async def cancel_booking(deps: Deps, ctx: ActionContext, inspection_id: str) -> dict[str, Any]:
    user = current_user(ctx)
    found = await deps.client.get_inspection(str(inspection_id))
    forbid_unless(str(user["id"]) in (found.seeker_id, found.agent_id), "only the seeker or agent may cancel")
    cancelled = await deps.client.cancel_inspection(found.id)
    props = await properties_by_id(deps.client, [found.property_id])
    return inspection_view(cancelled, deps.tz, props.get(found.property_id))


@handles_errors(GONE)
async def save_property(deps: Deps, ctx: ActionContext, property_id: str) -> dict[str, Any]:
    user = current_user(ctx)
    prop = await deps.client.get_property(str(property_id))
    await deps.client.save_property(str(user["id"]), prop.id)
    return {"saved": True, "property_id": prop.id, "title": prop.title}


@handles_errors(GONE)
async def unsave_property(deps: Deps, ctx: ActionContext, property_id: str) -> dict[str, Any]:
    user = current_user(ctx)
    await deps.client.unsave_property(str(user["id"]), str(property_id))
    return {"saved": False, "property_id": str(property_id)}


@handles_errors(GONE)
async def saved_properties(deps: Deps, ctx: ActionContext) -> list[dict[str, Any]]:
    user = current_user(ctx)
    saved = await deps.client.saved_properties(str(user["id"]))
    missing = await properties_by_id(deps.client, [s.property_id for s in saved if s.property is None])
    props = [s.property or missing.get(s.property_id) for s in saved]
    return [property_view(p) for p in props if p is not None]


@handles_errors("Your alert settings could not be found.")
async def alert_preferences(deps: Deps, ctx: ActionContext) -> dict[str, Any]:
    user = current_user(ctx)
    return alert_view(await deps.client.alert_preferences(str(user["id"])))


@handles_errors("Your alert settings could not be found.")
async def set_alert_preferences(
    deps: Deps,
    ctx: ActionContext,
    enabled: Any = None,
    location: Any = None,
    max_price: Any = None,
    bedrooms: Any = None,
) -> dict[str, Any]:
    """Change only what is given; 'any' (or '' / 0) clears a filter."""
    user = current_user(ctx)
    try:
        current = await deps.client.alert_preferences(str(user["id"]))
    except InspectorNotFound:
        current = AlertPreferences(user_id=str(user["id"]))
    changes: dict[str, Any] = {}
    if enabled is not None:
        changes["enabled"] = (
            enabled if isinstance(enabled, bool) else str(enabled).lower() in ("1", "true", "yes", "on")
        )
    if location is not None:
        changes["location"] = optional_text(location)
    if max_price is not None:
        changes["max_price"] = optional_int("max_price", max_price) or None
    if bedrooms is not None:
        changes["bedrooms"] = optional_int("bedrooms", bedrooms) or None
    saved = await deps.client.set_alert_preferences(current.model_copy(update=changes))
    return alert_view(saved)


@handles_errors(BOOKING_GONE)
async def booking_history(deps: Deps, ctx: ActionContext) -> list[dict[str, Any]]:
    """The seeker's past, completed, cancelled and missed inspections, newest first (the list pages)."""
    user = current_user(ctx, "seeker")
    found = await deps.client.inspections_for("seeker", str(user["id"]))
    past = [i for i in found if i.status != "scheduled" or i.starts_at <= ctx.now]
    past.sort(key=lambda i: (i.starts_at, i.id), reverse=True)
    props = await properties_by_id(deps.client, (i.property_id for i in past))
    people = await users_by_id(deps.client, {i.agent_id for i in past})
    return [inspection_view(i, deps.tz, props.get(i.property_id), people) for i in past]


@handles_errors("That time is no longer available.")
async def reschedule_booking(deps: Deps, ctx: ActionContext, inspection_id: str, slot_id: str) -> dict[str, Any]:
    """Move the seeker's booking to another free slot of the same property."""
    user = current_user(ctx, "seeker")
    found = await deps.client.get_inspection(str(inspection_id))
    forbid_unless(found.seeker_id == str(user["id"]), "not the seeker of this inspection")
    if found.status != "scheduled":
        raise ActionError(f"That inspection is already {found.status.replace('_', '-')}.", kind="invalid")
    moved = await deps.client.update_inspection(found.id, slot_id=str(slot_id))
    props = await properties_by_id(deps.client, [found.property_id])
    people = await users_by_id(deps.client, [found.agent_id])
    return inspection_view(moved, deps.tz, props.get(found.property_id), people)


@handles_errors(GONE)
async def nearby_properties(
    deps: Deps, ctx: ActionContext, latitude: Any, longitude: Any, page_size: Any = 9
) -> list[dict[str, Any]]:
    """Available properties nearest to a point the seeker shared, with the distance in each summary."""
    try:
        lat, lng = float(latitude), float(longitude)
    except (TypeError, ValueError):
        raise ActionError("Please share your location with the 📎 button, then Location.", kind="invalid") from None
    if not (-90 <= lat <= 90 and -180 <= lng <= 180):
        raise ActionError("That location is not on the map.", kind="invalid")
    size = min(max(optional_int("page_size", page_size) or 9, 1), 30)
    page = await deps.client.available_properties(limit=size, near=(lat, lng))
    out = []
    for prop in page.items:
        view = property_view(prop)
        km = distance_km(lat, lng, prop.latitude, prop.longitude)
        away = distance_text(km)
        out.append({**view, "distance_km": round(km, 2), "distance_text": away,
                    "summary": clip(f"{away} · {view['summary']}", SUMMARY)})
    return out
