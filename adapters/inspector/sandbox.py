"""A sandbox Inspector: the same HTTP contract as openapi.yaml, over seeded demo data in memory.

It runs in-process behind httpx's ASGITransport (the embedded default when no Inspector URL is
configured) or on a port with uvicorn (`python main.py sandbox --port N`). The bearer token is
checked only when one is configured.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from adapters.inspector.models import AlertPreferences
from adapters.inspector.sandbox_store import SandboxError, SandboxStore


def _json(value: Any, status: int = 200) -> JSONResponse:
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    elif isinstance(value, list):
        value = [v.model_dump(mode="json") if isinstance(v, BaseModel) else v for v in value]
    return JSONResponse(value, status_code=status)


def _store(request: Request) -> SandboxStore:
    return request.app.state.store


def _int(request: Request, name: str, default: int | None = None) -> int | None:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError:
        raise SandboxError(422, "bad_query", f"{name} must be an integer") from None


def _when(request: Request, raw: str | None, name: str) -> datetime | None:
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise SandboxError(422, "bad_query", f"{name} must be an ISO 8601 datetime") from None
    return value if value.tzinfo else value.replace(tzinfo=_store(request).tz)


async def _body(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise SandboxError(422, "bad_body", "body must be JSON") from None
    if not isinstance(body, dict):
        raise SandboxError(422, "bad_body", "body must be a JSON object")
    return body


async def user_by_email(request: Request) -> Response:
    email = request.path_params["email"].lower()
    for user in _store(request).users.values():
        if user.email.lower() == email:
            return _json(user)
    raise SandboxError(404, "user_not_found", "no user with that email")


async def user(request: Request) -> Response:
    return _json(_store(request).user(request.path_params["user_id"]))


async def users(request: Request) -> Response:
    role = request.query_params.get("role")
    return _json([u for u in _store(request).users.values() if not role or u.role == role])


async def properties(request: Request) -> Response:
    found = _store(request).find_properties(
        status=request.query_params.get("status"),
        location=request.query_params.get("location"),
        min_price=_int(request, "min_price"),
        max_price=_int(request, "max_price"),
        bedrooms=_int(request, "bedrooms"),
        created_after=_when(request, request.query_params.get("created_after"), "created_after"),
    )
    near = request.query_params.get("near")
    if near:
        found = store_nearest(found, near)
    limit, offset = _int(request, "limit", 10) or 0, _int(request, "offset", 0) or 0
    items = [p.model_dump(mode="json") for p in found[offset : offset + max(min(limit, 100), 0)]]
    return _json({"items": items, "total": len(found), "limit": limit, "offset": offset})


def store_nearest(found: list[Any], near: str) -> list[Any]:
    """`near=<lat>,<lng>`: nearest first, properties without coordinates left out."""
    try:
        latitude, longitude = (float(part) for part in near.split(","))
    except ValueError:
        raise SandboxError(422, "bad_query", "near must be <latitude>,<longitude>") from None
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise SandboxError(422, "bad_query", "near is outside the globe")
    return SandboxStore.nearest_first(found, latitude, longitude)


async def property_stats(request: Request) -> Response:
    since = _when(request, request.query_params.get("since"), "since")
    if since is None:
        raise SandboxError(422, "bad_query", "since is required")
    return _json(_store(request).property_stats(request.path_params["property_id"], since))


async def property_detail(request: Request) -> Response:
    return _json(_store(request).property(request.path_params["property_id"]))


async def agent_properties(request: Request) -> Response:
    agent_id = request.path_params["agent_id"]
    store = _store(request)
    return _json(sorted((p for p in store.properties.values() if p.agent_id == agent_id), key=lambda p: p.id))


async def property_slots(request: Request) -> Response:
    store = _store(request)
    if request.method == "GET":
        return _json(store.property_slots(request.path_params["property_id"]))
    body = await _body(request)
    starts = _when(request, str(body.get("starts_at") or ""), "starts_at")
    if starts is None:
        raise SandboxError(422, "bad_body", "starts_at is required")
    capacity = body.get("capacity", store.default_capacity)
    if not isinstance(capacity, int) or capacity < 1:
        raise SandboxError(422, "bad_body", "capacity must be a positive integer")
    return _json(await store.add_slot(request.path_params["property_id"], starts, capacity), 201)


async def slot_delete(request: Request) -> Response:
    await _store(request).remove_slot(request.path_params["slot_id"])
    return Response(status_code=204)


async def book(request: Request) -> Response:
    body = await _body(request)
    missing = [k for k in ("property_id", "slot_id", "seeker_id") if not body.get(k)]
    if missing:
        raise SandboxError(422, "bad_body", f"missing {', '.join(missing)}")
    key = request.headers.get("Idempotency-Key") or None
    inspection, created = await _store(request).book(
        str(body["property_id"]), str(body["slot_id"]), str(body["seeker_id"]), key
    )
    return _json(inspection, 201 if created else 200)


async def inspections_for(request: Request) -> Response:
    found = _store(request).inspections_for(
        request.path_params["role"],
        request.path_params["user_id"],
        _when(request, request.query_params.get("from"), "from"),
        _when(request, request.query_params.get("to"), "to"),
        request.query_params.get("status") or None,
    )
    return _json(found)


async def all_inspections(request: Request) -> Response:
    """Everyone's inspections in [from, to), soonest first: what the reminder sweep reads."""
    found = _store(request).inspections_for(
        None, None,
        _when(request, request.query_params.get("from"), "from"),
        _when(request, request.query_params.get("to"), "to"),
        request.query_params.get("status") or None,
    )
    return _json(found)


