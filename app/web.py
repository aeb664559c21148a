"""The web app `serve` runs: the WhatsApp webhook and its pipeline, linking REST, health and status.

Assembled from a Runtime and explicit parts; the pipeline starts and stops with the app's lifespan.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute

from adapters.accounts.routes import linking_routes
from adapters.broadcast.routes import broadcast_routes
from adapters.broadcast.service import BroadcastService
from adapters.broadcast.store import BroadcastStore
from adapters.health import health_routes
from adapters.inspector.rest import inspector_api_routes
from adapters.observability.backlog import BacklogProbe
from adapters.observability.daily import DailyCounters
from adapters.observability.routes import metrics_routes
from adapters.observability.user_stats import user_stats
from adapters.openapi import build_openapi, openapi_routes
from adapters.whatsapp.consumer import ConsumerOptions
from adapters.whatsapp.outbound import Sender, build_sender
from adapters.whatsapp.pipeline import Pipeline, PipelineOptions
from adapters.whatsapp.routes import WebhookFastPath, webhook_routes
from adapters.whatsapp.stats import WebhookStats
from app.admin import admin_routes
from app.api_docs import CATALOG
from app.observability import version
from app.reload import FlowsReloader
from app.runtime import Runtime, conversation_refresher, whatsapp_code_delivery
from app.security import SecurityHeaders
from engine.events import InboundEvent


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


API_DESCRIPTION = ("The bot's own HTTP API: Meta's webhook, account linking and the Inspector REST endpoints "
                   "for the Inspector website (API_KEY), staff routes (ADMIN_TOKEN), health and metrics.")


def backlog_probe(runtime: Runtime, pipeline: Pipeline) -> BacklogProbe:
    """The backlog gauges: the pipeline's streams, both dead-letter lists and the jobs queue, read from Redis."""
    keys = runtime.pipeline_keys
    scheduler = runtime.extras.get("jobs.scheduler")
    jobs_namespace = scheduler.namespace if scheduler is not None else "inspector:jobs"
    return BacklogProbe(runtime.redis, runtime.metrics, backlog=pipeline.inbox.backlog,
                        dead_letters={"webhook": [keys.dead(p) for p in range(keys.partitions)],
                                      "jobs": [f"{jobs_namespace}:dead-letter"]},
                        jobs_queue=f"arq:queue:{jobs_namespace}")


def broadcast_service(runtime: Runtime) -> BroadcastService:
    """Broadcasts are stored in Redis and sent by the worker's `send_broadcast` job."""
    scheduler = runtime.extras["jobs.scheduler"]

    async def enqueue(broadcast_id: str) -> None:
        await scheduler.enqueue_broadcast(broadcast_id, 0)

    return BroadcastService(BroadcastStore(runtime.redis), runtime.linking, enqueue=enqueue,
                            clock=runtime.engine.clock)


def staff_routes(runtime: Runtime, reloader: FlowsReloader) -> list[BaseRoute]:
    """The admin API (ADMIN_TOKEN): reload, graph, users/stats, broadcasts."""
    daily = runtime.daily or DailyCounters(runtime.redis, timezone=runtime.settings.timezone)
    return [*admin_routes(runtime.engine, reloader, runtime.settings.admin_token,
                          user_stats=lambda: user_stats(runtime.database, daily)),
            *broadcast_routes(broadcast_service(runtime), runtime.settings.admin_token)]


def pipeline_options(runtime: Runtime) -> PipelineOptions:
    settings = runtime.settings
    consumer = ConsumerOptions(rate_limit=settings.rate_limit_per_minute, mark_read=settings.read_receipts,
                               max_in_progress=settings.pipeline_concurrency)
    return PipelineOptions(conversation_ttl=settings.conversation_ttl, dedupe_ttl=settings.dedupe_ttl,
                           consumer=consumer)


