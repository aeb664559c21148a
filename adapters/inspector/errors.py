"""What can go wrong talking to Inspector, as exceptions the actions map to user-safe messages.

Every error names the endpoint as a template (`GET /users/by-email/{email}`), never the filled-in
path, so no email or id of a user reaches a log line through an exception message.
"""

from __future__ import annotations


class InspectorError(Exception):
    """Base class: something about a call to Inspector failed."""

    def __init__(self, message: str, *, endpoint: str = "", status: int | None = None) -> None:
        super().__init__(f"{endpoint}: {message}" if endpoint else message)
        self.endpoint = endpoint
        self.status = status


class InspectorUnavailable(InspectorError):
    """Inspector did not answer usefully (timeout, refused, 5xx, 429 after retries, circuit open)."""


class InspectorNotFound(InspectorError):
    """404: the user, property, slot or inspection does not exist (any more)."""


class InspectorConflict(InspectorError):
    """409: the request clashes with the current state (slot full, already cancelled, slot has bookings)."""

    def __init__(self, message: str, *, endpoint: str = "", status: int | None = 409, code: str = "") -> None:
        super().__init__(message, endpoint=endpoint, status=status)
        self.code = code


class InspectorRejected(InspectorError):
    """Another 4xx: Inspector refused the request as invalid or not allowed."""


class InspectorBadResponse(InspectorError):
    """Inspector answered 2xx with something that is not the documented shape (bad JSON, missing fields)."""
