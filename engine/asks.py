"""Typed questions (`ask:`): the answer is parsed as its type, checked against `min`/`max`/`options`, stored
under `into`, and a wrong one is re-asked with `ask.error` until `retries` are used up, then `on_fail`.

Routes (`on:` with `capture:`) fall through silently when a value does not parse; a question that must be
answered needs the count of tries and an error text staff can word, so it has its own small module.
"""

from __future__ import annotations

import re
from datetime import date
from typing import TYPE_CHECKING, Any

from engine.matching import capture, normalize
from flows.edges import ANSWER, GAVE_UP
from flows.schema_inputs import Ask

if TYPE_CHECKING:
    from engine.step import Step

#: Where the wrong answers to the current question are counted, in the conversation's values.
TRIES = "_ask_tries"
_PHONE = re.compile(r"^\+?\d{10,15}$")


class _Wrong:
    """An answer that does not parse or is out of bounds (None is a valid text answer's absence)."""


WRONG = _Wrong()


def parse_answer(ask: Ask, text: str, today: date) -> Any:
    """The typed value of `text` for `ask`, or WRONG."""
    kind = ask.type
    if kind == "choice":
        typed = normalize(text)
        if typed.isdigit() and 1 <= int(typed) <= len(ask.options):
            return ask.options[int(typed) - 1]
        return next((o for o in ask.options if normalize(o) == typed), WRONG)
    if kind == "phone":
        value = phone_number(text)
        return WRONG if value is None else value
    value = capture("number" if kind == "money" else kind, text, today=today)
    if value is None:
        return WRONG
    return value if within(ask, value, today) else WRONG


def phone_number(text: str) -> str | None:
    """`+234 801 234 5678`, `0801 234 5678`, `2348012345678` -> `+2348012345678` (Nigerian local numbers)."""
    compact = re.sub(r"[\s().-]", "", text)
    if compact.startswith("0") and len(compact) == 11 and compact.isdigit():
        compact = "+234" + compact[1:]
    if not _PHONE.match(compact) or not compact.isascii():
        return None
    return compact if compact.startswith("+") else "+" + compact


def within(ask: Ask, value: Any, today: date) -> bool:
    """Whether a parsed value respects `min` and `max` (numbers, dates as ISO text, text by length)."""
    measure: Any = len(value) if ask.type == "text" else value
    for bound, lowest in ((ask.min, True), (ask.max, False)):
        if bound is None:
            continue
        if ask.type == "date":
            bound = today.isoformat() if bound == "today" else str(bound)
        elif not isinstance(bound, int | float):
            continue
        if (measure < bound) if lowest else (measure > bound):
            return False
    return True


async def answer(step: Step, ask: Ask) -> bool:
    """Take a valid answer (stored, then `goto`); False when the input is not one."""
    from engine.movement import follow  # movement -> running -> this module: import when used

    value = parse_answer(ask, step.event.text, step.today)
    if value is WRONG:
        return False
    step.conversation.vars[ask.into] = value
    step.conversation.vars.pop(TRIES, None)
    await follow(step, ANSWER, ask.goto)
    return True


async def wrong_answer(step: Step, ask: Ask) -> None:
    """Say `ask.error` (or `not_understood`) and ask again; after `retries` wrong answers, go to `on_fail`."""
    from engine.movement import follow, reprompt

    conv, flows = step.conversation, step.flows
    tries = int(conv.vars.get(TRIES) or 0) + 1
    gave_up = ask.on_fail is not None and tries > ask.retries
    scope = {**step.scope(), "ask": {"tries_left": max(ask.retries - tries + 1, 0), "min": ask.min, "max": ask.max,
                                     "options": ask.options, "type": ask.type}}
    text = ask.error or flows.spec.messages.get("not_understood", "")
    step.say_text(flows.render(text, scope))
    if gave_up:
        conv.vars.pop(TRIES, None)
        await follow(step, GAVE_UP, ask.on_fail)
        return
    conv.vars[TRIES] = tries
    await reprompt(step)
