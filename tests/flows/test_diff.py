"""flows diff: added/removed/retargeted states and transitions, changed texts, live conversations affected."""

from __future__ import annotations

import fakeredis

from engine.conversation import Conversation
from engine.store import ConversationStore
from flows.diff import diff_specs, live_in_states
from flows.loader import check_text
from tests.shipped import edited as edit
from tests.shipped import shipped_text, states_of

FLOWS = shipped_text()


def spec_of(text: str):  # type: ignore[no-untyped-def]
    spec, report = check_text(text)
    assert spec is not None and not report.errors, [p.format() for p in report.errors]
    return spec


def edited() -> str:
    def change(data):
        states = states_of(data, "seeker")
        states["no_saved"]["say"]["text"] = "Nothing saved yet."
        next(c for c in states["confirm_booking"]["say"]["choices"] if c["id"] == "cancel")["goto"] = "property_detail"
        del states["no_bookings"]
        states["bookings"]["on_empty"] = "no_properties"
        states["back_to_list"]["goto"] = "again"
        states["again"] = {"goto": "browse"}

    return edit(change)


def test_the_same_file_has_no_changes() -> None:
    diff = diff_specs(spec_of(FLOWS), spec_of(FLOWS))
    assert diff.empty and diff.format() == "no changes to states, transitions or texts"


def test_every_kind_of_change_is_listed() -> None:
    diff = diff_specs(spec_of(FLOWS), spec_of(edited()))
    assert diff.states_added == ["seeker.again"]
    assert diff.states_removed == ["seeker.no_bookings"]
    assert "seeker.again --next--> browse" in diff.transitions_added
    assert "seeker.no_bookings --choice:browse--> browse" in diff.transitions_removed
    assert "seeker.confirm_booking --choice:cancel--> menu (now property_detail)" in diff.transitions_retargeted
    assert "seeker.bookings --empty--> no_bookings (now no_properties)" in diff.transitions_retargeted
    assert [where for where, _, _ in diff.texts_changed] == ["seeker.no_saved.say"]
    text = diff.format()
    assert "states removed (1):\n  - seeker.no_bookings" in text and "+ Nothing saved" in text


async def test_live_conversations_in_removed_states_are_counted() -> None:
    redis = fakeredis.FakeAsyncRedis(server=fakeredis.FakeServer())
    store = ConversationStore(redis)
    for i, (flow, state) in enumerate([("seeker", "no_bookings"), ("seeker", "no_bookings"), ("seeker", "menu"),
                                       ("agent", "menu")]):
        await store.save(Conversation(phone=f"+234800000000{i}", flow=flow, state=state))
    async with store.lock("+2348000000000"):  # a lock key must not be read as a conversation
        total, counts = await live_in_states(redis, ["seeker.no_bookings", "seeker.gone"])
    assert total == 4 and counts == {"seeker.no_bookings": 2}
