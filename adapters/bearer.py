"""Bearer-token guards for HTTP handlers: the admin API (ADMIN_TOKEN) and the server-to-server API (API_KEY).

Compared in constant time. While the token is unset nobody is let in (unless the endpoint is open by
default), and the answer says which setting to set; a missing or wrong token gets 401 with
`WWW-Authenticate: Bearer`.
"""

from __future__ import annotations

import functools
import hmac
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

Handler = Callable[[Request], Awaitable[Response]]


def has_bearer(request: Request, token: str) -> bool:
    given = request.headers.get("authorization", "")
    scheme, _, value = given.partition(" ")
    return bool(token) and scheme.lower() == "bearer" and hmac.compare_digest(value.encode(), token.encode())


def bearer_protected(token: str, *, setting: str, unset_status: int = 403,
                     open_when_unset: bool = False) -> Callable[[Handler], Handler]:
    """Wrap a handler: `unset_status` while `token` is empty (or let everyone in, `open_when_unset`: endpoints
    meant for an internal network, such as the metrics), 401 without the right `Authorization: Bearer`."""

    def decorate(handler: Handler) -> Handler:
        if not token and open_when_unset:
            return handler

        @functools.wraps(handler)
        async def guarded(request: Request) -> Response:
            if not token:
                return JSONResponse({"error": f"these endpoints are disabled: set {setting}"},
                                    status_code=unset_status)
            if not has_bearer(request, token):
                return JSONResponse({"error": "missing or wrong bearer token"}, status_code=401,
                                    headers={"WWW-Authenticate": "Bearer"})
            return await handler(request)

        return guarded

    return decorate
