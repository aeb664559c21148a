"""The booking sweep: bookings, cancellations and moves made on the Inspector website reach the people in
the inspection once, a booking made in the WhatsApp flow is not told twice, and a first run floods nobody.

The agents and inspectors here never wrote to us, so every notice is its approved template: a message is
told apart by the template of the notification (read from flows.yaml by name) and the inspection's
reference among its parameters, never by wording.
"""

from __future__ import annotations

from datetime import timedelta

from adapters.inspector.errors import InspectorUnavailable
from adapters.jobs.booking_sweep import NAME, sweep_bookings
from tests.adapters.jobs.support import PHONES, now
from tests.adapters.jobs.test_flow_and_processes import book_through_the_flow
from tests.shipped import shipped_spec

STAFF = ("usr_tunde", "usr_amaka", "usr_ngozi", "usr_emeka")


def template(notification: str) -> str:
    spec = shipped_spec().notifications[notification].template
    assert spec is not None
    return spec.name


def told(graph, inspection) -> list[tuple[str, str]]:
    """(phone, template) of every message about `inspection`, in order."""
    return [(m.to, m.json["template"]["name"]) for m in graph.messages
            if m.json.get("type") == "template" and inspection.reference in str(m.json["template"]["components"])]


async def book_on_the_website(world, property_id: str = "prp_03", *, days: int = 2, seeker: str = "usr_ada"):
    """A booking through Inspector's REST API (the sandbox), as the website makes one: the bot never sees it."""
    slot = await world.runtime.inspector.add_slot(property_id, now() + timedelta(days=days))
    return await world.runtime.inspector.book_inspection(property_id, slot.id, seeker)


async def sweep(world, times: int = 1) -> None:
    """Run the sweep as the worker does (by name, on the queue), then every notice job it queued."""
    for _ in range(times):
        await world.scheduler.enqueue("sweep_bookings")
    await world.run_jobs()


async def sweep_now(world):
    """One run of the job itself, for what it returns; the notices it queues run at the next `run_jobs`."""
    return await sweep_bookings({"jobs": world.jobs, "job_id": "test", "job_try": 1})


def notice_jobs(queued: list[str]) -> list[str]:
    return [job for job in queued if ":send_booking_notice:" in job]


async def test_a_website_booking_tells_the_agent_and_the_assigned_inspector_once(world, graph):
    await world.link(*STAFF)
    await sweep(world)  # the first run: records what exists
    assert graph.messages == []

    booking = await book_on_the_website(world, "prp_03")  # Tunde's listing
    assert booking.agent_id == "usr_tunde" and booking.inspector_id in ("usr_ngozi", "usr_emeka")
    await sweep(world, times=2)  # two runs close together (a second worker, the next ten minutes)
    assert sorted(told(graph, booking)) == sorted([(PHONES["usr_tunde"], template("agent_new_booking")),
                                                   (PHONES[booking.inspector_id], template("inspector_assigned"))])
    count = len(graph.messages)
    await sweep(world)  # and the next: nothing more
    assert len(graph.messages) == count == 2


async def test_only_linked_agents_and_inspectors_are_told(world, graph):
    await world.link("usr_tunde")  # Amaka and the inspectors are not on WhatsApp
    await sweep(world)
    booking = await book_on_the_website(world, "prp_07")  # Amaka's listing
    assert booking.agent_id == "usr_amaka"
    result = await sweep_now(world)
    assert result["booked"] == 0 and result["unlinked"] == 1
    assert notice_jobs(await world.queued()) == []
    await world.run_jobs()
    assert graph.messages == []


async def book_in_the_flow(world):
    """Ada books through the WhatsApp flow, which queues its own notice; the booking it made."""
    seeded = set(world.sandbox.inspections)
    await book_through_the_flow(world)
    [made] = [world.sandbox.inspections[key] for key in world.sandbox.inspections if key not in seeded]
    return made


async def test_a_flow_booking_swept_before_its_notice_ran_is_told_once(world, graph):
    await world.link(*STAFF)
    await sweep(world)
    made = await book_in_the_flow(world)
    # The sweep finds it before the flow's notice job ran: it queues the same job id, which arq refuses.
    assert (await sweep_now(world))["booked"] == 1
    assert notice_jobs(await world.queued()) == [f"{world.namespace}:send_booking_notice:{made.id}:booked"]
    await world.run_jobs()
    await sweep(world)
    assert told(graph, made).count((PHONES[made.agent_id], template("agent_new_booking"))) == 1
    assert len(told(graph, made)) == len(graph.messages) == 2  # the agent's and the inspector's


