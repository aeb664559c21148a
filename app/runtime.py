"""The composition root: settings -> store, actions, engine and adapters, built in one function.

Nothing else reads the environment or wires adapters together; commands and tests call `build_runtime`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from redis.asyncio import Redis

from adapters.accounts.actions import register_account_actions
from adapters.accounts.database import AccountsDatabase, upgrade_database
from adapters.accounts.linking import CodeDelivery, CodeNotSent, LinkingLimits, LinkingService
from adapters.analytics.actions import register_analytics_actions
from adapters.analytics.views import ViewCounter
from adapters.email.factory import build_email_sender
from adapters.email.sender import EmailSender
from adapters.email.smtp import SmtpConfig, SmtpEmailSender
from adapters.inspector.actions import register_inspector_actions
from adapters.inspector.client import InspectorClient
from adapters.inspector.wiring import build_inspector_client
from adapters.jobs.actions import register_job_actions
from adapters.jobs.connections import build_scheduler
from adapters.jobs.context import WINDOW
from adapters.jobs.delivery import email_deliver
from adapters.jobs.scheduler import JobScheduler
from adapters.jobs.store import DEFAULT_NAMESPACE
from adapters.observability.daily import DailyCounters
from adapters.observability.instrument import counted_action, instrument_linking
from adapters.observability.metrics import Metrics
from adapters.observability.multiprocess import enable_multiprocess, process_exited
from adapters.redis import connect_redis
from adapters.settings import Settings
from adapters.whatsapp.keys import PipelineKeys
from adapters.whatsapp.outbound import Sender
from engine.actions import ActionRegistry
from engine.compiler import CompiledFlows
from engine.interpreter import Engine
from engine.store import ConversationStore
from flows.loader import LoadedFlows, load_flows
from flows.paths import ActionShape

logger = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    redis: Redis
    embedded_redis: bool
    actions: ActionRegistry
    engine: Engine
    inspector: InspectorClient
    linking: LinkingService
    database: AccountsDatabase
    email: EmailSender
    pipeline_keys: PipelineKeys
    metrics: Metrics = field(default_factory=Metrics)
    daily: DailyCounters | None = None
    extras: dict[str, Any] = field(default_factory=dict)

    async def aclose(self) -> None:
        if self.settings.prometheus_multiproc_dir:  # this process's live gauges (breaker state) stop counting
            process_exited(self.settings.prometheus_multiproc_dir)
        await self.inspector.aclose()
        self.database.dispose()
        scheduler = self.extras.get("jobs.scheduler")
        if scheduler is not None:
            try:
                await scheduler.queue.aclose()
            except Exception:  # closing on the way out must not hide the real error
                logger.debug("job queue close failed", exc_info=True)
        try:
            await self.redis.aclose()
        except Exception:  # closing on the way out must not hide the real error
            logger.debug("redis close failed", exc_info=True)


def action_signatures(registry: ActionRegistry) -> dict[str, ActionShape]:
    """What `check` needs of each registered action: its arguments and its declared result type."""
    return {name: ActionShape(registry.params(name), registry.spec(name).result) for name in registry}


def build_actions(
    settings: Settings,
    *,
    redis: Redis,
    inspector: InspectorClient,
    database: AccountsDatabase,
    email: EmailSender,
    clock: Callable[[], datetime],
    scheduler: JobScheduler,
) -> tuple[ActionRegistry, LinkingService]:
    """Every action flows.yaml may call: `inspector.*`, `accounts.*`, `jobs.*` and `analytics.*`."""
    registry = ActionRegistry()
    register_inspector_actions(registry, inspector, timezone=settings.timezone)
    register_job_actions(registry, scheduler)
    views = ViewCounter(redis, namespace=scheduler.namespace, tz=ZoneInfo(settings.timezone), clock=clock)
    register_analytics_actions(registry, views, inspector)

    async def lookup_user_by_email(email: str) -> dict[str, Any] | None:
        user = await inspector.get_user_by_email(email)
        return user.model_dump(mode="json") if user else None

    linking = LinkingService(
        database=database, redis=redis, lookup_user_by_email=lookup_user_by_email, email_sender=email,
        secret_key=settings.secret_key, clock=clock,
        limits=LinkingLimits(codes_per_window=settings.link_codes_per_hour,
                             guesses_per_window=settings.link_guesses_per_hour),
    )
    register_account_actions(registry, linking)
    return registry, linking


def whatsapp_code_delivery(runtime: Runtime, sender: Callable[[], Sender]) -> CodeDelivery:
    """REST linking's code, sent to the phone as flows.yaml's `link_code` notification: its text inside
    the 24-hour window, its approved template outside. `sender` is looked up per call (the web app owns it)."""

    async def deliver(phone: str, code: str, minutes: int) -> None:
        user = await runtime.linking.get_user(phone)
        last = user.last_inbound_at if user is not None else None
        if last is not None and last.tzinfo is None:
            last = last.replace(tzinfo=UTC)
        in_window = last is not None and runtime.engine.clock() - last < WINDOW
        message = runtime.engine.notification("link_code", phone, {"code": code, "minutes": minutes},
                                               in_window=in_window, language=(user.language or "") if user else "")
        result = await sender().send(message)
        if not (result.ok or result.queued):
            raise CodeNotSent(f"WhatsApp error {result.error_code}")

    return deliver


def conversation_refresher(runtime: Runtime) -> Callable[[str], Awaitable[None]]:
    """Forget the phone's cached conversation state (both spellings: WhatsApp ids come without the `+`),
    so its next message starts over with `identify` and lands in the role's menu. Only the state goes
    (`data`, `version`): the pipeline's applied-event mark and last-inbound time in the same hash stay."""
    store = runtime.engine.store

    async def refresh(phone: str) -> None:
        for spelling in {phone, phone.removeprefix("+")}:
            await store.redis.hdel(store.key(spelling), "data", "version")  # type: ignore[misc]

    return refresh


