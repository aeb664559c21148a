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
from adapters.jobs.delivery import deliver_email, deliver_whatsapp
from adapters.jobs.digests import send_daily_digests
from adapters.jobs.notices import send_booking_notice, send_inspection_update
from adapters.jobs.reminders import send_inspection_reminder
from adapters.jobs.scheduler import queue_name_for
from adapters.jobs.store import DEFAULT_NAMESPACE
from adapters.jobs.sweep import sweep_reminders
from adapters.settings import Settings

log = logging.getLogger(__name__)

Startup = Callable[[dict[str, Any]], Awaitable[None]]


def job_functions(settings: Settings) -> list[Function]:
    tries = max(1, settings.job_max_tries)
    return [
        func(send_inspection_reminder, max_tries=tries),
        func(send_daily_digests, max_tries=tries),
        func(send_property_alerts, max_tries=tries),
        func(sweep_reminders, max_tries=tries),
        func(send_booking_notice, max_tries=tries),
        func(send_inspection_update, max_tries=tries),
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
        # Every hour, off the hour so it does not queue behind the digests and alerts.
        cron(sweep_reminders, name="reminder_sweep", minute={30}, max_tries=tries),
    ]


async def startup(ctx: dict[str, Any]) -> None:
    """The composition root hands every worker its JobContext in `ctx["jobs"]`; this layer builds nothing."""
    if "jobs" not in ctx:
        raise RuntimeError("the jobs worker needs a JobContext in ctx['jobs'] (see app.worker.run_worker)")


def worker_options(settings: Settings, *, namespace: str = DEFAULT_NAMESPACE, ctx: dict[str, Any] | None = None,
                   with_cron: bool = True, on_startup: Startup | None = None,
                   on_shutdown: Startup | None = None) -> dict[str, Any]:
    """Keyword arguments for arq's `Worker` (add `redis_settings` or `redis_pool`, `burst`)."""
    return {
        "functions": job_functions(settings),
        "cron_jobs": cron_jobs(settings) if with_cron else [],
        "queue_name": queue_name_for(namespace),
        "on_startup": on_startup or startup,
        "on_shutdown": on_shutdown,
        "ctx": {"settings": settings, "namespace": namespace, **(ctx or {})},
        "max_tries": max(1, settings.job_max_tries),
        "allow_abort_jobs": True,
        "timezone": ZoneInfo(settings.timezone),
        "keep_result": 3600,
    }
