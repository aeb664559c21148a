"""The arq worker: job functions, the cron schedule, and start-up that builds what jobs need.

`python main.py worker` runs `run_worker(settings)` with the one Settings object (there is deliberately no
import-time `WorkerSettings` class reading the environment for arq's own CLI). Several workers may share
one Redis: cron runs get arq's unique job ids and reminders deterministic ones, so each job runs once.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from zoneinfo import ZoneInfo

from arq.connections import RedisSettings
from arq.cron import CronJob, cron
from arq.worker import Function, Worker, func

from adapters.jobs.alerts import send_property_alerts
from adapters.jobs.delivery import deliver_email, deliver_whatsapp
from adapters.jobs.digests import send_daily_digests
from adapters.jobs.reminders import send_inspection_reminder
from adapters.jobs.scheduler import queue_name_for
from adapters.jobs.store import DEFAULT_NAMESPACE
from adapters.settings import Settings

log = logging.getLogger(__name__)


def job_functions(settings: Settings) -> list[Function]:
    tries = max(1, settings.job_max_tries)
    return [
        func(send_inspection_reminder, max_tries=tries),
        func(send_daily_digests, max_tries=tries),
        func(send_property_alerts, max_tries=tries),
        func(deliver_whatsapp, max_tries=tries),
        func(deliver_email, max_tries=tries, keep_result=0),  # no copy of the code kept in results
    ]


def alert_hours(interval_hours: int) -> set[int]:
    """Hours of the day the alerts run: every `interval_hours` from midnight (a divisor of 24 is even)."""
    step = min(max(1, interval_hours), 24)
    return set(range(0, 24, step))


def cron_jobs(settings: Settings) -> list[CronJob]:
    """Hour AND minute=0 (a cron without minute fires every minute); hours are in settings.timezone."""
    tries = max(1, settings.job_max_tries)
    return [
        cron(send_daily_digests, name="daily_digest", hour={settings.daily_digest_hour}, minute={0},
             max_tries=tries),
        cron(send_property_alerts, name="property_alerts", hour=alert_hours(settings.alerts_interval_hours),
             minute={0}, max_tries=tries),
    ]


async def startup(ctx: dict[str, Any]) -> None:
    """Build the runtime pieces from Settings, unless a JobContext was handed in (tests, in-process)."""
    if "jobs" in ctx:
        return
    from adapters.jobs.wiring import build_job_context
    from adapters.runtime import build_runtime

    settings: Settings = ctx.get("settings") or Settings.from_env()
    namespace = ctx.get("namespace") or DEFAULT_NAMESPACE
    runtime = build_runtime(settings, jobs_namespace=namespace)
    ctx["runtime"] = runtime
    ctx["jobs"] = build_job_context(runtime, namespace=namespace)
    log.info("jobs worker ready: queue %s, digest at %02d:00 %s, alerts every %dh, reminders %dh ahead",
             queue_name_for(namespace), settings.daily_digest_hour, settings.timezone,
             settings.alerts_interval_hours, settings.reminder_lead_hours)


async def shutdown(ctx: dict[str, Any]) -> None:
    runtime = ctx.pop("runtime", None)
    if runtime is None:
        return
    jobs = ctx.pop("jobs", None)
    if jobs is not None:
        await jobs.sender.aclose()
        await jobs.scheduler.queue.aclose()
    await runtime.aclose()


def worker_options(settings: Settings, *, namespace: str = DEFAULT_NAMESPACE, ctx: dict[str, Any] | None = None,
                   with_cron: bool = True) -> dict[str, Any]:
    """Keyword arguments for arq's `Worker` (add `redis_settings` or `redis_pool`, `burst`)."""
    return {
        "functions": job_functions(settings),
        "cron_jobs": cron_jobs(settings) if with_cron else [],
        "queue_name": queue_name_for(namespace),
        "on_startup": startup,
        "on_shutdown": shutdown,
        "ctx": {"settings": settings, "namespace": namespace, **(ctx or {})},
        "max_tries": max(1, settings.job_max_tries),
        "allow_abort_jobs": True,
        "timezone": ZoneInfo(settings.timezone),
        "keep_result": 3600,
    }


async def run_worker(settings: Settings, *, burst: bool = False, namespace: str = DEFAULT_NAMESPACE) -> None:
    """Run the worker against settings.redis_url until stopped (or, with `burst`, until the queue is empty)."""
    if not settings.redis_url:
        raise ValueError("the worker needs REDIS_URL (e.g. redis://localhost:6379/0): it takes jobs from Redis")
    worker = Worker(redis_settings=RedisSettings.from_dsn(settings.redis_url), burst=burst, handle_signals=not burst,
                    **worker_options(settings, namespace=namespace))
    try:
        await worker.async_run()
    except asyncio.CancelledError:  # a signal stopped it
        pass
    finally:
        await worker.close()
