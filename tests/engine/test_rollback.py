"""A turn works on a copy: a crash mid-turn leaves the user where the last finished turn left them."""

from __future__ import annotations

import logging

import fakeredis

from engine.events import InboundEvent
from tests.engine.conftest import SAMPLE, Backend, make_engine

PHONE = "+2348000000002"


def crashing_flows(tmp_path):  # type: ignore[no-untyped-def]
    """The sample flows with a detail page whose template divides by zero."""
    path = tmp_path / "flows.yaml"
    text = SAMPLE.read_text().replace('text: "You chose {{ chosen.name }}"', 'text: "You chose {{ 1 // 0 }}"')
    assert text != SAMPLE.read_text()
    path.write_text(text)
    return path


async def test_a_template_error_mid_turn_leaves_the_user_where_they_were(tmp_path, caplog):
    redis = fakeredis.FakeAsyncRedis()
    engine = make_engine(crashing_flows(tmp_path), Backend(), redis)
    await engine.handle(InboundEvent(phone=PHONE, text="hi"))
    await engine.handle(InboundEvent(phone=PHONE, text="ada@example.com"))
    shown = await engine.handle(InboundEvent(phone=PHONE, text="Browse", kind="button", reply_id="browse"))
    before = await engine.store.load(PHONE)
    assert before is not None and before.state == "browse" and "chosen" not in before.vars
    row = shown.messages[-1].rows[2]

    with caplog.at_level(logging.ERROR, logger="engine.interpreter"):
        turn = await engine.handle(InboundEvent(phone=PHONE, text=row.title, kind="list", reply_id=row.id))

    assert [m.text for m in turn.messages] == [engine.flows.spec.messages["internal_error"]]
    assert (turn.flow, turn.state) == ("seeker", "browse")
    assert turn.error is not None and "ZeroDivisionError" in turn.error
    assert engine.counts["errors"] == 1
    assert any(r.exc_info and r.exc_info[0] is ZeroDivisionError for r in caplog.records)  # with its traceback
    after = await engine.store.load(PHONE)
    assert after is not None
    assert (after.flow, after.state, after.vars, after.offered, after.prompt) == (
        before.flow, before.state, before.vars, before.offered, before.prompt)
    # The choices still on offer are the ones the user saw: another row works.
    other = shown.messages[-1].rows[0]
    again = await engine.handle(InboundEvent(phone=PHONE, text=other.title, kind="list", reply_id=other.id))
    assert again.error is not None and again.state == "browse"  # same crash, same place: nothing half-saved


async def test_run_turn_never_changes_the_conversation_it_was_given(tmp_path):
    engine = make_engine(crashing_flows(tmp_path), Backend(), fakeredis.FakeAsyncRedis())
    first = await engine.run_turn(InboundEvent(phone=PHONE, text="ada@example.com"), None)
    loaded = first.conversation
    assert loaded is not None and loaded.state == "menu"
    snapshot = loaded.dumps()

    ok = await engine.run_turn(InboundEvent(phone=PHONE, text="Browse", kind="button", reply_id="browse"), loaded)
    assert ok.error is None and ok.conversation is not loaded and ok.state == "browse"
    assert loaded.dumps() == snapshot  # the finished turn changed its copy only

    row = ok.messages[-1].rows[0]
    crashed = await engine.run_turn(InboundEvent(phone=PHONE, text=row.title, kind="list", reply_id=row.id),
                                    ok.conversation)
    assert crashed.error is not None and crashed.conversation is ok.conversation


async def test_a_new_users_crashed_first_turn_saves_nothing(tmp_path):
    path = tmp_path / "flows.yaml"
    path.write_text(SAMPLE.read_text().replace("welcome:\n        say:", "welcome:\n        set: {x: \"{{ 1 // 0 }}\"}\n        say:", 1))
    assert path.read_text() != SAMPLE.read_text()
    redis = fakeredis.FakeAsyncRedis()
    engine = make_engine(path, Backend(), redis)
    turn = await engine.handle(InboundEvent(phone=PHONE, text="hello"))
    assert turn.error is not None and turn.conversation is None
    assert await engine.store.load(PHONE) is None
    assert not await redis.exists(engine.store.key(PHONE) + ":lock")  # the lock is released all the same
