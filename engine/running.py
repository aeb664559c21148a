"""Running one state: `set`, then `call` (routing its failure or empty result), `branch`, `say`, and
either `goto` or waiting for input. The outcome says how the state ended; moving on is `engine.movement`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from engine.actions import ActionCall, ActionError
from engine.asks import TRIES as ASK_TRIES
from engine.conversation import plain
from engine.failures import action_failed, describe_error
from engine.media import render_media
from engine.outcomes import WAIT, Leave, Outcome
from engine.render import render_say
from flows.edges import EMPTY, NEXT, branch_trigger
from flows.schema import State
from flows.targets import STAY

if TYPE_CHECKING:
    from engine.step import Step

logger = logging.getLogger("engine.interpreter")


async def run_state(step: Step, state: State) -> Outcome:
    """Run one state; Leave by an edge, Wait for input, or Halt after an unrouted action failure."""
    conv, flows = step.conversation, step.flows
    if state.ask:  # a question asked afresh starts with all its tries
        conv.vars.pop(ASK_TRIES, None)
    step.apply_set(state.set)
    if state.call:
        outcome = await call_action(step, state)
        if outcome is not None:
            return outcome
    for index, branch in enumerate(state.branch):
        if flows.evaluate(branch.when, step.scope()):
            step.apply_set(branch.set)
            if branch.say:
                step.say_text(flows.render(branch.say, step.scope()))
            if branch.goto is None or branch.goto == STAY:
                break
            return Leave(branch_trigger(index))
    if state.say:
        step.turn.messages.extend(render_media(flows, state.say, step.scope(), conv.phone))
        message, offered = render_say(flows, state.say, step.scope(), conv.phone)
        step.turn.messages.append(message)
        if state.waits:
            conv.offered = offered
            conv.prompt = message.to_dict()
    elif state.waits:
        conv.offered, conv.prompt = [], None
    if state.goto is not None:
        return Leave(NEXT)
    return WAIT


async def call_action(step: Step, state: State) -> Outcome | None:
    """Call the state's action and store its result; an outcome when the state must not run on."""
    conv, flows = step.conversation, step.flows
    assert state.call is not None
    args = plain(flows.value(state.with_, step.scope())) if state.with_ else {}
    record = ActionCall(state.call, args)
    step.turn.calls.append(record)
    try:
        result = await step.actions.call(state.call, step.context(), args)
    except ActionError as exc:
        record.ok, record.error = False, exc.kind
        logger.info("action %s failed (%s) in %s.%s", state.call, exc.kind, conv.flow, conv.state)
        return action_failed(step, state, describe_error(step, exc))
    except Exception as exc:
        # An adapter's bug, not the engine's: the user hears `action_failed`, the flow may route it.
        record.ok, record.error = False, "internal"
        logger.exception("action %s raised in %s.%s", state.call, conv.flow, conv.state)
        message = flows.spec.messages.get("action_failed", "")
        return action_failed(step, state, {"kind": "internal", "message": message, "detail": type(exc).__name__})
    value = plain(result)
    conv.vars[state.as_ or "result"] = value
    if state.on_empty and is_empty(value):
        return Leave(EMPTY)
    return None


def is_empty(value: Any) -> bool:
    """Nothing to show: None, an empty list/dict/string, or a page whose `items` are empty."""
    if value is None or value == [] or value == {} or value == "":
        return True
    return isinstance(value, dict) and "items" in value and not value["items"]
