"""`GET /health` and `GET /api/v1/status`: what a load balancer and an operator need to see."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from importlib import metadata
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

log = logging.getLogger(__name__)

HealthCheck = Callable[[], Awaitable[bool]]
StatusInfo = Callable[[], Awaitable[Mapping[str, Any]]]


def version() -> str:
    try:
        return metadata.version("inspector-whatsapp")
    except metadata.PackageNotFoundError:
        return "0.0.0"


def health_routes(checks: Mapping[str, HealthCheck], status_info: StatusInfo) -> list[Route]:
    """/health answers 200 "ok" when every check passes and 503 "degraded" naming the failing ones."""
    started = time.time()

    async def health(request: Request) -> Response:
        results: dict[str, str] = {}
        for name, check in checks.items():
            try:
                results[name] = "ok" if await check() else "down"
            except Exception as exc:
                results[name] = "down"
                log.warning("health check %s failed: %s", name, type(exc).__name__)
        healthy = all(v == "ok" for v in results.values())
        return JSONResponse({"status": "ok" if healthy else "degraded", "checks": results},
                            status_code=200 if healthy else 503)

    async def status(request: Request) -> Response:
        try:
            info = dict(await status_info())
        except Exception as exc:
            info = {"error": type(exc).__name__}
        return JSONResponse({"version": version(), "uptime_seconds": round(time.time() - started, 1), **info})

    return [Route("/health", health, methods=["GET"]), Route("/api/v1/status", status, methods=["GET"])]
