"""Jobs are due by the scheduler's clock, never arq's wall clock: a conversation test pins its clock days away
from the wall clock (before this, its notices never came due once the wall clock passed the pinned day)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import fakeredis
import pytest
from arq.constants import job_key_prefix

from adapters.jobs.connections import arq_redis
from adapters.jobs.scheduler import JobScheduler

NAMESPACE = "test:clock"


@pytest.mark.parametrize("days_from_the_wall_clock", [-400, -3, 3, 400])
async def test_a_job_is_due_and_kept_by_the_schedulers_clock(days_from_the_wall_clock: int) -> None:
    now = datetime.now(UTC).replace(microsecond=0) + timedelta(days=days_from_the_wall_clock)
    scheduler = JobScheduler(arq_redis(fakeredis.FakeAsyncRedis(), NAMESPACE), namespace=NAMESPACE,
                             clock=lambda: now)
    try:
        notice = await scheduler.enqueue_notice("send_booking_notice", "ins_1", "booked")
        reminder = await scheduler.schedule_reminder("ins_1", now + timedelta(days=2))
        queue = scheduler.queue
        due = {job.decode(): score / 1000 for job, score in
               await queue.zrange(scheduler.queue_name, 0, -1, withscores=True)}
        assert due == {notice["job_id"]: now.timestamp(), reminder["job_id"]: (now + timedelta(days=1)).timestamp()}
        # Stored for a day past their due time, counted from the same clock (a negative lifetime was an error).
        lives = [await queue.pttl(job_key_prefix + job_id) / 1000 for job_id in (notice["job_id"], reminder["job_id"])]
        assert abs(lives[0] - 86_400) < 60 and abs(lives[1] - 2 * 86_400) < 60, lives
    finally:
        await scheduler.queue.aclose()


async def test_a_broadcast_part_is_due_by_the_schedulers_clock() -> None:
    now = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
    scheduler = JobScheduler(arq_redis(fakeredis.FakeAsyncRedis(), NAMESPACE), namespace=NAMESPACE,
                             clock=lambda: now)
    try:
        await scheduler.enqueue_broadcast("b1", 0)
        await scheduler.enqueue_broadcast("b1", 1, after=30)
        await scheduler.enqueue_broadcast("b1", 1, after=30)  # a part is queued once
        due = {job.decode(): score / 1000 for job, score in
               await scheduler.queue.zrange(scheduler.queue_name, 0, -1, withscores=True)}
        assert due == {"broadcast:b1:0": now.timestamp(), "broadcast:b1:1": now.timestamp() + 30}
    finally:
        await scheduler.queue.aclose()
