"""Plain dicts for the flows' templates, with short pre-formatted fields for WhatsApp rows.

WhatsApp list rows allow a 24-character title and a 72-character description, so every record gets
a `row_title` (<= 24) and a `summary` (<= 72) besides its full fields.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from adapters.inspector.models import AlertPreferences, Inspection, Property, Slot, User

ROW_TITLE = 24
SUMMARY = 72
STATUS_TEXT = {"scheduled": "scheduled", "completed": "✅ completed", "cancelled": "❌ cancelled",
               "no_show": "🚫 no-show"}


def clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def price_text(naira: int | None) -> str:
    return "" if naira is None else f"₦{naira:,}"


def when_text(moment: datetime, tz: tzinfo) -> str:
    """`Tue 1 Dec, 10:00` in the platform's time zone."""
    local = moment.astimezone(tz)
    return f"{local:%a} {local.day} {local:%b}, {local:%H:%M}"


def property_view(prop: Property) -> dict[str, Any]:
    beds = f"{prop.bedrooms} bed" if prop.bedrooms else prop.property_type
    return {
        **prop.model_dump(mode="json"),
        "price_text": price_text(prop.price),
        "row_title": clip(prop.title, ROW_TITLE),
        "summary": clip(f"{price_text(prop.price)} · {beds} · {prop.location}", SUMMARY),
    }


def slot_view(slot: Slot, tz: tzinfo) -> dict[str, Any]:
    local = slot.starts_at.astimezone(tz)
    places = "full" if not slot.free else f"{slot.free} place{'s' if slot.free != 1 else ''} left"
    when = when_text(slot.starts_at, tz)
    return {
        **slot.model_dump(mode="json"),
        "free": slot.free,
        "date": local.date().isoformat(),
        "time": f"{local:%H:%M}",
        "when": when,
        "row_title": clip(when, ROW_TITLE),
        # Under a row titled with the date and time: what the row adds, not the date again.
        "places": clip(f"{places} ({slot.booked}/{slot.capacity} booked)", SUMMARY),
        "summary": clip(f"{when} · {places} ({slot.booked}/{slot.capacity} booked)", SUMMARY),
    }


def inspection_view(
    inspection: Inspection,
    tz: tzinfo,
    prop: Property | None = None,
    people: dict[str, User] | None = None,
) -> dict[str, Any]:
    people = people or {}
    when = when_text(inspection.starts_at, tz)
    title = prop.title if prop else "Property " + inspection.property_id
    view: dict[str, Any] = {
        **inspection.model_dump(mode="json"),
        "when": when,
        "property_title": title,
        "location": prop.location if prop else "",
        "address": prop.address if prop else "",
        "latitude": prop.latitude if prop else None,
        "longitude": prop.longitude if prop else None,
        "status_text": STATUS_TEXT.get(inspection.status, inspection.status),
        "row_title": clip(f"{inspection.reference} {when}", ROW_TITLE),
        "summary": clip(f"{when} · {title}", SUMMARY),
    }
    for role in ("seeker", "agent", "inspector"):
        person = people.get(getattr(inspection, f"{role}_id") or "")
        view[f"{role}_name"] = person.name if person else ""
        view[f"{role}_phone"] = person.phone if person else ""
    return view


def alert_view(prefs: AlertPreferences) -> dict[str, Any]:
    parts = [prefs.location or "any location"]
    if prefs.max_price:
        parts.append(f"up to {price_text(prefs.max_price)}")
    if prefs.bedrooms:
        parts.append(f"{prefs.bedrooms}+ bed")
    summary = ("On: " if prefs.enabled else "Off: ") + ", ".join(parts)
    return {
        **prefs.model_dump(mode="json"),
        "max_price_text": price_text(prefs.max_price),
        "summary": clip(summary, SUMMARY),
    }
