"""WhatsApp's size limits, enforced once more just before sending.

The flow checker should already keep messages inside these limits; this is the last line, so Meta
never rejects a message for its size. Text is shortened with an ellipsis, never dropped.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from engine.messages import Button, OutboundMessage, Row

log = logging.getLogger(__name__)

MAX_TEXT = 4096
MAX_INTERACTIVE_BODY = 1024
MAX_HEADER = 60
MAX_FOOTER = 60
MAX_BUTTONS = 3
MAX_BUTTON_TITLE = 20
MAX_ROWS = 10
MAX_ROW_TITLE = 24
MAX_ROW_DESCRIPTION = 72
MAX_LIST_BUTTON = 20
MAX_ID = 256
ELLIPSIS = "…"


def shorten(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, ending in an ellipsis when it was cut."""
    if len(text) <= limit:
        return text
    return text[: max(limit - 1, 0)].rstrip() + ELLIPSIS


def enforce_limits(message: OutboundMessage) -> OutboundMessage:
    """A copy of `message` that Meta accepts: lengths shortened, extra buttons or rows dropped."""
    if message.kind == "template":
        return message
    interactive = message.kind in ("buttons", "list")
    body_limit = MAX_INTERACTIVE_BODY if interactive else MAX_TEXT
    fixed = replace(
        message,
        text=shorten(message.text, body_limit),
        header=shorten(message.header, MAX_HEADER) if message.header else message.header,
        footer=shorten(message.footer, MAX_FOOTER) if message.footer else message.footer,
        buttons=[
            Button(id=b.id[:MAX_ID], title=shorten(b.title, MAX_BUTTON_TITLE))
            for b in message.buttons[:MAX_BUTTONS]
        ],
        rows=[
            Row(
                id=r.id[:MAX_ID],
                title=shorten(r.title, MAX_ROW_TITLE),
                description=shorten(r.description, MAX_ROW_DESCRIPTION),
            )
            for r in message.rows[:MAX_ROWS]
        ],
        list_button=shorten(message.list_button or "Choose", MAX_LIST_BUTTON),
    )
    if fixed != message:
        log.warning(
            "outbound %s message shortened to WhatsApp limits (buttons %d->%d, rows %d->%d)",
            message.kind, len(message.buttons), len(fixed.buttons), len(message.rows), len(fixed.rows),
        )
    return fixed
