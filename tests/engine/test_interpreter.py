"""The interpreter on the sample flows: matching, actions, routing, limits, resets and guards."""

from __future__ import annotations

import shutil

import fakeredis
import pytest

from engine.conversation import Conversation
from engine.events import InboundEvent
from engine.interpreter import Engine
from flows.limits import violations
from tests.engine.conftest import SAMPLE, Backend, make_engine

PHONE = "+2348000000001"


async def say(engine: Engine, text: str = "", **kw):
    turn = await engine.handle(InboundEvent(phone=PHONE, text=text, **kw))
    for message in turn.messages:
        assert violations(message) == [], message
    return turn


def texts(turn) -> str:
    return "\n".join(m.text for m in turn.messages)


async def link(engine: Engine) -> None:
    await say(engine, "hi")
    turn = await say(engine, "ada@example.com")
    assert (turn.flow, turn.state) == ("seeker", "menu")


async def test_first_message_gets_the_welcome(engine):
    turn = await say(engine, "hello")
    assert (turn.flow, turn.state) == ("unlinked", "welcome")
    assert "Welcome" in texts(turn)
    assert turn.messages[0].kind == "buttons"


async def test_first_message_that_answers_the_start_skips_the_welcome(engine):
    turn = await say(engine, "my email is ada@example.com")
    assert (turn.flow, turn.state) == ("seeker", "menu")
    assert "Welcome" not in texts(turn)
    assert turn.calls[0].name == "test.link" and turn.calls[0].args == {"email": "ada@example.com"}


async def test_choice_by_id_number_and_title(engine):
    await link(engine)
    turn = await say(engine, "Count", kind="text")
    assert turn.state == "count"
    await say(engine, "menu")
    turn = await say(engine, "2")
    assert turn.state == "count"
    await say(engine, "menu")
    turn = await say(engine, "Browse", kind="button", reply_id="browse")
    assert turn.state == "browse"


async def test_capture_number_and_otherwise_reprompts(engine):
    await link(engine)
    await say(engine, "2")
    turn = await say(engine, "lots")
    # the correction and the question it repeats are one message: one bubble, one send
    assert [m.text for m in turn.messages] == ["Please send a number.\n\nHow many?"]
    assert turn.state == "count"
    turn = await say(engine, "₦2.5m")
    assert "You said 2500000." in texts(turn)
    assert turn.state == "menu"


async def test_stale_button_keeps_the_place(engine):
    await link(engine)
    turn = await say(engine, "Next", kind="button", reply_id="item:999")
    assert "earlier message" in turn.messages[0].text
    assert turn.state == "menu"
    assert turn.messages[-1].kind == "buttons"


async def test_command_id_works_from_any_message(engine):
    await link(engine)
    await say(engine, "2")
    turn = await say(engine, "Main menu", kind="button", reply_id="menu")
    assert turn.state == "menu"


async def test_unsupported_message_keeps_the_place(engine):
    await link(engine)
    await say(engine, "2")
    turn = await say(engine, kind="other", message_type="image")
    assert texts(turn) == engine.flows.spec.messages["unsupported_message"]  # tests/flows/sample.yaml
    assert turn.state == "count"


async def test_accent_and_case_insensitive_keywords(engine):
    await link(engine)
    await say(engine, "2")
    turn = await say(engine, "  MÉNU! ")
    assert turn.state == "menu"


async def test_dynamic_choices_are_cut_to_ten_rows_and_item_is_stored(engine, backend):
    backend.items = [{"id": i, "name": f"A very long property name number {i}"} for i in range(30)]
    await link(engine)
    turn = await say(engine, "1")
    message = turn.messages[-1]
    assert message.kind == "list" and len(message.rows) == 10
    assert all(len(r.title) <= 24 and r.title.endswith("…") for r in message.rows[:9])
    assert message.rows[9].title == "Next"
    turn = await say(engine, message.rows[3].title, kind="list", reply_id=message.rows[3].id)
    assert "number 3" in texts(turn)


async def test_conditional_choice_disappears(engine):
    await link(engine)
    turn = await say(engine, "1")
    assert turn.messages[-1].rows[-1].title == "Next"
    for _ in range(2):
        turn = await say(engine, "Next", kind="list", reply_id="next")
    assert "Page 3" in texts(turn)
    assert all(r.id != "next" for r in turn.messages[-1].rows)


async def test_action_error_without_route_keeps_the_user_in_place(engine, backend):
    await link(engine)
    backend.fail_items = "The listings service is down."
    turn = await say(engine, "1")
    assert turn.messages[0].text.startswith("The listings service is down")
    assert turn.state == "menu"
    assert turn.messages[-1].kind == "buttons"
    assert turn.calls[-1].ok is False and turn.calls[-1].error == "unavailable"


async def test_action_error_with_on_error_route(engine):
    await say(engine, "hi")
    turn = await say(engine, "bad@example.com")
    assert turn.state == "link_failed"
    assert texts(turn) == "No account uses that email."


async def test_on_empty_route(engine, backend):
    backend.items = []
    await link(engine)
    turn = await say(engine, "1")
    assert turn.state == "nothing"


async def test_flows_change_resets_a_lost_state(tmp_path, backend):
    redis = fakeredis.FakeAsyncRedis()
    engine = make_engine(SAMPLE, backend, redis)
    await link(engine)
    await say(engine, "2")  # now in seeker.count
    changed = tmp_path / "flows.yaml"
    text = SAMPLE.read_text().replace("      count:\n", "      tally:\n").replace("goto: count}", "goto: tally}")
    changed.write_text(text)
    engine2 = make_engine(changed, backend, redis)
    turn = await say(engine2, "5")
    assert "We updated the bot" in texts(turn)
    assert (turn.flow, turn.state) == ("seeker", "menu")
    assert engine2.counts["resets"] == 1


