"""Staff routes: hot reload of flows.yaml (authenticated) and the flow graph as SVG."""

from __future__ import annotations

import hmac

import anyio
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.reload import FlowsReloader
from engine.interpreter import Engine
from flows.graph import render_svg


def _authorized(request: Request, token: str) -> bool:
    given = request.headers.get("authorization", "")
    scheme, _, value = given.partition(" ")
    return bool(token) and scheme.lower() == "bearer" and hmac.compare_digest(value.encode(), token.encode())


def _refusal(request: Request, token: str) -> Response | None:
    """None for a caller holding ADMIN_TOKEN; else why not (403 when no token is set, 401 otherwise)."""
    if not token:
        return JSONResponse({"error": "admin endpoints are disabled: set ADMIN_TOKEN"}, status_code=403)
    if not _authorized(request, token):
        return JSONResponse({"error": "missing or wrong bearer token"}, status_code=401,
                            headers={"WWW-Authenticate": "Bearer"})
    return None


def admin_routes(engine: Engine, reloader: FlowsReloader, admin_token: str) -> list[Route]:
    """Both staff routes need ADMIN_TOKEN: the graph shows every state, action and text of the flows."""

    async def reload_flows(request: Request) -> Response:
        refused = _refusal(request, admin_token)
        if refused is not None:
            return refused
        ok, problems = await anyio.to_thread.run_sync(reloader.reload)
        body = {"ok": ok, "hash": reloader.current_hash, "problems" if not ok else "warnings": problems}
        return JSONResponse(body, status_code=200 if ok else 422)

    async def graph(request: Request) -> Response:
        refused = _refusal(request, admin_token)
        if refused is not None:
            return refused
        flow = request.query_params.get("flow") or None
        spec = engine.flows.spec
        if flow is not None and flow not in spec.flows:
            return JSONResponse({"error": f"no flow {flow!r}", "flows": sorted(spec.flows)}, status_code=404)
        try:
            svg = await anyio.to_thread.run_sync(render_svg, spec, flow)
        except RuntimeError as exc:  # Graphviz missing: say how to install it
            return JSONResponse({"error": str(exc)}, status_code=503)
        return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "no-store"})

    return [
        Route("/api/v1/admin/flows/reload", reload_flows, methods=["POST"]),
        Route("/flows/graph", graph, methods=["GET"]),
    ]
