"""Turning a state's `say` into one WhatsApp message, within WhatsApp's limits whatever the data.

Static texts were checked by `flows.checks`; dynamic ones (action results, user input) are cut here
with an ellipsis, and 4-10 choices become a list message automatically.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from typing import Any

from engine.compiler import CompiledFlows
from engine.messages import MEDIA_KINDS, Button, OutboundMessage, Row
from engine.offers import Offer
from engine.paging import more_offer, page_of
from flows import limits
from flows.edges import FROM, choice_trigger
from flows.schema_say import Say


def render_say(
    compiled: CompiledFlows, say: Say, scope: dict[str, Any], phone: str, page: int = 0
) -> tuple[OutboundMessage, list[Offer]]:
    """The message for `say`, and the choices it offers (stored to match the user's answer).

    `page` is the page of a `choices_from` list that does not fit (see engine.paging)."""
    offered: list[Offer] = []
    more: Offer | None = None
    if say.choices_from:
        cf = say.choices_from
        items = compiled.evaluate(cf.items, scope)
        fixed = sum(1 for c in say.choices if not c.when or compiled.evaluate(c.when, scope))
        shown = page_of(_as_list(items), cf.limit, max(limits.MAX_ROWS - fixed, 0), page, enabled=cf.paging)
        if shown.next is not None:
            more = more_offer(shown, compiled.spec.messages, compiled.render)
        for item in shown.items:
            item_scope = {**scope, "item": item}
            offered.append(Offer(
                id=compiled.render(cf.id, item_scope),
                title=compiled.render(cf.title, item_scope),
                description=compiled.render(cf.description, item_scope) if cf.description else "",
                trigger=FROM,
                item=item,
                into=cf.into,
                set=compiled.value(cf.set, item_scope) if cf.set else {},
            ))
    if more is not None:
        offered.append(more)
    for choice in say.choices:
        if choice.when and not compiled.evaluate(choice.when, scope):
            continue
        offered.append(Offer(
            id=compiled.render(choice.id, scope),
            title=compiled.render(choice.title, scope),
            description=compiled.render(choice.description, scope) if choice.description else "",
            trigger=choice_trigger(choice.id),
            say=choice.say,
            set=choice.set,
        ))
    offered = offered[: limits.MAX_ROWS]
    for offer, unique in zip(offered, _unique_ids([o.id for o in offered]), strict=True):
        offer.id = unique
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
    style = limits.choice_style(len(offered), any(o.description for o in offered), say.style)
    if style == "buttons":
        message.kind = "buttons"
        message.buttons = [Button(o.id, _title(o.title, i, limits.BUTTON_TITLE)) for i, o in enumerate(offered)]
    else:
        message.kind = "list"
        message.list_button = limits.fit(compiled.render(say.list_button, scope), limits.LIST_BUTTON)
        message.rows = [
            Row(o.id, _title(o.title, i, limits.ROW_TITLE), limits.fit(o.description, limits.ROW_DESCRIPTION))
            for i, o in enumerate(offered)
        ]
    return message, offered


def with_lead(lead: OutboundMessage, prompt: OutboundMessage) -> OutboundMessage | None:
    """`prompt` with the text said just before it (a correction such as "That doesn't look like an email") as
    its first paragraph: one message instead of two, so a misunderstanding costs the user one bubble and the
    number one send of its per-second quota. None when either is not plain text or the body would not fit."""
    if lead.kind != "text" or prompt.kind not in ("text", "buttons", "list"):
        return None
    body = f"{lead.text}\n\n{prompt.text}"
    if len(body) > (limits.TEXT_BODY if prompt.kind == "text" else limits.INTERACTIVE_BODY):
        return None
    return replace(prompt, text=body)


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
        ids = _unique_ids([b.id for b in message.buttons])
        message.buttons = [Button(ids[i], _title(b.title, i, limits.BUTTON_TITLE))
                           for i, b in enumerate(message.buttons)]
    else:
        rows = message.rows[: limits.MAX_ROWS]
        ids = _unique_ids([r.id for r in rows])
        message.rows = [
            Row(ids[i], _title(r.title, i, limits.ROW_TITLE), limits.fit(r.description, limits.ROW_DESCRIPTION))
            for i, r in enumerate(rows)
        ]
        message.list_button = limits.fit(message.list_button.strip() or "Choose", limits.LIST_BUTTON)
    return message


def _title(title: str, index: int, limit: int) -> str:
    return limits.fit(title.strip() or f"Option {index + 1}", limit)


def _id(value: str) -> str:
    if len(value) <= limits.ID and value:
        return value
    return "h:" + hashlib.sha256(value.encode()).hexdigest()


def _unique_ids(ids: list[str]) -> list[str]:
    """The ids, each within WhatsApp's length limit and unique in its message (a tap must say which)."""
    seen: set[str] = set()
    out: list[str] = []
    for i, raw in enumerate(ids):
        value = _id(raw.strip() or f"choice-{i + 1}")
        if value in seen:
            value = _id(f"{value}#{i + 1}")
        seen.add(value)
        out.append(value)
    return out


def _as_list(items: Any) -> list[Any]:
    if items is None or isinstance(items, str | bytes | dict):
        return []
    try:
        return list(items)
    except TypeError:
        return []
