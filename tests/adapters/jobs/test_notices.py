"""Notices about one inspection: the agent hears of bookings and cancellations, the inspector of an
assignment, the seeker of an inspector on the way, running late or asking to reschedule."""

from __future__ import annotations

from datetime import timedelta

from tests.adapters.jobs.support import PHONES, now
from tests.shipped import shipped_spec, shows


def notice(name: str) -> str:
    """The text staff wrote for a notification (read from flows.yaml, never pinned here)."""
    return shipped_spec().notifications[name].text


async def test_a_booking_tells_the_agent_and_the_assigned_inspector_once(world, graph):
    await world.link("usr_tunde", "usr_ngozi", "usr_emeka", "usr_ada", inbound_at=now() - timedelta(hours=1))
    slot = await world.runtime.inspector.add_slot("prp_03", now() + timedelta(days=2))
    booking = await world.runtime.inspector.book_inspection("prp_03", slot.id, "usr_ada")
    assert booking.inspector_id in ("usr_ngozi", "usr_emeka")
    await world.scheduler.enqueue_notice("send_booking_notice", booking.id, "booked")
    again = await world.scheduler.enqueue_notice("send_booking_notice", booking.id, "booked")  # a double tap
    assert again["new"] is False
    await world.run_jobs()

    sent = {m.to: m for m in graph.messages}
    assert set(sent) == {PHONES["usr_tunde"], PHONES[booking.inspector_id]}
    agent = sent[PHONES["usr_tunde"]]
    assert shows(notice("agent_new_booking"), agent.text)
    assert "*Ada Seeker*" in agent.text and "*2-Bed Flat, Yaba*" in agent.text
    assert [b["reply"]["id"] for b in agent.json["interactive"]["action"]["buttons"]] == [
        f"inquiry:{booking.id}", "menu"]
    inspector = sent[PHONES[booking.inspector_id]]
    assert shows(notice("inspector_assigned"), inspector.text) and booking.reference in inspector.text
    assert inspector.json["interactive"]["action"]["buttons"][0]["reply"]["id"] == f"inspection:{booking.id}"

    await world.runtime.inspector.cancel_inspection(booking.id)
    await world.scheduler.enqueue_notice("send_booking_notice", booking.id, "cancelled")
    await world.run_jobs()
    [cancelled] = graph.messages[2:]
    assert cancelled.to == PHONES["usr_tunde"] and shows(notice("agent_booking_cancelled"), cancelled.text)
    assert "*Ada Seeker*" in cancelled.text


async def test_outside_the_window_the_agent_gets_the_approved_template(world, graph):
    await world.link("usr_tunde")  # never wrote to us
    await world.scheduler.enqueue_notice("send_booking_notice", "ins_001", "booked")
    await world.run_jobs()
    [sent] = [m for m in graph.messages if m.to == PHONES["usr_tunde"]]
    assert sent.json["template"]["name"] == "agent_new_booking"


async def test_the_seeker_hears_the_inspector_is_late_and_each_new_delay_once(world, graph):
    await world.link("usr_ada", inbound_at=now() - timedelta(hours=1))
    client = world.runtime.inspector
    await client.update_inspection("ins_001", progress="running_late", late_minutes=15)
    await world.scheduler.enqueue_notice("send_inspection_update", "ins_001", "running_late", key="15")
    await world.run_jobs()
    await world.scheduler.enqueue_notice("send_inspection_update", "ins_001", "running_late", key="15-replayed")
    await world.run_jobs()  # the same delay again (a replay under another id): the sent-marker stops it
    await client.update_inspection("ins_001", progress="running_late", late_minutes=40)
    await world.scheduler.enqueue_notice("send_inspection_update", "ins_001", "running_late", key="40")
    await world.run_jobs()
    texts = [m.text for m in graph.messages]
    assert len(texts) == 2 and all(shows(notice("inspector_running_late"), t) for t in texts)
    assert " 15 " in texts[0] and " 40 " in texts[1]


async def test_a_reschedule_request_gives_the_seeker_a_button_to_the_free_slots(world, graph):
    await world.link("usr_ada", inbound_at=now() - timedelta(hours=1))
    await world.scheduler.enqueue_notice("send_inspection_update", "ins_001", "reschedule")
    await world.run_jobs()
    [sent] = graph.messages
    assert shows(notice("reschedule_request"), sent.text)
    assert [b["reply"]["id"] for b in sent.json["interactive"]["action"]["buttons"]] == [
        "reschedule:ins_001", "call_agent:ins_001"]


async def test_nothing_is_said_about_an_inspection_that_is_no_longer_scheduled(world, graph):
    await world.link("usr_ada", inbound_at=now() - timedelta(hours=1))
    await world.runtime.inspector.cancel_inspection("ins_001")
    await world.scheduler.enqueue_notice("send_inspection_update", "ins_001", "on_my_way")
    await world.run_jobs()
    assert graph.messages == []
