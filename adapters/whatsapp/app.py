"""The WhatsApp webhook service as a Starlette app, built from explicit dependencies.

    app = create_webhook_app(settings, engine, redis, routes=[...linking and admin routes...],
                             health_checks={"database": db_ping}, flows_info=engine_flows_info,
                             on_inbound=record_last_inbound)

Routes: GET/POST /api/v1/webhook (Meta handshake, signed deliveries), GET /health, GET /api/v1/status,
plus any `routes` the composition root passes in.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import logging
import socket
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from importlib import metadata
from typing import Any

from redis.asyncio import Redis
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from adapters.observability.metrics import Metrics
from adapters.privacy import mask_phone
from adapters.settings import Settings
from adapters.whatsapp.dispatch import Dispatcher, DispatchOptions, InboundHook, TurnHook
from adapters.whatsapp.inbound import StatusUpdate, parse_body
from adapters.whatsapp.inbox import Inbox
from adapters.whatsapp.outbound import RetryHook, Sender, build_sender
from adapters.whatsapp.ratelimit import RateLimiter
from adapters.whatsapp.signature import signature_valid
from adapters.whatsapp.stats import WebhookStats
from engine.turn import ConversationEngine

log = logging.getLogger(__name__)

HealthCheck = Callable[[], Awaitable[bool]]
StatusHook = Callable[[StatusUpdate], Awaitable[None]]
FlowsInfo = Callable[[], Mapping[str, Any]]


def _version() -> str:
    try:
        return metadata.version("inspector-whatsapp")
    except metadata.PackageNotFoundError:
        return "0.0.0"


def create_webhook_app(
    settings: Settings,
    engine: ConversationEngine,
    redis: Redis,
    *,
    sender: Sender | None = None,
    retry: RetryHook | None = None,
    routes: Sequence[BaseRoute] = (),
    health_checks: Mapping[str, HealthCheck] | None = None,
    flows_info: FlowsInfo | None = None,
    on_inbound: InboundHook | None = None,
    on_status: StatusHook | None = None,
    on_turn: TurnHook | None = None,
    namespace: str = "wa",
    instance: str | None = None,
    dispatch_options: DispatchOptions | None = None,
    debug: bool = False,
    metrics: Metrics | None = None,
) -> Starlette:
    """Build the webhook app. `sender` defaults to `build_sender(settings, retry=retry)` (owned and
    closed by the app); a `redis` health check is always included; `instance` names this process's
    inbox (default: host name) and must stay the same across restarts to recover unfinished events."""
    stats = WebhookStats()
    metrics = metrics or Metrics()
    own_sender = sender is None
    sender = sender if sender is not None else build_sender(settings, retry=retry)
    inbox = Inbox(redis, namespace=namespace, instance=instance or socket.gethostname(),
                  dedupe_ttl=settings.dedupe_ttl)
    limiter = RateLimiter(redis, namespace=namespace, per_window=settings.rate_limit_per_minute)
    dispatcher = Dispatcher(engine, sender, inbox, rate_limiter=limiter, stats=stats, metrics=metrics,
                            on_inbound=on_inbound, on_turn=on_turn, options=dispatch_options)
    secret = settings.whatsapp_app_secret

    async def redis_ok() -> bool:
        return bool(await redis.ping())

    checks: dict[str, HealthCheck] = {"redis": redis_ok, **(health_checks or {})}

    async def verify(request: Request) -> Response:
        q = request.query_params
        token = q.get("hub.verify_token", "")
        expected = settings.whatsapp_verify_token
        if q.get("hub.mode") == "subscribe" and expected and hmac_equal(token, expected):
            return PlainTextResponse(q.get("hub.challenge", ""))
        log.warning("webhook verification refused (mode=%s)", q.get("hub.mode"))
        return PlainTextResponse("Forbidden", status_code=403)

    async def receive(request: Request) -> Response:
        started = time.perf_counter()
        body = await request.body()
        if secret:
            header = request.headers.get("x-hub-signature-256")
            if not header:
                stats.rejected += 1
                metrics.webhook_rejected("missing_signature")
                log.warning("webhook POST without X-Hub-Signature-256 rejected (%d bytes)", len(body))
                return PlainTextResponse("Missing signature", status_code=401)
            if not signature_valid(body, header, secret):
                stats.rejected += 1
                metrics.webhook_rejected("bad_signature")
                log.warning("webhook POST with a wrong signature rejected (%d bytes)", len(body))
                return PlainTextResponse("Invalid signature", status_code=403)
        try:
            payload = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            metrics.webhook_rejected("malformed_json")
            log.warning("webhook POST with a valid signature but malformed JSON (%d bytes): %s", len(body), exc)
            return PlainTextResponse("Malformed JSON", status_code=400)
        parsed = parse_body(payload)
        stats.received += len(parsed.events)
        metrics.webhook_received(len(parsed.events))
        try:
            entries, duplicates = await inbox.accept(parsed.events)
        except Exception:
            log.exception("could not store %d inbound event(s); asking Meta to retry", len(parsed.events))
            return PlainTextResponse("Temporarily unavailable", status_code=503)
        stats.duplicates += duplicates
        metrics.webhook_duplicates(duplicates)
        dispatcher.submit(entries)
        for status in parsed.statuses:
            record_status(status)
        metrics.webhook_acked(time.perf_counter() - started)
        return PlainTextResponse("OK")

    def record_status(status: StatusUpdate) -> None:
        stats.statuses[status.status] += 1
        if status.status == "failed":
            log.warning("message %s to %s failed: Meta error %s %s %s", status.wamid,
                        mask_phone(status.recipient), status.error_code, status.error_title,
                        status.error_detail)
            stats.send_errors[str(status.error_code)] += 1
            metrics.send_failed(status.error_code)
        if on_status is not None:
            dispatcher.spawn(_guarded(on_status(status), "on_status"))

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
        flows: Mapping[str, Any] = {}
        if flows_info is not None:
            try:
                flows = flows_info()
            except Exception as exc:
                flows = {"error": type(exc).__name__}
        return JSONResponse({
            "version": _version(),
            "uptime_seconds": round(stats.uptime(), 1),
            "whatsapp": "live" if settings.whatsapp_configured else "development",
            "signature_check": bool(secret),
            "flows": dict(flows),
            "counters": stats.to_dict(),
            "queued_users": dispatcher.queued_users,
        })

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        if not secret:
            log.warning("WHATSAPP_APP_SECRET not set: development mode, unsigned webhook posts are accepted")
        try:
            await dispatcher.start()
        except Exception:
            log.exception("could not recover the inbox at start-up")
        try:
            yield
        finally:
            await dispatcher.stop()
            if own_sender:
                await sender.aclose()

    app = Starlette(
        debug=debug,
        routes=[
            Route("/api/v1/webhook", verify, methods=["GET"]),
            Route("/api/v1/webhook", receive, methods=["POST"]),
            Route("/health", health, methods=["GET"]),
            Route("/api/v1/status", status, methods=["GET"]),
            *routes,
        ],
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.dispatcher = dispatcher
    app.state.inbox = inbox
    app.state.stats = stats
    app.state.metrics = metrics
    app.state.sender = sender
    return app


def hmac_equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


async def _guarded(coro: Awaitable[None], name: str) -> None:
    try:
        await coro
    except Exception:
        log.exception("%s hook failed", name)