def build_metrics(settings: Settings) -> Metrics:
    """This process's metrics; file-backed (summed over processes) when PROMETHEUS_MULTIPROC_DIR is set."""
    if settings.prometheus_multiproc_dir:
        enable_multiprocess(settings.prometheus_multiproc_dir)
    return Metrics()


def load_checked_flows(settings: Settings, registry: ActionRegistry) -> LoadedFlows:
    """Load flows.yaml, checking action names and arguments against what is registered."""
    return load_flows(settings.flows_path, action_signatures(registry))


def build_runtime(
    settings: Settings,
    *,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    email: EmailSender | None = None,
    redis: Redis | None = None,
    migrate: bool | None = None,
    jobs_namespace: str = DEFAULT_NAMESPACE,
    metrics: Metrics | None = None,
) -> Runtime:
    """Build everything; raises FlowsError when flows.yaml is invalid (nothing half-started)."""
    embedded = False
    if redis is None:
        redis, embedded = connect_redis(settings)
    if migrate is None:
        migrate = settings.database_url.startswith("sqlite")
    if migrate:
        upgrade_database(settings.database_url)
    metrics = metrics or build_metrics(settings)
    database = AccountsDatabase.from_url(settings.database_url)
    inspector = build_inspector_client(settings)
    inspector.observe(metrics.observe_inspector)
    scheduler = build_scheduler(settings, redis, namespace=jobs_namespace, clock=clock)
    if email is None and settings.smtp_configured and settings.redis_url:
        # With a worker on Redis, the OTP email goes out as a job: retried with backoff, dead-lettered last.
        email = SmtpEmailSender(SmtpConfig.from_settings(settings), deliver=email_deliver(scheduler), attempts=1)
    email = email or build_email_sender(settings)
    registry, linking = build_actions(settings, redis=redis, inspector=inspector, database=database, email=email,
                                      clock=clock, scheduler=scheduler)
    instrument_linking(linking, metrics)
    # Under the jobs' namespace: one prefix per deployment (and per test) for everything the service counts.
    daily = DailyCounters(redis, timezone=settings.timezone, clock=clock, prefix=f"{jobs_namespace}:daily")
    if "inspector.book_inspection" in registry:  # bookings made through WhatsApp, for the admin stats
        registry.wrap("inspector.book_inspection", counted_action(lambda: daily.incr("bookings")))
    loaded = load_checked_flows(settings, registry)
    keys = PipelineKeys(partitions=settings.pipeline_partitions)
    store = ConversationStore(redis, prefix=keys.conversation_prefix, ttl=settings.conversation_ttl)
    engine = Engine(CompiledFlows(loaded), registry, store, clock=clock, observe=metrics.engine_turn,
                    timers=scheduler.schedule_timeouts, tz=ZoneInfo(settings.timezone))
    logger.info("flows %s loaded (%s): %s", settings.flows_path, loaded.hash, loaded.report.summary(loaded.path))
    return Runtime(settings=settings, redis=redis, embedded_redis=embedded, actions=registry, engine=engine,
                   inspector=inspector, linking=linking, database=database, email=email, pipeline_keys=keys,
                   metrics=metrics, daily=daily,
                   extras={"jobs.scheduler": scheduler})
