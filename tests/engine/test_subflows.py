"""Shared flows entered with arguments that return a value, nested ones, the bound on the return stack, the
`menu` command and commands leaving every shared flow, conversations stored before the stack existed, and
lists of calls that stop at the first failure. Small fixture flows, not the shipped wording."""

from __future__ import annotations

import asyncio
import copy
from typing import Any

import fakeredis
import orjson
import pytest
import yaml

from engine.actions import ActionError, ActionRegistry
from engine.compiler import CompiledFlows
from engine.conversation import Conversation
from engine.events import InboundEvent
from engine.interpreter import Engine
from engine.store import ConversationStore
from flows.loader import LoadedFlows, check_text
from flows.schema_reuse import MAX_DEPTH

MESSAGES = {
    "not_understood": "Sorry?", "stale_choice": "Old button.", "unsupported_message": "Text only.",
    "action_failed": "Failed.", "state_reset": "Reset.", "rate_limited": "Slow.", "internal_error": "Oops.",
}
SPEC: dict[str, Any] = {
    "messages": MESSAGES,
    "commands": {
        "menu": {"keywords": ["menu"], "ids": ["menu"], "goto": "@menu"},
        "help": {"keywords": ["?"], "goto": "@help"},
    },
    "choices": {"home": {"id": "home", "title": "Home", "goto": "@menu"}},
    "notifications": {"ping": {"text": "Ping", "choices": [{"id": "to_help", "title": "Help", "goto": "@help"}],
                               "template": {"name": "ping"}}},
    "flows": {
        "unlinked": {"role": "unlinked", "start": "home", "menu": "home", "states": {
            "home": {"say": {"text": "Home", "choices": [
                {"id": "ask", "title": "Ask", "goto": "ask"}, {"id": "deep", "title": "Deep", "goto": "deep"},
                {"id": "many", "title": "Many", "goto": "many"}, {"id": "routed", "title": "Routed", "goto": "routed"},
            ]}},
            "ask": {"subflow": {"flow": "confirm", "with": {"question": "Sure, {{ profile_name or 'friend' }}?"},
                                "then": "answered", "as": "answer"}},
            "answered": {"say": {"text": "You said {{ 'nothing' if answer is none else answer }}", "choices": [{"use": "home"}]}},
            "deep": {"subflow": {"flow": "outer", "then": "home"}},
            "help": {"say": "Help", "goto": "home"},
            "many": {"call": [{"action": "t.one", "as": "one"}, {"action": "t.two", "as": "two"},
                              {"action": "t.three", "as": "three"}],
                     "say": "{{ one }} {{ two }} {{ three }}", "goto": "home"},
            "routed": {"call": [{"action": "t.one", "as": "one"},
                                {"action": "t.two", "as": "two", "on_error": "@continue"},
                                {"action": "t.three", "as": "three", "on_error": "broken"}],
                       "say": "all done", "goto": "home"},
            "broken": {"say": {"text": "Broken after {{ one }}: {{ error.kind }}", "choices": [{"use": "home"}]}},
        }},
        "confirm": {"role": "shared", "start": "ask", "params": {"question": {}, "yes": {"default": "Yes"}},
                    "states": {
                        "ask": {"say": {"text": "{{ question }}", "choices": [
                            {"id": "yes", "title": "{{ yes }}", "goto": "yes"},
                            {"id": "no", "title": "No", "goto": "@return"}]}},
                        "yes": {"return": "{{ question|length }}"},
                    }},
        "outer": {"role": "shared", "start": "enter", "states": {
            "enter": {"subflow": {"flow": "confirm", "with": {"question": "Inner?", "yes": "Sure"}, "then": "after",
                                  "as": "inner"}},
            "after": {"say": "Inner said {{ inner }}", "return": "{{ inner }}"},
        }},
    },
}
PHONE = "+2348000000077"


class Calls:
    def __init__(self) -> None:
        self.made: list[str] = []
        self.failing: set[str] = set()
        self.round = 1


def engine(spec: dict[str, Any] = SPEC, checked: bool = True) -> tuple[Engine, Calls]:
    text = yaml.safe_dump(spec, allow_unicode=True)
    checked_spec, report = check_text(text)
    assert checked_spec is not None
    if checked:
        assert report.errors == [], [p.format() for p in report.errors]
    loaded = LoadedFlows(spec=checked_spec, report=report, path="t.yaml", sha256="0" * 64)
    calls = Calls()
    registry = ActionRegistry()
    for name in ("t.one", "t.two", "t.three"):
        async def action(ctx: Any, _name: str = name) -> str:
            calls.made.append(_name)
            if _name in calls.failing:
                raise ActionError(f"{_name} is down", kind="unavailable")
            return f"{_name.upper()}{calls.round}"
        registry.register(name, action)
    return Engine(CompiledFlows(loaded), registry, ConversationStore(fakeredis.FakeAsyncRedis())), calls


async def tap(bot: Engine, reply_id: str) -> Any:
    return await bot.handle(InboundEvent(phone=PHONE, kind="button", text=reply_id, reply_id=reply_id))


async def say(bot: Engine, text: str) -> Any:
    return await bot.handle(InboundEvent(phone=PHONE, text=text))


async def stack(bot: Engine) -> list[dict[str, Any]]:
    conversation = await bot.store.load(PHONE)
    assert conversation is not None
    return conversation.stack


