"""The choices on offer after a turn: what the user was shown, and what choosing each one does.

Stored with the conversation, so a tap (or a typed number or title) on the next message is matched
against exactly what was sent, whatever flows.yaml says by then.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class Offer:
    """One button or list row.

    `trigger` names the edge it takes (`choice:<id>` or `from`); a `from` row carries the list `item` it
    stands for, stored `into` a context name when chosen. `set` and `say` run when it is chosen."""

    id: str
    title: str
    trigger: str
    description: str = ""
    item: Any = None
    into: str | None = None
    set: dict[str, Any] = field(default_factory=dict)
    say: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON for the store; fields at their default are left out to keep conversations small."""
        data: dict[str, Any] = {"id": self.id, "title": self.title, "trigger": self.trigger}
        if self.description:
            data["description"] = self.description
        if self.item is not None:
            data["item"] = self.item
        if self.into is not None:
            data["into"] = self.into
        if self.set:
            data["set"] = self.set
        if self.say is not None:
            data["say"] = self.say
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Offer:
        try:  # what `to_dict` wrote: the fast path, taken on every load
            return cls(**data)
        except TypeError:
            pass
        return cls(
            id=str(data["id"]),
            title=str(data.get("title", "")),
            trigger=str(data.get("trigger", "")),
            description=str(data.get("description") or ""),
            item=data.get("item"),
            into=data.get("into"),
            set=dict(data.get("set") or {}),
            say=data.get("say"),
        )
