"""Engine actions of the accounts adapter; flows.yaml calls them as `accounts.<name>`.

- `accounts.identify()` -> the linked user `{id, name, role, email_masked, phone}`, or None.
- `accounts.start_link(email)` -> `{email: masked, expires_in: seconds}`, the same for unknown emails.
  ActionError kinds: invalid_email, rate_limited, send_failed.
- `accounts.verify_code(code)` -> the linked user, as `identify`. ActionError kinds: wrong_code
  (message says how many tries are left; `error.tries_left`), expired, used, no_code, too_many_attempts.
- `accounts.unlink()` -> `{unlinked: True}`.

Every action acts on `ctx.phone`; none takes a phone argument, so a flow cannot link someone else.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from adapters.accounts.linking import MESSAGES, LinkingService
from engine.actions import ActionContext, ActionRegistry


class LinkedUser(BaseModel):
    """The Inspector account linked to this phone."""

    model_config = ConfigDict(title="User", extra="forbid")

    id: str = Field(examples=["usr_ada"])
    name: str = Field(examples=["Ada Seeker"])
    role: str = Field(description="seeker, agent or inspector", examples=["seeker"])
    email_masked: str = Field(examples=["s***@example.com"])
    phone: str = Field(examples=["+2348010000001"])
    language: str | None = Field(None, description="the language code the user picked, if any", examples=["pcm"])


class LanguageRemembered(BaseModel):
    """Whether the phone's row took the language."""

    model_config = ConfigDict(extra="forbid")

    remembered: bool = Field(examples=[True])


class LinkStarted(BaseModel):
    """A code is on its way (the same answer for an email with no account)."""

    model_config = ConfigDict(extra="forbid")

    email: str = Field(description="masked", examples=["s***@example.com"])
    expires_in: int = Field(description="seconds", examples=[300])


class Unlinked(BaseModel):
    model_config = ConfigDict(extra="forbid")

    unlinked: bool = Field(examples=[True])


START_ERRORS = {kind: MESSAGES[kind] for kind in ("invalid_email", "rate_limited", "send_failed")}
VERIFY_ERRORS = {
    "wrong_code": "the code is not right; `error.tries_left` says how many tries are left",
    **{kind: MESSAGES[kind] for kind in ("expired", "used", "no_code", "too_many_attempts")},
}


def register_account_actions(registry: ActionRegistry, service: LinkingService) -> None:
    async def identify(ctx: ActionContext) -> dict[str, Any] | None:
        return await service.identify(ctx.phone)

    async def start_link(ctx: ActionContext, email: str) -> dict[str, Any]:
        return await service.start_link(ctx.phone, str(email))

    async def verify_code(ctx: ActionContext, code: str) -> dict[str, Any]:
        return await service.verify_code(ctx.phone, str(code), ctx.language)

    async def remember_language(ctx: ActionContext, language: str) -> dict[str, Any]:
        return {"remembered": await service.remember_language(ctx.phone, str(language)[:16])}

    async def unlink(ctx: ActionContext) -> dict[str, Any]:
        await service.unlink(ctx.phone)
        return {"unlinked": True}

    registry.register("accounts.identify", identify, result=LinkedUser | None,
                      doc="Who this phone is: the linked user, or none.")
    registry.register("accounts.start_link", start_link, result=LinkStarted, errors=START_ERRORS,
                      doc="Email a 6-digit code to `email` if it has an Inspector account.")
    registry.register("accounts.verify_code", verify_code, result=LinkedUser, errors=VERIFY_ERRORS,
                      doc="Check the code; on success link the phone and return the user.")
    registry.register("accounts.unlink", unlink, result=Unlinked, doc="Remove this phone's link.")
    registry.register("accounts.remember_language", remember_language, result=LanguageRemembered,
                      doc="Keep the language this phone's user picked (the engine calls it, see `session:`).")
