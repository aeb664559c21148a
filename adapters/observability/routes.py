"""`GET /metrics` (Prometheus text format) and `GET /api/v1/metrics` (the same numbers as JSON).

Both refresh the Redis-backed backlog gauges first, so a scrape always sees the current queue. With
METRICS_TOKEN set, both ask for it as a bearer token (Prometheus: `authorization: {credentials_file: ...}`);
unset, they are open, for a service whose metrics stay on the internal network.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from adapters.bearer import bearer_protected
from adapters.observability.metrics import Metrics
from adapters.observability.multiprocess import exposition_registry
from adapters.observability.summary import summarize

log = logging.getLogger(__name__)

Refresh = Callable[[], Awaitable[object]]


def metrics_routes(metrics: Metrics, *, multiproc_dir: str | Path | None = None,
                   refresh: Refresh | None = None, token: str = "") -> list[Route]:
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

    guarded = bearer_protected(token, setting="METRICS_TOKEN", open_when_unset=True)
    return [
        Route("/metrics", guarded(prometheus), methods=["GET"]),
        Route("/api/v1/metrics", guarded(summary), methods=["GET"]),
    ]
