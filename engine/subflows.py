"""Shared flows entered like a function: a state's `subflow:` pushes a frame (the caller's place and the
arguments), the shared flow runs, and `return:` (or `@return`) pops it and goes on at the caller's `then`.

The frames live in the conversation (`Conversation.stack`), so a shared flow can wait for input across turns.
Moving into a role's own flow any other way (`@menu`, a command, a reset) leaves every shared flow at once:
the stack is empty exactly when the user is in their own flow. Arguments are the shared flow's own names,
seen before the context's; `set:` and `as:` inside it write to the context as anywhere.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.conversation import plain
from flows.edges import THEN
from flows.schema_reuse import MAX_DEPTH, SubflowCall
from flows.targets import RETURN, Target

if TYPE_CHECKING:
    from engine.step import Step



class SubflowError(RuntimeError):
    """A call the checker would have refused (too deep, unknown flow): the turn is rolled back."""


def home(step: Step) -> str:
    """The user's own flow: where commands, `@menu` and `@start` lead, even from inside a shared flow."""
    return step.flows.flow_for_role(step.conversation.role)


def push(step: Step, call: SubflowCall) -> None:
    """Enter `call.flow` from the current state: check and default its arguments, remember where to return."""
    conv, flows = step.conversation, step.flows
    flow = flows.spec.flows.get(call.flow)
    if flow is None or not flow.shared:
        raise SubflowError(f"no shared flow {call.flow!r}")
    if len(conv.stack) >= MAX_DEPTH:
        raise SubflowError(f"shared flows nested more than {MAX_DEPTH} deep, entering {call.flow}")
    given = plain(flows.value(call.with_, step.scope())) if call.with_ else {}
    args: dict[str, Any] = {}
    for name, param in flow.params.items():
        if name in given:
            args[name] = given[name]
        elif param.required:
            raise SubflowError(f"{call.flow} needs `{name}`")
        else:
            args[name] = plain(param.default)
    conv.stack.append({"flow": conv.flow, "state": conv.state, "args": args})


def dynamic_destination(step: Step, target: str, value: Any = None) -> Target:
    """Where a shared flow's `@return`, `@menu` or `@start` leads for this user, now."""
    if target == RETURN:
        return returned(step, value)
    own = home(step)
    flow = step.flows.spec.flows[own]
    return Target(own, flow.menu if target == "@menu" else flow.start)


def returned(step: Step, value: Any) -> Target:
    """Leave the innermost shared flow: store `value` under the caller's `as` and go to its `then`."""
    conv, flows = step.conversation, step.flows
    frame = conv.stack.pop() if conv.stack else None
    caller = flows.state(frame["flow"], frame["state"]) if frame else None
    if frame is None or caller is None or caller.subflow is None:  # flows.yaml changed under the user
        conv.stack.clear()
        own = home(step)
        return Target(own, flows.spec.flows[own].menu)
    if caller.subflow.as_:
        conv.vars[caller.subflow.as_] = plain(value)
    found = flows.transition(frame["flow"], frame["state"], THEN)
    if found is not None:
        return found
    target = flows.dynamic_target(frame["flow"], frame["state"], THEN)
    if target is None:
        raise SubflowError(f"no `then` from {frame['flow']}.{frame['state']}")
    return dynamic_destination(step, target, value)
