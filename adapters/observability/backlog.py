"""The backlog gauges, read from Redis when metrics are scraped: queue depth, oldest pending event, dead letters.

They describe shared state, not one process, so the scraping process reads them fresh instead of every
process counting its own share. The pipeline says how to measure its backlog (`backlog()`: events not yet
processed and the age of the oldest); dead letters are Redis lists, summed per queue.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from adapters.observability.metrics import Metrics

log = logging.getLogger(__name__)

Backlog = Callable[[], Awaitable[tuple[int, float]]]


class BacklogProbe:
    """`await probe.refresh()` sets the backlog gauges of `metrics` and returns what it read."""

    def __init__(self, redis: Any, metrics: Metrics, *, backlog: Backlog | None = None,
                 dead_letters: Mapping[str, Sequence[str]] | None = None, jobs_queue: str = "") -> None:
        self.redis = redis
        self.metrics = metrics
        self.backlog = backlog
        self.dead_letter_keys = dict(dead_letters or {})
        self.jobs_queue = jobs_queue

    async def refresh(self) -> dict[str, Any]:
        read: dict[str, Any] = {}
        if self.backlog is not None:
            depth, oldest = await self.backlog()
            self.metrics.backlog(depth, oldest)
            read.update(queue_depth=depth, oldest_pending_seconds=round(oldest, 3))
        dead = {}
        for queue, keys in self.dead_letter_keys.items():
            dead[queue] = sum([int(await self.redis.llen(key)) for key in keys])
            self.metrics.dead_letter_count(queue, dead[queue])
        read["dead_letters"] = dead
        if self.jobs_queue:
            read["jobs_queued"] = int(await self.redis.zcard(self.jobs_queue))
            self.metrics.jobs_waiting(read["jobs_queued"])
        return read
