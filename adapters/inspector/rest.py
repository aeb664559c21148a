"""The seed's REST API over the same Inspector client and booking rules as the flows, behind API_KEY.

GET  /api/v1/properties?location&min_price&max_price&bedrooms&limit&offset -> {items, total, limit, offset}
GET  /api/v1/inspections/{user_id}?status                                 -> {user_id, role, items}
POST /api/v1/inspections {user_id, property_id, slot_id} + Idempotency-Key -> 201 Inspection (200 on a replay)

Rules shared with the WhatsApp booking: only a seeker books; only a future slot of that property with a
free place; one booking per idempotency key (the same key always answers with the first booking).
Inspector's failures map to 404 (unknown), 409 (conflict, with Inspector's code), 503 (unavailable).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from adapters.bearer import bearer_protected
from adapters.inspector.client import InspectorClient
from adapters.inspector.errors import (
    InspectorConflict,
    InspectorError,
    InspectorNotFound,
    InspectorRejected,
    InspectorUnavailable,
)
from adapters.inspector.models import Inspection, Property

log = logging.getLogger(__name__)
MAX_PAGE = 50


class PropertyQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")
    location: str | None = Field(default=None, max_length=100)
    min_price: int | None = Field(default=None, ge=0)
    max_price: int | None = Field(default=None, ge=0)
    bedrooms: int | None = Field(default=None, ge=0, le=50)
    limit: int = Field(default=10, ge=1, le=MAX_PAGE)
    offset: int = Field(default=0, ge=0)


class PropertyList(BaseModel):
    items: list[Property]
    total: int | None = Field(description="all matches, when Inspector tells")
    limit: int
    offset: int


class InspectionList(BaseModel):
    user_id: str
    role: str
    items: list[Inspection]


class BookingRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    user_id: str = Field(min_length=1, max_length=64)
    property_id: str = Field(min_length=1, max_length=64)
    slot_id: str = Field(min_length=1, max_length=64)


class ApiError(BaseModel):
    error: str
    message: str = ""
    fields: list[dict[str, str]] | None = None


def _error(status: int, error: str, message: str = "", **extra: Any) -> JSONResponse:
    return JSONResponse({"error": error, "message": message, **extra}, status_code=status)


def _invalid(exc: ValidationError) -> JSONResponse:
    fields = [{"field": ".".join(str(p) for p in e["loc"]) or "body", "message": e["msg"]} for e in exc.errors()]
    return _error(422, "validation", "the request is not valid", fields=fields)


def _inspector_failure(exc: InspectorError) -> JSONResponse:
    if isinstance(exc, InspectorNotFound):
        return _error(404, "not_found", "no such user, property, slot or inspection")
    if isinstance(exc, InspectorConflict):
        return _error(409, exc.code or "conflict", "that slot can no longer be booked")
    if isinstance(exc, InspectorRejected):
        return _error(422, "rejected", "Inspector refused the request")
    if isinstance(exc, InspectorUnavailable):
        return _error(503, "unavailable", "Inspector is not answering; try again shortly")
    return _error(502, "bad_gateway", "Inspector answered something unexpected")


def api_booking_key(user_id: str, key: str) -> str:
    """The caller's Idempotency-Key scoped to the user (two users' equal keys never collide)."""
    return "api-book-" + hashlib.sha256(f"{user_id}\x00{key}".encode()).hexdigest()[:32]


def inspector_api_routes(client: InspectorClient, api_key: str, *,
                         clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> list[Route]:
    protected = bearer_protected(api_key, setting="API_KEY", unset_status=503)

    @protected
    async def properties(request: Request) -> Response:
        try:
            query = PropertyQuery.model_validate(dict(request.query_params))
        except ValidationError as exc:
            return _invalid(exc)
        try:
            page = await client.available_properties(limit=query.limit, offset=query.offset, location=query.location,
                                                     min_price=query.min_price, max_price=query.max_price,
                                                     bedrooms=query.bedrooms)
        except InspectorError as exc:
            return _inspector_failure(exc)
        body = PropertyList(items=page.items, total=page.total, limit=query.limit, offset=query.offset)
        return JSONResponse(body.model_dump(mode="json"))

    @protected
    async def inspections(request: Request) -> Response:
        user_id = request.path_params["user_id"]
        status = request.query_params.get("status") or None
        if status not in (None, "scheduled", "completed", "cancelled"):
            return _error(422, "validation", "status must be scheduled, completed or cancelled")
        try:
            user = await client.get_user(user_id)
            found = await client.inspections_for(user.role, user.id, status=status)
        except InspectorError as exc:
            return _inspector_failure(exc)
        body = InspectionList(user_id=user.id, role=user.role, items=found)
        return JSONResponse(body.model_dump(mode="json"))

    @protected
    async def book(request: Request) -> Response:
        key = request.headers.get("idempotency-key", "").strip()
        if not key or len(key) > 200:
            return _error(400, "idempotency_key", "send an Idempotency-Key header (1-200 characters)")
        try:
            booking = BookingRequest.model_validate_json(await request.body())
        except ValidationError as exc:
            return _invalid(exc)
        try:
            user = await client.get_user(booking.user_id)
            if user.role != "seeker":
                return _error(403, "forbidden", "only a seeker can book an inspection")
            slots = {s.id: s for s in await client.inspection_slots(booking.property_id)}
            slot = slots.get(booking.slot_id)
            if slot is None:
                return _error(404, "not_found", "that slot is not one of this property's")
            if slot.starts_at <= clock():
                return _error(409, "slot_past", "that slot has already started")
            mine = [i for i in await client.inspections_for("seeker", user.id, status="scheduled")
                    if i.slot_id == slot.id]
            if slot.free == 0 and not mine:
                return _error(409, "slot_full", "that slot is fully booked")
            made = await client.book_inspection(booking.property_id, slot.id, user.id,
                                                idempotency_key=api_booking_key(user.id, key))
        except InspectorError as exc:
            return _inspector_failure(exc)
        replay = any(i.id == made.id for i in mine)
        log.info("inspection %s booked over the API for user %s", made.reference, user.id)
        return JSONResponse(made.model_dump(mode="json"), status_code=200 if replay else 201)

    return [
        Route("/api/v1/properties", properties, methods=["GET"]),
        Route("/api/v1/inspections/{user_id}", inspections, methods=["GET"]),
        Route("/api/v1/inspections", book, methods=["POST"]),
    ]
