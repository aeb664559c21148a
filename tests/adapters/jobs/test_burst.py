"""run_until_idle: a burst run does what is due (and retries due within seconds) and stops, whatever is
deferred further; arq's burst mode would poll for ever while a reminder for next week is queued."""

from __future__ import annotations

import asyncio

from tests.adapters.jobs.support import PHONES


async def test_a_job_deferred_to_tomorrow_does_not_keep_the_run_going(world, graph):
    graph.reset()
    await world.scheduler.queue.enqueue_job("deliver_whatsapp", {"to": PHONES["usr_ada"], "text": "now"},
                                           _job_id=f"{world.namespace}:now", _queue_name=world.scheduler.queue_name)
    await world.scheduler.queue.enqueue_job("deliver_whatsapp", {"to": PHONES["usr_ada"], "text": "tomorrow"},
                                           _job_id=f"{world.namespace}:later", _queue_name=world.scheduler.queue_name,
                                           _defer_by=86400)
    await asyncio.wait_for(world.run_jobs(), timeout=30)
    assert [c.text for c in graph.messages] == ["now"]
    assert await world.queued() == [f"{world.namespace}:later"]


async def test_a_job_due_in_a_second_is_waited_for(world, graph):
    graph.reset()
    await world.scheduler.queue.enqueue_job("deliver_whatsapp", {"to": PHONES["usr_ada"], "text": "soon"},
                                           _job_id=f"{world.namespace}:soon", _queue_name=world.scheduler.queue_name,
                                           _defer_by=1)
    await asyncio.wait_for(world.run_jobs(), timeout=30)
    assert [c.text for c in graph.messages] == ["soon"] and await world.queued() == []
