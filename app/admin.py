"""Staff routes, all behind `Authorization: Bearer $ADMIN_TOKEN`: hot reload of flows.yaml, the flow graph as
SVG, and who uses the bot (`/api/v1/users/stats`). 401 without the token; 403 while ADMIN_TOKEN is unset."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import anyio
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from adapters.bearer import bearer_protected
from app.reload import FlowsReloader
from engine.interpreter import Engine
from flows.graph import render_svg

StatsSource = Callable[[], Awaitable[dict[str, Any]]]


def admin_routes(engine: Engine, reloader: FlowsReloader, admin_token: str, *,
                 user_stats: StatsSource | None = None, extra: list[Route] | None = None) -> list[Route]:
    protected = bearer_protected(admin_token, setting="ADMIN_TOKEN")

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
