"""What reaches the engine: one inbound event for one user, independent of the channel."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

EventKind = Literal["text", "button", "list", "location", "other"]


@dataclass(frozen=True, slots=True)
class InboundEvent:
    """A user's message, already decoded by a channel adapter.

    `kind` is `button` or `list` when the user tapped a choice (`reply_id` holds its id and `text` its
    title); `location` is a shared location, its `{latitude, longitude, name, address}` in
    `extra["location"]`; `other` covers every message type the flows cannot read (image, audio, ...),
    with the WhatsApp type in `message_type`.
    """

    phone: str
    kind: EventKind = "text"
    text: str = ""
    reply_id: str | None = None
    message_type: str = "text"
    profile_name: str | None = None
    wamid: str | None = None
    timestamp: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> InboundEvent:
        return cls(**data)
