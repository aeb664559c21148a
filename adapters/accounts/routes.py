"""REST endpoints for linking, backed by the same `LinkingService` (and limits) as WhatsApp.

They are for the Inspector website, whose user has already proved their email by logging in; the code
goes to the *phone* by WhatsApp, and the website posts it back, which proves the phone.

Every call needs `Authorization: Bearer <API_KEY>`: 401 without it, 403 with a wrong one, 503 (saying
why) when this service has no API_KEY.
POST /api/v1/auth/initiate-linking {phone_number, email}  -> 200 {status, email, expires_in}
POST /api/v1/auth/verify-otp       {phone_number, otp_code} -> 200 {status, user}
Invalid input -> 422 {"error": "validation", "fields": [{"field", "message"}]}.
Linking errors -> {"error": kind, "message": ...} with the status in `STATUS_BY_KIND`.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from adapters.accounts.identity import is_e164, normalize_email
from adapters.accounts.linking import CodeDelivery, LinkingError, LinkingService
from adapters.privacy import mask_phone

log = logging.getLogger(__name__)

#: Called with the phone after a REST link, so its next WhatsApp message is not answered from a
#: conversation cached as "unlinked" (which kept the linking welcome for up to 24 h).
OnLinked = Callable[[str], Awaitable[None]]

STATUS_BY_KIND = {
    "invalid_email": 422,
    "invalid_phone": 422,
    "rate_limited": 429,
    "send_failed": 503,
    "wrong_code": 400,
    "no_code": 400,
    "expired": 410,
    "used": 410,
    "too_many_attempts": 410,
}


def _phone(value: str) -> str:
    if not is_e164(value):
        raise ValueError("must be an E.164 phone number, like +2348012345678")
    return value


class _PhoneRequest(BaseModel):
    """What both linking endpoints take: an E.164 phone number, whitespace stripped, extras ignored."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)
    phone_number: str

    _check_phone = field_validator("phone_number")(_phone)


class InitiateLinking(_PhoneRequest):
    email: str

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        return normalize_email(value)


class VerifyOtp(_PhoneRequest):
    otp_code: str

    @field_validator("otp_code")
    @classmethod
    def _code(cls, value: str) -> str:
        if not (len(value) == 6 and value.isascii() and value.isdigit()):
            raise ValueError("must be exactly 6 digits")
        return value


def _invalid(fields: list[dict[str, str]]) -> JSONResponse:
    return JSONResponse({"error": "validation", "fields": fields}, status_code=422)


async def _parse(request: Request, model: type[BaseModel]) -> BaseModel | JSONResponse:
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return _invalid([{"field": "body", "message": "must be a JSON object"}])
    if not isinstance(body, dict):
        return _invalid([{"field": "body", "message": "must be a JSON object"}])
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        fields = []
        for error in exc.errors():
            field = ".".join(str(part) for part in error["loc"]) or "body"
            message = error["msg"].removeprefix("Value error, ")
            fields.append({"field": field, "message": message})
        return _invalid(fields)


def _failure(error: LinkingError) -> JSONResponse:
    body: dict[str, Any] = {"error": error.kind, "message": error.user_message}
    if error.tries_left is not None:
        body["tries_left"] = error.tries_left
    return JSONResponse(body, status_code=STATUS_BY_KIND.get(error.kind, 400))


def _refusal(request: Request, api_key: str) -> JSONResponse | None:
    """None when the caller holds API_KEY; else the answer that says why not."""
    if not api_key:
        return JSONResponse({"error": "disabled", "message": "REST linking is disabled: this service has no "
                             "API_KEY set."}, status_code=503)
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not given:
        return JSONResponse({"error": "unauthorized", "message": "Authorization: Bearer <API_KEY> is required."},
                            status_code=401, headers={"WWW-Authenticate": "Bearer"})
    if not hmac.compare_digest(given.strip().encode(), api_key.encode()):
        return JSONResponse({"error": "forbidden", "message": "Wrong API key."}, status_code=403)
    return None


def linking_routes(service: LinkingService, *, api_key: str, deliver_code: CodeDelivery,
                   on_linked: OnLinked | None = None) -> list[Route]:
    """The two endpoints; `deliver_code` sends the code to the phone (WhatsApp), `on_linked` refreshes
    whatever the conversation engine cached about the phone."""

    async def initiate_linking(request: Request) -> JSONResponse:
        refused = _refusal(request, api_key)
        if refused is not None:
            return refused
        parsed = await _parse(request, InitiateLinking)
        if isinstance(parsed, JSONResponse):
            return parsed
        assert isinstance(parsed, InitiateLinking)
        try:
            sent = await service.start_link(parsed.phone_number, parsed.email, deliver=deliver_code)
        except LinkingError as exc:
            return _failure(exc)
        return JSONResponse({"status": "sent", **sent})

    async def verify_otp(request: Request) -> JSONResponse:
        refused = _refusal(request, api_key)
        if refused is not None:
            return refused
        parsed = await _parse(request, VerifyOtp)
        if isinstance(parsed, JSONResponse):
            return parsed
        assert isinstance(parsed, VerifyOtp)
        try:
            user = await service.verify_code(parsed.phone_number, parsed.otp_code, road="web")
        except LinkingError as exc:
            return _failure(exc)
        if on_linked is not None:
            try:
                await on_linked(user["phone"])
            except Exception:  # linked all the same; the cached conversation expires on its own
                log.warning("could not refresh the conversation of %s after linking", mask_phone(user["phone"]),
                            exc_info=True)
        return JSONResponse({"status": "linked", "user": user})

    return [
        Route("/api/v1/auth/initiate-linking", initiate_linking, methods=["POST"]),
        Route("/api/v1/auth/verify-otp", verify_otp, methods=["POST"]),
    ]
