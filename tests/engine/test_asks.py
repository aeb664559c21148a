"""Typed questions (`ask:`): parsed, bounded, stored; a wrong answer is re-asked with staff's error text and
the tries left, then routed to `on_fail`; asking afresh restores the tries."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import fakeredis
import pytest

from engine.asks import WRONG, parse_answer, phone_number
from engine.events import InboundEvent
from flows.loader import check_text
from flows.schema_inputs import Ask
from tests.engine.conftest import SAMPLE, Backend, make_engine
from tests.shipped import edited, states_of

PHONE = "+2348000000003"
TODAY = date(2026, 12, 1)


def with_budget_question(data):  # type: ignore[no-untyped-def]
    states = states_of(data, "seeker")
    states["menu"]["say"]["choices"].append({"id": "budget", "title": "Budget", "goto": "budget"})
    states["budget"] = {
        "say": "What is your budget?",
        "ask": {"into": "budget", "type": "money", "min": 1000000, "retries": 1, "on_fail": "menu",
                "goto": "got_budget", "error": "Please send an amount of ₦1m or more ({{ ask.tries_left }} left)."},
    }
    states["got_budget"] = {"say": "Budget: {{ budget|money }}", "goto": "menu"}


@pytest.fixture
def engine(tmp_path: Path):  # type: ignore[no-untyped-def]
    path = tmp_path / "flows.yaml"
    path.write_text(edited(with_budget_question, SAMPLE.read_text()), encoding="utf-8")
    return make_engine(path, Backend(), fakeredis.FakeAsyncRedis())


async def say(engine, text: str, **kw):  # type: ignore[no-untyped-def]
    return await engine.handle(InboundEvent(phone=PHONE, text=text, **kw))


async def to_question(engine) -> None:  # type: ignore[no-untyped-def]
    await say(engine, "hi")
    await say(engine, "ada@example.com")
    turn = await say(engine, "", kind="button", reply_id="budget")
    assert turn.state == "budget"


async def test_a_valid_answer_is_stored_and_moves_on(engine) -> None:  # type: ignore[no-untyped-def]
    await to_question(engine)
    turn = await say(engine, "₦45m")
    assert turn.state == "menu" and "Budget: ₦45,000,000" in turn.messages[0].text
    assert (await engine.store.load(PHONE)).vars["budget"] == 45_000_000


async def test_wrong_answers_are_re_asked_then_routed(engine) -> None:  # type: ignore[no-untyped-def]
    await to_question(engine)
    turn = await say(engine, "lots")
    assert turn.state == "budget"
    # the error, then the question asked again, in one message
    assert [m.text for m in turn.messages] == ["Please send an amount of ₦1m or more (1 left).\n\nWhat is your budget?"]
    turn = await say(engine, "500k")  # parses, but below `min`
    assert turn.state == "menu" and turn.messages[0].text.endswith("(0 left).")
    # Asked afresh, the question has all its tries again.
    await say(engine, "", kind="button", reply_id="budget")
    turn = await say(engine, "nope")
    assert turn.state == "budget"


async def test_choices_and_commands_still_work_while_asked(engine) -> None:  # type: ignore[no-untyped-def]
    await to_question(engine)
    turn = await say(engine, "menu")
    assert turn.state == "menu"


def with_day_question(data):  # type: ignore[no-untyped-def]
    states = states_of(data, "seeker")
    states["menu"]["say"]["choices"].append({"id": "day", "title": "Day", "goto": "day"})
    states["day"] = {"say": "Which day?", "ask": {"into": "day", "type": "date", "min": "today", "retries": 1,
                                                  "on_fail": "menu", "goto": "menu"}}


async def test_today_and_tomorrow_are_the_users_days_not_utcs(tmp_path: Path) -> None:
    """00:30 on Wednesday 2 Dec in Lagos is still Tuesday in UTC: the engine reads dates in its time zone."""
    path = tmp_path / "flows.yaml"
    path.write_text(edited(with_day_question, SAMPLE.read_text()), encoding="utf-8")
    engine = make_engine(path, Backend(), fakeredis.FakeAsyncRedis())
    engine.clock, engine.tz = (lambda: datetime(2026, 12, 1, 23, 30, tzinfo=UTC)), ZoneInfo("Africa/Lagos")
    await say(engine, "hi")
    await say(engine, "ada@example.com")
    await say(engine, "", kind="button", reply_id="day")
    turn = await say(engine, "2026-12-01")  # yesterday in Lagos: before `min: today`
    assert turn.state == "day"
    await say(engine, "tomorrow")
    assert (await engine.store.load(PHONE)).vars["day"] == "2026-12-03"


@pytest.mark.parametrize("ask,text,value", [
    (Ask(into="x", type="number", min=1, max=10), "7", 7),
    (Ask(into="x", type="number", min=1, max=10), "11", WRONG),
    (Ask(into="x", type="money"), "2.5 million", 2_500_000),
    (Ask(into="x", type="date", min="today"), "tomorrow", "2026-12-02"),
    (Ask(into="x", type="date", min="today"), "2026-11-30", WRONG),
    (Ask(into="x", type="time"), "2pm", "14:00"),
    (Ask(into="x", type="email"), "Mine is Ada@Example.com", "ada@example.com"),
    (Ask(into="x", type="phone"), "0801 234 5678", "+2348012345678"),
    (Ask(into="x", type="phone"), "12345", WRONG),
    (Ask(into="x", type="choice", options=["Lagos", "Abuja"]), "abuja", "Abuja"),
    (Ask(into="x", type="choice", options=["Lagos", "Abuja"]), "1", "Lagos"),
    (Ask(into="x", type="choice", options=["Lagos", "Abuja"]), "Kano", WRONG),
    (Ask(into="x", type="text", min=3), "ok", WRONG),
])
def test_answers_by_type(ask: Ask, text: str, value: object) -> None:
    assert parse_answer(ask, text, TODAY) == value


def test_phone_numbers() -> None:
    assert phone_number("+234 (801) 234-5678") == "+2348012345678"
    assert phone_number("2348012345678") == "+2348012345678"
    assert phone_number("call me") is None


def test_check_catches_ask_mistakes() -> None:
    def broken(data):  # type: ignore[no-untyped-def]
        with_budget_question(data)
        ask = states_of(data, "seeker")["budget"]["ask"]
        ask.update(on_fail="nowhere", max=10, error="{{ ask.tries_left }} {{ nope }}")
        states_of(data, "seeker")["budget"]["goto"] = "menu"

    _, report = check_text(edited(broken, SAMPLE.read_text()))
    errors = "\n".join(p.format() for p in report.errors)
    assert "seeker.budget.ask.on_fail: state `nowhere` does not exist" in errors
    assert "`max` (10) is below `min` (1000000)" in errors
    assert "template variable `nope` is never set" in errors and "variable `ask`" not in errors
    assert "`ask` waits for an answer but the state's `goto` moves on at once" in errors
    _, report = check_text(edited(with_budget_question, SAMPLE.read_text()))
    assert report.errors == []


def test_the_graph_and_coverage_see_both_ways_out_of_a_question() -> None:
    from flows.edges import edges
    from flows.graph import build_graph, to_mermaid

    spec, _ = check_text(edited(with_budget_question, SAMPLE.read_text()))
    assert spec is not None
    ways = {(e.trigger, e.target) for e in edges(spec.flows["seeker"].states["budget"])}
    assert ways == {("answer", "got_budget"), ("gave_up", "menu")}
    mermaid = to_mermaid(build_graph(spec, "seeker"))
    assert "‹money›" in mermaid and "not a money after 2 tries" in mermaid
