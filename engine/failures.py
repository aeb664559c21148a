"""What goes wrong in a turn, and what the user hears: action failures (routed by `on_error`, or said
and rolled back to the last prompt), a failed identify (retried by the caller), and internal errors
(the whole turn is rolled back to the last committed state and `messages.internal_error` is sent).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from engine.actions import ActionError
from engine.conversation import plain
from engine.messages import OutboundMessage
from engine.outcomes import HALT, Leave, Outcome
from engine.render import fit_message
from engine.turn import Turn
from flows.edges import ERROR
from flows.schema_reuse import CONTINUE

if TYPE_CHECKING:
    from engine.step import Step

logger = logging.getLogger("engine.interpreter")


class IdentifyError(Exception):
    """Who the user is could not be found out (accounts database down); the event must be retried."""


class FlowLoop(RuntimeError):
    """More states ran in one turn than any real flow needs: flows.yaml has a loop of `goto`s."""


def describe_error(step: Step, exc: ActionError) -> dict[str, Any]:
    """`error` for templates: the adapter's message, unless flows.yaml rewords it (`messages.error_<kind>`)."""
    error: dict[str, Any] = {**plain(exc.data), "kind": exc.kind, "message": exc.user_message}
    reworded = step.flows.spec.messages.get(f"error_{exc.kind}")
    if reworded:
        error["message"] = step.flows.render(reworded, {**step.scope(), "error": error})
    return error


def action_failed(step: Step, on_error: str | None, error: dict[str, Any], trigger: str = ERROR) -> Outcome | None:
    """Route a failed action by its `on_error` (None: `@continue`, carry on); with none, say why and put the
    user back at their last prompt (and in the shared flows they were in)."""
    conv = step.conversation
    conv.vars["error"] = error
    if on_error == CONTINUE:
        return None
    if on_error:
        return Leave(trigger)
    sentence = error.get("message") or step.flows.spec.messages.get("action_failed", "")
    origin, flows, prompt = step.origin, step.flows, None
    loaded_stack = step.loaded.stack if step.loaded is not None else []
    if (origin is not None and flows.state(origin.flow, origin.state) is not None
            and (flows.spec.flows[origin.flow].role == conv.role
                 or (flows.spec.flows[origin.flow].shared and loaded_stack))):
        conv.flow, conv.state = origin.flow, origin.state
        conv.stack = list(loaded_stack)
        prompt = conv.prompt
    else:
        conv.offered, conv.prompt = [], None
    # The last prompt may be that very sentence (an `on_error` state saying `error.message`): say it once.
    if not (prompt and str(prompt.get("text", "")).strip() == sentence.strip()):
        step.say_text(sentence)
    if prompt:
        step.turn.messages.append(OutboundMessage.from_dict({**prompt, "to": conv.phone}))
    return HALT


def internal_error(step: Step, exc: BaseException) -> Turn:
    """The turn crashed: nothing it did is kept. The user stays where the last committed turn left them,
    hears `messages.internal_error`, and the error is counted and logged with its traceback."""
    step.counts["errors"] += 1
    loaded = step.loaded
    where = f"{loaded.flow}.{loaded.state}" if loaded is not None else "(new conversation)"
    logger.error("engine error in %s (turn rolled back)", where, exc_info=exc)
    turn = Turn(calls=step.turn.calls, error=f"{type(exc).__name__}: {exc}", conversation=loaded)
    if loaded is not None:
        turn.flow, turn.state = loaded.flow, loaded.state
    text = step.flows.spec.messages.get("internal_error", "")
    if text.strip():
        turn.messages.append(fit_message(OutboundMessage(to=step.event.phone, text=text)))
    return turn