async def test_role_guard_keeps_unlinked_users_out(tmp_path, backend):
    bad = tmp_path / "flows.yaml"
    shutil.copy(SAMPLE, bad)
    text = bad.read_text().replace(
        "            - {id: how, title: \"How it works\", say: \"We email a code.\"}",
        "            - {id: how, title: \"How it works\", goto: seeker.menu}")
    bad.write_text(text)
    engine = make_engine(bad, backend, fakeredis.FakeAsyncRedis())
    await say(engine, "hi")
    turn = await say(engine, "1")
    assert turn.flow == "unlinked"
    assert any("role guard" in n for n in turn.notices)


async def test_goto_loop_is_stopped(tmp_path, backend):
    looping = tmp_path / "flows.yaml"
    text = SAMPLE.read_text().replace(
        "      next_page:\n        set: {page: \"{{ page + 1 }}\"}\n        goto: browse",
        "      next_page:\n        goto: spin\n      spin:\n        goto: next_page")
    looping.write_text(text)
    engine = make_engine(looping, backend, fakeredis.FakeAsyncRedis())
    await link(engine)
    await say(engine, "1")
    turn = await say(engine, "Next", kind="list", reply_id="next")
    assert texts(turn) == "Oops."
    assert turn.state == "browse" and turn.error and "FlowLoop" in turn.error  # rolled back to where it was
    assert engine.counts["errors"] == 1


async def test_conversation_is_saved_with_ttl(backend):
    redis = fakeredis.FakeAsyncRedis()
    engine = make_engine(SAMPLE, backend, redis)
    await link(engine)
    key = engine.store.key(PHONE)
    assert key == "conv:{+2348000000001}"
    assert 0 < await redis.ttl(key) <= 24 * 3600
    saved = await engine.store.load(PHONE)
    assert isinstance(saved, Conversation) and saved.state == "menu" and saved.version == 2


async def test_missing_template_values_are_reported(tmp_path, backend):
    broken = tmp_path / "flows.yaml"
    broken.write_text(SAMPLE.read_text().replace('text: "Hi {{ user.name }}! What next?"',
                                                 'text: "Hi {{ user.nickname }}! What next?"'))
    engine = make_engine(broken, backend, fakeredis.FakeAsyncRedis())
    await say(engine, "hi")
    turn = await say(engine, "ada@example.com")
    assert turn.messages[-1].text == "Hi ! What next?"
    assert any("nickname" in n for n in turn.notices)


def test_notice_renders_a_shared_message():
    engine = make_engine(SAMPLE, Backend(), fakeredis.FakeAsyncRedis())
    assert engine.notice(PHONE, "rate_limited").text == "Slow down please."


async def test_notification_is_free_form_inside_the_window_and_a_template_outside(tmp_path):
    path = tmp_path / "flows.yaml"
    path.write_text(SAMPLE.read_text().replace("flows:\n", """notifications:
  reminder:
    variables: [when]
    text: "Your visit is {{ when }}."
    choices: [{id: menu, title: "Main menu"}]
    template: {name: visit_reminder, language: en, params: ["{{ when }}"]}
flows:
""", 1))
    engine = make_engine(path, Backend(), fakeredis.FakeAsyncRedis())
    inside = engine.notification("reminder", PHONE, {"when": "Tue 1 Dec, 10:00"}, in_window=True)
    assert (inside.kind, inside.text, [b.id for b in inside.buttons]) == ("buttons", "Your visit is Tue 1 Dec, 10:00.",
                                                                          ["menu"])
    outside = engine.notification("reminder", PHONE, {"when": "Tue 1 Dec, 10:00"}, in_window=False)
    assert outside.kind == "template" and outside.template is not None
    assert (outside.template.name, outside.template.params) == ("visit_reminder", ["Tue 1 Dec, 10:00"])


async def test_a_failing_identify_is_raised_for_a_retry_not_guessed(backend):
    from engine.interpreter import IdentifyError

    engine = make_engine(SAMPLE, backend, fakeredis.FakeAsyncRedis())

    async def broken(ctx):
        raise ConnectionError("database is down")

    engine.actions._actions["test.identify"] = broken
    with pytest.raises(IdentifyError):
        await engine.handle(InboundEvent(phone=PHONE, text="hi"))
    assert await engine.store.load(PHONE) is None  # nothing saved: the retry starts afresh


async def test_flows_reword_action_errors_by_kind(tmp_path, backend):
    reworded = tmp_path / "flows.yaml"
    reworded.write_text(SAMPLE.read_text().replace(
        "messages:\n", "messages:\n  error_unknown: \"No Inspector account uses {{ email }} ({{ error.kind }}).\"\n"))
    engine = make_engine(reworded, backend, fakeredis.FakeAsyncRedis())
    await say(engine, "hi")
    turn = await say(engine, "bad@example.com")
    assert texts(turn) == "No Inspector account uses bad@example.com (unknown)."


async def test_a_rows_set_is_data_not_a_template_when_chosen(tmp_path, backend):
    path = tmp_path / "flows.yaml"
    path.write_text(SAMPLE.read_text().replace("            into: chosen\n",
                                               "            into: chosen\n            set: {picked: \"{{ item.name }}\"}\n"))
    engine = make_engine(path, backend, fakeredis.FakeAsyncRedis())
    backend.items = [{"id": 1, "name": "{{ 6 * 7 }}"}]
    await link(engine)
    shown = await say(engine, "1")
    row = shown.messages[-1].choices()[0]
    await say(engine, row.title, kind="button", reply_id=row.id)
    saved = await engine.store.load(PHONE)
    assert saved is not None and saved.vars["picked"] == "{{ 6 * 7 }}"  # the item's text, not 42
