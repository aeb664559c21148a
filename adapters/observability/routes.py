"""`GET /metrics` (Prometheus text format) and `GET /api/v1/metrics` (the same numbers as JSON).

Both refresh the Redis-backed backlog gauges first, so a scrape always sees the current queue.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from adapters.observability.metrics import Metrics
from adapters.observability.multiprocess import exposition_registry
from adapters.observability.summary import summarize

log = logging.getLogger(__name__)

Refresh = Callable[[], Awaitable[object]]


def metrics_routes(metrics: Metrics, *, multiproc_dir: str | Path | None = None,
                   refresh: Refresh | None = None) -> list[Route]:
    async def refreshed() -> None:
        if refresh is None:
            return
        try:
            await refresh()
        except Exception as exc:  # a Redis hiccup must not hide every other metric
            log.warning("backlog metrics not refreshed: %s", type(exc).__name__)

    async def prometheus(request: Request) -> Response:
        await refreshed()
        body = generate_latest(exposition_registry(metrics.registry, multiproc_dir))
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    async def summary(request: Request) -> Response:
        await refreshed()
        return JSONResponse({"metrics": summarize(exposition_registry(metrics.registry, multiproc_dir))})

    return [
        Route("/metrics", prometheus, methods=["GET"]),
        Route("/api/v1/metrics", summary, methods=["GET"]),
    ]
