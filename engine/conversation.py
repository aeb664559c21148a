"""Per-user conversation state: plain data, never a state-machine model kept per user."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import orjson

from engine.offers import Offer

#: Like `json.dumps(..., default=str)`: keys become text, datetimes and dataclasses go through `str`.
_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


@dataclass(slots=True)
class Conversation:
    """Where one user is (flow, state), what they told us (vars), and the choices last offered.

    `prompt` is the last waiting message, re-sent when input is not understood; `version` guards saves.
    `stack` holds one frame per shared flow the user is inside (`subflow:`), innermost last: the caller's
    flow and state to come back to and the arguments it passed. It is empty in a role's own flow, and at
    most `engine.subflows.MAX_DEPTH` deep. A conversation stored before it existed loads with none.
    `language` is the code the user reads ("" while unknown: the engine asks before the next state).
    A conversation with no `flow` holds only a language chosen (or preset) before it began.
    """

    phone: str
    flow: str
    state: str
    vars: dict[str, Any] = field(default_factory=dict)
    offered: list[Offer] = field(default_factory=list)
    prompt: dict[str, Any] | None = None
    stack: list[dict[str, Any]] = field(default_factory=list)
    version: int = 0
    flows_hash: str = ""
    updated_at: float = 0.0
    language: str = ""

    def dumps(self) -> str:
        # Not dataclasses.asdict: it deep-copies every nested value, which dominated the step time; and
        # orjson, not json: encoding and decoding the stored JSON was a third of the step (bench/engine.py).
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        data["offered"] = [offer.to_dict() for offer in self.offered]
        return orjson.dumps(data, default=str, option=_OPTIONS).decode()

    @classmethod
    def loads(cls, raw: str | bytes) -> Conversation:
        data = orjson.loads(raw)
        data["offered"] = [Offer.from_dict(o) for o in data.get("offered") or []]
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})

    def working_copy(self) -> Conversation:
        """A copy a turn can change freely while this one stays the last committed state.

        Shallow below the top level on purpose (a deep copy would cost more than the rest of the step):
        a turn replaces `vars` entries, the offers, the prompt and stack frames, and never changes a nested value in
        place; actions get their own copy of `vars` (`ActionContext`)."""
        return replace(self, vars=dict(self.vars), offered=list(self.offered), stack=list(self.stack))

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
    return orjson.loads(orjson.dumps(value, default=str, option=_OPTIONS))
