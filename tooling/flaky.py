"""An action registry wrapper that makes calls fail on demand, as if Inspector were down."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from engine.actions import ActionContext, ActionError, ActionRegistry

# Identifying the user happens before any flow runs; its failure is the webhook's to retry, not a flow's.
NEVER_FAIL = frozenset({"accounts.identify"})


class FlakyActions:
    """Delegates to a registry; while `failing` is set, every call raises ActionError(kind="unavailable")."""

    def __init__(self, registry: ActionRegistry) -> None:
        self.registry = registry
        self.failing = False
        self.failed = 0

    def __contains__(self, name: object) -> bool:
        return name in self.registry

    def __iter__(self) -> Iterator[str]:
        return iter(self.registry)

    def params(self, name: str) -> set[str] | None:
        return self.registry.params(name)

    async def call(self, name: str, ctx: ActionContext, args: dict[str, Any]) -> Any:
        if self.failing and name not in NEVER_FAIL:
            self.failed += 1
            raise ActionError("Inspector is not answering right now; try again in a few minutes.",
                              kind="unavailable", detail=f"{name} failed on purpose")
        return await self.registry.call(name, ctx, args)
