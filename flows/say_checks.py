"""`check` of what a state sends (`say:`): its templates and WhatsApp's limits on texts, buttons and rows."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flows import limits
from flows.context_types import expression_type_of
from flows.paths import element_type
from flows.schema_say import Choice, Say
from flows.source import Path

if TYPE_CHECKING:
    from flows.checks import FlowChecker


def check_say(checker: FlowChecker, flow_name: str, say: Say, path: Path) -> None:
    """Templates, WhatsApp's limits (text, header, footer, list button, buttons and rows) and every choice."""
    item_scope = ("item",) if say.choices_from else ()
    checker.template((*path, "text"), say.text)
    for key in ("contact", "location"):
        card = getattr(say, key)
        for field_name, value in (card.model_dump(exclude={"when"}) if card else {}).items():
            checker.template((*path, key, field_name), value)
        if card and card.when:
            checker.template((*path, key, "if"), card.when, expression=True)
    if say.photos:
        checker.template((*path, "photos", "items"), say.photos.items, expression=True)
        checker.template((*path, "photos", "caption"), say.photos.caption, ("item", "index"))
    for key in ("header", "footer"):
        value = getattr(say, key)
        if value is not None:
            checker.template((*path, key), value)
            if "{{" not in value and len(value) > limits.HEADER:
                checker.add((*path, key), f"{key} is {len(value)} chars; WhatsApp allows {limits.HEADER}")
    if len(say.list_button) > limits.LIST_BUTTON:
        checker.add((*path, "list_button"),
                 f"list button label is {len(say.list_button)} chars; WhatsApp allows {limits.LIST_BUTTON}")
    dynamic = say.choices_from.limit if say.choices_from else 0
    count = len(say.choices) + dynamic
    has_descriptions = any(c.description for c in say.choices) or bool(
        say.choices_from and say.choices_from.description
    )
    interactive = count > 0
    if "{{" not in say.text and "{%" not in say.text:
        limit = limits.INTERACTIVE_BODY if interactive else limits.TEXT_BODY
        if len(say.text) > limit:
            kind = "interactive" if interactive else "text"
            checker.add((*path, "text"), f"text is {len(say.text)} chars; WhatsApp allows {limit} in "
                                      f"{kind} messages")
    style = limits.choice_style(count, has_descriptions, say.style)
    always = len([c for c in say.choices if not c.when]) + dynamic
    if say.style == "buttons" and count > limits.MAX_BUTTONS and always <= limits.MAX_BUTTONS:
        checker.add((*path, "choices"), f"up to {count} choices when every `if` holds; more than "
                                     f"{limits.MAX_BUTTONS} are sent as a list", "note")
    elif say.style == "buttons" and count > limits.MAX_BUTTONS:
        checker.add((*path, "choices"), f"{count} choices but WhatsApp allows {limits.MAX_BUTTONS} reply "
                                     "buttons (use `style: list` or `style: auto`)")
    elif len(say.choices) > limits.MAX_ROWS:
        checker.add((*path, "choices"), f"{len(say.choices)} choices but a WhatsApp list allows "
                                     f"{limits.MAX_ROWS} rows")
    elif say.choices_from and not say.choices_from.paging:
        checker.add((*path, "choices_from", "paging"),
                 f"this list source has no paging: items past the first "
                 f"{min(dynamic, limits.MAX_ROWS - len(say.choices))} are never offered "
                 "(remove `paging: false` so a 'More…' row pages through them)", "warning")
    elif say.style == "auto" and style == "list" and not say.choices_from and count > limits.MAX_BUTTONS:
        checker.add((*path, "choices"), f"{count} choices: sent as a list message (WhatsApp allows "
                                     f"{limits.MAX_BUTTONS} buttons)", "note")
    title_limit = limits.BUTTON_TITLE if style == "buttons" else limits.ROW_TITLE
    ids: dict[str, int] = {}
    for i, choice in enumerate(say.choices):
        _check_choice(checker, flow_name, choice, (*path, "choices", i), title_limit)
        if choice.id in ids:
            checker.add((*path, "choices", i, "id"), f"id `{choice.id}` is used twice in this message")
        ids[choice.id] = i
    if say.choices_from:
        cf = say.choices_from
        cpath = (*path, "choices_from")
        checker.template((*cpath, "items"), cf.items, expression=True)
        item = {"item": element_type(expression_type_of(checker.env, cf.items, checker.types))}
        for key in ("id", "title", "description"):
            checker.template((*cpath, key), getattr(cf, key), item_scope, local=item)
        checker.values((*cpath, "set"), cf.set, item_scope, local=item)
        checker.target((*cpath, "goto"), cf.goto, flow_name)

def _check_choice(checker: FlowChecker, flow_name: str, choice: Choice, path: Path, title_limit: int) -> None:
    if len(choice.id) > limits.ID:
        checker.add((*path, "id"), f"id is {len(choice.id)} chars; WhatsApp allows {limits.ID}")
    if not choice.id.strip():
        checker.add((*path, "id"), "empty id")
    checker.template((*path, "title"), choice.title)
    if "{{" not in choice.title and len(choice.title) > title_limit:
        cut = limits.fit(choice.title, title_limit)
        checker.add((*path, "title"), f"title `{choice.title}` is {len(choice.title)} chars; WhatsApp allows "
                                   f"{title_limit} here (it would be cut to `{cut}`)")
    if "{{" not in choice.description and len(choice.description) > limits.ROW_DESCRIPTION:
        checker.add((*path, "description"), f"description is {len(choice.description)} chars; WhatsApp "
                                         f"allows {limits.ROW_DESCRIPTION}")
    if choice.say:
        checker.template((*path, "say"), choice.say)
    if choice.when:
        checker.template((*path, "if"), choice.when, expression=True)
    checker.values((*path, "set"), choice.set)
    checker.target((*path, "goto"), choice.goto, flow_name)
