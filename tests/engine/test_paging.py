"""'More…' paging: every item is offered on exactly one page, every page fits a WhatsApp list, and `check`
warns about a list source with paging turned off."""

from __future__ import annotations

import asyncio
from typing import Any

import fakeredis
import yaml
from hypothesis import given
from hypothesis import strategies as st

from engine.actions import ActionRegistry
from engine.compiler import CompiledFlows
from engine.events import InboundEvent
from engine.interpreter import Engine
from engine.paging import TRIGGER, page_of
from engine.store import ConversationStore
from flows import limits
from flows.loader import LoadedFlows, check_text
from flows.schema import FlowFile

MESSAGES = {
    "not_understood": "Sorry?", "stale_choice": "Old button.", "unsupported_message": "Text only.",
    "action_failed": "Failed.", "state_reset": "Reset.", "rate_limited": "Slow.", "internal_error": "Oops.",
}


@given(total=st.integers(0, 60), limit=st.integers(1, 10), fixed=st.integers(0, 9))
def test_pages_cover_every_item_once_and_fit(total: int, limit: int, fixed: int) -> None:
    items = list(range(total))
    room = limits.MAX_ROWS - fixed
    first = page_of(items, limit, room)
    if first.next is None:
        assert first.items == items[: min(limit, room)]
        return
    seen: list[int] = []
    number: int | None = 0
    while True:
        page = page_of(items, limit, room, number or 0)
        assert 1 <= len(page.items) <= min(limit, room - 1)  # one row is kept for "More…"
        seen += page.items
        number = page.next
        if number == 0:
            break
    assert seen == items


def spec(paging: bool = True) -> dict[str, Any]:
    return {
        "messages": {**MESSAGES, "list_more": "Next ({{ first }}-{{ last }})"},
        "commands": {"menu": {"keywords": ["menu"], "goto": "@menu"}},
        "flows": {
            "unlinked": {"role": "unlinked", "start": "pick", "menu": "pick", "states": {
                "pick": {
                    "call": "demo.items", "as": "items",
                    "say": {"text": "Pick one", "choices_from": {
                        "items": "items", "id": "it:{{ item }}", "title": "Item {{ item }}", "into": "chosen",
                        "goto": "done", "paging": paging}},
                },
                "done": {"say": "You chose {{ chosen }}", "goto": "pick"},
            }},
        },
    }


def engine_for(data: dict[str, Any], calls: list[int]) -> Engine:
    _, report = check_text(yaml.safe_dump(data, allow_unicode=True))
    assert report.errors == [], [p.format() for p in report.errors]
    loaded = LoadedFlows(spec=FlowFile.model_validate(data), report=report, path="t.yaml", sha256="0" * 64)
    registry = ActionRegistry()

    @registry.action("demo.items")
    async def items(ctx: Any) -> list[int]:
        calls.append(1)
        return list(range(1, 24))

    return Engine(CompiledFlows(loaded), registry, ConversationStore(fakeredis.FakeAsyncRedis()))


def test_more_shows_the_next_page_without_calling_the_action_again() -> None:
    calls: list[int] = []
    engine = engine_for(spec(), calls)

    async def run() -> None:
        phone = "+2348000000009"
        first = (await engine.handle(InboundEvent(phone=phone, text="hi"))).messages[-1]
        assert [r.title for r in first.rows][-1] == "Next (10-18)"
        assert len(first.rows) == limits.MAX_ROWS
        more = first.rows[-1]
        second = (await engine.handle(InboundEvent(phone=phone, kind="list", text=more.title,
                                                   reply_id=more.id))).messages[-1]
        assert [r.title for r in second.rows][:2] == ["Item 10", "Item 11"]
        assert calls == [1]
        turn = await engine.handle(InboundEvent(phone=phone, text="2"))  # a number picks on the page shown
        assert "You chose 11" in turn.messages[0].text

    asyncio.run(run())


def test_check_warns_about_a_list_source_without_paging() -> None:
    _, paged = check_text(yaml.safe_dump(spec(True)))
    _, unpaged = check_text(yaml.safe_dump(spec(False)))
    assert not [p for p in paged.problems if "paging" in p.message]
    warned = [p for p in unpaged.problems if "no paging" in p.message]
    assert warned and warned[0].severity == "warning"
    assert TRIGGER == "more"
