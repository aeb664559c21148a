"""WhatsApp Cloud API limits, checked statically on flows and enforced again at render time."""

from __future__ import annotations

MAX_BUTTONS = 3
BUTTON_TITLE = 20
MAX_ROWS = 10
ROW_TITLE = 24
ROW_DESCRIPTION = 72
INTERACTIVE_BODY = 1024
TEXT_BODY = 4096
HEADER = 60
FOOTER = 60
LIST_BUTTON = 20
ID = 256
ELLIPSIS = "…"
MEDIA_CAPTION = 1024


def fit(text: str, limit: int) -> str:
    """Cut `text` to `limit` characters, ending with an ellipsis when anything was cut."""
    if len(text) <= limit:
        return text
    return text[: max(limit - 1, 0)].rstrip() + ELLIPSIS


def choice_style(count: int, has_descriptions: bool, style: str = "auto") -> str:
    """Buttons for up to 3 plain choices; a list beyond that (or with descriptions)."""
    if style == "buttons":
        return "buttons" if count <= MAX_BUTTONS else "list"
    if style == "list":
        return "list"
    return "buttons" if count <= MAX_BUTTONS and not has_descriptions else "list"


def violations(message: object) -> list[str]:
    """Every WhatsApp limit an outgoing message breaks (empty when Meta would accept it).

    Takes an `engine.messages.OutboundMessage` (duck-typed, so this module stays import-free).
    """
    found: list[str] = []
    kind = getattr(message, "kind", "text")
    text = getattr(message, "text", "") or ""
    if kind == "template":
        return found if getattr(message, "template", None) else ["template message without a template"]
    if kind in ("contacts", "location", "image"):
        return _media_violations(kind, text, getattr(message, "media", None) or {})
    if not text.strip():
        found.append("empty body")
    if kind == "text" and len(text) > TEXT_BODY:
        found.append(f"text body {len(text)} > {TEXT_BODY}")
    if kind in ("buttons", "list") and len(text) > INTERACTIVE_BODY:
        found.append(f"interactive body {len(text)} > {INTERACTIVE_BODY}")
    for name, limit in (("header", HEADER), ("footer", FOOTER)):
        value = getattr(message, name, None)
        if value is not None and len(value) > limit:
            found.append(f"{name} {len(value)} > {limit}")
    if kind == "buttons":
        buttons = getattr(message, "buttons", [])
        if not 1 <= len(buttons) <= MAX_BUTTONS:
            found.append(f"{len(buttons)} buttons (1..{MAX_BUTTONS})")
        found += [f"button title {b.title!r} > {BUTTON_TITLE}" for b in buttons if len(b.title) > BUTTON_TITLE]
        found += [f"empty button title ({b.id})" for b in buttons if not b.title.strip()]
        ids = [b.id for b in buttons]
    elif kind == "list":
        rows = getattr(message, "rows", [])
        if not 1 <= len(rows) <= MAX_ROWS:
            found.append(f"{len(rows)} rows (1..{MAX_ROWS})")
        found += [f"row title {r.title!r} > {ROW_TITLE}" for r in rows if len(r.title) > ROW_TITLE]
        found += [f"empty row title ({r.id})" for r in rows if not r.title.strip()]
        found += [f"row description > {ROW_DESCRIPTION}" for r in rows if len(r.description) > ROW_DESCRIPTION]
        if len(getattr(message, "list_button", "")) > LIST_BUTTON:
            found.append(f"list button > {LIST_BUTTON}")
        ids = [r.id for r in rows]
    else:
        ids = []
    found += [f"id longer than {ID}" for i in ids if len(i) > ID or not i]
    if len(set(ids)) != len(ids):
        found.append("duplicate ids")
    return found


def _media_violations(kind: str, caption: str, media: dict[str, object]) -> list[str]:
    """A contact card needs a name and a phone, a pin its coordinates, an image a URL and a short caption."""
    needed = {"contacts": ("name", "phone"), "location": ("latitude", "longitude"), "image": ("url",)}[kind]
    found = [f"{kind} message without {key}" for key in needed if media.get(key) in (None, "")]
    if kind == "location":
        try:
            if not (-90 <= float(str(media["latitude"])) <= 90 and -180 <= float(str(media["longitude"])) <= 180):
                found.append("location outside the globe")
        except (KeyError, TypeError, ValueError):
            found.append("location coordinates are not numbers")
    if kind == "image" and len(caption) > MEDIA_CAPTION:
        found.append(f"image caption {len(caption)} > {MEDIA_CAPTION}")
    return found
