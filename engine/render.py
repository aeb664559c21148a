"""Turning a state's `say` into one WhatsApp message, within WhatsApp's limits whatever the data.

Static texts were checked by `flows.checks`; dynamic ones (action results, user input) are cut here
with an ellipsis, and 4-10 choices become a list message automatically.
"""

from __future__ import annotations

import hashlib
from typing import Any

from engine.compiler import CompiledFlows
from engine.messages import MEDIA_KINDS, Button, OutboundMessage, Row
from engine.paging import more_offer, page_of
from flows import limits
from flows.schema import Say


def render_say(
    compiled: CompiledFlows, say: Say, scope: dict[str, Any], phone: str, page: int = 0
) -> tuple[OutboundMessage, list[dict[str, Any]]]:
    """The message for `say`, and the choices it offers (stored to match the user's answer).

    `page` is the page of a `choices_from` list that does not fit (see engine.paging)."""
    offered: list[dict[str, Any]] = []
    more: dict[str, Any] | None = None
    if say.choices_from:
        cf = say.choices_from
        items = compiled.evaluate(cf.items, scope)
        fixed = sum(1 for c in say.choices if not c.when or compiled.evaluate(c.when, scope))
        shown = page_of(_as_list(items), cf.limit, max(limits.MAX_ROWS - fixed, 0), page, enabled=cf.paging)
        if shown.next is not None:
            more = more_offer(shown, compiled.spec.messages, compiled.render)
        for item in shown.items:
            item_scope = {**scope, "item": item}
            offered.append({
                "id": compiled.render(cf.id, item_scope),
                "title": compiled.render(cf.title, item_scope),
                "description": compiled.render(cf.description, item_scope) if cf.description else "",
                "trigger": "from",
                "item": item,
                "into": cf.into,
                "set": compiled.value(cf.set, item_scope) if cf.set else {},
            })
    if more is not None:
        offered.append(more)
    for choice in say.choices:
        if choice.when and not compiled.evaluate(choice.when, scope):
            continue
        offered.append({
            "id": compiled.render(choice.id, scope),
            "title": compiled.render(choice.title, scope),
            "description": compiled.render(choice.description, scope) if choice.description else "",
            "trigger": f"choice:{choice.id}",
            "say": choice.say,
            "set": choice.set,
        })
    offered = _unique_ids(offered[: limits.MAX_ROWS])
    text = compiled.render(say.text, scope).strip() or limits.ELLIPSIS
    message = OutboundMessage(
        to=phone,
        text=text,
        header=limits.fit(compiled.render(say.header, scope), limits.HEADER) if say.header else None,
        footer=limits.fit(compiled.render(say.footer, scope), limits.FOOTER) if say.footer else None,
    )
    if not offered:
        message.text = limits.fit(text, limits.TEXT_BODY)
        message.header = message.footer = None
        return message, offered
    message.text = limits.fit(text, limits.INTERACTIVE_BODY)
    style = limits.choice_style(len(offered), any(o["description"] for o in offered), say.style)
    if style == "buttons":
        message.kind = "buttons"
        message.buttons = [Button(o["id"], _title(o, i, limits.BUTTON_TITLE)) for i, o in enumerate(offered)]
    else:
        message.kind = "list"
        message.list_button = limits.fit(compiled.render(say.list_button, scope), limits.LIST_BUTTON)
        message.rows = [
            Row(o["id"], _title(o, i, limits.ROW_TITLE), limits.fit(o["description"], limits.ROW_DESCRIPTION))
            for i, o in enumerate(offered)
        ]
    return message, offered


def fit_message(message: OutboundMessage) -> OutboundMessage:
    """Enforce every limit on a message built elsewhere (notifications, adapters); changes it in place."""
    if message.kind == "template":
        return message
    if message.kind in MEDIA_KINDS:
        message.text = limits.fit(message.text, limits.MEDIA_CAPTION) if message.kind == "image" else ""
        return message
    if message.kind == "text":
        message.text = limits.fit(message.text if message.text.strip() else limits.ELLIPSIS, limits.TEXT_BODY)
        return message
    message.text = limits.fit(message.text if message.text.strip() else limits.ELLIPSIS, limits.INTERACTIVE_BODY)
    message.header = limits.fit(message.header, limits.HEADER) if message.header else message.header
    message.footer = limits.fit(message.footer, limits.FOOTER) if message.footer else message.footer
    if message.kind == "buttons" and len(message.buttons) > limits.MAX_BUTTONS:
        message.kind = "list"
        message.rows = [Row(b.id, b.title) for b in message.buttons]
        message.buttons = []
    if message.kind == "buttons":
        offers = _unique_ids([{"id": b.id, "title": b.title} for b in message.buttons])
        message.buttons = [Button(o["id"], _title(o, i, limits.BUTTON_TITLE)) for i, o in enumerate(offers)]
    else:
        offers = _unique_ids([{"id": r.id, "title": r.title, "description": r.description}
                              for r in message.rows[: limits.MAX_ROWS]])
        message.rows = [
            Row(o["id"], _title(o, i, limits.ROW_TITLE), limits.fit(o["description"], limits.ROW_DESCRIPTION))
            for i, o in enumerate(offers)
        ]
        message.list_button = limits.fit(message.list_button.strip() or "Choose", limits.LIST_BUTTON)
    return message


def _title(offer: dict[str, Any], index: int, limit: int) -> str:
    title = offer["title"].strip() or f"Option {index + 1}"
    return limits.fit(title, limit)


def _id(value: str) -> str:
    if len(value) <= limits.ID and value:
        return value
    return "h:" + hashlib.sha256(value.encode()).hexdigest()


def _unique_ids(offered: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: set[str] = set()
    for i, offer in enumerate(offered):
        offer["id"] = _id(offer["id"].strip() or f"choice-{i + 1}")
        if offer["id"] in seen:
            offer["id"] = _id(f"{offer['id']}#{i + 1}")
        seen.add(offer["id"])
    return offered


def _as_list(items: Any) -> list[Any]:
    if items is None or isinstance(items, str | bytes | dict):
        return []
    try:
        return list(items)
    except TypeError:
        return []
