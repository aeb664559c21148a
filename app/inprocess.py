"""Jobs inside the web process, for development without REDIS_URL (one process, embedded Redis).

The same arq Worker and job functions run as a task of the web process's event loop, on the
runtime's Redis (the embedded one works: arq's start-up INFO call is skipped for it). Production
runs `python main.py worker` processes instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable
from typing import Any

import arq.worker
from arq.worker import Worker
from redis.asyncio import Redis

from adapters.jobs.connections import arq_redis, build_scheduler
from adapters.jobs.context import JobContext
from adapters.jobs.store import DEFAULT_NAMESPACE
from adapters.whatsapp.outbound import Sender
from app.jobs import build_job_context
from app.runtime import Runtime

log = logging.getLogger(__name__)

_log_redis_info = arq.worker.log_redis_info


async def _log_redis_info_unless_embedded(redis: Redis, log_func: Callable[[str], Any]) -> None:
    if redis.connection_pool.connection_class.__module__.startswith("fakeredis"):
        log_func("embedded redis (fakeredis)")
        return
    await _log_redis_info(redis, log_func)


class InProcessJobs:
    """The handle `start_inprocess_jobs` returns: `.jobs` (the JobContext), `.worker`, `await .aclose()`."""

    def __init__(self, worker: Worker, jobs: JobContext, task: asyncio.Task[None]) -> None:
        self.worker = worker
        self.jobs = jobs
        self.scheduler = jobs.scheduler
        self._task = task

    async def aclose(self) -> None:
        self.worker.handle_sig(signal.SIGINT)  # cancel running jobs, like SIGINT would
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._task
        # close() awaits the job tasks handle_sig cancelled; their CancelledError is expected here.
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self.worker.close()
        with contextlib.suppress(Exception):
            await self.jobs.scheduler.queue.aclose()


async def start_inprocess_jobs(runtime: Runtime, sender: Sender, *, namespace: str = DEFAULT_NAMESPACE,
                               poll_delay: float = 1.0) -> InProcessJobs:
    """Run the cron schedule and deferred jobs (reminders, retries) in this process until `aclose()`.

    `sender` is the web process's WhatsApp sender (its retry hook may enqueue `deliver_whatsapp`).
    Use the same namespace as the scheduler registered for the `jobs.*` actions (the default).
    """
    from adapters.jobs.worker import worker_options

    arq.worker.log_redis_info = _log_redis_info_unless_embedded
    scheduler = runtime.extras.get("jobs.scheduler") or build_scheduler(
        runtime.settings, runtime.redis, namespace=namespace, clock=runtime.engine.clock)
    jobs = build_job_context(runtime, sender=sender, scheduler=scheduler, namespace=namespace)
    options = worker_options(runtime.settings, namespace=namespace, ctx={"jobs": jobs})
    worker = Worker(redis_pool=arq_redis(runtime.redis, namespace), handle_signals=False, poll_delay=poll_delay,
                    **options)
    task = asyncio.create_task(worker.async_run(), name="inprocess-jobs")
    log.info("background jobs run inside this process (no REDIS_URL): queue %s", options["queue_name"])
    return InProcessJobs(worker, jobs, task)
