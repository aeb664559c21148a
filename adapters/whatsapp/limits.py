"""WhatsApp's size limits, enforced once more just before sending.

The flow checker and the engine's renderer already keep messages inside these limits; this is the last
line (for messages built elsewhere too), so Meta never rejects one for its size. It applies the same rules
as the renderer (`engine.render.fit_message`): text is shortened with an ellipsis, never dropped.
"""

from __future__ import annotations

import logging

from engine.messages import OutboundMessage
from engine.render import fit_message
from flows.limits import ROW_TITLE as MAX_ROW_TITLE
from flows.limits import fit as shorten

log = logging.getLogger(__name__)

__all__ = ["MAX_ROW_TITLE", "enforce_limits", "shorten"]


def enforce_limits(message: OutboundMessage) -> OutboundMessage:
    """A copy of `message` that Meta accepts."""
    if message.kind == "template":
        return message
    fixed = fit_message(OutboundMessage.from_dict(message.to_dict()))
    if fixed != message:
        log.warning("outbound %s message fitted to WhatsApp limits (buttons %d->%d, rows %d->%d)",
                    message.kind, len(message.buttons), len(fixed.buttons), len(message.rows), len(fixed.rows))
    return fixed
