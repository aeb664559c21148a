"""Staff routes, all behind `Authorization: Bearer $ADMIN_TOKEN`: hot reload of flows.yaml, the flow graph as
SVG, and who uses the bot (`/api/v1/users/stats`). 401 without the token; 403 while ADMIN_TOKEN is unset."""

from __future__ import annotations

import functools
import hmac
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.reload import FlowsReloader
from engine.interpreter import Engine
from flows.graph import render_svg

Handler = Callable[[Request], Awaitable[Response]]
StatsSource = Callable[[], Awaitable[dict[str, Any]]]


def _authorized(request: Request, token: str) -> bool:
    given = request.headers.get("authorization", "")
    scheme, _, value = given.partition(" ")
    return bool(token) and scheme.lower() == "bearer" and hmac.compare_digest(value.encode(), token.encode())


def bearer_protected(token: str, *, setting: str = "ADMIN_TOKEN") -> Callable[[Handler], Handler]:
    """Wrap a handler: 403 while `token` is unset (nobody may call it), 401 without the right bearer token."""

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def guarded(request: Request) -> Response:
            if not token:
                return JSONResponse({"error": f"these endpoints are disabled: set {setting}"}, status_code=403)
            if not _authorized(request, token):
                return JSONResponse({"error": "missing or wrong bearer token"}, status_code=401,
                                    headers={"WWW-Authenticate": "Bearer"})
            return await handler(request)

        return guarded

    return decorate


def admin_routes(engine: Engine, reloader: FlowsReloader, admin_token: str, *,
                 user_stats: StatsSource | None = None, extra: list[Route] | None = None) -> list[Route]:
    protected = bearer_protected(admin_token)

    @protected
    async def reload_flows(request: Request) -> Response:
        ok, problems = await anyio.to_thread.run_sync(reloader.reload)
        body = {"ok": ok, "hash": reloader.current_hash, "problems" if not ok else "warnings": problems}
        return JSONResponse(body, status_code=200 if ok else 422)

    @protected
    async def graph(request: Request) -> Response:
        flow = request.query_params.get("flow") or None
        spec = engine.flows.spec
        if flow is not None and flow not in spec.flows:
            return JSONResponse({"error": f"no flow {flow!r}", "flows": sorted(spec.flows)}, status_code=404)
        try:
            svg = await anyio.to_thread.run_sync(render_svg, spec, flow)
        except RuntimeError as exc:  # Graphviz missing: say how to install it
            return JSONResponse({"error": str(exc)}, status_code=503)
        return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "no-store"})

    routes = [
        Route("/api/v1/admin/flows/reload", reload_flows, methods=["POST"]),
        Route("/flows/graph", graph, methods=["GET"]),
    ]
    if user_stats is not None:
        @protected
        async def stats(request: Request) -> Response:
            return JSONResponse(await user_stats())

        routes.append(Route("/api/v1/users/stats", stats, methods=["GET"]))
    for route in extra or []:
        routes.append(Route(route.path, protected(route.endpoint), methods=sorted(route.methods or ["GET"]),
                            name=route.name))
    return routes
