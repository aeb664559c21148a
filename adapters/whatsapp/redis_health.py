"""What "Redis is not answering" means to the pipeline, and the flag `/health` reads while it lasts.

Each of these errors is waited out with backoff (an accepted event is never dropped): Redis unreachable,
restarting (loading its AOF), failing over (READONLY, MASTERDOWN, cluster slots moving) or full.
"""

from __future__ import annotations

import logging
import time

from redis.exceptions import (
    BusyLoadingError,
    ClusterDownError,
    MasterDownError,
    OutOfMemoryError,
    ReadOnlyError,
    SlotNotCoveredError,
    TryAgainError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)

REDIS_ERRORS = (RedisConnectionError, RedisTimeoutError, BusyLoadingError, OSError, ClusterDownError, TryAgainError,
                MasterDownError, ReadOnlyError, SlotNotCoveredError, OutOfMemoryError)


class RedisHealth:
    """Shared by the consumers of a process: False while a Redis call keeps failing (for /health)."""

    def __init__(self) -> None:
        self.ok = True
        self.since = 0.0
        self.failures = 0

    def failed(self) -> None:
        self.failures += 1
        if self.ok:
            self.ok, self.since = False, time.time()

    def recovered(self) -> None:
        if not self.ok:
            log.info("redis is answering again after %.1f s", time.time() - self.since)
        self.ok = True
