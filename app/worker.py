"""The `worker` process: arq on REDIS_URL, with a JobContext built from explicit parts.

The worker needs the engine (to render notifications), Inspector, accounts, a WhatsApp sender and the
email delivery; it needs no webhook, no inbox and no reloader, so it builds only those.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from arq.connections import RedisSettings
from arq.worker import Worker

from adapters.jobs.burst import run_until_idle
from adapters.jobs.scheduler import queue_name_for
from adapters.jobs.store import DEFAULT_NAMESPACE
from adapters.jobs.worker import worker_options
from adapters.settings import Settings
from app.alerting import build_watchdog
from app.jobs import build_job_context
from app.runtime import build_metrics, build_runtime

log = logging.getLogger(__name__)


async def startup(ctx: dict[str, Any]) -> None:
    """Build the parts jobs use from Settings, unless a JobContext was handed in (tests, in-process)."""
    if "jobs" in ctx:
        return
    settings: Settings = ctx["settings"]
    namespace = ctx.get("namespace") or DEFAULT_NAMESPACE
    runtime = build_runtime(settings, jobs_namespace=namespace, metrics=ctx.get("metrics"))
    ctx["runtime"] = runtime
    ctx["jobs"] = build_job_context(runtime, namespace=namespace)
    ctx["watchdog"] = build_watchdog(runtime, ctx["jobs"].sender)
    ctx["watchdog"].start()
    log.info("jobs worker ready: queue %s, digest at %02d:00 %s, alerts every %dh, reminders %dh ahead",
             queue_name_for(namespace), settings.daily_digest_hour, settings.timezone,
             settings.alerts_interval_hours, settings.reminder_lead_hours)


async def shutdown(ctx: dict[str, Any]) -> None:
    runtime = ctx.pop("runtime", None)
    if runtime is None:
        return
    watchdog = ctx.pop("watchdog", None)
    if watchdog is not None:
        await watchdog.stop()
    jobs = ctx.pop("jobs", None)
    if jobs is not None:
        await jobs.sender.aclose()
    await runtime.aclose()


async def run_worker(settings: Settings, *, burst: bool = False, namespace: str = DEFAULT_NAMESPACE) -> None:
    """Run the worker against settings.redis_url until stopped (or, with `burst`, until no job is due)."""
    if not settings.redis_url:
        raise ValueError("the worker needs REDIS_URL (e.g. redis://localhost:6379/0): it takes jobs from Redis")
    metrics = build_metrics(settings)
    options = worker_options(settings, namespace=namespace, on_startup=startup, on_shutdown=shutdown,
                             metrics=metrics, ctx={"metrics": metrics})
    # `burst`: our own end condition (adapters/jobs/burst.py); arq's would wait for every deferred job.
    worker = Worker(redis_settings=RedisSettings.from_dsn(settings.redis_url), burst=False, handle_signals=not burst,
                    **options)
    try:
        if burst:
            await run_until_idle(worker)
        else:
            await worker.async_run()
    except asyncio.CancelledError:  # a signal stopped it
        pass
    finally:
        await worker.close()
