"""What every Inspector action shares: its dependencies, who the user is, and error mapping.

Client errors become engine ActionErrors with a user-safe message and a `kind` the flows route on:
unavailable, not_found, slot_taken, forbidden, invalid.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any, TypeVar

from adapters.inspector.client import InspectorClient
from adapters.inspector.errors import (
    InspectorConflict,
    InspectorError,
    InspectorNotFound,
    InspectorRejected,
)
from adapters.inspector.models import Property, User
from engine.actions import ActionContext, ActionError

log = logging.getLogger("adapters.inspector.actions")
F = TypeVar("F", bound=Callable[..., Awaitable[Any]])

UNAVAILABLE = "Inspector is not answering right now; try again in a few minutes."
SLOT_TAKEN = "Sorry, that slot was just taken. Please pick another one."
NOT_LINKED = "Please link your Inspector account first."
NOT_YOURS = "That is not something you can change."
CONFLICTS = {
    "slot_full": ("slot_taken", SLOT_TAKEN),
    "slot_past": ("slot_taken", SLOT_TAKEN),
    "already_booked": ("invalid", "You have already booked that slot."),
    "not_scheduled": ("invalid", "That inspection is no longer scheduled."),
    "slot_exists": ("invalid", "There is already a slot at that time."),
    "slot_has_bookings": ("invalid", "That slot has bookings, so it cannot be removed."),
}


@dataclass(frozen=True)
class Deps:
    client: InspectorClient
    tz: tzinfo


def handles_errors(not_found: str) -> Callable[[F], F]:
    """Turn InspectorErrors raised by an action into ActionErrors; `not_found` is the 404 message."""

    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return await fn(*args, **kwargs)
            except InspectorNotFound as exc:
                raise ActionError(not_found, kind="not_found", detail=str(exc)) from exc
            except InspectorConflict as exc:
                kind, message = CONFLICTS.get(exc.code, ("invalid", "That cannot be done right now."))
                raise ActionError(message, kind=kind, detail=str(exc)) from exc
            except InspectorRejected as exc:
                raise ActionError("Inspector could not accept that.", kind="invalid", detail=str(exc)) from exc
            except InspectorError as exc:  # unavailable, bad response
                log.warning("action %s: %s", fn.__name__, exc)
                raise ActionError(UNAVAILABLE, kind="unavailable", detail=str(exc)) from exc

        return wrapper  # type: ignore[return-value]

    return decorate


def current_user(ctx: ActionContext, *roles: str) -> dict[str, Any]:
    user = ctx.user
    if not user or not user.get("id"):
        raise ActionError(NOT_LINKED, kind="forbidden", detail="no linked Inspector account")
    if roles and user.get("role") not in roles:
        raise ActionError(
            "That is only available to " + " or ".join(f"{r}s" for r in roles) + ".",
            kind="forbidden",
            detail=f"role {user.get('role')!r} not in {roles}",
        )
    return user


def forbid_unless(allowed: bool, detail: str) -> None:
    if not allowed:
        raise ActionError(NOT_YOURS, kind="forbidden", detail=detail)


def optional_int(name: str, value: Any) -> int | None:
    """Flows pass template strings: '', 'any' and None mean no filter; '45,000,000' is fine."""
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", "any", "none")):
        return None
    try:
        number = int(str(value).replace(",", "").replace("₦", "").strip())
    except ValueError:
        raise ActionError(f"Please send {name.replace('_', ' ')} as a number.", kind="invalid") from None
    if number < 0:
        raise ActionError(f"Please send {name.replace('_', ' ')} as a positive number.", kind="invalid")
    return number


def optional_text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return None if text.lower() in ("", "any", "none") else text


async def properties_by_id(client: InspectorClient, ids: Iterable[str]) -> dict[str, Property]:
    """The properties that still exist, fetched concurrently; a deleted one is simply missing."""
    return {p.id: p for p in await _gather_found(client.get_property, ids)}


async def users_by_id(client: InspectorClient, ids: Iterable[str | None]) -> dict[str, User]:
    return {u.id: u for u in await _gather_found(client.get_user, [i for i in ids if i])}


async def _gather_found(fetch: Callable[[str], Awaitable[Any]], ids: Iterable[str]) -> list[Any]:
    async def one(item_id: str) -> Any:
        try:
            return await fetch(item_id)
        except InspectorNotFound:
            return None

    found = await asyncio.gather(*(one(i) for i in dict.fromkeys(ids)))
    return [f for f in found if f is not None]
