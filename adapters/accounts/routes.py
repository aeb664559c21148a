"""REST endpoints for linking, backed by the same `LinkingService` (and limits) as WhatsApp.

POST /api/v1/auth/initiate-linking {phone_number, email}  -> 200 {status, email, expires_in}
POST /api/v1/auth/verify-otp       {phone_number, otp_code} -> 200 {status, user}
Invalid input -> 422 {"error": "validation", "fields": [{"field", "message"}]}.
Linking errors -> {"error": kind, "message": ...} with the status in `STATUS_BY_KIND`.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from adapters.accounts.identity import is_e164, normalize_email
from adapters.accounts.linking import LinkingError, LinkingService

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


def linking_routes(service: LinkingService) -> list[Route]:
    async def initiate_linking(request: Request) -> JSONResponse:
        parsed = await _parse(request, InitiateLinking)
        if isinstance(parsed, JSONResponse):
            return parsed
        assert isinstance(parsed, InitiateLinking)
        try:
            sent = await service.start_link(parsed.phone_number, parsed.email)
        except LinkingError as exc:
            return _failure(exc)
        return JSONResponse({"status": "sent", **sent})

    async def verify_otp(request: Request) -> JSONResponse:
        parsed = await _parse(request, VerifyOtp)
        if isinstance(parsed, JSONResponse):
            return parsed
        assert isinstance(parsed, VerifyOtp)
        try:
            user = await service.verify_code(parsed.phone_number, parsed.otp_code)
        except LinkingError as exc:
            return _failure(exc)
        return JSONResponse({"status": "linked", "user": user})

    return [
        Route("/api/v1/auth/initiate-linking", initiate_linking, methods=["POST"]),
        Route("/api/v1/auth/verify-otp", verify_otp, methods=["POST"]),
    ]
