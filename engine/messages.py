"""What leaves the engine: outgoing messages as plain data, sent later by a channel adapter."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

MessageKind = Literal["text", "buttons", "list", "template", "contacts", "location", "image"]
#: Kinds that carry `media` instead of (or besides) a text body.
MEDIA_KINDS = ("contacts", "location", "image")


@dataclass(slots=True)
class Button:
    id: str
    title: str


@dataclass(slots=True)
class Row:
    id: str
    title: str
    description: str = ""


@dataclass(slots=True)
class TemplateRef:
    """An approved WhatsApp template, the only thing allowed outside the 24-hour window."""

    name: str
    language: str = "en"
    params: list[str] = field(default_factory=list)


@dataclass(slots=True)
class OutboundMessage:
    """One WhatsApp message. `buttons` for kind=buttons, `rows` for kind=list, `template` for templates.

    `media` for the media kinds: contacts `{name, phone}` (a contact card), location `{latitude, longitude,
    name, address}` (a pin), image `{url}` with `text` as its caption."""

    to: str
    kind: MessageKind = "text"
    text: str = ""
    header: str | None = None
    footer: str | None = None
    buttons: list[Button] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    list_button: str = "Choose"
    template: TemplateRef | None = None
    reply_to: str | None = None
    media: dict[str, Any] | None = None

    def choices(self) -> list[Button | Row]:
        return list(self.buttons) if self.kind == "buttons" else list(self.rows)

    def to_dict(self) -> dict[str, Any]:
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        data["buttons"] = [{"id": b.id, "title": b.title} for b in self.buttons]
        data["rows"] = [{"id": r.id, "title": r.title, "description": r.description} for r in self.rows]
        if self.template is not None:
            data["template"] = asdict(self.template)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OutboundMessage:
        data = dict(data)
        data["buttons"] = [Button(**b) for b in data.get("buttons", [])]
        data["rows"] = [Row(**r) for r in data.get("rows", [])]
        if data.get("template"):
            data["template"] = TemplateRef(**data["template"])
        return cls(**data)