async def test_a_flow_booking_already_told_is_not_queued_again(world, graph):
    await world.link(*STAFF)
    await sweep(world)
    made = await book_in_the_flow(world)
    await world.run_jobs()  # the flow's notice: the agent and the inspector hear of it
    assert len(told(graph, made)) == 2
    # Long after (arq keeps a job's id an hour): the notice job left word that it was told, so nothing is queued.
    result = await sweep_now(world)
    assert result["booked"] == 0 and notice_jobs(await world.queued()) == []
    await world.run_jobs()
    assert len(told(graph, made)) == len(graph.messages) == 2


async def test_a_website_cancellation_tells_the_agent_once(world, graph):
    await world.link(*STAFF)
    booking = await book_on_the_website(world, "prp_03")  # booked before the first run: not news
    await sweep(world)
    assert graph.messages == []

    await world.runtime.inspector.cancel_inspection(booking.id)  # on the website
    await sweep(world, times=2)
    await sweep(world)
    assert told(graph, booking) == [(PHONES["usr_tunde"], template("agent_booking_cancelled"))]
    assert len(graph.messages) == 1


async def test_a_booking_made_and_cancelled_between_two_runs_is_news_to_nobody(world, graph):
    await world.link(*STAFF)
    await sweep(world)
    booking = await book_on_the_website(world, "prp_03")
    await world.runtime.inspector.cancel_inspection(booking.id)
    await sweep(world)
    assert graph.messages == []


async def test_the_first_run_and_the_first_after_a_flush_send_nothing(world, graph):
    await world.link(*STAFF)
    before = await book_on_the_website(world, "prp_03")
    result = await sweep_now(world)
    assert result["first_run"] == 1 and result["inspections"] >= 1  # the seed's and this one
    assert notice_jobs(await world.queued()) == []
    assert (await world.jobs.store.seen_statuses([before.id]))[before.id].startswith("scheduled@")

    # Redis is flushed: what the sweep saw is gone, so the next run is a first run again.
    keys = [k async for k in world.redis.scan_iter(match=f"{world.namespace}:*", count=500)]
    await world.redis.delete(*keys)
    after_flush = await book_on_the_website(world, "prp_02")
    await sweep(world)
    assert graph.messages == []

    later = await book_on_the_website(world, "prp_01")
    await sweep(world)
    assert told(graph, later) and told(graph, before) == told(graph, after_flush) == []
    assert {m.to for m in graph.messages} == {PHONES["usr_tunde"], PHONES[later.inspector_id]}


async def test_a_booking_made_while_a_run_is_under_way_is_told_by_the_next(world, graph, monkeypatch):
    await world.link(*STAFF)
    inspector = world.jobs.inspector
    read = inspector.all_inspections
    made = []

    async def then_a_booking(**window):
        found = await read(**window)
        if not made:  # the website books right after the first run has read
            made.append(await book_on_the_website(world, "prp_03"))
        return found

    monkeypatch.setattr(inspector, "all_inspections", then_a_booking)
    await sweep(world)  # the first run: records what it read, and only that
    assert graph.messages == [] and made
    await sweep(world)
    assert sorted(told(graph, made[0])) == sorted([(PHONES["usr_tunde"], template("agent_new_booking")),
                                                   (PHONES[made[0].inspector_id], template("inspector_assigned"))])


async def test_overlapping_runs_do_not_both_work(world, graph):
    token = await world.jobs.store.try_lock(NAME, 60)
    assert token is not None
    assert await sweep_now(world) == "busy"
    assert await world.jobs.store.high_water(NAME) is None  # it recorded nothing: the next run is the first
    await world.jobs.store.unlock(NAME, token)
    assert (await sweep_now(world))["first_run"] == 1


