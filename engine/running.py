"""Running one state: `set`, then its calls in order (routing a failure or empty result; the first failure
stops them), `branch`, `say`, and either `goto`, `subflow`, `return` or waiting for input. The outcome says how
the state ended; moving on is `engine.movement`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from engine.actions import ActionCall, ActionError
from engine.asks import TRIES as ASK_TRIES
from engine.conversation import plain
from engine.failures import action_failed, describe_error
from engine.media import render_media
from engine.outcomes import WAIT, Halt, Leave, Outcome
from engine.render import render_say
from engine.subflows import push
from flows.edges import NEXT, RETURN_TRIGGER, SUBFLOW, branch_trigger, empty_trigger, error_trigger
from flows.schema import State
from flows.schema_reuse import CONTINUE, CallStep
from flows.targets import STAY

_UNSET = object()

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
        outcome = await call_actions(step, state)
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
    if state.subflow is not None:
        push(step, state.subflow)
        return Leave(SUBFLOW)
    if state.returns:
        return Leave(RETURN_TRIGGER, plain(flows.value(state.return_, step.scope())))
    return WAIT


async def call_actions(step: Step, state: State) -> Outcome | None:
    """Run the state's calls in order; the first that fails or comes back empty with a route ends them.

    A failure nobody routes puts the user back at their last prompt: the results the earlier calls of this
    state stored are taken back too, so the context does not hold half of what the state meant to do."""
    conv = step.conversation
    calls = state.calls
    before = {call.as_ or "result": conv.vars.get(call.as_ or "result", _UNSET) for call in calls}
    for index, call in enumerate(calls):
        outcome = await call_action(step, call, index)
        if isinstance(outcome, Halt):
            for name, value in before.items():
                if value is _UNSET:
                    conv.vars.pop(name, None)
                else:
                    conv.vars[name] = value
        if outcome is not None:
            return outcome
    return None


async def call_action(step: Step, call: CallStep, index: int = 0) -> Outcome | None:
    """Call one action and store its result; an outcome when the state must not run on."""
    conv, flows = step.conversation, step.flows
    args = plain(flows.value(call.with_, step.scope())) if call.with_ else {}
    record = ActionCall(call.action, args)
    step.turn.calls.append(record)
    trigger = error_trigger(index)
    try:
        result = await step.actions.call(call.action, step.context(), args)
    except ActionError as exc:
        record.ok, record.error = False, exc.kind
        logger.info("action %s failed (%s) in %s.%s", call.action, exc.kind, conv.flow, conv.state)
        return action_failed(step, call.on_error, describe_error(step, exc), trigger)
    except Exception as exc:
        # An adapter's bug, not the engine's: the user hears `action_failed`, the flow may route it.
        record.ok, record.error = False, "internal"
        logger.exception("action %s raised in %s.%s", call.action, conv.flow, conv.state)
        message = flows.spec.messages.get("action_failed", "")
        return action_failed(step, call.on_error, {"kind": "internal", "message": message,
                                                   "detail": type(exc).__name__}, trigger)
    value = plain(result)
    conv.vars[call.as_ or "result"] = value
    if call.on_empty and call.on_empty != CONTINUE and is_empty(value):
        return Leave(empty_trigger(index))
    return None


def is_empty(value: Any) -> bool:
    """Nothing to show: None, an empty list/dict/string, or a page whose `items` are empty."""
    if value is None or value == [] or value == {} or value == "":
        return True
    return isinstance(value, dict) and "items" in value and not value["items"]
