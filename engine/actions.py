"""The action registry: named async callables that flows call, registered by adapters.

The engine never imports an adapter; an adapter registers `name -> fn(ctx, **args)` at start-up and
flows.yaml names it (`call: inspector.available_properties`).
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine.action_specs import ActionSpec


@dataclass(slots=True)
class ActionContext:
    """What an action may know about the conversation that called it."""

    phone: str
    user: dict[str, Any] | None
    vars: dict[str, Any]
    now: datetime
    profile_name: str | None = None
    #: The user's language code ("" while unknown), e.g. to keep it on the account when linking.
    language: str = ""


Action = Callable[..., Awaitable[Any]]


class ActionError(Exception):
    """An action failed in a way the user should hear about.

    `user_message` is safe to show on WhatsApp (flows.yaml may reword it per kind with `messages.error_<kind>`);
    `kind` lets flows route (`error.kind == 'unavailable'`); `data` goes to templates (`error.tries_left`).
    """

    def __init__(self, user_message: str, *, kind: str = "failed", detail: str = "",
                 data: dict[str, Any] | None = None) -> None:
        super().__init__(detail or user_message)
        self.user_message = user_message
        self.kind = kind
        self.detail = detail
        self.data = data or {}


@dataclass(slots=True)
class ActionCall:
    """A record of one call, for conversation tests and traces."""

    name: str
    args: dict[str, Any]
    ok: bool = True
    error: str | None = None


@dataclass
class ActionRegistry:
    _actions: dict[str, Action] = field(default_factory=dict)
    _params: dict[str, set[str] | None] = field(default_factory=dict)
    _specs: dict[str, ActionSpec] = field(default_factory=dict)

    def register(self, name: str, fn: Action, *, result: Any = None, errors: dict[str, str] | None = None,
                 doc: str = "") -> None:
        """Register `fn` as `name`; `result` (a pydantic model, `list[Model]`...) and `errors` (kind ->
        when) describe it for `check` and `python main.py actions`."""
        if name in self._actions:
            raise ValueError(f"action {name!r} is already registered")
        self._actions[name] = fn
        self._params[name] = _keyword_params(fn)
        self._specs[name] = ActionSpec(result, dict(errors or {}), doc or inspect.getdoc(getattr(fn, "func", fn)) or "",
                                       _arguments(fn))

    def wrap(self, name: str, wrapper: Callable[[Action], Action]) -> None:
        """Replace action `name` by `wrapper(action)` (counting, tracing); its declared parameters stay."""
        self._actions[name] = wrapper(self._actions[name])

    def action(self, name: str, *, result: Any = None, errors: dict[str, str] | None = None
               ) -> Callable[[Action], Action]:
        """Decorator form of `register`."""

        def decorate(fn: Action) -> Action:
            self.register(name, fn, result=result, errors=errors)
            return fn

        return decorate

    def spec(self, name: str) -> ActionSpec:
        """What the action declares about its result and errors (empty when it declares nothing)."""
        return self._specs.get(name, ActionSpec())

    def __contains__(self, name: object) -> bool:
        return name in self._actions

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._actions))

    def params(self, name: str) -> set[str] | None:
        """The keyword arguments an action accepts, or None when it takes **kwargs."""
        return self._params.get(name)

    async def call(self, name: str, ctx: ActionContext, args: dict[str, Any]) -> Any:
        try:
            fn = self._actions[name]
        except KeyError:
            raise ActionError("This step is not available right now.", kind="missing", detail=name) from None
        return await fn(ctx, **args)


def _arguments(fn: Action) -> dict[str, str]:
    params = list(inspect.signature(fn).parameters.values())[1:]
    return {p.name: "" if p.default is inspect.Parameter.empty else repr(p.default) for p in params
            if p.kind not in (inspect.Parameter.VAR_KEYWORD, inspect.Parameter.VAR_POSITIONAL)}


def _keyword_params(fn: Action) -> set[str] | None:
    params = list(inspect.signature(fn).parameters.values())[1:]
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return None
    return {p.name for p in params}
