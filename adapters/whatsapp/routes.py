"""The webhook's routes: Meta's verification handshake and signed deliveries, accepted into the inbox.

A delivery is answered 200 only once its events are durably in Redis; if Redis cannot take them the
answer is 503, so Meta delivers again later. Nothing else happens before the answer: no engine work, no
Graph call, so the ack stays fast whatever the turn costs.

Deliveries are every inbound message's first cost, so `WebhookPost` is a plain ASGI app (no Request or
Response objects), and `WebhookFastPath` hands it POSTs to the webhook before Starlette's routing and
exception layers; the POST route stays declared (docs, 405s, apps built without the middleware).
"""

from __future__ import annotations

import hmac
import logging
import time

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from adapters.privacy import mask_phone
from adapters.whatsapp.body import (
    DEFAULT_BODY_BUDGET,
    DEFAULT_MAX_BODY,
    BodyError,
    ByteBudget,
    asgi_body,
    decode_json,
    read_capped_chunks,
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
    post = WebhookPost(inbox, app_secret=app_secret, stats=stats, max_body=max_body, body_budget=body_budget)

    async def verify(request: Request) -> Response:
        q = request.query_params
        token = q.get("hub.verify_token", "")
        if q.get("hub.mode") == "subscribe" and verify_token and secrets_equal(token, verify_token):
            return PlainTextResponse(q.get("hub.challenge", ""))
        log.warning("webhook verification refused (mode=%s)", q.get("hub.mode"))
        return PlainTextResponse("Forbidden", status_code=403)

    return [
        Route(WEBHOOK_PATH, verify, methods=["GET"]),
        Route(WEBHOOK_PATH, post, methods=["POST"]),
    ]


class WebhookPost:
    """The POST endpoint as an ASGI app: read (capped), verify, parse, accept into the inbox, answer."""

    def __init__(self, inbox: StreamInbox, *, app_secret: str, stats: WebhookStats,
                 max_body: int = DEFAULT_MAX_BODY, body_budget: int = DEFAULT_BODY_BUDGET) -> None:
        if not app_secret:
            log.warning("WHATSAPP_APP_SECRET not set: development mode, unsigned webhook posts are accepted")
        self.inbox = inbox
        self.app_secret = app_secret
        self.stats = stats
        self.max_body = max_body
        self.bodies = ByteBudget(body_budget)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers: dict[bytes, bytes] = {}
        for name, value in scope["headers"]:  # the first of each wins, as with Starlette's `headers.get`
            if name in (b"content-length", b"x-hub-signature-256"):
                headers.setdefault(name, value)
        status, text = await self.handle(headers, receive)
        body = text.encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-length", str(len(body)).encode()),
                                (b"content-type", b"text/plain; charset=utf-8")]})
        await send({"type": "http.response.body", "body": body})

    async def handle(self, headers: dict[bytes, bytes], receive: Receive) -> tuple[int, str]:
        stats, started = self.stats, time.perf_counter()
        declared = headers.get(b"content-length")
        try:
            body = await read_capped_chunks(declared.decode("latin-1") if declared is not None else None,
                                            asgi_body(receive), self.max_body, self.bodies)
        except BodyError as exc:
            stats.rejected += 1
            stats.metrics.webhook_rejected("too_large" if exc.status == 413 else "body_budget")
            log.warning("webhook POST refused before its signature was checked: %s", exc.reason)
            return exc.status, exc.reason
        if self.app_secret:
            header = headers.get(b"x-hub-signature-256", b"").decode("latin-1")
            if not header:
                stats.rejected += 1
                stats.metrics.webhook_rejected("missing_signature")
                log.warning("webhook POST without X-Hub-Signature-256 rejected (%d bytes)", len(body))
                return 401, "Missing signature"
            if not signature_valid(body, header, self.app_secret):
                stats.rejected += 1
                stats.metrics.webhook_rejected("bad_signature")
                log.warning("webhook POST with a wrong signature rejected (%d bytes)", len(body))
                return 403, "Invalid signature"
        try:
            payload, pruned = decode_json(body)
        except BodyError as exc:
            stats.rejected += 1
            stats.metrics.webhook_rejected("malformed_json")
            log.warning("webhook POST with a valid signature but malformed JSON (%d bytes): %s", len(body),
                        exc.reason)
            return 400, "Malformed JSON"
        parsed = parse_body(payload)
        stats.dropped.update(parsed.dropped)
        stats.dropped["too_deep"] += pruned
        stats.received += len(parsed.events)
        stats.metrics.webhook_received(len(parsed.events))
        try:
            result = await self.inbox.accept(parsed.events)
        except Exception as exc:
            log.error("could not store %d inbound event(s) (%s); answering 503 so Meta retries",
                      len(parsed.events), type(exc).__name__)
            return 503, "Temporarily unavailable"
        stats.duplicates += result.duplicates
        stats.metrics.webhook_duplicates(result.duplicates)
        for status in parsed.statuses:
            self.record_status(status)
        stats.metrics.webhook_acked(time.perf_counter() - started)
        return 200, "OK"

    def record_status(self, status: StatusUpdate) -> None:
        stats = self.stats
        stats.statuses[status.status] += 1
        if status.status == "failed":
            log.warning("message %s to %s failed: Meta error %s %s %s", status.wamid,
                        mask_phone(status.recipient), status.error_code, status.error_title,
                        status.error_detail)
            stats.send_errors[str(status.error_code)] += 1
            stats.metrics.send_failed(status.error_code)


class WebhookFastPath:
    """Middleware: a POST to the webhook goes straight to its `WebhookPost`, past routing and exception
    handling (nothing there applies to it); everything else goes on to `app`."""

    def __init__(self, app: ASGIApp, routes: list[Route]) -> None:
        self.app = app
        self.post = next(r.endpoint for r in routes if r.path == WEBHOOK_PATH and "POST" in (r.methods or ()))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and _route_path(scope) == WEBHOOK_PATH:
            await self.post(scope, receive, send)
        else:
            await self.app(scope, receive, send)


def _route_path(scope: Scope) -> str:
    path, root = scope["path"], scope.get("root_path", "")
    return path[len(root):] if root and path.startswith(root) else path


def secrets_equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
