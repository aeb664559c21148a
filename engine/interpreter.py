"""The interpreter: one inbound event for one user = load -> match -> act -> render -> save.

The engine knows flows, actions by name and a store; it imports no adapter. Flows are swapped
atomically (hot reload): each event runs entirely on the flows it started with.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, tzinfo
from typing import Any

from engine import languages
from engine.actions import ActionRegistry
from engine.compiler import CompiledFlows
from engine.context import turn_scope
from engine.conversation import Conversation
from engine.events import InboundEvent
from engine.messages import Button, OutboundMessage, TemplateRef
from engine.render import fit_message
from engine.step import IdentifyError, Step, local_date
from engine.store import ConversationStore
from engine.timeouts import Timer, timers_for
from engine.turn import Turn
from flows.targets import Target

__all__ = ["Engine", "IdentifyError", "Step"]

logger = logging.getLogger(__name__)

#: Takes the timers of a committed turn and runs each when due (the jobs adapter's `schedule_timeouts`).
TimerSink = Callable[[list[Timer]], Awaitable[object]]


class Engine:
    """Interprets compiled flows for every user; per-user state lives in the store."""

    def __init__(
        self,
        flows: CompiledFlows,
        actions: ActionRegistry,
        store: ConversationStore,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        observe: Callable[[str], None] | None = None,
        timers: TimerSink | None = None,
        tz: tzinfo | None = None,
    ) -> None:
        self.flows = flows
        #: Told `ok` or `error` after every turn (the composition root points it at the metrics).
        self.observe = observe
        self.actions = actions
        self.store = store
        self.clock = clock
        #: The users' time zone: what `today` and `tomorrow` mean in answers (None: the clock's own).
        self.tz = tz
        self.counts = {"events": 0, "errors": 0, "resets": 0}
        #: Where the timeouts of a waiting state go to be run when due (the background jobs); None: nowhere.
        self.timers = timers

    def today(self) -> date:
        """The users' date now: what a typed `today` means (see `Step.today`)."""
        return local_date(self.clock(), self.tz)

    async def schedule_timers(self, conversation: Conversation | None) -> None:
        """Hand the timeouts of the state a turn leaves the user in to `timers`. Safe before the commit: a
        timer names the commit stamp, so one whose turn was never committed finds nothing to do."""
        if conversation is not None and languages.asking(conversation):
            return  # the state's timeouts start once it has been entered, after the question
        found = timers_for(self, conversation) if self.timers is not None else []
        if not found or self.timers is None:
            return
        try:
            await self.timers(found)
        except Exception as exc:  # a missed nudge must not cost the user their turn
            logger.warning("timeouts of %s.%s not scheduled: %s", found[0].flow, found[0].state,
                           type(exc).__name__)

    def replace_flows(self, flows: CompiledFlows) -> None:
        """Swap in new flows; events already running finish on the old ones."""
        self.flows = flows

    async def handle(self, event: InboundEvent) -> Turn:
        """Lock and load the user's conversation, run one turn, save and unlock (chat, tests, jobs)."""
        async with self.store.checkout(event.phone) as checkout:
            turn = await self.run_turn(event, checkout.conversation)
            if turn.conversation is not None:  # None: a new user's first turn crashed, nothing to keep
                await checkout.commit(turn.conversation)
        return turn

    async def run_turn(self, event: InboundEvent, conversation: Conversation | None) -> Turn:
        """One turn on a conversation the caller loaded; the store is never touched.

        The caller commits `turn.conversation` (the state after the turn) together with whatever else must
        change atomically with it (the WhatsApp pipeline writes it with the replies and the inbox ack).
        The turn works on a copy: when it crashes, `turn.conversation` is `conversation` itself, unchanged
        (None for a new user), `turn.error` says why and the reply is `messages.internal_error`."""
        with turn_scope(event.phone, event.wamid or "") as scope:
            if conversation is not None:
                scope.flow, scope.state = conversation.flow, conversation.state
            step = Step(self.flows, event, conversation, actions=self.actions, now=self.clock(), counts=self.counts,
                        tz=self.tz)
            try:
                turn = await step.run()
            except Exception:  # e.g. IdentifyError, raised for the pipeline to retry
                if self.observe is not None:
                    self.observe("error")
                raise
            if not scope.flow:  # a new conversation: known once the turn has placed it
                scope.flow, scope.state = turn.flow, turn.state
        self.counts["events"] += 1
        if self.observe is not None:
            self.observe("error" if turn.error else "ok")
        if turn.error is None:
            await self.schedule_timers(turn.conversation)
        return turn

    def notice(self, phone: str, key: str, *, language: str = "", **values: object) -> OutboundMessage:
        flows = self.flows.in_language(language)
        text = flows.spec.messages.get(key, "")
        scope = {"messages": flows.spec.messages, **values}
        return fit_message(OutboundMessage(to=phone, text=flows.render(text, scope)))

    def notification(
        self, name: str, phone: str, values: dict[str, Any], *, in_window: bool, language: str = ""
    ) -> OutboundMessage:
        """A business-initiated message: free-form inside the 24-hour window, its template outside; in the
        recipient's `language` (this file's own when unknown)."""
        flows = self.flows.in_language(language)
        spec = flows.spec.notifications[name]
        scope = {"messages": flows.spec.messages, "language": flows.language, **values}
        if not in_window:
            params = [flows.render(p, scope) for p in spec.template.params]
            return OutboundMessage(
                to=phone, kind="template", text=flows.render(spec.text, scope),
                template=TemplateRef(spec.template.name, spec.template.language, params),
            )
        message = OutboundMessage(to=phone, text=flows.render(spec.text, scope))
        if spec.choices:
            message.kind = "buttons"
            # Ids are templates too, so a button can name what it is about (`directions:{{ inspection.id }}`).
            message.buttons = [Button(flows.render(c.id, scope), flows.render(c.title, scope)) for c in spec.choices]
        return fit_message(message)

    async def preset_language(self, phone: str, code: str) -> None:
        """Treat `phone`'s language as chosen (a test's user who answered the question long ago)."""
        async with self.store.checkout(phone) as checkout:
            found = checkout.conversation
            conversation = found or Conversation(phone=phone, flow="", state="")
            conversation.language = code
            await checkout.commit(conversation)

    async def start_as(self, phone: str, user: dict[str, Any] | None) -> Turn:
        """Begin a conversation for a known user (a linked demo user in `chat --as`) at their menu.

        The menu is rendered and its choices stored, so a tap on it works; the Turn holds its messages."""
        flows = self.flows
        role = (user or {}).get("role") or "unlinked"
        flow = flows.flow_for_role(role)
        state = flows.spec.flows[flow].menu
        async with self.store.checkout(phone) as checkout:
            previous = checkout.conversation
            known = str((user or {}).get("language") or "")
            language = (previous.language if previous else "") or (known if flows.offers_language(known) else "")
            conversation = Conversation(phone=phone, flow=flow, state=state, vars={"user": user},
                                        flows_hash=flows.hash, version=previous.version if previous else 0,
                                        language=language)
            step = Step(flows, InboundEvent(phone=phone), conversation, actions=self.actions, now=self.clock(),
                        counts=self.counts, tz=self.tz)
            turn = await step.start_at(Target(flow, state))
            assert turn.conversation is not None
            await checkout.commit(turn.conversation)
        await self.schedule_timers(turn.conversation)
        return turn
