"""The `send_broadcast` job: runs a broadcast for a bounded time, then queues its own continuation.

Short runs keep a worker restart cheap: arq retries an unfinished job, and the broadcast's Redis state makes
the rerun skip everyone already claimed.
"""

from __future__ import annotations

import logging
from typing import Any

from adapters.broadcast.runner import BroadcastRunner
from adapters.broadcast.store import BroadcastStore
from adapters.jobs.context import jobs_of

log = logging.getLogger(__name__)

RUN_BUDGET = 120.0  # seconds of sending per job


async def send_broadcast(ctx: dict[str, Any], broadcast_id: str, part: int = 0) -> str:
    jobs = jobs_of(ctx)
    runner = BroadcastRunner(BroadcastStore(jobs.store.redis), jobs.sender, jobs.linking.last_inbound,
                             rate=jobs.settings.broadcast_rate, clock=jobs.clock)
    outcome = await runner.run(broadcast_id, budget=RUN_BUDGET)
    if outcome.finished:
        return "done"
    # Unfinished: carry on in a new job; when another runner holds the lease, look again once it could
    # have expired, so a runner that died (a CLI run killed, a lost worker) is taken over.
    busy = outcome.attempted == 0
    await jobs.scheduler.enqueue_broadcast(broadcast_id, part + 1, after=runner.lease_ms / 1000 if busy else 0.0)
    return "busy" if busy else "continued"
