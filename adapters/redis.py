"""One Redis connection for the process: the real server when REDIS_URL is set, an embedded one otherwise."""

from __future__ import annotations

import logging
from typing import Any

from adapters.settings import Settings

logger = logging.getLogger(__name__)


def connect_redis(settings: Settings) -> tuple[Any, bool]:
    """Return (client, embedded). The embedded store is fakeredis: in-process, gone at exit."""
    if settings.redis_url:
        from redis.asyncio import Redis

        return Redis.from_url(settings.redis_url, decode_responses=False, health_check_interval=30), False
    import fakeredis

    logger.warning("REDIS_URL is not set: using an embedded in-process store (state is lost at exit; "
                   "one process only). Set REDIS_URL for production.")
    return fakeredis.FakeAsyncRedis(server=fakeredis.FakeServer()), True
