"""Per-user conversation state: plain data, never a state-machine model kept per user."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any

from engine.offers import Offer


@dataclass(slots=True)
class Conversation:
    """Where one user is (flow, state), what they told us (vars), and the choices last offered.

    `prompt` is the last waiting message, re-sent when input is not understood; `version` guards saves.
    """

    phone: str
    flow: str
    state: str
    vars: dict[str, Any] = field(default_factory=dict)
    offered: list[Offer] = field(default_factory=list)
    prompt: dict[str, Any] | None = None
    version: int = 0
    flows_hash: str = ""
    updated_at: float = 0.0

    def dumps(self) -> str:
        # Not dataclasses.asdict: it deep-copies every nested value, which dominated the step time.
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        data["offered"] = [offer.to_dict() for offer in self.offered]
        return json.dumps(data, separators=(",", ":"), default=str, ensure_ascii=False)

    @classmethod
    def loads(cls, raw: str | bytes) -> Conversation:
        data = json.loads(raw)
        data["offered"] = [Offer.from_dict(o) for o in data.get("offered") or []]
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})

    def working_copy(self) -> Conversation:
        """A copy a turn can change freely while this one stays the last committed state.

        Shallow below the top level on purpose (a deep copy would cost more than the rest of the step):
        a turn replaces `vars` entries, the offers and the prompt, and never changes a nested value in
        place; actions get their own copy of `vars` (`ActionContext`)."""
        return replace(self, vars=dict(self.vars), offered=list(self.offered))

    @property
    def role(self) -> str:
        user = self.vars.get("user")
        role = user.get("role") if isinstance(user, dict) else None
        return role if role in ("seeker", "agent", "inspector") else "unlinked"


def plain(value: Any) -> Any:
    """Action results and set values as JSON data, so they survive the store unchanged."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if hasattr(value, "model_dump"):
        value = value.model_dump(mode="json")
    return json.loads(json.dumps(value, default=str))
