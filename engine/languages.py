"""The language question: asked once, before the first state the engine enters for a user whose language
is unknown (a new number, or after `set: {language: null}`), then that state runs in the chosen language.

The question and the languages on offer come from flows.yaml (`languages:`) and its translations; the
answer is kept in the conversation and, for a linked user, on the account (`session.remember_language`),
so a new conversation of the same account is not asked again. A user who answers something else reads
this file's own language and their message is taken as an answer to the state they were going to.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from engine.actions import ActionCall
from engine.conversation import Conversation
from engine.messages import Button, OutboundMessage
from engine.offers import Offer
from engine.render import fit_message
from flows.targets import Target

if TYPE_CHECKING:
    from engine.step import Step

logger = logging.getLogger("engine.interpreter")

#: The trigger of a language's button: `language:<code>`.
PREFIX = "language:"


def needs_asking(step: Step) -> bool:
    """Whether the user must pick a language before the next state: there is a choice and none was made."""
    return step.asks_language and bool(step.flows.languages) and not step.conversation.language


def asking(conversation: Conversation) -> bool:
    """Whether the message the user is answering is the language question."""
    return any(offer.trigger.startswith(PREFIX) for offer in conversation.offered)


def ask(step: Step, then: Target) -> None:
    """Send the question; the answer enters `then` (where the user was going), which stays their place."""
    conv, flows = step.conversation, step.flows
    spec = flows.spec.languages
    assert spec is not None  # `languages` is empty without it
    conv.flow, conv.state = then.flow, then.state
    conv.offered = [Offer(id=f"{PREFIX}{code}", title=name, trigger=f"{PREFIX}{code}")
                    for code, name in flows.languages]
    message = fit_message(OutboundMessage(
        to=conv.phone, kind="buttons", text=flows.render(spec.question, step.scope()).strip(),
        buttons=[Button(offer.id, offer.title) for offer in conv.offered]))
    conv.prompt = message.to_dict()
    step.turn.messages.append(message)


async def remember(step: Step, code: str) -> None:
    """Keep a linked user's choice on their account; a failure costs only that (the conversation has it)."""
    conv = step.conversation
    action = step.flows.spec.session.remember_language
    user = conv.vars.get("user")
    if isinstance(user, dict):
        conv.vars["user"] = {**user, "language": code}
    if not action or conv.role == "unlinked" or action not in step.actions:
        return
    record = ActionCall(action, {"language": code})
    step.turn.calls.append(record)
    try:
        await step.actions.call(action, step.context(), dict(record.args))
    except Exception as exc:
        record.ok, record.error = False, type(exc).__name__
        logger.warning("%s failed: %s; the language stays in the conversation", action, type(exc).__name__)
