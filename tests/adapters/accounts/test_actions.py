"""The engine actions, called through the real ActionRegistry as flows call them."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter

from adapters.accounts import register_account_actions
from engine.actions import ActionContext, ActionError, ActionRegistry
from tests.adapters.accounts.conftest import PHONE


@pytest.fixture
def registry(service) -> ActionRegistry:
    registry = ActionRegistry()
    register_account_actions(registry, service)
    return registry


def ctx(clock, phone: str = PHONE) -> ActionContext:
    return ActionContext(phone=phone, user=None, vars={}, now=clock())


async def test_actions_are_registered_with_their_arguments(registry):
    assert list(registry) == ["accounts.identify", "accounts.remember_language", "accounts.start_link",
                              "accounts.unlink", "accounts.verify_code"]
    assert registry.params("accounts.remember_language") == {"language"}
    assert registry.params("accounts.start_link") == {"email"}
    assert registry.params("accounts.verify_code") == {"code"}
    assert registry.params("accounts.identify") == set()


async def test_link_identify_unlink_through_actions(registry, smtp, clock):
    assert await registry.call("accounts.identify", ctx(clock), {}) is None
    sent = await registry.call("accounts.start_link", ctx(clock), {"email": "agent@example.com"})
    assert sent["email"] == "a***@example.com"

    user = await registry.call("accounts.verify_code", ctx(clock), {"code": smtp.last_code("agent@example.com")})
    assert user["role"] == "agent" and user["email_masked"] == "a***@example.com"
    assert await registry.call("accounts.identify", ctx(clock), {}) == user

    assert await registry.call("accounts.unlink", ctx(clock), {}) == {"unlinked": True}
    assert await registry.call("accounts.identify", ctx(clock), {}) is None
    # What the actions return fits the result models they declare (extra fields forbidden).
    for name, result in (("accounts.start_link", sent), ("accounts.verify_code", user),
                         ("accounts.identify", user), ("accounts.unlink", {"unlinked": True})):
        TypeAdapter(registry.spec(name).result).validate_python(result)


@pytest.mark.parametrize(
    ("action", "args", "kind"),
    [
        ("accounts.start_link", {"email": "nope"}, "invalid_email"),
        ("accounts.verify_code", {"code": "123456"}, "no_code"),
    ],
)
async def test_action_errors_carry_a_kind_for_flows(registry, clock, action, args, kind):
    with pytest.raises(ActionError) as err:
        await registry.call(action, ctx(clock), args)
    assert err.value.kind == kind
    assert err.value.user_message


async def test_wrong_code_and_rate_limit_kinds(registry, smtp, clock):
    await registry.call("accounts.start_link", ctx(clock), {"email": "seeker@example.com"})
    code = smtp.last_code("seeker@example.com")
    with pytest.raises(ActionError) as err:
        await registry.call("accounts.verify_code", ctx(clock), {"code": f"{(int(code) + 1) % 10**6:06d}"})
    assert err.value.kind == "wrong_code" and "4 tries left" in err.value.user_message
    for _ in range(2):
        await registry.call("accounts.start_link", ctx(clock), {"email": "seeker@example.com"})
    with pytest.raises(ActionError) as err:
        await registry.call("accounts.start_link", ctx(clock), {"email": "seeker@example.com"})
    assert err.value.kind == "rate_limited"


async def test_the_language_picked_before_linking_is_kept_on_the_account_and_follows_it_to_a_new_phone(
        registry, smtp, clock):
    picked = ActionContext(phone=PHONE, user=None, vars={}, now=clock(), language="pcm")
    await registry.call("accounts.start_link", picked, {"email": "agent@example.com"})
    user = await registry.call("accounts.verify_code", picked, {"code": smtp.last_code("agent@example.com")})
    assert user["language"] == "pcm"
    assert (await registry.call("accounts.identify", ctx(clock), {}))["language"] == "pcm"

    # The same account on another phone, linked without picking: the account's language comes along.
    other = "+2348099990001"
    await registry.call("accounts.start_link", ctx(clock, other), {"email": "agent@example.com"})
    moved = await registry.call("accounts.verify_code", ctx(clock, other), {"code": smtp.last_code("agent@example.com")})
    assert moved["language"] == "pcm"

    assert await registry.call("accounts.remember_language", ctx(clock, other), {"language": "en"}) == {
        "remembered": True}
    assert (await registry.call("accounts.identify", ctx(clock, other), {}))["language"] == "en"
    assert await registry.call("accounts.remember_language", ctx(clock, "+2348011112222"), {"language": "en"}) == {
        "remembered": False}
