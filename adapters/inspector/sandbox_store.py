"""The sandbox Inspector's data (seeded by `sandbox_seed` relative to "now"), changed only under one lock.

Bookings persist for the life of the process. `book` checks capacity and records the Idempotency-Key
inside the lock, so two concurrent bookings of the last place give one booking and one `slot_full`,
and a replayed key returns the original booking.
"""

from __future__ import annotations

import asyncio
import random
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from adapters.inspector.geo import distance_km
from adapters.inspector.models import (
    AlertPreferences,
    Inspection,
    Property,
    PropertyStats,
    SavedProperty,
    Slot,
    User,
)
from adapters.inspector.sandbox_seed import seed

DEFAULT_DATA = Path(__file__).with_name("sandbox_data.yaml")
_REFERENCE_CHARS = "".join(c for c in string.ascii_uppercase + string.digits if c not in "O0I1")


class SandboxError(Exception):
    """An HTTP error answer: status, machine code (`slot_full`) and a human detail."""

    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail


@dataclass
class SandboxStore:
    now: Callable[[], datetime]
    tz: tzinfo
    users: dict[str, User] = field(default_factory=dict)
    properties: dict[str, Property] = field(default_factory=dict)
    slots: dict[str, Slot] = field(default_factory=dict)
    inspections: dict[str, Inspection] = field(default_factory=dict)
    saved: dict[str, dict[str, datetime]] = field(default_factory=dict)
    alerts: dict[str, AlertPreferences] = field(default_factory=dict)
    idempotency: dict[str, str] = field(default_factory=dict)
    booked_at: dict[str, datetime] = field(default_factory=dict)
    moved_at: dict[str, datetime] = field(default_factory=dict)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    rng: random.Random = field(default_factory=random.Random)
    default_capacity: int = 2  # places on a slot added without a capacity (the seed file's `slots.capacity`)
    _counter: int = 100

    # -- loading -------------------------------------------------------------------------------------

    @classmethod
    def load(cls, path: Path | None = None, now: Callable[[], datetime] | None = None) -> SandboxStore:
        raw = yaml.safe_load((path or DEFAULT_DATA).read_text(encoding="utf-8"))
        tz = ZoneInfo(raw.get("timezone", "Africa/Lagos"))
        store = cls(now=now or (lambda: datetime.now(UTC)), tz=tz)
        seed(store, raw)
        return store

    def ensure_slot(self, property_id: str, starts: datetime, capacity: int) -> Slot:
        """The seeded slot of a property at `starts`, made on first use (ids are readable: slt_03_1201_1000)."""
        slot_id = f"slt_{property_id.removeprefix('prp_')}_{starts:%m%d_%H%M}"
        if slot_id not in self.slots:
            self.slots[slot_id] = Slot(
                id=slot_id, property_id=property_id, starts_at=starts, capacity=capacity, booked=0
            )
        return self.slots[slot_id]

    def _next_id(self, prefix: str) -> str:
        self._counter += 1
        return f"{prefix}_{self._counter}"

    def new_reference(self) -> str:
        taken = {i.reference for i in self.inspections.values()}
        while True:
            ref = "INS-" + "".join(self.rng.choice(_REFERENCE_CHARS) for _ in range(4))
            if ref not in taken:
                return ref

    # -- lookups -------------------------------------------------------------------------------------

    def user(self, user_id: str) -> User:
        if user_id not in self.users:
            raise SandboxError(404, "user_not_found", "no such user")
        return self.users[user_id]

    def property(self, property_id: str) -> Property:
        if property_id not in self.properties:
            raise SandboxError(404, "property_not_found", "no such property")
        return self.properties[property_id]

    def inspection(self, inspection_id: str) -> Inspection:
        if inspection_id not in self.inspections:
            raise SandboxError(404, "inspection_not_found", "no such inspection")
        return self.inspections[inspection_id]

    def find_properties(
        self,
        *,
        status: str | None,
        location: str | None,
        min_price: int | None,
        max_price: int | None,
        bedrooms: int | None,
        created_after: datetime | None,
    ) -> list[Property]:
        """Newest first; `location` matches a part of the location or address, `bedrooms` is a minimum."""
        needle = (location or "").strip().lower()
        found = [
            p
            for p in self.properties.values()
            if (not status or p.status == status)
            and (not needle or needle in p.location.lower() or needle in p.address.lower())
            and (min_price is None or p.price >= min_price)
            and (max_price is None or p.price <= max_price)
            and (bedrooms is None or p.bedrooms >= bedrooms)
            and (created_after is None or p.created_at > created_after)
        ]
        return sorted(found, key=lambda p: (p.created_at, p.id), reverse=True)

    @staticmethod
    def nearest_first(found: list[Property], latitude: float, longitude: float) -> list[Property]:
        """Properties with coordinates, nearest to the point first (those without are left out)."""
        placed = [p for p in found if p.latitude is not None and p.longitude is not None]
        return sorted(placed, key=lambda p: (distance_km(latitude, longitude, p.latitude, p.longitude), p.id))

    def property_slots(self, property_id: str) -> list[Slot]:
        self.property(property_id)
        now = self.now()
        slots = [s for s in self.slots.values() if s.property_id == property_id and s.starts_at > now]
        return sorted(slots, key=lambda s: s.starts_at)

    def inspections_for(
        self, role: str | None, user_id: str | None, start: datetime | None, end: datetime | None,
        status: str | None,
    ) -> list[Inspection]:
        """One user's inspections in a role; with no role, everyone's (the reminder sweep)."""
        field_name = {"seeker": "seeker_id", "agent": "agent_id", "inspector": "inspector_id"}.get(role or "")
        if role is not None and field_name is None:
            raise SandboxError(422, "bad_role", "role must be seeker, agent or inspector")
        found = [
            i
            for i in self.inspections.values()
            if (field_name is None or getattr(i, field_name) == user_id)
            and (start is None or i.starts_at >= start)
            and (end is None or i.starts_at < end)
            and (status is None or i.status == status)
        ]
        return sorted(found, key=lambda i: (i.starts_at, i.id))

    # -- changes -------------------------------------------------------------------------------------

    async def book(self, property_id: str, slot_id: str, seeker_id: str, key: str | None) -> tuple[Inspection, bool]:
        """Return (booking, created); a known Idempotency-Key returns the original booking."""
        async with self.lock:
            if key and key in self.idempotency:
                return self.inspections[self.idempotency[key]], False
            prop, seeker = self.property(property_id), self.user(seeker_id)
            slot = self.slots.get(slot_id)
            if slot is None or slot.property_id != property_id:
                raise SandboxError(404, "slot_not_found", "no such slot for this property")
            if slot.starts_at <= self.now():
                raise SandboxError(409, "slot_past", "this slot has already started")
            if slot.booked >= slot.capacity:
                raise SandboxError(409, "slot_full", "this slot is fully booked")
            if any(
                i.slot_id == slot_id and i.seeker_id == seeker.id and i.status == "scheduled"
                for i in self.inspections.values()
            ):
                raise SandboxError(409, "already_booked", "this seeker already has this slot")
            await asyncio.sleep(0)  # let a concurrent booking reach the lock: the lock, not luck, decides
            inspection = Inspection(
                id=self._next_id("ins"),
                reference=self.new_reference(),
                property_id=prop.id,
                seeker_id=seeker.id,
                agent_id=prop.agent_id,
                inspector_id=self._least_busy_inspector(slot.starts_at),
                slot_id=slot.id,
                starts_at=slot.starts_at,
                status="scheduled",
            )
            self.slots[slot.id] = slot.model_copy(update={"booked": slot.booked + 1})
            self.inspections[inspection.id] = inspection
            self.booked_at[inspection.id] = self.now()
            if key:
                self.idempotency[key] = inspection.id
            return inspection, True

    def _least_busy_inspector(self, starts: datetime) -> str | None:
        inspectors = sorted(u.id for u in self.users.values() if u.role == "inspector")
        day = starts.astimezone(self.tz).date()

        def load(user_id: str) -> int:
            return sum(
                1
                for i in self.inspections.values()
                if i.inspector_id == user_id
                and i.status == "scheduled"
                and i.starts_at.astimezone(self.tz).date() == day
            )

        return min(inspectors, key=load) if inspectors else None

    async def update_inspection(
        self, inspection_id: str, status: str | None, notes: str | None, *, progress: str | None = None,
        late_minutes: int | None = None, slot_id: str | None = None,
    ) -> Inspection:
        """Complete, cancel or mark a no-show; report progress; or move to another slot of the property."""
        async with self.lock:
            inspection = self.inspection(inspection_id)
            changes: dict[str, Any] = {}
            if status is not None and status != inspection.status:
                if status not in ("completed", "cancelled", "no_show"):
                    raise SandboxError(422, "bad_status", "status must be completed, cancelled or no_show")
                if inspection.status != "scheduled":
                    raise SandboxError(409, "not_scheduled", f"inspection is already {inspection.status}")
                changes["status"] = status
                if status == "cancelled" and inspection.slot_id in self.slots:
                    slot = self.slots[inspection.slot_id]
                    self.slots[slot.id] = slot.model_copy(update={"booked": max(slot.booked - 1, 0)})
            if progress is not None or slot_id is not None:
                if inspection.status != "scheduled":
                    raise SandboxError(409, "not_scheduled", f"inspection is already {inspection.status}")
            if progress is not None:
                if progress not in ("on_my_way", "running_late"):
                    raise SandboxError(422, "bad_progress", "progress must be on_my_way or running_late")
                changes["progress"], changes["late_minutes"] = progress, late_minutes
            if slot_id is not None and slot_id != inspection.slot_id:
                changes.update(self._move(inspection, slot_id))
            if notes is not None:
                changes["notes"] = notes
            updated = inspection.model_copy(update=changes)
            self.inspections[updated.id] = updated
            return updated

    def _move(self, inspection: Inspection, slot_id: str) -> dict[str, Any]:
        """Take a place on another slot of the same property and free the old one (under the lock)."""
        slot = self.slots.get(slot_id)
        if slot is None or slot.property_id != inspection.property_id:
            raise SandboxError(404, "slot_not_found", "no such slot for this property")
        if slot.starts_at <= self.now():
            raise SandboxError(409, "slot_past", "this slot has already started")
        if slot.booked >= slot.capacity:
            raise SandboxError(409, "slot_full", "this slot is fully booked")
        self.slots[slot.id] = slot.model_copy(update={"booked": slot.booked + 1})
        old = self.slots.get(inspection.slot_id)
        if old is not None:
            self.slots[old.id] = old.model_copy(update={"booked": max(old.booked - 1, 0)})
        self.moved_at[inspection.id] = self.now()
        return {"slot_id": slot.id, "starts_at": slot.starts_at, "progress": None, "late_minutes": None}

    def property_stats(self, property_id: str, since: datetime) -> PropertyStats:
        """Bookings made, inspections completed / cancelled / missed, and saves, since `since`."""
        self.property(property_id)
        mine = [i for i in self.inspections.values() if i.property_id == property_id]
        booked_at = self.booked_at
        return PropertyStats(
            property_id=property_id, since=since,
            bookings=sum(1 for i in mine if booked_at.get(i.id, i.starts_at) >= since),
            completed=sum(1 for i in mine if i.status == "completed" and i.starts_at >= since),
            cancelled=sum(1 for i in mine if i.status == "cancelled" and i.starts_at >= since),
            no_shows=sum(1 for i in mine if i.status == "no_show" and i.starts_at >= since),
            saves=sum(1 for saved in self.saved.values() if property_id in saved and saved[property_id] >= since),
        )

    async def add_slot(self, property_id: str, starts: datetime, capacity: int) -> Slot:
        async with self.lock:
            self.property(property_id)
            if starts <= self.now():
                raise SandboxError(422, "slot_in_past", "a slot must start in the future")
            if any(s.property_id == property_id and s.starts_at == starts for s in self.slots.values()):
                raise SandboxError(409, "slot_exists", "this property already has a slot at that time")
            slot = Slot(
                id=self._next_id("slt"),
                property_id=property_id,
                starts_at=starts,
                capacity=capacity,
                booked=0,
            )
            self.slots[slot.id] = slot
            return slot

    async def remove_slot(self, slot_id: str) -> None:
        async with self.lock:
            slot = self.slots.get(slot_id)
            if slot is None:
                raise SandboxError(404, "slot_not_found", "no such slot")
            if slot.booked:
                raise SandboxError(409, "slot_has_bookings", "cancel the bookings on this slot first")
            del self.slots[slot_id]

    def saved_properties(self, user_id: str) -> list[SavedProperty]:
        self.user(user_id)
        saved = sorted(self.saved.get(user_id, {}).items(), key=lambda kv: kv[1], reverse=True)
        return [SavedProperty(property_id=pid, saved_at=at, property=self.properties.get(pid)) for pid, at in saved]

    def save(self, user_id: str, property_id: str) -> None:
        self.user(user_id), self.property(property_id)
        self.saved.setdefault(user_id, {}).setdefault(property_id, self.now())

    def unsave(self, user_id: str, property_id: str) -> None:
        self.user(user_id)
        self.saved.get(user_id, {}).pop(property_id, None)

    def alert_preferences(self, user_id: str) -> AlertPreferences:
        self.user(user_id)
        return self.alerts.get(user_id) or AlertPreferences(user_id=user_id)

    def set_alert_preferences(self, prefs: AlertPreferences) -> AlertPreferences:
        self.user(prefs.user_id)
        self.alerts[prefs.user_id] = prefs
        return prefs
