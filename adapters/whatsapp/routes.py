"""The webhook's routes: Meta's verification handshake and signed deliveries, accepted into the inbox.

A delivery is answered 200 only once its events are durably in Redis; if Redis cannot take them the
answer is 503, so Meta delivers again later. Nothing else happens before the answer: no engine work, no
Graph call, so the ack stays fast whatever the turn costs.
"""

from __future__ import annotations

import hmac
import logging
import time

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from adapters.privacy import mask_phone
from adapters.whatsapp.body import (
    DEFAULT_BODY_BUDGET,
    DEFAULT_MAX_BODY,
    BodyError,
    ByteBudget,
    decode_json,
    read_capped_body,
)
from adapters.whatsapp.inbound import StatusUpdate, parse_body
from adapters.whatsapp.inbox import StreamInbox
from adapters.whatsapp.signature import signature_valid
from adapters.whatsapp.stats import WebhookStats

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/api/v1/webhook"


def webhook_routes(
    inbox: StreamInbox,
    *,
    verify_token: str,
    app_secret: str,
    stats: WebhookStats,
    max_body: int = DEFAULT_MAX_BODY,
    body_budget: int = DEFAULT_BODY_BUDGET,
) -> list[Route]:
    """GET (handshake) and POST (deliveries) on /api/v1/webhook. An empty `app_secret` accepts unsigned
    posts: development only (live mode refuses to start without it)."""
    if not app_secret:
        log.warning("WHATSAPP_APP_SECRET not set: development mode, unsigned webhook posts are accepted")

    bodies = ByteBudget(body_budget)

    async def verify(request: Request) -> Response:
        q = request.query_params
        token = q.get("hub.verify_token", "")
        if q.get("hub.mode") == "subscribe" and verify_token and secrets_equal(token, verify_token):
            return PlainTextResponse(q.get("hub.challenge", ""))
        log.warning("webhook verification refused (mode=%s)", q.get("hub.mode"))
        return PlainTextResponse("Forbidden", status_code=403)

    async def receive(request: Request) -> Response:
        started = time.perf_counter()
        try:
            body = await read_capped_body(request, max_body, bodies)
        except BodyError as exc:
            stats.rejected += 1
            stats.metrics.webhook_rejected("too_large" if exc.status == 413 else "body_budget")
            log.warning("webhook POST refused before its signature was checked: %s", exc.reason)
            return PlainTextResponse(exc.reason, status_code=exc.status)
        if app_secret:
            header = request.headers.get("x-hub-signature-256")
            if not header:
                stats.rejected += 1
                stats.metrics.webhook_rejected("missing_signature")
                log.warning("webhook POST without X-Hub-Signature-256 rejected (%d bytes)", len(body))
                return PlainTextResponse("Missing signature", status_code=401)
            if not signature_valid(body, header, app_secret):
                stats.rejected += 1
                stats.metrics.webhook_rejected("bad_signature")
                log.warning("webhook POST with a wrong signature rejected (%d bytes)", len(body))
                return PlainTextResponse("Invalid signature", status_code=403)
        try:
            payload, pruned = decode_json(body)
        except BodyError as exc:
            stats.rejected += 1
            stats.metrics.webhook_rejected("malformed_json")
            log.warning("webhook POST with a valid signature but malformed JSON (%d bytes): %s", len(body),
                        exc.reason)
            return PlainTextResponse("Malformed JSON", status_code=400)
        parsed = parse_body(payload)
        stats.dropped.update(parsed.dropped)
        stats.dropped["too_deep"] += pruned
        stats.received += len(parsed.events)
        stats.metrics.webhook_received(len(parsed.events))
        try:
            result = await inbox.accept(parsed.events)
        except Exception as exc:
            log.error("could not store %d inbound event(s) (%s); answering 503 so Meta retries",
                      len(parsed.events), type(exc).__name__)
            return PlainTextResponse("Temporarily unavailable", status_code=503)
        stats.duplicates += result.duplicates
        stats.metrics.webhook_duplicates(result.duplicates)
        for status in parsed.statuses:
            record_status(status)
        stats.metrics.webhook_acked(time.perf_counter() - started)
        return PlainTextResponse("OK")

    def record_status(status: StatusUpdate) -> None:
        stats.statuses[status.status] += 1
        if status.status == "failed":
            log.warning("message %s to %s failed: Meta error %s %s %s", status.wamid,
                        mask_phone(status.recipient), status.error_code, status.error_title,
                        status.error_detail)
            stats.send_errors[str(status.error_code)] += 1
            stats.metrics.send_failed(status.error_code)

    return [
        Route(WEBHOOK_PATH, verify, methods=["GET"]),
        Route(WEBHOOK_PATH, receive, methods=["POST"]),
    ]


def secrets_equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
