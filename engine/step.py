"""The work of one event for one user: match the input, run states and actions, render the replies.

`Engine.handle` wraps a Step in the user's checkout (lock + load ... save + unlock); a Step never touches
the store itself.
"""

from __future__ import annotations

import json
import logging
import re
import time
from typing import TYPE_CHECKING, Any

from engine import paging
from engine.actions import ActionCall, ActionContext, ActionError
from engine.compiler import CompiledCommand, CompiledFlows, keyword_form
from engine.conversation import Conversation
from engine.events import InboundEvent
from engine.matching import capture, normalize
from engine.media import render_media
from engine.messages import OutboundMessage
from engine.render import fit_message, render_say
from engine.turn import Turn
from flows.schema import State
from flows.targets import STAY, Target, resolve
from flows.templating import missing_names

if TYPE_CHECKING:
    from engine.interpreter import Engine

logger = logging.getLogger("engine.interpreter")

MAX_STEPS = 25
#: What `call_action` returns when an action failed with no `on_error`: stop here, render nothing more.
HALT = "\0halt"


class IdentifyError(Exception):
    """Who the user is could not be found out (accounts database down); the event must be retried."""


class Step:
    """The work of one event: a small object so the per-event state is explicit, not global."""

    def __init__(self, engine: Engine, flows: CompiledFlows, event: InboundEvent,
                 conversation: Conversation | None) -> None:
        self.engine = engine
        self.flows = flows
        self.event = event
        self.turn = Turn()
        self.now = engine.clock()
        self.fresh = conversation is None
        self.conversation = conversation or Conversation(phone=event.phone, flow="", state="")
        self.steps = 0
        self.missing: list[str] = []
        self.origin = None if conversation is None else Target(conversation.flow, conversation.state)

    # -- entry point --------------------------------------------------------------------------------

    async def run(self) -> Turn:
        token = missing_names.set(self.missing)
        try:
            await self._run()
        except IdentifyError:
            raise
        except Exception:
            self.engine.counts["errors"] += 1
            logger.exception("engine error in %s.%s", self.conversation.flow, self.conversation.state)
            self.say_text(self.flows.spec.messages.get("internal_error", ""))
        finally:
            missing_names.reset(token)
        conv = self.conversation
        conv.flows_hash = self.flows.hash
        conv.updated_at = time.time()
        self.turn.flow, self.turn.state = conv.flow, conv.state
        if self.missing:
            names = sorted(set(self.missing))
            self.turn.notices.append(f"template rendered empty values: {', '.join(names)}")
            logger.warning("%s.%s rendered empty template values: %s", conv.flow, conv.state, ", ".join(names))
        if self.turn.messages and self.event.wamid:
            self.turn.messages[0].reply_to = self.event.wamid
        return self.turn

    async def _run(self) -> None:
        conv, event = self.conversation, self.event
        if event.profile_name:
            conv.vars["profile_name"] = event.profile_name
        if self.fresh:
            await self._begin()
            return
        if self.flows.state(conv.flow, conv.state) is None:
            self.engine.counts["resets"] += 1
            self.turn.notices.append(f"state {conv.flow}.{conv.state} no longer exists")
            self.say_text(self.flows.spec.messages.get("state_reset", ""))
            flow = conv.flow if conv.flow in self.flows.spec.flows else self.flows.flow_for_role(conv.role)
            await self.enter(Target(flow, self.flows.spec.flows[flow].start))
            return
        await self.respond()

    async def _begin(self) -> None:
        """A conversation with no saved state: find out who this is, then start their flow."""
        user = None
        identify = self.flows.spec.session.identify
        if identify and identify in self.engine.actions:
            try:
                user = await self.engine.actions.call(identify, self.context(), {})
            except Exception as exc:
                # Guessing "unlinked" would show a linked user the linking welcome: fail, to be retried.
                raise IdentifyError(f"{identify} failed: {type(exc).__name__}") from exc
        self.conversation.vars["user"] = _plain(user) if user else None
        flow = self.flows.flow_for_role(self.conversation.role)
        self.conversation.flow = flow
        await self.enter(Target(flow, self.flows.spec.flows[flow].start))
        if self.event.kind == "other" or self.conversation.state == "":
            return
        # The first message may already answer the start state (an email, a menu number): use it.
        welcome = list(self.turn.messages)
        self.turn.messages.clear()
        if not await self.respond(first=True):
            self.turn.messages[:0] = welcome

    # -- matching ------------------------------------------------------------------------------------

    async def respond(self, first: bool = False) -> bool:
        """Match the event against the waiting state; False (on a first message) when nothing matched."""
        conv, event, flows = self.conversation, self.event, self.flows
        state = flows.state(conv.flow, conv.state)
        assert state is not None
        conv.vars["input"] = event.text[:1000]
        if event.kind == "other" or (event.kind == "location" and not any(r.capture == "location" for r in state.on)):
            self.say_text(flows.spec.messages.get("unsupported_message", ""))
            return True
        if event.reply_id is not None:
            offer = _find(conv.offered, "id", event.reply_id)
            if offer is not None:
                await self.choose(offer)
                return True
            command = self.command(reply_id=event.reply_id)
            if command is not None:
                conv.vars["payload"] = command_payload(command, event.reply_id)
                await self.run_command(command)
                return True
            if first:
                return False
            self.say_text(flows.spec.messages.get("stale_choice", ""))
            await self.reprompt()
            return True
        typed = "" if event.kind == "location" else keyword_form(event.text)  # a pin's name is not a command
        offer = self.offer_for_text(typed)
        if offer is not None:
            await self.choose(offer)
            return True
        command = self.command(text=typed)
        if command is not None:
            await self.run_command(command)
            return True
        for index, route in enumerate(state.on):
            value = self.match_route(route, typed)
            if value is _NO_MATCH:
                continue
            if route.into:
                conv.vars[route.into] = value
            self.apply_set(route.set)
            if route.say:
                self.say_text(flows.render(route.say, self.scope()))
            await self.follow(f"on:{index}", route.goto)
            return True
        if first:
            return False
        otherwise = state.otherwise
        text = otherwise.say if otherwise and otherwise.say else flows.spec.messages.get("not_understood", "")
        self.say_text(flows.render(text, self.scope()))
        if otherwise and otherwise.goto:
            await self.follow("otherwise", otherwise.goto)
        else:
            await self.reprompt()
        return True

    def offer_for_text(self, typed: str) -> dict[str, Any] | None:
        offered = self.conversation.offered
        if typed.isdigit() and 1 <= int(typed) <= len(offered):
            return offered[int(typed) - 1]
        if not typed:
            return None
        for offer in offered:
            if normalize(offer["title"]) == typed or normalize(offer["id"]) == typed:
                return offer
        return None

    def command(self, *, text: str | None = None, reply_id: str | None = None) -> CompiledCommand | None:
        role = self.conversation.role
        for command in self.flows.commands:
            if not command.applies_to(role):
                continue
            if (text is not None and text in command.keywords) or (
                    reply_id is not None and command_payload(command, reply_id) is not None):
                return command
        return None

    def match_route(self, route: Any, typed: str) -> Any:
        text = self.event.text
        if (route.capture == "location") != (self.event.kind == "location"):
            return _NO_MATCH  # a shared location answers only `capture: location`, and only it does
        if route.capture == "location":
            return self.event.extra.get("location") or _NO_MATCH
        if route.keywords is not None:
            return typed if typed in self.flows.keywords(tuple(route.keywords)) else _NO_MATCH
        if route.regex is not None:
            found = re.search(route.regex, text.strip(), re.IGNORECASE)
            if not found:
                return _NO_MATCH
            return found.groupdict() or (found.group(1) if found.groups() else found.group(0))
        value = capture(route.capture, text, digits=route.digits, today=self.now.date())
        return _NO_MATCH if value is None else value

    # -- moving --------------------------------------------------------------------------------------

    async def choose(self, offer: dict[str, Any]) -> None:
        conv = self.conversation
        if offer.get("trigger") == paging.TRIGGER:
            await self.show_page(int(offer.get("page") or 0))
            return
        if offer.get("into"):
            conv.vars[offer["into"]] = offer.get("item")
        scope = self.scope()
        if "item" in offer:
            scope["item"] = offer["item"]
        for key, value in (offer.get("set") or {}).items():
            conv.vars[key] = _plain(self.flows.value(value, scope))
        if offer.get("say"):
            self.say_text(self.flows.render(offer["say"], self.scope()))
        found = self.flows.fire(conv.flow, conv.state, offer["trigger"])
        await self.enter(found or Target(conv.flow, conv.state))

    async def show_page(self, page: int) -> None:
        """Another page of the waiting state's list ("More…"): its `say` again, the action not re-run."""
        conv = self.conversation
        state = self.flows.state(conv.flow, conv.state)
        if state is None or state.say is None or state.say.choices_from is None:  # flows changed under it
            await self.enter(Target(conv.flow, conv.state))
            return
        message, conv.offered = render_say(self.flows, state.say, self.scope(), conv.phone, page=page)
        conv.prompt = message.to_dict()
        self.turn.messages.append(message)

    async def run_command(self, command: CompiledCommand) -> None:
        spec = command.spec
        self.apply_set(spec.set)
        if spec.say:
            self.say_text(self.flows.render(spec.say, self.scope()))
        if spec.goto == STAY:
            await self.reprompt()
            return
        await self.follow(f"cmd:{command.name}", spec.goto)

    async def follow(self, trigger: str, target: str | None) -> None:
        """Leave the current state by `trigger`; with no target, re-enter it (fresh data, re-prompt)."""
        conv = self.conversation
        if target is None or target == STAY:
            await self.enter(Target(conv.flow, conv.state))
            return
        found = self.flows.fire(conv.flow, conv.state, trigger)
        if found is None:  # a target the machine does not know: the checker prevents this
            found = resolve(target, conv.flow, self.flows.spec)
        if found is None:
            raise RuntimeError(f"no transition {trigger!r} from {conv.flow}.{conv.state}")
        await self.enter(found)

    async def enter(self, target: Target) -> None:
        """Run states from `target` until one waits for input."""
        conv, flows = self.conversation, self.flows
        while True:
            self.steps += 1
            if self.steps > MAX_STEPS:
                logger.error("flow loop: more than %d states in one turn, last %s", MAX_STEPS, target)
                self.say_text(flows.spec.messages.get("internal_error", ""))
                menu_flow = flows.flow_for_role(conv.role)
                conv.flow, conv.state = menu_flow, flows.spec.flows[menu_flow].menu
                conv.offered, conv.prompt = [], None
                return
            target = self.guard_role(target)
            state = flows.state(target.flow, target.state)
            if state is None:
                raise RuntimeError(f"unknown state {target}")
            conv.flow, conv.state = target.flow, target.state
            trigger = await self.run_state(state)
            if trigger is None:
                return
            found = flows.fire(conv.flow, conv.state, trigger)
            if found is None:
                raise RuntimeError(f"no transition {trigger!r} from {conv.flow}.{conv.state}")
            target = found

    def guard_role(self, target: Target) -> Target:
        """An unlinked user never enters a role flow, and no role enters another role's flow."""
        role = self.conversation.role
        flow_role = self.flows.spec.flows[target.flow].role
        if flow_role == role:
            return target
        own = self.flows.flow_for_role(role)
        logger.warning("role guard: %s user sent to %s; back to %s", role, target, own)
        self.turn.notices.append(f"role guard redirected {target} to {own}")
        return Target(own, self.flows.spec.flows[own].menu)

    async def run_state(self, state: State) -> str | None:
        """Run one state; the trigger to leave it by, or None when it waits for input."""
        conv, flows = self.conversation, self.flows
        self.apply_set(state.set)
        if state.call:
            outcome = await self.call_action(state)
            if outcome == HALT:  # failed with no `on_error`: the user is back at their last prompt
                return None
            if outcome is not None:
                return outcome
        for index, branch in enumerate(state.branch):
            if flows.evaluate(branch.when, self.scope()):
                self.apply_set(branch.set)
                if branch.say:
                    self.say_text(flows.render(branch.say, self.scope()))
                if branch.goto is None or branch.goto == STAY:
                    break
                return f"branch:{index}"
        if state.say:
            self.turn.messages.extend(render_media(flows, state.say, self.scope(), conv.phone))
            message, offered = render_say(flows, state.say, self.scope(), conv.phone)
            self.turn.messages.append(message)
            if state.waits:
                conv.offered = offered
                conv.prompt = message.to_dict()
        elif state.waits:
            conv.offered, conv.prompt = [], None
        if state.goto is not None:
            return "next"
        return None

    async def call_action(self, state: State) -> str | None:
        conv, flows = self.conversation, self.flows
        assert state.call is not None
        args = _plain(flows.value(state.with_, self.scope())) if state.with_ else {}
        record = ActionCall(state.call, args)
        self.turn.calls.append(record)
        try:
            result = await self.engine.actions.call(state.call, self.context(), args)
        except ActionError as exc:
            record.ok, record.error = False, exc.kind
            logger.info("action %s failed (%s) in %s.%s", state.call, exc.kind, conv.flow, conv.state)
            return self.action_failed(state, self.describe_error(exc))
        except Exception as exc:
            record.ok, record.error = False, "internal"
            logger.exception("action %s raised in %s.%s", state.call, conv.flow, conv.state)
            message = flows.spec.messages.get("action_failed", "")
            return self.action_failed(state, {"kind": "internal", "message": message, "detail": type(exc).__name__})
        value = _plain(result)
        conv.vars[state.as_ or "result"] = value
        if state.on_empty and _is_empty(value):
            return "empty"
        return None

    def describe_error(self, exc: ActionError) -> dict[str, Any]:
        """`error` for templates: the adapter's message, unless flows.yaml rewords it (`messages.error_<kind>`)."""
        error: dict[str, Any] = {**_plain(exc.data), "kind": exc.kind, "message": exc.user_message}
        reworded = self.flows.spec.messages.get(f"error_{exc.kind}")
        if reworded:
            error["message"] = self.flows.render(reworded, {**self.scope(), "error": error})
        return error

    def action_failed(self, state: State, error: dict[str, Any]) -> str | None:
        conv = self.conversation
        conv.vars["error"] = error
        if state.on_error:
            return "error"
        # No route for the failure: say why and keep the user where they were (their last prompt).
        self.say_text(error.get("message") or self.flows.spec.messages.get("action_failed", ""))
        origin = self.origin
        if (origin is not None and self.flows.state(origin.flow, origin.state) is not None
                and self.flows.spec.flows[origin.flow].role == conv.role):
            conv.flow, conv.state = origin.flow, origin.state
            if conv.prompt:
                self.turn.messages.append(OutboundMessage.from_dict({**conv.prompt, "to": conv.phone}))
        else:
            conv.offered, conv.prompt = [], None
        return HALT

    # -- helpers -------------------------------------------------------------------------------------

    async def reprompt(self) -> None:
        """Show the last prompt again; with none saved (e.g. after a failed start), re-enter the state."""
        conv = self.conversation
        if conv.prompt:
            self.turn.messages.append(OutboundMessage.from_dict({**conv.prompt, "to": conv.phone}))
        else:
            await self.enter(Target(conv.flow, conv.state))

    def say_text(self, text: str) -> None:
        if text.strip():
            self.turn.messages.append(fit_message(OutboundMessage(to=self.conversation.phone, text=text)))

    def apply_set(self, values: dict[str, Any]) -> None:
        if values:
            scope = self.scope()
            for key, raw in values.items():
                self.conversation.vars[key] = _plain(self.flows.value(raw, scope))

    def scope(self) -> dict[str, Any]:
        conv = self.conversation
        user = conv.vars.get("user") or None
        return {
            **conv.vars,
            "user": user,
            "role": conv.role,
            "phone": conv.phone,
            "messages": self.flows.spec.messages,
            "now": self.now,
            "today": self.now.date().isoformat(),
            "flow": conv.flow,
            "state": conv.state,
        }

    def context(self) -> ActionContext:
        conv = self.conversation
        return ActionContext(phone=conv.phone, user=conv.vars.get("user"), vars=dict(conv.vars), now=self.now,
                             profile_name=self.event.profile_name)


_NO_MATCH = object()


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


def _find(items: list[dict[str, Any]], key: str, value: Any) -> dict[str, Any] | None:
    for item in items:
        if item.get(key) == value:
            return item
    return None


def _is_empty(value: Any) -> bool:
    if value is None or value == [] or value == {} or value == "":
        return True
    if isinstance(value, dict) and "items" in value and not value["items"]:
        return True
    return False


def _plain(value: Any) -> Any:
    """Action results and set values as JSON data, so they survive the store unchanged."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if hasattr(value, "model_dump"):
        value = value.model_dump(mode="json")
    return json.loads(json.dumps(value, default=str))