def build_pipeline(runtime: Runtime, sender: Sender, *, stats: WebhookStats,
                   options: PipelineOptions | None = None) -> Pipeline:
    """The pipeline on the runtime's Redis, recording each user's last inbound time in the accounts DB
    (at most once a minute per user: the pipeline keeps the exact time in Redis)."""

    async def record_inbound(event: InboundEvent) -> None:
        moment = datetime.fromtimestamp(event.timestamp, UTC) if event.timestamp else datetime.now(UTC)
        await runtime.linking.record_inbound(event.phone, event.profile_name, moment)

    async def count_message(event: InboundEvent, results: Any) -> None:  # each turn run, for the admin stats
        if runtime.daily is not None:
            runtime.daily.add("messages")  # batched: written with the others of the same second

    return Pipeline(runtime.redis, runtime.engine, sender, keys=runtime.pipeline_keys,
                    options=options or pipeline_options(runtime), stats=stats, on_inbound=record_inbound,
                    on_turn=count_message)


def create_app(
    runtime: Runtime,
    *,
    sender: Sender | None = None,
    routes: Sequence[BaseRoute] = (),
    options: PipelineOptions | None = None,
    on_startup: Sequence[Callable[[], Awaitable[None]]] = (),
    on_shutdown: Sequence[Callable[[], Awaitable[None]]] = (),
    debug: bool = False,
) -> Starlette:
    """Everything the `serve` command runs. Without `sender`, one is built from settings and closed here."""
    settings = runtime.settings
    own_sender = sender is None
    sender = sender if sender is not None else build_sender(settings)
    stats = WebhookStats(metrics=runtime.metrics)
    pipeline = build_pipeline(runtime, sender, stats=stats, options=options)

    async def redis_ok() -> bool:
        return bool(await runtime.redis.ping()) and pipeline.health.ok

    async def database_ok() -> bool:
        def ping(session: Any) -> None:
            session.execute(sa.text("SELECT 1"))

        await runtime.database.run(ping)
        return True

    async def status_info() -> Mapping[str, Any]:
        try:
            backlog, oldest = await pipeline.inbox.backlog()
        except Exception:
            backlog, oldest = -1, 0.0
        return {
            "whatsapp": "live" if settings.whatsapp_configured else "development",
            "signature_check": bool(settings.whatsapp_app_secret),
            "flows": flows_info(runtime),
            "counters": stats.to_dict(),
            "pipeline": {"member": pipeline.member, "partitions": pipeline.partitions_owned,
                         "backlog": backlog, "oldest_pending_seconds": round(oldest, 1),
                         "redis": "ok" if pipeline.health.ok else "degraded"},
        }

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        for start in on_startup:
            await start()
        await pipeline.start()
        try:
            yield
        finally:
            await pipeline.stop()
            if runtime.daily is not None:
                await runtime.daily.close()
            for close in on_shutdown:
                await close()
            if own_sender:
                await sender.aclose()

    webhook = webhook_routes(pipeline.inbox, verify_token=settings.whatsapp_verify_token,
                             app_secret=settings.whatsapp_app_secret, stats=stats, max_body=settings.webhook_max_body,
                             body_budget=settings.webhook_body_budget)
    app = Starlette(
        debug=debug,
        routes=[
            *webhook,
            *health_routes({"redis": redis_ok, "database": database_ok}, status_info),
            *linking_routes(runtime.linking, api_key=settings.api_key,
                            deliver_code=whatsapp_code_delivery(runtime, lambda: sender),
                            on_linked=conversation_refresher(runtime)),
            *inspector_api_routes(runtime.inspector, settings.api_key, clock=runtime.engine.clock),
            *metrics_routes(runtime.metrics, multiproc_dir=settings.prometheus_multiproc_dir or None,
                            refresh=backlog_probe(runtime, pipeline).refresh, token=settings.metrics_token),
            *openapi_routes(lambda: build_openapi(app.routes, CATALOG, title="Inspector WhatsApp bot API",
                                                  version=version(), description=API_DESCRIPTION)),
            *routes,
        ],
        middleware=[Middleware(SecurityHeaders), Middleware(WebhookFastPath, routes=webhook)],
        lifespan=lifespan,
    )
    app.state.pipeline = pipeline
    app.state.stats = stats
    app.state.sender = sender
    return app
