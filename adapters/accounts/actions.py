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

from adapters.accounts.linking import LinkingService
from engine.actions import ActionContext, ActionRegistry


def register_account_actions(registry: ActionRegistry, service: LinkingService) -> None:
    async def identify(ctx: ActionContext) -> dict[str, Any] | None:
        return await service.identify(ctx.phone)

    async def start_link(ctx: ActionContext, email: str) -> dict[str, Any]:
        return await service.start_link(ctx.phone, str(email))

    async def verify_code(ctx: ActionContext, code: str) -> dict[str, Any]:
        return await service.verify_code(ctx.phone, str(code))

    async def unlink(ctx: ActionContext) -> dict[str, Any]:
        await service.unlink(ctx.phone)
        return {"unlinked": True}

    registry.register("accounts.identify", identify)
    registry.register("accounts.start_link", start_link)
    registry.register("accounts.verify_code", verify_code)
    registry.register("accounts.unlink", unlink)
