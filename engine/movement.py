"""Moving between states: taking a chosen offer, a command or a route, following an edge through the
compiled transition table (or, for a shared flow's `@return`/`@menu`/`@start`, `engine.subflows`), and
entering states until one waits for input (with the role guard).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from engine import languages, paging
from engine.compiler import CompiledCommand
from engine.conversation import plain
from engine.failures import FlowLoop
from engine.messages import OutboundMessage
from engine.offers import Offer
from engine.outcomes import Leave
from engine.render import render_say, with_lead
from engine.running import run_state
from engine.subflows import dynamic_destination, home, returned
from flows.edges import FROM, RETURN_TRIGGER, command_trigger
from flows.targets import DYNAMIC, STAY, Target, resolve

if TYPE_CHECKING:
    from engine.step import Step

logger = logging.getLogger("engine.interpreter")

#: More states than this in one turn is a loop of `goto`s in flows.yaml.
MAX_STEPS = 25


async def choose(step: Step, offer: Offer) -> None:
    """The user picked one of the offered choices: store its item, run its `set` and `say`, move on."""
    conv, flows = step.conversation, step.flows
    if offer.trigger.startswith(languages.PREFIX):  # the language question: then where the user was going
        code = offer.trigger.removeprefix(languages.PREFIX)
        step.set_language(code if step.base.offers_language(code) else step.base.default_language)
        await languages.remember(step, step.conversation.language)
        await enter(step, Target(conv.flow, conv.state))
        return
    if offer.trigger == paging.TRIGGER:
        await show_page(step, int((offer.item or {}).get("page") or 0))
        return
    if offer.into:
        conv.vars[offer.into] = offer.item
    if offer.trigger == FROM:
        # A row's `set` was rendered with its item when the list was sent: it is data now, never a
        # template again (an item's text holding `{{ }}` must not be evaluated).
        for key, value in offer.set.items():
            conv.vars[key] = plain(value)
    else:
        step.apply_set(offer.set)
    if offer.say:
        step.say_text(flows.render(offer.say, step.scope()))
    found = destination(step, offer.trigger)
    await enter(step, found or Target(conv.flow, conv.state))


def destination(step: Step, trigger: str) -> Target | None:
    """Where the current state's edge `trigger` (or a command) leads this user; None: no such edge."""
    conv, flows = step.conversation, step.flows
    shared = flows.spec.flows[conv.flow].shared
    found = flows.transition(conv.flow, conv.state, trigger, home(step) if shared else None)
    if found is not None or not shared:
        return found
    target = flows.dynamic_target(conv.flow, conv.state, trigger)
    return dynamic_destination(step, target) if target is not None else None


async def show_page(step: Step, page: int) -> None:
    """Another page of the waiting state's list ("More…"): its `say` again, the action not re-run."""
    conv = step.conversation
    state = step.flows.state(conv.flow, conv.state)
    if state is None or state.say is None or state.say.choices_from is None:  # flows changed under it
        await enter(step, Target(conv.flow, conv.state))
        return
    message, conv.offered = render_say(step.flows, state.say, step.scope(), conv.phone, page=page)
    conv.prompt = message.to_dict()
    step.turn.messages.append(message)


async def run_command(step: Step, command: CompiledCommand) -> None:
    spec = command.spec
    step.apply_set(spec.set)
    if spec.say:
        step.say_text(step.flows.render(spec.say, step.scope()))
    if spec.goto == STAY:
        await reprompt(step)
        return
    await follow(step, command_trigger(command.name), spec.goto)


async def follow(step: Step, trigger: str, target: str | None) -> None:
    """Leave the current state by `trigger`; with no target, re-enter it (fresh data, re-prompt)."""
    conv = step.conversation
    if target is None or target == STAY:
        await enter(step, Target(conv.flow, conv.state))
        return
    found = destination(step, trigger)
    if found is None and step.flows.spec.flows[conv.flow].shared:  # e.g. a notification's button
        # `@<state>` names a state of the user's own flow, as it does for commands and notifications.
        found = (dynamic_destination(step, target) if target in DYNAMIC
                 else resolve(target, home(step) if target.startswith("@") else conv.flow, step.flows.spec))
    if found is None:  # a target the table does not know: the checker prevents this
        found = resolve(target, conv.flow, step.flows.spec)
    if found is None:
        raise RuntimeError(f"no transition {trigger!r} from {conv.flow}.{conv.state}")
    await enter(step, found)


async def enter(step: Step, target: Target) -> None:
    """Run states from `target` until one waits for input (or an action failure halts the turn)."""
    conv, flows = step.conversation, step.flows
    while True:
        step.steps += 1
        if step.steps > MAX_STEPS:
            raise FlowLoop(f"more than {MAX_STEPS} states in one turn, last {target}")
        target = guard_role(step, target)
        if languages.needs_asking(step):
            languages.ask(step, target)
            return
        state = flows.state(target.flow, target.state)
        if state is None:
            raise RuntimeError(f"unknown state {target}")
        if conv.stack and not flows.spec.flows[target.flow].shared:
            conv.stack.clear()  # back in the user's own flow: every shared flow is left
        conv.flow, conv.state = target.flow, target.state
        outcome = await run_state(step, state)
        if not isinstance(outcome, Leave):
            return
        found = (returned(step, outcome.value) if outcome.trigger == RETURN_TRIGGER
                 else destination(step, outcome.trigger))
        if found is None:
            raise RuntimeError(f"no transition {outcome.trigger!r} from {conv.flow}.{conv.state}")
        target = found


def guard_role(step: Step, target: Target) -> Target:
    """An unlinked user never enters a role flow, no role enters another role's flow, and a shared flow is
    entered only by `subflow:` (which leaves a frame on the stack)."""
    role = step.conversation.role
    spec = step.flows.spec
    flow = spec.flows[target.flow]
    if flow.role == role or (flow.shared and step.conversation.stack):
        return target
    own = step.flows.flow_for_role(role)
    logger.warning("role guard: %s user sent to %s; back to %s", role, target, own)
    step.turn.notices.append(f"role guard redirected {target} to {own}")
    return Target(own, spec.flows[own].menu)


async def reprompt(step: Step) -> None:
    """Show the last prompt again, with what the turn just said (a correction) in the same message when it
    fits; with no prompt saved (e.g. after a failed start), re-enter the state."""
    conv = step.conversation
    if conv.prompt:
        prompt = OutboundMessage.from_dict({**conv.prompt, "to": conv.phone})
        said = step.turn.messages
        together = with_lead(said[-1], prompt) if said else None
        if together is None:
            said.append(prompt)
        else:
            said[-1] = together
    else:
        await enter(step, Target(conv.flow, conv.state))