async def inspection(request: Request) -> Response:
    store = _store(request)
    inspection_id = request.path_params["inspection_id"]
    if request.method == "GET":
        return _json(store.inspection(inspection_id))
    body = await _body(request)
    late = body.get("late_minutes")
    if late is not None and (not isinstance(late, int) or late < 0):
        raise SandboxError(422, "bad_body", "late_minutes must be a non-negative integer")
    return _json(await store.update_inspection(
        inspection_id, body.get("status"), body.get("notes"), progress=body.get("progress"), late_minutes=late,
        slot_id=str(body["slot_id"]) if body.get("slot_id") else None,
    ))


async def saved_list(request: Request) -> Response:
    return _json(_store(request).saved_properties(request.path_params["user_id"]))


async def saved_item(request: Request) -> Response:
    store, user_id, property_id = (
        _store(request),
        request.path_params["user_id"],
        request.path_params["property_id"],
    )
    if request.method == "PUT":
        store.save(user_id, property_id)
    else:
        store.unsave(user_id, property_id)
    return Response(status_code=204)


async def alert_preferences(request: Request) -> Response:
    store, user_id = _store(request), request.path_params["user_id"]
    if request.method == "GET":
        return _json(store.alert_preferences(user_id))
    try:
        prefs = AlertPreferences.model_validate({**(await _body(request)), "user_id": user_id})
    except ValidationError as exc:
        raise SandboxError(422, "bad_body", str(exc.errors()[0]["msg"])) from None
    return _json(store.set_alert_preferences(prefs))


async def alert_subscribers(request: Request) -> Response:
    enabled = request.query_params.get("enabled")
    prefs = list(_store(request).alerts.values())
    if enabled is not None:
        prefs = [p for p in prefs if p.enabled == (enabled.lower() in ("1", "true", "yes"))]
    return _json(sorted(prefs, key=lambda p: p.user_id))


async def locations(request: Request) -> Response:
    counts: dict[str, int] = {}
    for prop in _store(request).properties.values():
        if prop.status == "available":
            counts[prop.location] = counts.get(prop.location, 0) + 1
    return _json([{"name": name, "available": n} for name, n in sorted(counts.items())])


async def _sandbox_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SandboxError)
    return JSONResponse({"error": exc.code, "detail": exc.detail}, status_code=exc.status)


class BearerAuth:
    """Refuses requests without `Authorization: Bearer <api_key>`; a no-op when api_key is empty."""

    def __init__(self, app: ASGIApp, api_key: str = "") -> None:
        self.app, self.expected = app, f"Bearer {api_key}".encode() if api_key else b""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.expected:
            given = dict(scope["headers"]).get(b"authorization", b"")
            if not hmac.compare_digest(given, self.expected):
                response = JSONResponse({"error": "unauthorized", "detail": "bad or missing token"}, 401)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


ROUTES = [
    Route("/users/by-email/{email}", user_by_email),
    Route("/users", users),
    Route("/users/{user_id}", user),
    Route("/users/{user_id}/saved-properties", saved_list),
    Route("/users/{user_id}/saved-properties/{property_id}", saved_item, methods=["PUT", "DELETE"]),
    Route("/users/{user_id}/alert-preferences", alert_preferences, methods=["GET", "PUT"]),
    Route("/alert-preferences", alert_subscribers),
    Route("/properties", properties),
    Route("/properties/agent/{agent_id}", agent_properties),
    Route("/properties/{property_id}", property_detail),
    Route("/properties/{property_id}/inspection-slots", property_slots, methods=["GET", "POST"]),
    Route("/properties/{property_id}/stats", property_stats),
    Route("/inspection-slots/{slot_id}", slot_delete, methods=["DELETE"]),
    Route("/inspections", book, methods=["POST"]),
    Route("/inspections", all_inspections, methods=["GET"]),
    Route("/inspections/{role}/{user_id}", inspections_for),
    Route("/inspections/{inspection_id}", inspection, methods=["GET", "PATCH"]),
    Route("/locations", locations),
]


def create_sandbox_app(
    data_path: Path | None = None, now: Callable[[], datetime] | None = None, *, api_key: str = ""
) -> Starlette:
    """A fresh sandbox over its own copy of the seed data; `app.state.store` holds that data."""
    app = Starlette(
        routes=ROUTES,
        middleware=[Middleware(BearerAuth, api_key=api_key)],
        exception_handlers={SandboxError: _sandbox_error},
    )
    app.state.store = SandboxStore.load(data_path, now)
    return app


def serve_sandbox(
    port: int = 8100, host: str = "127.0.0.1", *, data_path: Path | None = None, api_key: str = ""
) -> None:
    """Serve the sandbox with uvicorn until interrupted (blocking)."""
    import uvicorn

    uvicorn.run(create_sandbox_app(data_path, api_key=api_key), host=host, port=port, log_level="info")
