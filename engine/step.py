"""The work of one event for one user, on a working copy of their conversation.

A Step is given what it uses (compiled flows, actions, the time, the counters) and the conversation
the caller loaded; it never touches the store. Its jobs live in one module each: `engine.inputs`
(matching the input), `engine.movement` (moving between states), `engine.running` (running a state)
and `engine.failures` (what goes wrong). Only a turn that finishes returns its working copy to commit;
a crash returns the loaded conversation unchanged (`engine.failures.internal_error`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import MutableMapping
from datetime import date, datetime, tzinfo
from typing import Any

from engine import languages
from engine.actions import ActionContext, ActionRegistry
from engine.compiler import CompiledFlows
from engine.conversation import Conversation, plain
from engine.events import InboundEvent
from engine.failures import IdentifyError, internal_error
from engine.inputs import respond
from engine.messages import OutboundMessage
from engine.movement import MAX_STEPS, enter
from engine.render import fit_message
from engine.turn import Turn
from flows.targets import Target
from flows.templating import missing_names

__all__ = ["MAX_STEPS", "IdentifyError", "Step"]

logger = logging.getLogger("engine.interpreter")


def local_date(now: datetime, tz: tzinfo | None) -> date:
    """The date at `now` where the users are (`tz`, the platform's time zone; None: `now`'s own)."""
    return now.astimezone(tz).date() if tz is not None else now.date()


class Step:
    """The per-event state, explicit rather than global: the event, the working conversation, the turn."""

    def __init__(self, flows: CompiledFlows, event: InboundEvent, conversation: Conversation | None, *,
                 actions: ActionRegistry, now: datetime, counts: MutableMapping[str, int],
                 tz: tzinfo | None = None) -> None:
        #: The flows in every language; `flows` is them in the user's language (`set_language`).
        self.base = flows
        self.flows = flows.in_language(conversation.language if conversation is not None else "")
        self.actions = actions
        self.counts = counts
        self.event = event
        self.now = now
        #: The date where the users are (the platform's time zone): `today`, `tomorrow` and `min: today` mean
        #: that day, not UTC's, which is still yesterday in Lagos between midnight and 01:00.
        self.today = local_date(now, tz)
        self.turn = Turn()
        self.loaded = conversation
        # A conversation holding only a language (picked, or preset by a test) has not begun either.
        self.fresh = conversation is None or not conversation.flow
        self.conversation = (conversation.working_copy() if conversation is not None
                             else Conversation(phone=event.phone, flow="", state=""))
        self.steps = 0
        #: Whether a user whose language is unknown is asked before the next state (not in a timer's move).
        self.asks_language = True
        self.missing: list[str] = []
        self.origin = None if conversation is None else Target(conversation.flow, conversation.state)

    # -- entry points --------------------------------------------------------------------------------

    async def run(self) -> Turn:
        """Run the turn; `turn.conversation` is the state to commit (the loaded one after a crash)."""
        token = missing_names.set(self.missing)
        try:
            await self._run()
        except IdentifyError:
            raise
        except Exception as exc:
            return internal_error(self, exc)
        finally:
            missing_names.reset(token)
        return self.finish()

    async def start_at(self, target: Target) -> Turn:
        """Enter `target` directly (a known user placed at their menu), without matching any input."""
        await enter(self, target)
        return self.finish()

    def finish(self) -> Turn:
        conv, turn = self.conversation, self.turn
        conv.flows_hash = self.flows.hash
        conv.updated_at = time.time()
        turn.flow, turn.state = conv.flow, conv.state
        turn.within = self.flows.flow_for_role(conv.role) if conv.stack else ""
        turn.conversation = conv
        if self.missing:
            names = sorted(set(self.missing))
            turn.notices.append(f"template rendered empty values: {', '.join(names)}")
            logger.warning("%s.%s rendered empty template values: %s", conv.flow, conv.state, ", ".join(names))
        if turn.messages and self.event.wamid:
            turn.messages[0].reply_to = self.event.wamid
        return turn

    async def _run(self) -> None:
        conv, event, flows = self.conversation, self.event, self.flows
        if event.profile_name:
            conv.vars["profile_name"] = event.profile_name
        if self.fresh:
            await self._begin()
            return
        if flows.state(conv.flow, conv.state) is None:
            self.counts["resets"] += 1
            self.turn.notices.append(f"state {conv.flow}.{conv.state} no longer exists")
            self.say_text(flows.spec.messages.get("state_reset", ""))
            kept = flows.spec.flows.get(conv.flow)
            flow = conv.flow if kept is not None and not kept.shared else flows.flow_for_role(conv.role)
            conv.stack.clear()
            await enter(self, Target(flow, flows.spec.flows[flow].start))
            return
        await respond(self)

    async def _begin(self) -> None:
        """A conversation with no saved state: find out who this is, then start their flow."""
        user = None
        identify = self.flows.spec.session.identify
        if identify and identify in self.actions:
            try:
                user = await self.actions.call(identify, self.context(), {})
            except Exception as exc:
                # Guessing "unlinked" would show a linked user the linking welcome: fail, to be retried.
                raise IdentifyError(f"{identify} failed: {type(exc).__name__}") from exc
        self.conversation.vars["user"] = plain(user) if user else None
        known = user.get("language") if isinstance(user, dict) else None
        if not self.conversation.language and isinstance(known, str) and self.base.offers_language(known):
            self.set_language(known)  # the account's choice, made on another phone or before a reset
        flow = self.flows.flow_for_role(self.conversation.role)
        self.conversation.flow = flow
        await enter(self, Target(flow, self.flows.spec.flows[flow].start))
        if self.event.kind == "other" or self.conversation.state == "":
            return
        # The first message may already answer the start state (an email, a menu number, a notification's
        # button): use it. Asked for a language first, the question then leads where that answer goes.
        conv = self.conversation
        welcome, question = list(self.turn.messages), (conv.flow, conv.state, conv.offered, conv.prompt)
        self.turn.messages.clear()
        if languages.asking(conv):
            conv.offered, conv.prompt = [], None
        if not await respond(self, first=True):
            self.turn.messages[:0] = welcome
            conv.flow, conv.state, conv.offered, conv.prompt = question

    # -- what every job uses -------------------------------------------------------------------------

    def say_text(self, text: str) -> None:
        if text.strip():
            self.turn.messages.append(fit_message(OutboundMessage(to=self.conversation.phone, text=text)))

    def set_language(self, code: str) -> None:
        """Speak `code` from now on ("": unknown, so the engine asks before the next state)."""
        self.conversation.language = code
        self.flows = self.base.in_language(code)

    def apply_set(self, values: dict[str, Any]) -> None:
        if values:
            scope = self.scope()
            for key, raw in values.items():
                value = plain(self.flows.value(raw, scope))
                if key == "language":  # the user's language, not a context value: null asks again
                    if not value or self.base.offers_language(str(value)):
                        self.set_language(str(value or ""))
                    continue
                self.conversation.vars[key] = value

    def scope(self) -> dict[str, Any]:
        """What templates see: the conversation's values and the builtins (`user`, `now`, `messages`...)."""
        conv = self.conversation
        user = conv.vars.get("user") or None
        return {
            **self.flows.env.globals,  # under the values, as Jinja puts them: a text is rendered without a copy
            **conv.vars,
            **(conv.stack[-1].get("args") or {} if conv.stack else {}),
            "user": user,
            "role": conv.role,
            "phone": conv.phone,
            "messages": self.flows.spec.messages,
            "now": self.now,
            "today": self.today.isoformat(),
            "flow": conv.flow,
            "state": conv.state,
            "language": self.flows.language,
        }

    def context(self) -> ActionContext:
        conv = self.conversation
        return ActionContext(phone=conv.phone, user=conv.vars.get("user"), vars=dict(conv.vars), now=self.now,
                             profile_name=self.event.profile_name, language=conv.language)
