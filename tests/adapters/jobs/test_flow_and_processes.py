"""The seeker flow schedules/cancels reminders; `main.py worker` and the in-process jobs run them."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import timedelta

from adapters.jobs.scheduler import queue_name_for
from adapters.whatsapp.outbound import LogSender
from app.inprocess import start_inprocess_jobs
from app.runtime import build_runtime
from engine.events import InboundEvent
from tests.adapters.jobs.support import PHONES, REDIS_URL, ROOT, USERS, make_settings, now
from tests.shipped import say_text, shows


async def say(world, phone: str, text: str):
    return await world.runtime.engine.handle(InboundEvent(phone=phone, text=text))


async def tap(world, phone: str, choice_id: str):
    """Tap a choice by its id (titles are staff's wording and may change)."""
    event = InboundEvent(phone=phone, kind="button", text="", reply_id=choice_id, message_type="interactive")
    return await world.runtime.engine.handle(event)


async def book_through_the_flow(world):
    phone = PHONES["usr_ada"]
    user = await world.runtime.linking.link_demo_user(phone, USERS["usr_ada"])
    await world.runtime.engine.start_as(phone, user)
    await say(world, phone, "menu")
    await tap(world, phone, "browse")
    await say(world, phone, "1")
    times = await tap(world, phone, "book")
    # Not the first time offered: the sandbox seeds slots from today on, so the first one may start within the
    # hour (at 11:30 in Lagos: too soon for a reminder) or within the day (before 11:00: its reminder goes out
    # at once, one more message to count). A time beyond the reminder lead by the sandbox's clock, tapped by id.
    offered = [row.id for message in times.messages for row in message.rows]
    ahead = timedelta(hours=world.settings.reminder_lead_hours + 1)
    later = [f"slot:{s.id}" for s in world.sandbox.slots.values() if s.starts_at > now() + ahead]
    await tap(world, phone, next(row for row in offered if row in later))
    return await tap(world, phone, "confirm_booking")


async def test_booking_in_the_flow_schedules_the_reminder_and_cancelling_drops_it(world):
    seeded = set(world.sandbox.inspections)
    turn = await book_through_the_flow(world)
    assert [(c.name, c.ok) for c in turn.calls] == [("inspector.book_inspection", True),
                                                    ("jobs.schedule_reminder", True),
                                                    ("jobs.notify_booking", True)]
    assert shows(say_text("seeker", "booked"), turn.messages[0].text) and turn.state == "booked"
    queued = await world.queued()
    assert len([j for j in queued if ":reminder:" in j]) == 1
    assert len([j for j in queued if ":send_booking_notice:" in j and j.endswith(":booked")]) == 1
    phone = PHONES["usr_ada"]
    listing = await tap(world, phone, "bookings")
    # The list is sorted by date and the sandbox seeds Ada's bookings relative to today, so the row of the booking
    # just made is found by its id, never by its position.
    made = [key for key in world.sandbox.inspections if key not in seeded]
    rows = [row.id for message in listing.messages for row in message.rows]
    assert len(made) == 1 and f"booking:{made[0]}" in rows, (made, rows)
    await tap(world, phone, f"booking:{made[0]}")
    await tap(world, phone, "cancel_booking")
    turn = await tap(world, phone, "confirm_cancel")
    assert [c.name for c in turn.calls] == ["inspector.cancel_booking", "jobs.cancel_reminder", "jobs.notify_booking",
                                            "inspector.my_bookings"]
    assert shows(say_text("seeker", "do_cancel"), turn.messages[0].text)
    queued = await world.queued()
    assert [j for j in queued if ":reminder:" in j] == []
    assert len([j for j in queued if j.endswith(":cancelled")]) == 1


async def test_a_reminder_that_cannot_be_scheduled_does_not_lose_the_booking(world):
    async def down(*args, **kwargs):
        raise ConnectionError("redis is down")

    world.scheduler.schedule_reminder = down  # type: ignore[method-assign]  # the registered actions use it
    turn = await book_through_the_flow(world)
    assert ("jobs.schedule_reminder", False) in [(c.name, c.ok) for c in turn.calls]
    [message] = turn.messages
    assert shows(say_text("seeker", "booked"), message.text) and "INS-" in message.text
    assert [b.id for b in message.buttons] == ["bookings", "menu"]


def test_main_py_worker_processes_a_job_enqueued_by_another_process(tmp_path, graph, namespace):
    settings = make_settings(tmp_path, graph.url)
    env = {**os.environ, "REDIS_URL": REDIS_URL, "FLOWS_PATH": str(settings.flows_path),
           "DATABASE_URL": settings.database_url, "WHATSAPP_TOKEN": "t", "WHATSAPP_PHONE_ID": "1234567890",
           "WHATSAPP_GRAPH_URL": graph.url, "LOG_LEVEL": "INFO",
           # live mode (WhatsApp credentials) needs every production setting; this job uses none of the others
           "WHATSAPP_APP_SECRET": "s", "WHATSAPP_VERIFY_TOKEN": "v", "SECRET_KEY": "k" * 40,
           "INSPECTOR_API_BASE_URL": "http://127.0.0.1:9", "SMTP_HOST": "127.0.0.1"}
    enqueue = (
        "import asyncio, sys\n"
        "from arq.connections import ArqRedis\n"
        "async def main():\n"
        f"    redis = ArqRedis.from_url({REDIS_URL!r})\n"
        f"    await redis.enqueue_job('deliver_whatsapp', {{'to': {PHONES['usr_ada']!r}, 'text': 'from afar'}},\n"
        f"                            _job_id={namespace + ':wa:1'!r}, _queue_name={queue_name_for(namespace)!r})\n"
        # A job for tomorrow: arq's own burst mode would wait for it; `--burst` runs what is due and stops.
        f"    await redis.enqueue_job('deliver_whatsapp', {{'to': {PHONES['usr_ada']!r}, 'text': 'tomorrow'}},\n"
        f"                            _job_id={namespace + ':wa:2'!r}, _queue_name={queue_name_for(namespace)!r},\n"
        f"                            _defer_by=86400)\n"
        "    await redis.aclose()\n"
        "asyncio.run(main())\n"
    )
    subprocess.run([sys.executable, "-c", enqueue], cwd=ROOT, env=env, check=True, timeout=30)
    done = subprocess.run([sys.executable, "main.py", "worker", "--burst", "--namespace", namespace], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=60)
    try:
        assert done.returncode == 0, done.stderr[-2000:]
        assert [(c.to, c.text) for c in graph.messages] == [(PHONES["usr_ada"], "from afar")]
        import redis as sync_redis

        with sync_redis.Redis.from_url(REDIS_URL) as client:
            assert client.zrange(queue_name_for(namespace), 0, -1) == [f"{namespace}:wa:2".encode()]
    finally:
        import redis as sync_redis

        client = sync_redis.Redis.from_url(REDIS_URL)
        keys = list(client.scan_iter(match=f"*{namespace}*", count=500))
        if keys:
            client.delete(*keys)
        client.close()


async def test_without_redis_url_the_web_process_runs_the_jobs_itself(tmp_path, graph):
    settings = make_settings(tmp_path, graph.url, whatsapp_token="")  # development: messages are logged
    runtime = build_runtime(settings)  # no REDIS_URL: embedded fakeredis
    sender = LogSender()
    jobs = await start_inprocess_jobs(runtime, sender, poll_delay=0.05)
    try:
        await runtime.linking.link_demo_user(PHONES["usr_ada"], USERS["usr_ada"])
        slot = await runtime.inspector.add_slot("prp_03", now() + timedelta(hours=24, seconds=1))
        inspection = await runtime.inspector.book_inspection("prp_03", slot.id, "usr_ada")
        await runtime.extras["jobs.scheduler"].schedule_reminder(inspection.id, inspection.starts_at)
        for _ in range(60):
            if sender.sent:
                break
            await asyncio.sleep(0.1)
        [sent] = sender.sent
        assert sent.to == PHONES["usr_ada"] and sent.kind == "template"
        assert sent.template is not None and sent.template.name == "inspection_reminder"
    finally:
        await jobs.aclose()
        await runtime.aclose()
