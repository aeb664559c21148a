"""Contact cards, pins and photos before a state's text (left out when their data is missing), command ids
that match by prefix with the rest as `payload`, punctuation-only input, and a shared location answered
only by `capture: location`. Small fixture flows, not the shipped wording."""

from __future__ import annotations

import asyncio
from typing import Any

import fakeredis
import yaml

from engine.actions import ActionRegistry
from engine.compiler import CompiledFlows
from engine.events import InboundEvent
from engine.interpreter import Engine
from engine.store import ConversationStore
from flows.limits import violations
from flows.loader import LoadedFlows, check_text
from flows.schema import FlowFile

MESSAGES = {
    "not_understood": "Sorry?", "stale_choice": "Old button.", "unsupported_message": "Text only.",
    "action_failed": "Failed.", "state_reset": "Reset.", "rate_limited": "Slow.", "internal_error": "Oops.",
}
PLACES = {
    "p1": {"name": "Flat", "lat": 6.45, "lng": 3.47, "phone": "+2348010000002", "photos": [f"https://x.example/{i}.jpg"
                                                                                          for i in range(8)]},
    "p2": {"name": "Barn", "lat": None, "lng": None, "phone": "", "photos": []},
}
SPEC: dict[str, Any] = {
    "messages": MESSAGES,
    "commands": {
        "menu": {"keywords": ["menu"], "ids": ["menu"], "goto": "@menu"},
        "help": {"keywords": ["?"], "goto": "@help"},
        "show": {"ids": ["show:*"], "set": {"place_id": "{{ payload }}"}, "goto": "@place"},
    },
    "flows": {"unlinked": {"role": "unlinked", "start": "home", "menu": "home", "states": {
        "home": {
            "say": {"text": "Home", "choices": [{"id": "go", "title": "Go", "goto": "near"}]},
            "on": [{"keywords": ["!"], "goto": "bang"}],
        },
        "bang": {"say": "Bang!", "goto": "home"},
        "help": {"say": "Help text", "goto": "home"},
        "near": {
            "say": {"text": "Share a location", "choices": [{"id": "back", "title": "Back", "goto": "home"}]},
            "on": [{"capture": "location", "into": "here", "goto": "found"}],
        },
        "found": {"say": "You are at {{ here.latitude }},{{ here.longitude }}", "goto": "home"},
        "place": {
            "call": "demo.place", "with": {"place_id": "{{ place_id }}"}, "as": "place",
            "say": {
                "contact": {"name": "{{ place.name }} agent", "phone": "{{ place.phone }}"},
                "location": {"latitude": "{{ place.lat }}", "longitude": "{{ place.lng }}", "name": "{{ place.name }}",
                             "if": "place.lat is not none"},
                "photos": {"items": "place.photos[1:]", "caption": "{{ place.name }} {{ index }}", "limit": 5},
                "text": "{{ place.name }}",
                "choices": [{"id": "back", "title": "Back", "goto": "home"}],
            },
        },
    }}},
}


def engine() -> Engine:
    _, report = check_text(yaml.safe_dump(SPEC, allow_unicode=True))
    assert report.errors == [], [p.format() for p in report.errors]
    loaded = LoadedFlows(spec=FlowFile.model_validate(SPEC), report=report, path="t.yaml", sha256="0" * 64)
    registry = ActionRegistry()

    @registry.action("demo.place")
    async def place(ctx: Any, place_id: str) -> dict[str, Any]:
        return PLACES[place_id]

    return Engine(CompiledFlows(loaded), registry, ConversationStore(fakeredis.FakeAsyncRedis()))


def test_media_come_before_the_text_and_are_left_out_without_their_data() -> None:
    bot = engine()

    async def run() -> None:
        phone = "+2348000000011"
        await bot.handle(InboundEvent(phone=phone, text="hello"))
        turn = await bot.handle(InboundEvent(phone=phone, kind="button", text="x", reply_id="show:p1"))
        assert [m.kind for m in turn.messages] == ["contacts", "location"] + ["image"] * 5 + ["buttons"]
        assert turn.messages[0].media == {"name": "Flat agent", "phone": "+2348010000002"}
        assert turn.messages[1].media["latitude"] == "6.45"
        assert [m.text for m in turn.messages[2:7]] == [f"Flat {i}" for i in range(1, 6)]
        assert all(violations(m) == [] for m in turn.messages)
        turn = await bot.handle(InboundEvent(phone=phone, kind="button", text="x", reply_id="show:p2"))
        assert [m.kind for m in turn.messages] == ["buttons"]  # no phone, no pin, no photos: left out
        turn = await bot.handle(InboundEvent(phone=phone, kind="button", text="x", reply_id="show:"))
        assert turn.messages[0].text.startswith("Old button.")  # a bare prefix names nothing

    asyncio.run(run())


def test_punctuation_alone_matches_only_its_own_keyword() -> None:
    bot = engine()

    async def run() -> None:
        phone = "+2348000000012"
        await bot.handle(InboundEvent(phone=phone, text="hello"))
        assert (await bot.handle(InboundEvent(phone=phone, text="..."))).messages[0].text.startswith("Sorry?")
        assert (await bot.handle(InboundEvent(phone=phone, text=" ? "))).messages[0].text == "Help text"
        assert (await bot.handle(InboundEvent(phone=phone, text="!"))).messages[0].text == "Bang!"

    asyncio.run(run())


def test_a_shared_location_answers_only_a_location_route() -> None:
    bot = engine()
    pin = {"latitude": 6.5, "longitude": 3.37, "name": "Home", "address": ""}

    async def run() -> None:
        phone = "+2348000000013"
        await bot.handle(InboundEvent(phone=phone, text="hello"))
        turn = await bot.handle(InboundEvent(phone=phone, kind="location", text="Home", extra={"location": pin}))
        assert turn.messages[0].text == "Text only." and turn.state == "home"  # home takes no location
        await bot.handle(InboundEvent(phone=phone, kind="button", text="Go", reply_id="go"))
        turn = await bot.handle(InboundEvent(phone=phone, text="6.5, 3.37"))  # typed text is not a location
        assert turn.messages[0].text.startswith("Sorry?")
        turn = await bot.handle(InboundEvent(phone=phone, kind="location", text="Home", extra={"location": pin}))
        assert turn.messages[0].text == "You are at 6.5,3.37"

    asyncio.run(run())
