"""Seeding the sandbox Inspector from sandbox_data.yaml, relative to the moment it starts.

Days in the file are offsets from today (`day: 2` is the day after tomorrow) in the file's time zone, so the
demo never goes stale: every available property gets slots on alternate days (no Sundays), the listed
inspections are booked on them, and saved properties and alert preferences are set.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING, Any

from adapters.inspector.models import AlertPreferences, Inspection, Property, User

if TYPE_CHECKING:
    from adapters.inspector.sandbox_store import SandboxStore


def at(day: date, hhmm: str, tz: tzinfo) -> datetime:
    hour, minute = (int(part) for part in hhmm.split(":"))
    return datetime.combine(day, time(hour, minute), tz)


def seed(store: SandboxStore, raw: dict[str, Any]) -> None:
    started = store.now().astimezone(store.tz)
    today = started.date()
    for user in raw.get("users", []):
        store.users[str(user["id"])] = User.model_validate(user)
    rule = raw.get("slots", {})
    days, capacity = int(rule.get("days", 14)), int(rule.get("capacity", 2))
    store.default_capacity = capacity
    for index, item in enumerate(raw.get("properties", [])):
        item = dict(item)
        created = started - timedelta(days=float(item.pop("created_days_ago", 0)), hours=index % 5)
        times = item.pop("slot_times", rule.get("times", ["10:00", "14:00"]))
        prop = Property.model_validate({**item, "created_at": created})
        store.properties[prop.id] = prop
        if prop.status != "available":
            continue
        for offset in range(days):
            day = today + timedelta(days=offset)
            if (offset + index) % 2 or day.weekday() == 6:
                continue
            for hhmm in times:
                store.ensure_slot(prop.id, at(day, hhmm, store.tz), capacity)
    for item in raw.get("inspections", []):
        starts = at(today + timedelta(days=int(item["day"])), str(item["time"]), store.tz)
        slot = store.ensure_slot(str(item["property_id"]), starts, capacity)
        status = item.get("status", "scheduled")
        inspection = Inspection(
            id=str(item["id"]),
            reference=item.get("reference") or store.new_reference(),
            property_id=slot.property_id,
            seeker_id=str(item["seeker_id"]),
            agent_id=store.properties[slot.property_id].agent_id,
            inspector_id=item.get("inspector_id"),
            slot_id=slot.id,
            starts_at=starts,
            status=status,
            notes=item.get("notes", ""),
        )
        store.inspections[inspection.id] = inspection
        if status == "scheduled":
            store.slots[slot.id] = slot.model_copy(update={"booked": slot.booked + 1})
    for user_id, property_ids in (raw.get("saved_properties") or {}).items():
        store.saved[str(user_id)] = {str(pid): started - timedelta(days=1) for pid in property_ids}
    for prefs in raw.get("alert_preferences", []):
        store.alerts[str(prefs["user_id"])] = AlertPreferences.model_validate(prefs)
