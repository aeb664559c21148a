"""Reminders: scheduled at booking for 24 h before, sent on time, once; cancelled or moved ones are not."""

from __future__ import annotations

import time
from datetime import UTC, timedelta

from tests.adapters.jobs.support import PHONES, now
from tests.shipped import shipped_spec, shows


async def book(world, *, starts_in: timedelta, property_id: str = "prp_03", seeker: str = "usr_ada"):
    slot = await world.runtime.inspector.add_slot(property_id, now() + starts_in)
    return await world.runtime.inspector.book_inspection(property_id, slot.id, seeker)


async def test_reminder_is_scheduled_at_booking_and_sent_when_due(world, graph):
    await world.link("usr_ada")
    inspection = await book(world, starts_in=timedelta(hours=24, seconds=2))
    scheduled = await world.scheduler.schedule_reminder(inspection.id, inspection.starts_at.isoformat())
    due = (inspection.starts_at - timedelta(hours=24)).timestamp()
    assert scheduled["scheduled"] and scheduled["new"]
    score = await world.redis.zscore(world.scheduler.queue_name, scheduled["job_id"])
    assert abs(score / 1000 - due) < 0.01  # deferred to exactly lead time before, in UTC

    await world.run_jobs()
    [sent] = graph.messages
    assert sent.to == PHONES["usr_ada"]
    assert sent.at >= due - 0.05, "sent before it was due"
    # No inbound message from Ada in 24 h: the approved template, with the inspection's details.
    assert sent.json["type"] == "template" and sent.json["template"]["name"] == "inspection_reminder"
    assert inspection.reference in str(sent.json["template"]["components"])


async def test_inside_the_window_the_reminder_is_free_form_text_with_buttons(world, graph):
    await world.link("usr_ada", inbound_at=now() - timedelta(hours=2))
    inspection = await book(world, starts_in=timedelta(hours=5))  # < 24 h away: reminded at once
    result = await world.scheduler.schedule_reminder(inspection.id, inspection.starts_at)
    assert result["scheduled"]
    await world.run_jobs()
    [sent] = graph.messages
    assert sent.json["type"] == "interactive"
    assert shows(shipped_spec().notifications["inspection_reminder"].text, sent.text) and "2-Bed Flat, Yaba" in sent.text
    assert inspection.reference in sent.text and "Tunde Agent" in sent.text  # data, not wording
    buttons = [(b["reply"]["id"], b["reply"]["title"]) for b in sent.json["interactive"]["action"]["buttons"]]
    titles = [c.title for c in shipped_spec().notifications["inspection_reminder"].choices]
    assert buttons == list(zip([f"call_agent:{inspection.id}", f"directions:{inspection.id}", "my_bookings"], titles,
                               strict=True))


async def test_an_inspection_starting_within_an_hour_gets_no_reminder(world, graph):
    await world.link("usr_ada")
    inspection = await book(world, starts_in=timedelta(minutes=50))
    result = await world.scheduler.schedule_reminder(inspection.id, inspection.starts_at)
    assert {k: result[k] for k in ("scheduled", "job_id", "at")} == {"scheduled": False, "job_id": None, "at": None}
    assert await world.queued() == []


async def test_a_cancelled_booking_gets_no_reminder(world, graph):
    await world.link("usr_ada")
    first = await book(world, starts_in=timedelta(hours=24, seconds=1))
    second = await book(world, starts_in=timedelta(hours=24, seconds=1), property_id="prp_01")
    await world.scheduler.schedule_reminder(first.id, first.starts_at)
    await world.scheduler.schedule_reminder(second.id, second.starts_at)
    # The first is cancelled through the flow (its reminder dropped from the queue) ...
    await world.runtime.inspector.cancel_inspection(first.id)
    assert await world.scheduler.cancel_reminder(first.id) is True
    assert len(await world.queued()) == 1
    # ... the second only in Inspector: the job reads it fresh when it runs and sends nothing.
    await world.runtime.inspector.cancel_inspection(second.id)
    await world.run_jobs()
    assert graph.messages == []


async def test_a_duplicate_booking_event_schedules_one_reminder_and_sends_one_message(world, graph):
    await world.link("usr_ada")
    inspection = await book(world, starts_in=timedelta(hours=6))
    first = await world.scheduler.schedule_reminder(inspection.id, inspection.starts_at)
    again = await world.scheduler.schedule_reminder(inspection.id, inspection.starts_at.isoformat())
    assert first["job_id"] == again["job_id"] and first["new"] and not again["new"]
    assert len(await world.queued()) == 1
    await world.run_jobs()
    # The same job run again under another id (a second worker, a replay) finds the sent-marker.
    await world.scheduler.enqueue("send_inspection_reminder", inspection.id, inspection.starts_at.isoformat())
    await world.run_jobs()
    assert len(graph.messages) == 1


async def test_rebooking_at_another_time_replaces_the_reminder(world, graph):
    await world.link("usr_ada")
    inspection = await book(world, starts_in=timedelta(hours=30))
    old = await world.scheduler.schedule_reminder(inspection.id, inspection.starts_at)
    moved = inspection.starts_at + timedelta(hours=2)
    new = await world.scheduler.schedule_reminder(inspection.id, moved)
    assert old["job_id"] != new["job_id"]
    assert await world.queued() == [new["job_id"]]
    assert await world.redis.exists(f"arq:job:{old['job_id']}") == 0


async def test_a_reminder_for_a_moved_inspection_sends_nothing(world, graph):
    await world.link("usr_ada")
    inspection = await book(world, starts_in=timedelta(hours=3))
    await world.scheduler.enqueue("send_inspection_reminder", inspection.id,
                                  (inspection.starts_at + timedelta(hours=1)).isoformat())
    started = time.monotonic()
    await world.run_jobs()
    assert graph.messages == [] and time.monotonic() - started < 5


async def test_the_sweep_schedules_reminders_for_bookings_made_on_the_website_once(world, graph):
    await world.link("usr_ada", inbound_at=now() - timedelta(hours=1))  # Bola is not on WhatsApp
    website = await book(world, starts_in=timedelta(hours=5))  # booked on Inspector, not through the bot
    unlinked = await book(world, starts_in=timedelta(hours=6), property_id="prp_01", seeker="usr_bola")
    far = await book(world, starts_in=timedelta(days=5), property_id="prp_02")  # a later sweep's job

    await world.scheduler.enqueue("sweep_reminders")
    await world.scheduler.enqueue("sweep_reminders")  # a second worker's, or the next hour's, run
    await world.run_jobs()

    job_id = world.scheduler.reminder_job_id(website.id, website.starts_at.astimezone(UTC))
    assert await world.redis.exists(f"arq:job:{job_id}") == 0  # ran (due at once: < 24 h away)
    # (The seed may hold Ada's own bookings for today too: they get theirs the same way.)
    [sent] = [m for m in graph.messages if website.reference in m.text]
    assert sent.to == PHONES["usr_ada"] and {m.to for m in graph.messages} == {PHONES["usr_ada"]}
    assert unlinked.reference not in str([m.json for m in graph.messages])
    assert all(far.id not in queued for queued in await world.queued())

    count = len(graph.messages)
    await world.scheduler.enqueue("sweep_reminders")  # the next hour: nothing new is sent
    await world.run_jobs()
    assert len(graph.messages) == count
