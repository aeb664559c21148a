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
