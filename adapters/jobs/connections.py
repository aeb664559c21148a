"""Connections for jobs: an arq pool beside the app's Redis, and the scheduler the web side uses."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from arq.connections import ArqRedis
from redis.asyncio import ConnectionPool, Redis

from adapters.jobs.scheduler import JobScheduler, queue_name_for
from adapters.jobs.store import DEFAULT_NAMESPACE
from adapters.settings import Settings

Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


def arq_redis(redis: Redis, namespace: str = DEFAULT_NAMESPACE) -> ArqRedis:
    """An ArqRedis with its own connection pool to the same server as `redis` (real or embedded),
    so closing one (a worker closes its pool) never closes the other."""
    pool = redis.connection_pool
    clone = ConnectionPool(connection_class=pool.connection_class, max_connections=pool.max_connections,
                           **pool.connection_kwargs)
    return ArqRedis(clone, default_queue_name=queue_name_for(namespace))


def build_scheduler(settings: Settings, redis: Redis, *, namespace: str = DEFAULT_NAMESPACE,
                    clock: Clock = _utc_now) -> JobScheduler:
    """The web side: what `register_job_actions` and the retry/deliver hooks need."""
    return JobScheduler(arq_redis(redis, namespace), namespace=namespace,
                        lead=timedelta(hours=settings.reminder_lead_hours), clock=clock)
