"""One Redis connection for the process: the real server when REDIS_URL is set, an embedded one otherwise."""

from __future__ import annotations

import logging
from typing import Any

from adapters.settings import Settings

logger = logging.getLogger(__name__)


def pack_with_hiredis(client: Any) -> None:
    """Have the client's connections pack commands with hiredis (C) instead of redis-py's Python packer.

    redis-py's asyncio connections pack in Python, copying the growing buffer once per argument: packing
    was the largest own cost of the pipeline's Redis calls (a turn's commit carries the conversation, a few
    KB). hiredis packs the same bytes and raises the same errors (redis.connection.HiredisRespSerializer);
    without hiredis nothing changes. Call before the first command (connections are made on demand)."""
    try:
        import hiredis
        from redis.connection import HiredisRespSerializer
    except ImportError:
        return
    if not hasattr(hiredis, "pack_command"):
        return
    pool = client.connection_pool
    base = pool.connection_class
    if getattr(base, "packs_with_hiredis", False):
        return
    serializer = HiredisRespSerializer()

    def pack_command(self: Any, *args: Any) -> list[bytes]:
        return serializer.pack(*args)

    pool.connection_class = type(f"Hiredis{base.__name__}", (base,),
                                 {"pack_command": pack_command, "packs_with_hiredis": True})


def connect_redis(settings: Settings) -> tuple[Any, bool]:
    """Return (client, embedded). The embedded store is fakeredis: in-process, gone at exit."""
    if settings.redis_url:
        from redis.asyncio import Redis

        client = Redis.from_url(settings.redis_url, decode_responses=False, health_check_interval=30)
        pack_with_hiredis(client)
        return client, False
    import fakeredis

    logger.warning("REDIS_URL is not set: using an embedded in-process store (state is lost at exit; "
                   "one process only). Set REDIS_URL for production.")
    return fakeredis.FakeAsyncRedis(server=fakeredis.FakeServer()), True
