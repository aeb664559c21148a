"""A burst run that ends: run the jobs that are due (or nearly), then stop.

arq's own burst mode stops only when its queue is empty, and a reminder deferred to next week sits in that
queue, so `python main.py worker --burst` (and a test running the jobs) would poll for ever. This stops once
no job is running and none is due within `horizon` seconds, so short retry delays are still waited for and
later jobs stay queued for the next run.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

from arq.worker import Worker


async def run_until_idle(worker: Worker, *, horizon: float = 5.0, poll: float = 0.05) -> None:
    """Run `worker` (made with `burst=False`) until nothing is due within `horizon` seconds; the caller closes it.

    A job being run stays in arq's queue until it finishes, so "nothing due" also means "nothing running"."""
    run = asyncio.create_task(worker.async_run(), name="arq-burst")
    try:
        while not run.done():
            await asyncio.sleep(poll)
            if worker.pool is None:  # arq connects inside async_run; nothing to look at yet
                continue
            soon_ms = int((time.time() + horizon) * 1000)
            if await worker.pool.zcount(worker.queue_name, "-inf", soon_ms) == 0:
                break
        if run.done():
            run.result()  # what the worker raised, if it stopped by itself
    finally:
        if not run.done():
            run.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await run
