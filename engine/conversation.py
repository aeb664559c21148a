"""Per-user conversation state: plain data, never a state-machine model kept per user."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class Conversation:
    """Where one user is (flow, state), what they told us (vars), and the choices last offered.

    `prompt` is the last waiting message, re-sent when input is not understood; `version` guards saves.
    """

    phone: str
    flow: str
    state: str
    vars: dict[str, Any] = field(default_factory=dict)
    offered: list[dict[str, Any]] = field(default_factory=list)
    prompt: dict[str, Any] | None = None
    version: int = 0
    flows_hash: str = ""
    updated_at: float = 0.0

    def dumps(self) -> str:
        # Not dataclasses.asdict: it deep-copies every nested value, which dominated the step time.
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        return json.dumps(data, separators=(",", ":"), default=str, ensure_ascii=False)

    @classmethod
    def loads(cls, raw: str | bytes) -> Conversation:
        data = json.loads(raw)
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})

    @property
    def role(self) -> str:
        user = self.vars.get("user")
        role = user.get("role") if isinstance(user, dict) else None
        return role if role in ("seeker", "agent", "inspector") else "unlinked"
