"""Matching the user's input against the waiting state, in order: a tap on an offered choice, a typed
number or title of one, a global command, the state's `on:` routes, and finally `otherwise`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from engine import languages
from engine.asks import answer, wrong_answer
from engine.compiler import CompiledCommand, keyword_form
from engine.matching import MAX_INPUT, capture, normalize
from engine.movement import choose, enter, follow, reprompt, run_command
from engine.notification_taps import follow_notification_tap, notification_choice
from engine.offers import Offer
from flows.edges import OTHERWISE, route_trigger
from flows.schema_inputs import Route
from flows.targets import Target

if TYPE_CHECKING:
    from engine.step import Step


class _NoMatch:
    """A route that did not match (None is a value a route can capture)."""


NO_MATCH = _NoMatch()


async def respond(step: Step, first: bool = False) -> bool:
    """Match the event against the waiting state; False (on a first message) when nothing matched."""
    conv, event, flows = step.conversation, step.event, step.flows
    state = flows.state(conv.flow, conv.state)
    assert state is not None
    conv.vars["input"] = event.text[:1000]
    if languages.asking(conv) and not _answers(conv.offered, event.reply_id, keyword_form(event.text)):
        # Not an answer to the language question: this file's language, and the message is for the state.
        step.set_language(step.base.default_language)
        conv.offered, conv.prompt = [], None
        if not await respond(step, first=True):
            await enter(step, Target(conv.flow, conv.state))
        return True
    if event.kind == "other" or (event.kind == "location" and not any(r.capture == "location" for r in state.on)):
        step.say_text(flows.spec.messages.get("unsupported_message", ""))
        return True
    if event.reply_id is not None:
        offer = next((o for o in conv.offered if o.id == event.reply_id), None)
        if offer is not None:
            await choose(step, offer)
            return True
        command = find_command(step, reply_id=event.reply_id)
        if command is not None:
            conv.vars["payload"] = command_payload(command, event.reply_id)
            await run_command(step, command)
            return True
        tapped = notification_choice(flows.spec, event.reply_id)
        if tapped is not None:
            await follow_notification_tap(step, tapped)
            return True
        if first:
            return False
        step.say_text(flows.spec.messages.get("stale_choice", ""))
        await reprompt(step)
        return True
    typed = "" if event.kind == "location" else keyword_form(event.text)  # a pin's name is not a command
    offer = offer_for_text(conv.offered, typed)
    if offer is not None:
        await choose(step, offer)
        return True
    command = find_command(step, text=typed)
    if command is not None:
        await run_command(step, command)
        return True
    if state.ask and await answer(step, state.ask):
        return True
    for index, route in enumerate(state.on):
        value = match_route(step, route, typed)
        if value is NO_MATCH:
            continue
        if route.into:
            conv.vars[route.into] = value
        step.apply_set(route.set)
        if route.say:
            step.say_text(flows.render(route.say, step.scope()))
        await follow(step, route_trigger(index), route.goto)
        return True
    if first:
        return False
    if state.ask:
        await wrong_answer(step, state.ask)
        return True
    otherwise = state.otherwise
    text = otherwise.say if otherwise and otherwise.say else flows.spec.messages.get("not_understood", "")
    step.say_text(flows.render(text, step.scope()))
    if otherwise and otherwise.goto:
        await follow(step, OTHERWISE, otherwise.goto)
    else:
        await reprompt(step)
    return True


def _answers(offered: list[Offer], reply_id: str | None, typed: str) -> bool:
    if reply_id is not None:
        return any(o.id == reply_id for o in offered)
    return offer_for_text(offered, typed) is not None


def offer_for_text(offered: list[Offer], typed: str) -> Offer | None:
    """The offer a typed answer means: its number in the message, its title or its id."""
    if typed.isdigit() and len(typed) <= 2 and 1 <= int(typed) <= len(offered):  # int() of 5000 digits raises
        return offered[int(typed) - 1]
    if not typed:
        return None
    for offer in offered:
        if normalize(offer.title) == typed or normalize(offer.id) == typed:
            return offer
    return None


def find_command(step: Step, *, text: str | None = None, reply_id: str | None = None) -> CompiledCommand | None:
    role = step.conversation.role
    for command in step.flows.commands:
        if not command.applies_to(role):
            continue
        if (text is not None and text in command.keywords) or (
                reply_id is not None and command_payload(command, reply_id) is not None):
            return command
    return None


def command_payload(command: CompiledCommand, reply_id: str) -> str | None:
    """Whether a tapped id triggers `command`: "" for one of its ids, the rest of the id for a prefix id
    (`call_agent:*` matches `call_agent:ins_102`, payload `ins_102`, so a notification's button can name
    the booking it is about); None when it does not."""
    if reply_id in command.ids:
        return ""
    for pattern in command.ids:
        if pattern.endswith("*") and reply_id.startswith(pattern[:-1]) and len(reply_id) > len(pattern) - 1:
            return reply_id[len(pattern) - 1:]
    return None


def match_route(step: Step, route: Route, typed: str) -> Any:
    """What a route captures from the input, or NO_MATCH."""
    text = step.event.text[:MAX_INPUT]
    if (route.capture == "location") != (step.event.kind == "location"):
        return NO_MATCH  # a shared location answers only `capture: location`, and only it does
    if route.capture == "location":
        return step.event.extra.get("location") or NO_MATCH
    if route.keywords is not None:
        return typed if typed in step.flows.keywords(tuple(route.keywords)) else NO_MATCH
    if route.regex is not None:
        found = re.search(route.regex, text.strip(), re.IGNORECASE)
        if not found:
            return NO_MATCH
        return found.groupdict() or (found.group(1) if found.groups() else found.group(0))
    assert route.capture is not None
    value = capture(route.capture, text, digits=route.digits, today=step.today)
    return NO_MATCH if value is None else value
