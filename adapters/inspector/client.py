"""`InspectorClient`: the Inspector REST contract (openapi.yaml) as typed async methods.

Timeouts, retries and the circuit breaker live in `caller.py`; this module names the endpoints and
validates every answer into the models, so a malformed response fails here, naming the endpoint.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

import httpx

from adapters.inspector.caller import CallObserver, InspectorCaller, validate
from adapters.inspector.errors import InspectorNotFound
from adapters.inspector.models import (
    AlertPreferences,
    Inspection,
    Location,
    Property,
    PropertyPage,
    PropertyStats,
    Role,
    SavedProperty,
    Slot,
    User,
)
from adapters.inspector.resilience import Backoff, CircuitBreaker
from adapters.privacy import mask_email

log = logging.getLogger(__name__)


def _seg(value: str | int) -> str:
    return quote(str(value), safe="")


def _iso(value: datetime | date | None) -> str | None:
    return None if value is None else value.isoformat()


class InspectorClient:
    def __init__(
        self,
        base_url: str,
        api_key: str = "",
        *,
        timeout: float = 5.0,
        retries: int = 2,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
        breaker: CircuitBreaker | None = None,
        backoff: Backoff | None = None,
    ) -> None:
        headers = {"Accept": "application/json", "User-Agent": "inspector-whatsapp/0.1"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        self.base_url = base_url
        self.breaker = breaker or CircuitBreaker(clock=clock)
        self.sandbox_app: Any = None  # the embedded sandbox's Starlette app, set by build_inspector_client
        self._http = httpx.AsyncClient(
            base_url=base_url, headers=headers, timeout=httpx.Timeout(timeout), transport=transport
        )
        self._caller = InspectorCaller(
            self._http,
            retries=retries,
            breaker=self.breaker,
            backoff=backoff or Backoff(rng=rng or random.Random()),
            sleep=sleep,
        )

    def observe(self, observer: CallObserver | None) -> None:
        """Tell `observer` about every call (operation, outcome, seconds, breaker state): the metrics hook."""
        self._caller.observer = observer

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> InspectorClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- users ---------------------------------------------------------------------------------------

    async def get_user_by_email(self, email: str) -> User | None:
        """The Inspector account with this email, or None when there is none."""
        try:
            return await self._get(User, "GET /users/by-email/{email}", f"/users/by-email/{_seg(email)}")
        except InspectorNotFound:
            log.info("no Inspector user for %s", mask_email(email))
            return None

    async def get_user(self, user_id: str) -> User:
        return await self._get(User, "GET /users/{id}", f"/users/{_seg(user_id)}")

    async def users_by_role(self, role: Role) -> list[User]:
        return await self._get(list[User], "GET /users", "/users", params={"role": role})

    # -- properties ----------------------------------------------------------------------------------

    async def available_properties(
        self,
        *,
        limit: int = 10,
        offset: int = 0,
        location: str | None = None,
        min_price: int | None = None,
        max_price: int | None = None,
        bedrooms: int | None = None,
        created_after: datetime | None = None,
        near: tuple[float, float] | None = None,
    ) -> PropertyPage:
        """`near=(latitude, longitude)` orders nearest first (properties without coordinates are left out)."""
        params = {
            "status": "available",
            "limit": limit,
            "offset": offset,
            "location": location,
            "min_price": min_price,
            "max_price": max_price,
            "bedrooms": bedrooms,
            "created_after": _iso(created_after),
            "near": f"{near[0]:.6f},{near[1]:.6f}" if near else None,
        }
        data = await self._call("GET", "GET /properties", "/properties", params=params)
        if isinstance(data, list):
            data = {"items": data, "total": None}
        return self._validate(PropertyPage, data, "GET /properties")

    async def properties_created_after(self, since: datetime, *, limit: int = 100) -> list[Property]:
        """New listings since `since`, for the property-alerts job."""
        page = await self.available_properties(limit=limit, created_after=since)
        return page.items

    async def get_property(self, property_id: str) -> Property:
        return await self._get(Property, "GET /properties/{id}", f"/properties/{_seg(property_id)}")

    async def agent_properties(self, agent_id: str) -> list[Property]:
        path = f"/properties/agent/{_seg(agent_id)}"
        return await self._get(list[Property], "GET /properties/agent/{agent_id}", path)

    async def locations(self) -> list[Location]:
        data = await self._call("GET", "GET /locations", "/locations")
        if isinstance(data, list):
            data = [{"name": item} if isinstance(item, str) else item for item in data]
        return self._validate(list[Location], data, "GET /locations")

    # -- slots ---------------------------------------------------------------------------------------

    async def inspection_slots(self, property_id: str) -> list[Slot]:
        path = f"/properties/{_seg(property_id)}/inspection-slots"
        return await self._get(list[Slot], "GET /properties/{id}/inspection-slots", path)

    async def add_slot(self, property_id: str, starts_at: datetime, *, capacity: int = 1) -> Slot:
        """Not retried: a POST without an idempotency key could add the slot twice."""
        endpoint = "POST /properties/{id}/inspection-slots"
        body = {"starts_at": starts_at.isoformat(), "capacity": capacity}
        path = f"/properties/{_seg(property_id)}/inspection-slots"
        data = await self._call("POST", endpoint, path, json=body)
        return self._validate(Slot, data, endpoint)

    async def remove_slot(self, slot_id: str) -> None:
        await self._call("DELETE", "DELETE /inspection-slots/{id}", f"/inspection-slots/{_seg(slot_id)}")

    # -- inspections ---------------------------------------------------------------------------------

    async def book_inspection(
        self, property_id: str, slot_id: str, seeker_id: str, *, idempotency_key: str | None = None
    ) -> Inspection:
        """Book a place; with `idempotency_key` a retry (or a replay) returns the original booking."""
        body = {"property_id": property_id, "slot_id": slot_id, "seeker_id": seeker_id}
        data = await self._call("POST", "POST /inspections", "/inspections", json=body, idempotency_key=idempotency_key)
        return self._validate(Inspection, data, "POST /inspections")

    async def inspections_for(
        self,
        role: Role,
        user_id: str,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        status: str | None = None,
    ) -> list[Inspection]:
        """A user's inspections as seeker, agent or inspector, optionally in [start, end) and by status."""
        params = {"from": _iso(start), "to": _iso(end), "status": status}
        path = f"/inspections/{_seg(role)}/{_seg(user_id)}"
        return await self._get(list[Inspection], "GET /inspections/{role}/{user_id}", path, params=params)

    async def all_inspections(
        self, *, start: datetime, end: datetime, status: str | None = "scheduled"
    ) -> list[Inspection]:
        """Everyone's inspections in [start, end), soonest first (the reminder sweep); every status with None
        (the booking sweep, which must see cancellations)."""
        params = {"from": _iso(start), "to": _iso(end), "status": status}
        return await self._get(list[Inspection], "GET /inspections", "/inspections", params=params)

    async def property_stats(self, property_id: str, since: datetime) -> PropertyStats:
        path = f"/properties/{_seg(property_id)}/stats"
        return await self._get(PropertyStats, "GET /properties/{id}/stats", path, params={"since": _iso(since)})

    async def get_inspection(self, inspection_id: str) -> Inspection:
        return await self._get(Inspection, "GET /inspections/{id}", f"/inspections/{_seg(inspection_id)}")

    async def update_inspection(
        self, inspection_id: str, *, status: str | None = None, notes: str | None = None,
        progress: str | None = None, late_minutes: int | None = None, slot_id: str | None = None,
    ) -> Inspection:
        """Change status or notes, report progress (`on_my_way`, `running_late`), or move to `slot_id`."""
        fields = {"status": status, "notes": notes, "progress": progress, "late_minutes": late_minutes,
                  "slot_id": slot_id}
        body = {k: v for k, v in fields.items() if v is not None}
        path = f"/inspections/{_seg(inspection_id)}"
        data = await self._call("PATCH", "PATCH /inspections/{id}", path, json=body)
        return self._validate(Inspection, data, "PATCH /inspections/{id}")

    async def cancel_inspection(self, inspection_id: str) -> Inspection:
        return await self.update_inspection(inspection_id, status="cancelled")

    async def complete_inspection(self, inspection_id: str, notes: str = "") -> Inspection:
        return await self.update_inspection(inspection_id, status="completed", notes=notes)

    # -- saved properties and alerts -----------------------------------------------------------------

    async def saved_properties(self, user_id: str) -> list[SavedProperty]:
        path = f"/users/{_seg(user_id)}/saved-properties"
        return await self._get(list[SavedProperty], "GET /users/{id}/saved-properties", path)

    async def save_property(self, user_id: str, property_id: str) -> None:
        path = f"/users/{_seg(user_id)}/saved-properties/{_seg(property_id)}"
        await self._call("PUT", "PUT /users/{id}/saved-properties/{property_id}", path)

    async def unsave_property(self, user_id: str, property_id: str) -> None:
        path = f"/users/{_seg(user_id)}/saved-properties/{_seg(property_id)}"
        await self._call("DELETE", "DELETE /users/{id}/saved-properties/{property_id}", path)

    async def alert_preferences(self, user_id: str) -> AlertPreferences:
        path = f"/users/{_seg(user_id)}/alert-preferences"
        return await self._get(AlertPreferences, "GET /users/{id}/alert-preferences", path)

    async def set_alert_preferences(self, prefs: AlertPreferences) -> AlertPreferences:
        endpoint = "PUT /users/{id}/alert-preferences"
        path = f"/users/{_seg(prefs.user_id)}/alert-preferences"
        data = await self._call("PUT", endpoint, path, json=prefs.model_dump(mode="json"))
        return self._validate(AlertPreferences, data, endpoint)

    async def alert_subscribers(self) -> list[AlertPreferences]:
        """Everyone with alerts switched on, for the property-alerts job."""
        params = {"enabled": "true"}
        return await self._get(list[AlertPreferences], "GET /alert-preferences", "/alert-preferences", params=params)

    # -- plumbing ------------------------------------------------------------------------------------

    async def _get(self, shape: Any, endpoint: str, path: str, **kwargs: Any) -> Any:
        data = await self._call("GET", endpoint, path, **kwargs)
        return self._validate(shape, data, endpoint)

    def _validate(self, shape: Any, data: Any, endpoint: str) -> Any:
        return validate(shape, data, endpoint)

    async def _call(self, method: str, endpoint: str, path: str, **kwargs: Any) -> Any:
        return await self._caller.call(method, endpoint, path, **kwargs)
