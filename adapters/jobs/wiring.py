"""Building the jobs' pieces from Settings: the scheduler (web side) and the JobContext (worker side)."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

from arq.connections import ArqRedis
from redis.asyncio import ConnectionPool

from adapters.accounts.database import AccountsDatabase, upgrade_database
from adapters.email.factory import build_email_sender
from adapters.email.sender import Deliver, EmailSender
from adapters.email.smtp import SmtpConfig, smtp_deliver
from adapters.inspector.wiring import build_inspector_client
from adapters.jobs.actions import register_job_actions
from adapters.jobs.context import JobContext
from adapters.jobs.delivery import whatsapp_retry_hook
from adapters.jobs.scheduler import JobScheduler, queue_name_for
from adapters.jobs.store import DEFAULT_NAMESPACE, JobStore
from adapters.redis import connect_redis
from adapters.runtime import Runtime, build_actions, load_checked_flows
from adapters.settings import Settings
from adapters.whatsapp.outbound import Sender, build_sender
from engine.compiler import CompiledFlows
from engine.interpreter import Engine
from engine.store import ConversationStore

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


def arq_redis(redis: Any, namespace: str = DEFAULT_NAMESPACE) -> ArqRedis:
    """An ArqRedis with its own connection pool to the same server as `redis` (real or embedded),
    so closing one (a worker closes its pool) never closes the other."""
    pool = redis.connection_pool
    clone = ConnectionPool(connection_class=pool.connection_class, max_connections=pool.max_connections,
                           **pool.connection_kwargs)
    return ArqRedis(clone, default_queue_name=queue_name_for(namespace))


def build_scheduler(settings: Settings, redis: Any, *, namespace: str = DEFAULT_NAMESPACE,
                    clock: Clock = _utc_now) -> JobScheduler:
    """The web side: what `register_job_actions` and the retry/deliver hooks need."""
    return JobScheduler(arq_redis(redis, namespace), namespace=namespace,
                        lead=timedelta(hours=settings.reminder_lead_hours), clock=clock)


def email_delivery(settings: Settings) -> Deliver:
    """One real delivery attempt, for the `deliver_email` job: SMTP, or stdout in development."""
    if settings.smtp_configured:
        return smtp_deliver(SmtpConfig.from_settings(settings))

    async def print_it(message: EmailMessage) -> None:
        sys.stdout.write(f"\n[dev email, not sent]\n{message.as_string()}\n")
        sys.stdout.flush()

    return print_it


def build_jobs_runtime(settings: Settings, *, redis: Any = None, email: EmailSender | None = None,
                       clock: Clock = _utc_now, namespace: str = DEFAULT_NAMESPACE) -> Runtime:
    """`build_runtime` plus the `jobs.*` actions (which flows.yaml calls, so its check needs them).

    The same steps as adapters.runtime.build_runtime; once build_runtime registers the job actions
    itself, this can become `build_runtime(settings, ...)`. The scheduler is in `extras["jobs.scheduler"]`.
    """
    embedded = False
    if redis is None:
        redis, embedded = connect_redis(settings)
    if settings.database_url.startswith("sqlite"):
        upgrade_database(settings.database_url)
    database = AccountsDatabase.from_url(settings.database_url)
    inspector = build_inspector_client(settings)
    email = email or build_email_sender(settings)
    registry, linking = build_actions(settings, redis=redis, inspector=inspector, database=database, email=email,
                                      clock=clock)
    scheduler = build_scheduler(settings, redis, namespace=namespace, clock=clock)
    register_job_actions(registry, scheduler)
    loaded = load_checked_flows(settings, registry)
    engine = Engine(CompiledFlows(loaded), registry, ConversationStore(redis, ttl=settings.conversation_ttl),
                    clock=clock)
    return Runtime(settings=settings, redis=redis, embedded_redis=embedded, actions=registry, engine=engine,
                   inspector=inspector, linking=linking, database=database, email=email,
                   extras={"jobs.scheduler": scheduler})


def build_job_context(runtime: Runtime, *, sender: Sender | None = None, scheduler: JobScheduler | None = None,
                      deliver_email: Deliver | None = None, namespace: str = DEFAULT_NAMESPACE,
                      clock: Clock | None = None, retry_base: float = 5.0) -> JobContext:
    """The worker side. Without `sender`, one is built whose retryable failures become jobs."""
    settings = runtime.settings
    scheduler = scheduler or runtime.extras.get("jobs.scheduler") or build_scheduler(
        settings, runtime.redis, namespace=namespace)
    if sender is None:
        sender = build_sender(settings, retry=whatsapp_retry_hook(scheduler))
    return JobContext(
        settings=settings, engine=runtime.engine, inspector=runtime.inspector, linking=runtime.linking,
        sender=sender, deliver_email=deliver_email or email_delivery(settings),
        store=JobStore(scheduler.queue, scheduler.namespace), scheduler=scheduler,
        clock=clock or runtime.engine.clock, retry_base=retry_base,
    )
