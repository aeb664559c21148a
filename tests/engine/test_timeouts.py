"""Per-state timeouts: a waiting state left unanswered gets its nudge once, then its move; an answer since
cancels them; outside WhatsApp's 24-hour window nothing is sent but the move still happens."""

from __future__ import annotations

from pathlib import Path

import fakeredis
import pytest

from engine.events import InboundEvent
from engine.timeouts import Timer, fire
from flows.loader import check_text
from tests.engine.conftest import SAMPLE, Backend, make_engine
from tests.shipped import edited, states_of

PHONE = "+2348000000004"


def with_timeouts(data):  # type: ignore[no-untyped-def]
    states_of(data, "seeker")["count"]["timeouts"] = [
        {"after": "10m", "say": "Still there, {{ user.name }}? Send a number."},
        {"after": "1d", "goto": "@menu"},
    ]


def engine_with(tmp_path: Path, edit):  # type: ignore[no-untyped-def]
    """An engine on the sample flows changed by `edit`, whose scheduled timers are kept in `.scheduled`."""
    path = tmp_path / "flows.yaml"
    path.write_text(edited(edit, SAMPLE.read_text()), encoding="utf-8")
    built = make_engine(path, Backend(), fakeredis.FakeAsyncRedis())
    built.scheduled = []  # type: ignore[attr-defined]

    async def keep(timers: list[Timer]) -> None:
        built.scheduled.extend(timers)  # type: ignore[attr-defined]

    built.timers = keep
    return built


@pytest.fixture
def engine(tmp_path: Path):  # type: ignore[no-untyped-def]
    return engine_with(tmp_path, with_timeouts)


async def say(engine, text: str, **kw):  # type: ignore[no-untyped-def]
    return await engine.handle(InboundEvent(phone=PHONE, text=text, **kw))


async def to_count(engine) -> list[Timer]:  # type: ignore[no-untyped-def]
    await say(engine, "hi")
    await say(engine, "ada@example.com")
    assert engine.scheduled == []  # the menu has no timeouts
    turn = await say(engine, "", kind="button", reply_id="count")
    assert turn.state == "count"
    return list(engine.scheduled)


async def test_a_turn_ending_in_a_state_with_timeouts_schedules_each(engine) -> None:  # type: ignore[no-untyped-def]
    timers = await to_count(engine)
    stored = await engine.store.load(PHONE)
    assert [(t.flow, t.state, t.index, t.delay) for t in timers] == [("seeker", "count", 0, 600.0),
                                                                     ("seeker", "count", 1, 86400.0)]
    assert {t.stamp for t in timers} == {stored.updated_at}


async def test_the_nudge_then_the_move(engine) -> None:  # type: ignore[no-untyped-def]
    nudge, reset = await to_count(engine)
    turn = await fire(engine, nudge, in_window=True)
    assert [m.text for m in turn.messages] == ["Still there, Ada? Send a number."] and turn.state == "count"
    assert await fire(engine, nudge, in_window=True) is not None  # the stamp is kept: later timers still fire
    turn = await fire(engine, reset, in_window=True)
    assert (turn.flow, turn.state) == ("seeker", "menu")
    assert await fire(engine, reset, in_window=True) is None  # it moved: the old timer finds nothing


async def test_an_empty_value_in_a_nudge_is_a_notice_as_in_a_turn(tmp_path: Path) -> None:
    def with_a_hole(data):  # type: ignore[no-untyped-def]
        states_of(data, "seeker")["count"]["timeouts"] = [{"after": "10m", "say": "Still there? {{ input.year }}"}]

    built = engine_with(tmp_path, with_a_hole)
    [nudge] = await to_count(built)
    turn = await fire(built, nudge, in_window=True)
    assert turn.notices == ["template rendered empty values: year"]


async def test_an_answer_since_cancels_the_timers(engine) -> None:  # type: ignore[no-untyped-def]
    nudge, reset = await to_count(engine)
    await say(engine, "5")
    assert await fire(engine, nudge, in_window=True) is None
    assert await fire(engine, reset, in_window=True) is None


async def test_outside_the_window_nothing_is_sent_but_the_move_happens(engine) -> None:  # type: ignore[no-untyped-def]
    nudge, reset = await to_count(engine)
    assert (await fire(engine, nudge, in_window=False)).messages == []
    turn = await fire(engine, reset, in_window=False)
    assert turn.messages == [] and turn.state == "menu"
    assert (await engine.store.load(PHONE)).state == "menu"


def test_check_catches_timeout_mistakes() -> None:
    def broken(data):  # type: ignore[no-untyped-def]
        states = states_of(data, "seeker")
        states["count"]["timeouts"] = [{"after": "1h", "goto": "nowhere"}, {"after": "10m", "say": "Hm?"}]
        states["counted"]["timeouts"] = [{"after": "5m", "say": "{{ nope }}"}]

    _, report = check_text(edited(broken, SAMPLE.read_text()))
    found = "\n".join(p.format() for p in report.problems)
    assert "seeker.count.timeouts[0].goto: state `nowhere` does not exist" in found
    assert "warning: seeker.count.timeouts[1].after: `after: 10m` is not later than the timeout before it" in found
    assert "seeker.counted.timeouts: timeouts only run while a state waits" in found
    assert "template variable `nope` is never set" in found
    _, report = check_text(edited(lambda d: states_of(d, "seeker")["count"].update(
        timeouts=[{"after": "ten minutes", "say": "x"}]), SAMPLE.read_text()))
    assert any("String should match pattern" in p.message for p in report.errors)


async def test_a_timeout_whose_move_crashes_leaves_the_user_where_they_were_and_says_nothing(tmp_path: Path) -> None:
    def into_a_crash(data):  # type: ignore[no-untyped-def]
        states = states_of(data, "seeker")
        states["count"]["timeouts"] = [{"after": "1d", "goto": "broken"}]
        states["broken"] = {"say": "{{ range(5000)|list|length }}", "goto": "menu"}  # refused by the sandbox

    built = engine_with(tmp_path, into_a_crash)
    [timer] = await to_count(built)
    before = await built.store.load(PHONE)
    turn = await fire(built, timer, in_window=True)
    assert turn is not None and turn.error and "SecurityError" in turn.error
    assert turn.messages == [] and (turn.flow, turn.state) == ("seeker", "count")
    after = await built.store.load(PHONE)
    assert (after.flow, after.state, after.updated_at, after.version) == (
        before.flow, before.state, before.updated_at, before.version)
    assert built.counts["errors"] == 1
    assert (await say(built, "3")).error is None  # the user carries on from where they were