def test_a_shared_flow_gets_its_arguments_and_returns_a_value_to_the_caller() -> None:
    bot, _ = engine()

    async def run() -> None:
        await say(bot, "hi")
        turn = await tap(bot, "ask")
        assert [m.text for m in turn.messages] == ["Sure, friend?"]
        assert [b.title for b in turn.messages[0].buttons] == ["Yes", "No"]  # `yes` took its default
        assert (turn.flow, turn.state, turn.within) == ("confirm", "ask", "unlinked")
        assert await stack(bot) == [{"flow": "unlinked", "state": "ask", "args": {"question": "Sure, friend?",
                                                                                 "yes": "Yes"}}]
        turn = await tap(bot, "yes")
        assert [m.text for m in turn.messages] == ["You said 13"]  # len("Sure, friend?"), as a number
        assert (turn.flow, turn.state, turn.within) == ("unlinked", "answered", "")
        assert await stack(bot) == []
        assert "question" not in (await bot.store.load(PHONE)).vars  # type: ignore[union-attr]  # its own
        await tap(bot, "home")
        await tap(bot, "ask")
        turn = await tap(bot, "no")  # `@return` gives nothing back
        assert [m.text for m in turn.messages] == ["You said nothing"]

    asyncio.run(run())


def test_shared_flows_nest_and_each_returns_to_its_own_caller() -> None:
    bot, _ = engine()

    async def run() -> None:
        await say(bot, "hi")
        turn = await tap(bot, "deep")
        assert turn.messages[0].text == "Inner?" and [b.title for b in turn.messages[0].buttons] == ["Sure", "No"]
        assert [(f["flow"], f["state"]) for f in await stack(bot)] == [("unlinked", "deep"), ("outer", "enter")]
        turn = await tap(bot, "yes")
        assert [m.text for m in turn.messages] == ["Inner said 6", "Home"]
        assert (turn.flow, turn.state) == ("unlinked", "home") and await stack(bot) == []

    asyncio.run(run())


@pytest.mark.parametrize("leave", ["menu", "?", "to_help"])
def test_the_menu_command_or_any_command_leaves_every_shared_flow(leave: str) -> None:
    """`menu`, another command, or a notification's button naming a state of the user's own flow."""
    bot, _ = engine()

    async def run() -> None:
        await say(bot, "hi")
        await tap(bot, "deep")
        assert len(await stack(bot)) == 2
        turn = await (tap(bot, leave) if leave == "to_help" else say(bot, leave))
        assert (turn.flow, turn.state) == ("unlinked", "home") and turn.messages[-1].text == "Home"
        assert await stack(bot) == []

    asyncio.run(run())


def test_the_return_stack_is_bounded_and_a_deeper_call_rolls_the_turn_back() -> None:
    spec = copy.deepcopy(SPEC)
    spec["flows"]["again"] = {"role": "shared", "start": "go", "states": {
        "go": {"subflow": {"flow": "again", "then": "@return"}}}}
    spec["flows"]["unlinked"]["states"]["deep"] = {"subflow": {"flow": "again", "then": "home"}}
    _, report = check_text(yaml.safe_dump(spec, allow_unicode=True))
    assert any("call each other in a circle (again → again)" in p.message for p in report.errors)
    bot, _ = engine(spec, checked=False)  # the engine holds the line even when `check` was skipped

    async def run() -> None:
        await say(bot, "hi")
        turn = await tap(bot, "deep")
        assert turn.error is not None and "SubflowError" in turn.error and f"{MAX_DEPTH} deep" in turn.error
        assert [m.text for m in turn.messages] == ["Oops."]
        saved = await bot.store.load(PHONE)
        assert saved is not None and (saved.flow, saved.state, saved.stack) == ("unlinked", "home", [])

    asyncio.run(run())


def test_a_conversation_stored_before_the_stack_existed_still_loads() -> None:
    bot, _ = engine()
    old = {"phone": PHONE, "flow": "unlinked", "state": "home", "vars": {"user": None}, "offered": [],
           "prompt": None, "version": 3, "flows_hash": "abc", "updated_at": 1.0}
    conversation = Conversation.loads(orjson.dumps(old))
    assert conversation.stack == [] and conversation.version == 3

    async def run() -> None:
        turn = await bot.run_turn(InboundEvent(phone=PHONE, text="?"), conversation)
        assert [m.text for m in turn.messages] == ["Help", "Home"] and turn.conversation is not None
        stored = orjson.loads(turn.conversation.dumps())
        assert stored["stack"] == [] and Conversation.loads(turn.conversation.dumps()).stack == []

    asyncio.run(run())


def test_a_list_of_calls_stops_at_the_first_failure_and_takes_its_results_back() -> None:
    bot, calls = engine()

    async def run() -> None:
        await say(bot, "hi")
        turn = await tap(bot, "many")
        assert [m.text for m in turn.messages] == ["T.ONE1 T.TWO1 T.THREE1", "Home"]
        calls.made.clear()
        calls.failing, calls.round = {"t.two"}, 2
        turn = await tap(bot, "many")
        assert calls.made == ["t.one", "t.two"]  # t.three never ran
        assert [m.text for m in turn.messages] == ["t.two is down", "Home"]  # said, then the last prompt
        saved = await bot.store.load(PHONE)
        assert saved is not None and saved.state == "home"
        assert saved.vars["one"] == "T.ONE1" and saved.vars["two"] == "T.TWO1"  # as before, not this turn's T.ONE2

    asyncio.run(run())


def test_each_call_of_a_list_routes_its_own_failure() -> None:
    bot, calls = engine()

    async def run() -> None:
        await say(bot, "hi")
        calls.failing = {"t.two"}
        turn = await tap(bot, "routed")  # t.two carries on (`@continue`)
        assert calls.made == ["t.one", "t.two", "t.three"] and turn.messages[0].text == "all done"
        calls.failing = {"t.two", "t.three"}
        turn = await tap(bot, "routed")  # t.three's failure goes to its own `on_error`
        assert [m.text for m in turn.messages] == ["Broken after T.ONE1: unavailable"]
        assert turn.state == "broken"

    asyncio.run(run())
