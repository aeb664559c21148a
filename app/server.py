"""`serve`: the web app with everything a running service needs, in one or several uvicorn workers.

Each worker process builds its own runtime from the environment (`create_serve_app` is uvicorn's
factory), joins the pipeline as a member with a random id, and shares the work through Redis. Database
migrations run once, in the parent, before any worker starts (`prepare`), never concurrently.
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
from typing import Any

from starlette.applications import Starlette

from adapters.accounts.database import upgrade_database
from adapters.jobs.delivery import whatsapp_retry_hook
from adapters.settings import Settings
from adapters.whatsapp.outbound import build_sender
from app.alerting import build_watchdog
from app.inprocess import InProcessJobs, start_inprocess_jobs
from app.observability import configure_process
from app.reload import FlowsReloader
from app.runtime import action_signatures, build_runtime
from app.serving import uvicorn_config_options
from app.web import create_app, staff_routes

log = logging.getLogger("serve")


def prepare(settings: Settings) -> None:
    """Once per deployment start, before the workers: migrate an SQLite database (PostgreSQL is migrated
    by the deployer with `python main.py db upgrade`, the `migrate` service of docker-compose)."""
    if settings.database_url.startswith("sqlite"):
        upgrade_database(settings.database_url)


def build_serve_app(settings: Settings) -> Starlette:
    """The app of one worker: runtime, sender with job retries, hot reload, admin routes, in-process jobs
    when there is no REDIS_URL (then there is a single worker)."""
    runtime = build_runtime(settings, migrate=False)
    scheduler = runtime.extras["jobs.scheduler"]
    sender = build_sender(settings, retry=whatsapp_retry_hook(scheduler))
    reloader = FlowsReloader(settings.flows_path, action_signatures(runtime.actions), runtime.engine)
    watchdog = build_watchdog(runtime, sender)  # admin alerts: dead letters growing, Inspector breaker open
    jobs: list[InProcessJobs] = []

    async def start() -> None:
        log.info("event loop: %s", type(asyncio.get_running_loop()).__module__)
        if not settings.whatsapp_configured:
            log.warning("WHATSAPP_TOKEN/WHATSAPP_PHONE_ID not set: development mode, replies are logged, not sent. "
                        "Use `python main.py chat` to talk to the bot locally.")
        reloader.start()  # watches flows.yaml and listens for SIGHUP
        watchdog.start()
        if not settings.redis_url:  # no separate worker in embedded mode: run the jobs here
            jobs.append(await start_inprocess_jobs(runtime, sender))

    async def close() -> None:
        await watchdog.stop()
        await reloader.stop()
        for running in jobs:
            await running.aclose()
        await sender.aclose()
        await runtime.aclose()

    return create_app(runtime, sender=sender, routes=staff_routes(runtime, reloader),
                      on_startup=[start], on_shutdown=[close])


def create_serve_app() -> Starlette:
    """uvicorn's factory in each worker process: settings from the environment, read here, once.

    A worker is a fresh process (multiprocessing spawn): it configures its own logging (masked, LOG_FORMAT)
    and error tracking like main.py does."""
    settings = Settings.from_env()
    uvicorn_config_options(settings)  # this worker's request deadlines (the protocol class came by name)
    configure_process(settings)
    return build_serve_app(settings)


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """uvloop when installed (uvicorn[standard] brings it): the stdlib loop costs a good share of CPU.
    Timeouts and limits: `app.serving`."""
    return {
        **uvicorn_config_options(settings),
        "loop": "uvloop" if importlib.util.find_spec("uvloop") else "asyncio",
        "log_config": None,  # uvicorn's loggers (access log included) go through our masking handler
        # uvicorn formats each access line's arguments before the level check: off when they would be dropped.
        "access_log": settings.log_level.upper() in ("DEBUG", "INFO", "NOTSET") or settings.log_level.isdigit(),
    }