async def test_an_inspector_outage_is_retried_and_nothing_is_lost_or_sent_twice(world, graph, monkeypatch):
    await world.link(*STAFF)
    await sweep(world)
    inspector = world.jobs.inspector
    read = inspector.all_inspections
    outage = {"failures": 0, "calls": 0}

    async def flaky(**window):
        outage["calls"] += 1
        if outage["failures"] > 0:
            outage["failures"] -= 1
            raise InspectorUnavailable("connection failed (ConnectError)", endpoint="GET /inspections")
        return await read(**window)

    monkeypatch.setattr(inspector, "all_inspections", flaky)

    # A short outage: the run's first try fails, its retry reads and tells.
    first = await book_on_the_website(world, "prp_03")
    outage.update(failures=1, calls=0)
    await sweep(world)
    assert outage["calls"] == 2
    assert sorted(told(graph, first)) == sorted([(PHONES["usr_tunde"], template("agent_new_booking")),
                                                 (PHONES[first.inspector_id], template("inspector_assigned"))])
    assert await world.jobs.store.dead_letters() == []

    # A long one: every try fails and the run is dead-lettered, having recorded nothing ...
    second = await book_on_the_website(world, "prp_01")
    outage.update(failures=world.settings.job_max_tries, calls=0)
    await sweep(world)
    assert outage["calls"] == world.settings.job_max_tries and told(graph, second) == []
    [dead] = await world.jobs.store.dead_letters()
    assert dead["kind"] == "booking_sweep" and "Inspector" in dead["error"]
    # ... so the first run after it tells the booking made during the outage, and nothing twice.
    await sweep(world)
    assert len(told(graph, second)) == 2 and len(told(graph, first)) == 2
    assert len(graph.messages) == 4


async def move_on_the_website(world, booking, *, days: int):
    """The website moves a booking to a new slot of the same property."""
    slot = await world.runtime.inspector.add_slot(booking.property_id, now() + timedelta(days=days))
    return await world.runtime.inspector.update_inspection(booking.id, slot_id=slot.id)


MOVED = ("agent_booking_moved", "inspector_booking_moved", "seeker_booking_moved")


async def test_a_website_move_tells_the_agent_the_inspector_and_the_seeker_once_each_time(world, graph):
    await world.link(*STAFF, "usr_ada")
    booking = await book_on_the_website(world, "prp_03", days=2)  # booked before the first run: not news
    await sweep(world)
    assert graph.messages == []

    moved = await move_on_the_website(world, booking, days=3)
    assert moved.starts_at != booking.starts_at
    await sweep(world, times=2)
    await sweep(world)
    everyone = [PHONES["usr_tunde"], PHONES[booking.inspector_id], PHONES["usr_ada"]]
    assert sorted(told(graph, booking)) == sorted(zip(everyone, map(template, MOVED), strict=True))

    await move_on_the_website(world, moved, days=4)  # moved again: news again, once
    await sweep(world, times=2)
    assert len(told(graph, booking)) == len(graph.messages) == 6

    back = await world.runtime.inspector.update_inspection(booking.id, slot_id=moved.slot_id)  # back to day 3
    assert back.starts_at == moved.starts_at
    await sweep(world)
    assert len(told(graph, booking)) == 9  # a time told before is news again when it comes back


async def test_a_move_then_a_cancellation_before_the_notice_ran_tells_the_cancellation_only(world, graph):
    await world.link(*STAFF, "usr_ada")
    booking = await book_on_the_website(world, "prp_03")
    await sweep(world)
    await move_on_the_website(world, booking, days=3)
    assert (await sweep_now(world))["moved"] == 1  # queued, not yet run ...
    await world.runtime.inspector.cancel_inspection(booking.id)  # ... and cancelled on the website meanwhile
    await world.run_jobs()
    assert told(graph, booking) == []
    await sweep(world)
    assert told(graph, booking) == [(PHONES["usr_tunde"], template("agent_booking_cancelled"))]


async def test_what_an_earlier_sweep_remembered_without_a_start_tells_no_move(world, graph):
    """Keys written before moves were told hold the status alone: the next run rewrites them, silently."""
    await world.link(*STAFF, "usr_ada")
    booking = await book_on_the_website(world, "prp_03")
    await sweep(world)
    await world.jobs.store.remember_statuses({booking.id: ("scheduled", 3600)})
    moved = await move_on_the_website(world, booking, days=3)
    await sweep(world)
    assert graph.messages == []
    assert (await world.jobs.store.seen_statuses([booking.id]))[booking.id].startswith("scheduled@")
    await move_on_the_website(world, moved, days=4)
    await sweep(world)
    assert len(told(graph, booking)) == 3
