"""The messages a `say` sends before its text: a contact card, a location pin, photos.

WhatsApp sends these as their own messages (a contact card or a pin cannot carry buttons), so a state
says them first and its text, with the choices, last: the choices stay on the message the user answers.
A card or pin whose data is missing (a property without coordinates) is left out, never sent broken.
"""

from __future__ import annotations

import logging
from typing import Any

from engine.compiler import CompiledFlows
from engine.messages import OutboundMessage
from flows import limits
from flows.schema_say import Say

logger = logging.getLogger(__name__)


def render_media(compiled: CompiledFlows, say: Say, scope: dict[str, Any], phone: str) -> list[OutboundMessage]:
    out: list[OutboundMessage] = []
    if say.contact and _holds(compiled, say.contact.when, scope):
        card = {"name": compiled.render(say.contact.name, scope).strip(),
                "phone": compiled.render(say.contact.phone, scope).strip()}
        out.append(OutboundMessage(to=phone, kind="contacts", media=card))
    if say.location and _holds(compiled, say.location.when, scope):
        pin = {key: compiled.render(getattr(say.location, key), scope).strip()
               for key in ("latitude", "longitude", "name", "address")}
        out.append(OutboundMessage(to=phone, kind="location", media=pin))
    if say.photos:
        urls = compiled.evaluate(say.photos.items, scope)
        urls = [u for u in (urls if isinstance(urls, list | tuple) else []) if isinstance(u, str) and u]
        for index, url in enumerate(urls[: say.photos.limit], start=1):
            caption = compiled.render(say.photos.caption, {**scope, "item": url, "index": index})
            out.append(OutboundMessage(to=phone, kind="image", text=limits.fit(caption.strip(), limits.MEDIA_CAPTION),
                                       media={"url": url}))
    kept = [m for m in out if not limits.violations(m)]
    if len(kept) != len(out):
        logger.info("left out %d %s message(s) with missing data", len(out) - len(kept),
                    "/".join(sorted({m.kind for m in out if m not in kept})))
    return kept


def _holds(compiled: CompiledFlows, when: str | None, scope: dict[str, Any]) -> bool:
    return when is None or bool(compiled.evaluate(when, scope))
