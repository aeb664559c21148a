"""What each route of the served app does, for the OpenAPI document (`adapters.openapi`).

Keyed by (method, path) exactly as mounted; the conformance test (tests/app/test_openapi.py) fails when a
mounted route has no entry here, and validates every example below against the generated schemas.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from adapters.accounts.routes import InitiateLinking, VerifyOtp
from adapters.broadcast.routes import BroadcastCount, BroadcastProgress, BroadcastStarted
from adapters.broadcast.service import BroadcastRequest
from adapters.inspector.models import Inspection
from adapters.inspector.rest import ApiError, BookingRequest, InspectionList, PropertyList
from adapters.openapi import Answer, Operation, Param

PROPERTY = {"id": "prop_001", "title": "2-bedroom flat in Lekki", "location": "Lekki", "address": "12 Admiralty Way",
            "price": 3500000, "bedrooms": 2, "bathrooms": 2, "property_type": "flat", "status": "available",
            "agent_id": "usr_agent", "description": "Serviced, with parking.", "created_at": "2026-11-01T09:00:00Z"}
INSPECTION = {"id": "insp_9", "reference": "INS-0009", "property_id": "prop_001", "seeker_id": "usr_ada",
              "agent_id": "usr_agent", "inspector_id": None, "slot_id": "slot_42", "starts_at": "2026-12-02T10:00:00Z",
              "status": "scheduled", "notes": ""}
UNAUTHORIZED = Answer("missing or wrong bearer token", ApiError, {"error": "missing or wrong bearer token"})
VALIDATION = Answer("the request is not valid", ApiError,
                    {"error": "validation", "message": "the request is not valid",
                     "fields": [{"field": "limit", "message": "Input should be less than or equal to 50"}]})
UNAVAILABLE = Answer("Inspector is not answering", ApiError,
                     {"error": "unavailable", "message": "Inspector is not answering; try again shortly"})
API_KEY_UNSET = Answer("API_KEY is not set on this server", ApiError,
                       {"error": "these endpoints are disabled: set API_KEY"})
ADMIN_UNSET = Answer("ADMIN_TOKEN is not set on this server", ApiError,
                     {"error": "these endpoints are disabled: set ADMIN_TOKEN"})


class Health(BaseModel):
    status: str = Field(description="ok or degraded")
    checks: dict[str, str]


class Status(BaseModel):
    model_config = ConfigDict(extra="allow")
    version: str
    uptime_seconds: float
    whatsapp: str = Field(description="live or development")
    signature_check: bool
    flows: dict[str, Any]
    counters: dict[str, Any]


class LinkSent(BaseModel):
    status: str
    email: str = Field(description="masked")
    expires_in: int


class Linked(BaseModel):
    status: str
    user: dict[str, Any]


class LinkingFailure(BaseModel):
    error: str
    message: str = ""
    tries_left: int | None = None
    fields: list[dict[str, str]] | None = None


class MetricsSummary(BaseModel):
    metrics: dict[str, Any] = Field(description="metric name -> {type, help, values by label set}")


class ReloadAnswer(BaseModel):
    ok: bool
    hash: str
    warnings: list[str] | None = None
    problems: list[str] | None = None


class UserStats(BaseModel):
    linked_by_role: dict[str, int]
    linked_total: int
    active_24h: int
    active_7d: int
    links_today: int
    messages_today: int
    bookings_today: int
    date: str
    timezone: str


WEBHOOK_BODY = {
    "type": "object", "required": ["object", "entry"],
    "properties": {"object": {"type": "string"}, "entry": {"type": "array", "items": {"type": "object"}}},
}
WEBHOOK_EXAMPLE = {"object": "whatsapp_business_account", "entry": [{"id": "102290129340398", "changes": [{
    "field": "messages", "value": {"messaging_product": "whatsapp",
                                   "metadata": {"display_phone_number": "15550783881", "phone_number_id": "1065"},
                                   "messages": [{"from": "2348012345678", "id": "wamid.HBgL", "timestamp": "1744344496",
                                                 "type": "text", "text": {"body": "hi"}}]}}]}]}
TEXT = {"type": "string"}


CATALOG: dict[tuple[str, str], Operation] = {
    ("GET", "/api/v1/webhook"): Operation(
        "Meta's webhook verification handshake", "webhook",
        params=(Param("hub.mode", required=True), Param("hub.verify_token", required=True),
                Param("hub.challenge", required=True)),
        responses={200: Answer("the challenge, echoed", TEXT, "1158201444", "text/plain"),
                   403: Answer("wrong verify token", TEXT, "Forbidden", "text/plain")}),
    ("POST", "/api/v1/webhook"): Operation(
        "WhatsApp deliveries (messages and statuses), signed by Meta", "webhook",
        description="Stored durably before the 200; processed in the background.",
        params=(Param("X-Hub-Signature-256", "header", description="sha256=HMAC of the body with the app secret"),),
        request=WEBHOOK_BODY, request_example=WEBHOOK_EXAMPLE,
        responses={200: Answer("accepted", TEXT, "OK", "text/plain"),
                   400: Answer("malformed JSON", TEXT, "Malformed JSON", "text/plain"),
                   401: Answer("no signature", TEXT, "Missing signature", "text/plain"),
                   403: Answer("wrong signature", TEXT, "Invalid signature", "text/plain"),
                   503: Answer("could not be stored; Meta retries", TEXT, "Temporarily unavailable", "text/plain")}),
    ("GET", "/health"): Operation(
        "Liveness and dependencies (Redis, database)", "operations",
        responses={200: Answer("healthy", Health, {"status": "ok", "checks": {"redis": "ok", "database": "ok"}}),
                   503: Answer("a dependency is down", Health,
                               {"status": "degraded", "checks": {"redis": "down", "database": "ok"}})}),
    ("GET", "/api/v1/status"): Operation(
        "Version, flows loaded and this process's counters", "operations",
        responses={200: Answer("status", Status, {
            "version": "0.1.0", "uptime_seconds": 12.5, "whatsapp": "live", "signature_check": True,
            "flows": {"hash": "dc8b8941f44e", "flows": 4}, "counters": {"received": 3}, "queued_users": 0})}),
    ("GET", "/metrics"): Operation(
        "Prometheus metrics (text format), summed over every process", "operations", auth="metrics",
        responses={200: Answer("metrics", TEXT, "# TYPE inspector_bot_webhooks_received_total counter\n"
                                                "inspector_bot_webhooks_received_total 5.0\n", "text/plain"),
                   401: UNAUTHORIZED}),
    ("GET", "/api/v1/metrics"): Operation(
        "The same metrics as JSON", "operations", auth="metrics",
        responses={200: Answer("metrics", MetricsSummary, {"metrics": {"inspector_bot_webhooks_received_total": {
            "type": "counter", "help": "Inbound events", "values": {"_": 5.0}}}}),
                   401: UNAUTHORIZED}),
    ("POST", "/api/v1/auth/initiate-linking"): Operation(
        "Start linking a WhatsApp number to an Inspector account", "linking",
        request=InitiateLinking, request_example={"phone_number": "+2348012345678", "email": "ada@example.com"},
        responses={200: Answer("a code is on its way", LinkSent,
                               {"status": "sent", "email": "a***@example.com", "expires_in": 300}),
                   422: Answer("invalid input", LinkingFailure, {"error": "validation", "fields": [
                       {"field": "email", "message": "not an email address"}]}),
                   429: Answer("too many codes", LinkingFailure, {"error": "rate_limited", "message": "Try later."})}),
    ("POST", "/api/v1/auth/verify-otp"): Operation(
        "Finish linking with the 6-digit code", "linking",
        request=VerifyOtp, request_example={"phone_number": "+2348012345678", "otp_code": "123456"},
        responses={200: Answer("linked", Linked, {"status": "linked", "user": {"role": "seeker", "name": "Ada"}}),
                   400: Answer("wrong code", LinkingFailure,
                               {"error": "wrong_code", "message": "That code is not right.", "tries_left": 4}),
                   410: Answer("expired, used or burnt", LinkingFailure, {"error": "expired", "message": "Expired."})}),
    ("GET", "/api/v1/properties"): Operation(
        "Available properties, filtered and paged", "inspector", auth="api_key",
        params=(Param("location"), Param("min_price", schema={"type": "integer", "minimum": 0}),
                Param("max_price", schema={"type": "integer", "minimum": 0}),
                Param("bedrooms", schema={"type": "integer", "minimum": 0}),
                Param("limit", schema={"type": "integer", "minimum": 1, "maximum": 50, "default": 10}),
                Param("offset", schema={"type": "integer", "minimum": 0, "default": 0})),
        responses={200: Answer("a page", PropertyList, {"items": [PROPERTY], "total": 1, "limit": 10, "offset": 0}),
                   401: UNAUTHORIZED, 422: VALIDATION, 503: UNAVAILABLE}),
    ("GET", "/api/v1/inspections/{user_id}"): Operation(
        "A user's inspections (as seeker, agent or inspector: their role decides)", "inspector", auth="api_key",
        params=(Param("status", schema={"enum": ["scheduled", "completed", "cancelled"]}),),
        responses={200: Answer("inspections", InspectionList,
                               {"user_id": "usr_ada", "role": "seeker", "items": [INSPECTION]}),
                   401: UNAUTHORIZED, 404: Answer("no such user", ApiError, {"error": "not_found"}),
                   503: API_KEY_UNSET}),
    ("POST", "/api/v1/inspections"): Operation(
        "Book an inspection for a seeker (same rules as on WhatsApp)", "inspector", auth="api_key",
        params=(Param("Idempotency-Key", "header", required=True,
                      description="the same key always answers with the first booking"),),
        request=BookingRequest, request_example={"user_id": "usr_ada", "property_id": "prop_001", "slot_id": "slot_42"},
        responses={201: Answer("booked", Inspection, INSPECTION),
                   200: Answer("a replay of the same Idempotency-Key", Inspection, INSPECTION),
                   400: Answer("no Idempotency-Key", ApiError, {"error": "idempotency_key"}),
                   401: UNAUTHORIZED, 403: Answer("not a seeker", ApiError, {"error": "forbidden"}),
                   404: Answer("no such user, property or slot", ApiError, {"error": "not_found"}),
                   409: Answer("slot full or past", ApiError, {"error": "slot_full"}), 422: VALIDATION,
                   503: UNAVAILABLE}),
    ("POST", "/api/v1/admin/flows/reload"): Operation(
        "Reload flows.yaml (a bad file is refused; the old flows keep serving)", "admin", auth="admin",
        responses={200: Answer("reloaded", ReloadAnswer, {"ok": True, "hash": "dc8b8941f44e", "warnings": []}),
                   401: UNAUTHORIZED, 403: ADMIN_UNSET,
                   422: Answer("refused", ReloadAnswer, {"ok": False, "hash": "dc8b8941f44e", "problems": [
                       "flows.yaml:12:9: error: state `nowhere` does not exist"]})}),
    ("GET", "/flows/graph"): Operation(
        "The flows as an SVG picture", "admin", auth="admin", params=(Param("flow"),),
        responses={200: Answer("SVG", TEXT, "<svg xmlns='http://www.w3.org/2000/svg'/>", "image/svg+xml"),
                   401: UNAUTHORIZED, 404: Answer("no such flow", {"type": "object"}, {"error": "no flow 'x'"})}),
    ("GET", "/api/v1/users/stats"): Operation(
        "Who uses the bot: links by role, activity, today's messages and bookings", "admin", auth="admin",
        responses={200: Answer("stats", UserStats, {
            "linked_by_role": {"seeker": 10, "agent": 3}, "linked_total": 13, "active_24h": 5, "active_7d": 9,
            "links_today": 2, "messages_today": 41, "bookings_today": 3, "date": "2026-11-27",
            "timezone": "Africa/Lagos"}), 401: UNAUTHORIZED, 403: ADMIN_UNSET}),
    ("POST", "/api/v1/admin/broadcast"): Operation(
        "Send one message to an audience of linked users (or count it with dry_run)", "admin", auth="admin",
        description="Throttled at BROADCAST_RATE messages/s; text inside the 24-hour window, the template outside; "
                    "resumes after a restart and sends nobody the same broadcast twice.",
        request=BroadcastRequest, request_example={
            "audience": {"role": "seeker", "active_within_days": 30}, "text": "New listings in Lekki this week!",
            "template": {"name": "new_property_alert", "language": "en", "params": ["Lekki"]}, "dry_run": False},
        responses={200: Answer("dry run: the counts", BroadcastCount, {
            "dry_run": True, "audience": 200, "inside_window": 40, "outside_window": 160, "unreachable": 0}),
                   202: Answer("queued", BroadcastStarted, {"id": "5f1c2a9b0d3e4f67", "status": "queued",
                                                            "total": 200}),
                   401: UNAUTHORIZED, 403: ADMIN_UNSET,
                   422: Answer("invalid", LinkingFailure, {"error": "validation", "fields": [
                       {"field": "body", "message": "give text, template, or both"}]})}),
    ("GET", "/api/v1/admin/broadcast/{broadcast_id}"): Operation(
        "A broadcast's progress", "admin", auth="admin",
        responses={200: Answer("progress", BroadcastProgress, {
            "id": "5f1c2a9b0d3e4f67", "status": "running", "total": 200, "queued": 80, "claimed": 120, "sent": 118,
            "failed": 2, "failures_by_code": {"131026": 2}, "audience": {"role": "seeker"}}),
                   401: UNAUTHORIZED, 404: Answer("no such broadcast", {"type": "object"},
                                                  {"error": "no such broadcast"})}),
    ("GET", "/openapi.json"): Operation(
        "This document", "operations", responses={200: Answer("OpenAPI 3.1", {"type": "object"}, None)}),
    ("GET", "/docs"): Operation(
        "This document as a readable page", "operations",
        responses={200: Answer("HTML", TEXT, None, "text/html")}),
}
