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
from starlette.routing import BaseRoute

from adapters.accounts.routes import linking_routes
from adapters.health import health_routes
from adapters.whatsapp.consumer import ConsumerOptions
from adapters.whatsapp.outbound import Sender, build_sender
from adapters.whatsapp.pipeline import Pipeline, PipelineOptions
from adapters.whatsapp.routes import webhook_routes
from adapters.whatsapp.stats import WebhookStats
from app.runtime import Runtime
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


def pipeline_options(runtime: Runtime, **overrides: Any) -> PipelineOptions:
    settings = runtime.settings
    consumer = ConsumerOptions(rate_limit=settings.rate_limit_per_minute, mark_read=settings.read_receipts,
                               max_in_progress=settings.pipeline_concurrency)
    options = PipelineOptions(conversation_ttl=settings.conversation_ttl, dedupe_ttl=settings.dedupe_ttl,
                              consumer=consumer)
    for name, value in overrides.items():
        setattr(options, name, value)
    return options


def build_pipeline(runtime: Runtime, sender: Sender, *, stats: WebhookStats,
                   options: PipelineOptions | None = None) -> Pipeline:
    """The pipeline on the runtime's Redis, recording each user's last inbound time in the accounts DB
    (at most once a minute per user: the pipeline keeps the exact time in Redis)."""

    async def record_inbound(event: InboundEvent) -> None:
        moment = datetime.fromtimestamp(event.timestamp, UTC) if event.timestamp else datetime.now(UTC)
        await runtime.linking.record_inbound(event.phone, event.profile_name, moment)

    return Pipeline(runtime.redis, runtime.engine, sender, keys=runtime.pipeline_keys,
                    options=options or pipeline_options(runtime), stats=stats, on_inbound=record_inbound)


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
    stats = WebhookStats()
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
            for close in on_shutdown:
                await close()
            if own_sender:
                await sender.aclose()

    app = Starlette(
        debug=debug,
        routes=[
            *webhook_routes(pipeline.inbox, verify_token=settings.whatsapp_verify_token,
                            app_secret=settings.whatsapp_app_secret, stats=stats),
            *health_routes({"redis": redis_ok, "database": database_ok}, status_info),
            *linking_routes(runtime.linking),
            *routes,
        ],
        lifespan=lifespan,
    )
    app.state.pipeline = pipeline
    app.state.stats = stats
    app.state.sender = sender
    return app
