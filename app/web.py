"""The web app: the WhatsApp webhook plus linking REST, health and status, composed from a Runtime."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.routing import BaseRoute

from adapters.accounts.routes import linking_routes
from adapters.inspector.rest import inspector_api_routes
from adapters.observability.backlog import BacklogProbe
from adapters.observability.daily import DailyCounters
from adapters.observability.routes import metrics_routes
from adapters.observability.user_stats import user_stats
from adapters.openapi import build_openapi, openapi_routes
from adapters.whatsapp.app import create_webhook_app
from app.admin import admin_routes
from app.api_docs import CATALOG, version
from app.reload import FlowsReloader
from app.runtime import Runtime
from engine.events import InboundEvent

API_DESCRIPTION = ("The bot's own HTTP API: Meta's webhook, account linking and the Inspector REST endpoints "
                   "for the Inspector website (API_KEY), staff routes (ADMIN_TOKEN), health and metrics.")


def flows_info(runtime: Runtime) -> dict[str, Any]:
    """What `GET /api/v1/status` shows about the active flows (hot reload swaps them)."""
    loaded = runtime.engine.flows.loaded
    report = loaded.report
    return {
        "path": loaded.path,
        "hash": loaded.hash,
        "loaded_at": datetime.fromtimestamp(loaded.loaded_at, UTC).isoformat(timespec="seconds"),
        "flows": report.flows,
        "states": report.states,
        "transitions": report.transitions,
        "engine": dict(runtime.engine.counts),
    }


def observability_routes(runtime: Runtime) -> list[BaseRoute]:
    """/metrics and /api/v1/metrics; the backlog gauges are read from Redis at each scrape."""
    probe = BacklogProbe(runtime.redis, runtime.metrics)
    return list(metrics_routes(runtime.metrics, multiproc_dir=runtime.settings.prometheus_multiproc_dir or None,
                               refresh=probe.refresh))


def staff_routes(runtime: Runtime, reloader: FlowsReloader) -> list[BaseRoute]:
    """The admin API (ADMIN_TOKEN): reload, graph, users/stats."""
    daily = runtime.daily or DailyCounters(runtime.redis, timezone=runtime.settings.timezone)
    return list(admin_routes(runtime.engine, reloader, runtime.settings.admin_token,
                             user_stats=lambda: user_stats(runtime.database, daily)))


def create_app(runtime: Runtime, *, routes: Sequence[BaseRoute] = (), **options: Any) -> Starlette:
    """Everything the `serve` command runs; `options` go to the webhook app (sender, retry, instance...)."""

    async def database_ok() -> bool:
        def ping(session: Any) -> None:
            session.execute(sa.text("SELECT 1"))

        await runtime.database.run(ping)
        return True

    async def record_inbound(event: InboundEvent) -> None:
        moment = datetime.fromtimestamp(event.timestamp, UTC) if event.timestamp else datetime.now(UTC)
        await runtime.linking.record_inbound(event.phone, event.profile_name, moment)
        if runtime.daily is not None:
            await runtime.daily.incr("messages")

    mounted: dict[str, Starlette] = {}  # the document lists the routes the app really mounts
    docs = openapi_routes(lambda: build_openapi(mounted["app"].routes, CATALOG, title="Inspector WhatsApp bot API",
                                                version=version(), description=API_DESCRIPTION))
    rest = inspector_api_routes(runtime.inspector, runtime.settings.api_key, clock=runtime.engine.clock)
    app = create_webhook_app(
        runtime.settings,
        runtime.engine,
        runtime.redis,
        routes=[*linking_routes(runtime.linking), *rest, *observability_routes(runtime), *docs, *routes],
        health_checks={"database": database_ok},
        flows_info=lambda: flows_info(runtime),
        on_inbound=record_inbound,
        metrics=runtime.metrics,
        **options,
    )
    mounted["app"] = app
    return app
