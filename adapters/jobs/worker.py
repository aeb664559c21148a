"""The arq worker's options: job functions and the cron schedule; the context comes from the caller.

`python main.py worker` runs `app.worker.run_worker(settings)` with the one Settings object (there is deliberately no
import-time `WorkerSettings` class reading the environment for arq's own CLI). Several workers may share
one Redis: cron runs get arq's unique job ids and reminders deterministic ones, so each job runs once.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any
from zoneinfo import ZoneInfo

from arq.cron import CronJob, cron
from arq.worker import Function, func

from adapters.jobs.alerts import send_property_alerts
from adapters.jobs.booking_sweep import sweep_bookings
from adapters.jobs.broadcasts import send_broadcast
from adapters.jobs.delivery import deliver_email, deliver_whatsapp
from adapters.jobs.digests import send_daily_digests
from adapters.jobs.notices import send_booking_notice, send_inspection_update
from adapters.jobs.reminders import send_inspection_reminder
from adapters.jobs.scheduler import queue_name_for
from adapters.jobs.store import DEFAULT_NAMESPACE
from adapters.jobs.sweep import sweep_reminders
from adapters.jobs.timeouts import conversation_timeout
from adapters.observability.instrument import metered_job
from adapters.observability.metrics import Metrics
from adapters.settings import Settings

log = logging.getLogger(__name__)

Startup = Callable[[dict[str, Any]], Awaitable[None]]

BOOKING_SWEEP_MINUTES = {5, 15, 25, 35, 45, 55}


def _metered(job: Any, metrics: Metrics | None) -> Any:
    return job if metrics is None else metered_job(job, metrics)


def job_functions(settings: Settings, metrics: Metrics | None = None) -> list[Function]:
    tries = max(1, settings.job_max_tries)
    return [
        func(_metered(send_inspection_reminder, metrics), max_tries=tries),
        func(_metered(send_daily_digests, metrics), max_tries=tries),
        func(_metered(send_property_alerts, metrics), max_tries=tries),
        func(_metered(conversation_timeout, metrics), max_tries=tries),
        func(_metered(sweep_reminders, metrics), max_tries=tries),
        func(_metered(sweep_bookings, metrics), max_tries=tries),
        func(_metered(send_booking_notice, metrics), max_tries=tries),
        func(_metered(send_inspection_update, metrics), max_tries=tries),
        func(_metered(deliver_whatsapp, metrics), max_tries=tries),
        func(_metered(deliver_email, metrics), max_tries=tries, keep_result=0),  # no copy of the code kept
        func(_metered(send_broadcast, metrics), max_tries=tries, timeout=600),
    ]


def alert_hours(interval_hours: int) -> set[int]:
    """Hours of the day the alerts run: every `interval_hours` from midnight (a divisor of 24 is even)."""
    step = min(max(1, interval_hours), 24)
    return set(range(0, 24, step))


def cron_jobs(settings: Settings, metrics: Metrics | None = None) -> list[CronJob]:
    """Hour AND minute=0 (a cron without minute fires every minute); hours are in settings.timezone."""
    tries = max(1, settings.job_max_tries)
    return [
        cron(_metered(send_daily_digests, metrics), name="daily_digest", hour={settings.daily_digest_hour}, minute={0},
             max_tries=tries),
        cron(_metered(send_property_alerts, metrics), name="property_alerts",
             hour=alert_hours(settings.alerts_interval_hours), minute={0}, max_tries=tries),
        # Every hour, off the hour so it does not queue behind the digests and alerts.
        cron(_metered(sweep_reminders, metrics), name="reminder_sweep", minute={30}, max_tries=tries),
        # Every ten minutes, off the hour and the half hour, where the runs above queue.
        cron(_metered(sweep_bookings, metrics), name="booking_sweep", minute=BOOKING_SWEEP_MINUTES, max_tries=tries),
    ]


async def startup(ctx: dict[str, Any]) -> None:
    """The composition root hands every worker its JobContext in `ctx["jobs"]`; this layer builds nothing."""
    if "jobs" not in ctx:
        raise RuntimeError("the jobs worker needs a JobContext in ctx['jobs'] (see app.worker.run_worker)")


def worker_options(settings: Settings, *, namespace: str = DEFAULT_NAMESPACE, ctx: dict[str, Any] | None = None,
                   with_cron: bool = True, on_startup: Startup | None = None,
                   on_shutdown: Startup | None = None, metrics: Metrics | None = None) -> dict[str, Any]:
    """Keyword arguments for arq's `Worker` (add `redis_settings` or `redis_pool`, `burst`)."""
    return {
        "functions": job_functions(settings, metrics),
        "cron_jobs": cron_jobs(settings, metrics) if with_cron else [],
        "queue_name": queue_name_for(namespace),
        "on_startup": on_startup or startup,
        "on_shutdown": on_shutdown,
        "ctx": {"settings": settings, "namespace": namespace, **(ctx or {})},
        "max_tries": max(1, settings.job_max_tries),
        "allow_abort_jobs": True,
        "timezone": ZoneInfo(settings.timezone),
        "keep_result": 3600,
    }
