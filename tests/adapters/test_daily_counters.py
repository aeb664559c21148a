"""Daily counters: counts taken per message are summed in the process and written in batches, on the day they
were taken, and kept when Redis cannot take them."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

from redis.asyncio import Redis

from adapters.observability.daily import KEEP_SECONDS, DailyCounters
from tests.services import TEST_REDIS_URL


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


async def test_added_counts_are_written_together_on_the_day_they_were_taken():
    client = Redis.from_url(TEST_REDIS_URL)
    prefix = f"test:daily:{uuid.uuid4().hex}"
    clock = Clock(datetime(2026, 3, 1, 22, 59, tzinfo=UTC))
    daily = DailyCounters(client, timezone="Africa/Lagos", prefix=prefix, clock=clock, batch_delay=0.05)
    try:
        for _ in range(3):
            daily.add("messages")
        clock.now = datetime(2026, 3, 1, 23, 1, tzinfo=UTC)  # past midnight in Lagos (UTC+1)
        daily.add("messages", 2)
        assert await client.keys(f"{prefix}:*") == []  # nothing written yet: one batch for all
        await asyncio.sleep(0.2)
        assert await daily.get("messages", datetime(2026, 3, 1).date()) == 3
        assert await daily.get("messages", datetime(2026, 3, 2).date()) == 2
        assert 0 < await client.ttl(f"{prefix}:2026-03-02:messages") <= KEEP_SECONDS
        daily.add("messages")
        await daily.close()  # shutdown writes what is left without waiting
        assert await daily.get("messages", datetime(2026, 3, 2).date()) == 3
    finally:
        keys = await client.keys(f"{prefix}:*")
        if keys:
            await client.delete(*keys)
        await client.aclose()


async def test_counts_redis_could_not_take_are_kept_for_the_next_batch():
    down = Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    daily = DailyCounters(down, prefix="test:daily:down", batch_delay=60)
    daily.add("messages", 4)
    assert await daily.flush() is False
    assert sum(daily._pending.values()) == 4
    await daily.close()
    assert sum(daily._pending.values()) == 4
    await down.aclose()
