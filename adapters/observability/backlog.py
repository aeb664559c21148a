"""The backlog gauges, read from Redis when metrics are scraped: queue depth, oldest pending event, dead letters.

They describe shared state, not one process, so the scraping process reads them fresh instead of every
process counting its own share. `BacklogKeys` names where the pipeline keeps them; the defaults are the
current inbox's (`wa:inbox:<instance>` lists of JSON entries carrying `received_at`).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from adapters.observability.metrics import Metrics

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BacklogKeys:
    inbox_pattern: str = "wa:inbox:*"
    dead_letters: Mapping[str, str] = field(default_factory=lambda: {
        "webhook": "wa:dead", "jobs": "inspector:jobs:dead-letter"})
    jobs_queue: str = "arq:queue:inspector:jobs"


class BacklogProbe:
    """`await probe.refresh()` sets the backlog gauges of `metrics` and returns what it read."""

    def __init__(self, redis: Any, metrics: Metrics, keys: BacklogKeys | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.redis = redis
        self.metrics = metrics
        self.keys = keys or BacklogKeys()
        self.clock = clock

    async def refresh(self) -> dict[str, Any]:
        depth, oldest = 0, None
        async for key in self.redis.scan_iter(match=self.keys.inbox_pattern, count=500):
            depth += await self.redis.llen(key)
            head = await self.redis.lindex(key, 0)
            received = _received_at(head)
            if received is not None and (oldest is None or received < oldest):
                oldest = received
        age = 0.0 if oldest is None else max(0.0, self.clock() - oldest)
        self.metrics.backlog(depth, age)
        dead = {}
        for queue, key in self.keys.dead_letters.items():
            dead[queue] = int(await self.redis.llen(key))
            self.metrics.dead_letter_count(queue, dead[queue])
        waiting = int(await self.redis.zcard(self.keys.jobs_queue))
        self.metrics.jobs_waiting(waiting)
        return {"queue_depth": depth, "oldest_pending_seconds": round(age, 3), "dead_letters": dead,
                "jobs_queued": waiting}


def _received_at(raw: Any) -> float | None:
    if raw is None:
        return None
    try:
        return float(json.loads(raw)["received_at"])
    except (ValueError, KeyError, TypeError):
        return None
