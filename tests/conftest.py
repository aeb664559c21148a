"""Suite-wide hygiene: tests that use the real Redis (TEST_REDIS_URL) must delete what they write.

Keys present when the session starts are left alone (another checkout may share the database); any key
that appeared during the run and is still there at the end fails the run, named, so a leak is fixed where
it starts rather than piling up for 24 hours on a shared server.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from tests.services import TEST_REDIS_URL


def _keys(client: redis.Redis) -> set[bytes]:
    return set(client.scan_iter(count=1000))


@pytest.fixture(scope="session", autouse=True)
def no_redis_keys_left_behind() -> Iterator[None]:
    client = redis.Redis.from_url(TEST_REDIS_URL, socket_connect_timeout=1)
    try:
        before = _keys(client)
    except redis.RedisError:  # no Redis here: the tests that need it fail on their own
        client.close()
        yield
        return
    yield
    try:
        left = sorted(k.decode(errors="replace") for k in _keys(client) - before)
    finally:
        client.close()
    if left:
        shown = ", ".join(left[:10]) + (f" and {len(left) - 10} more" if len(left) > 10 else "")
        pytest.fail(f"tests left {len(left)} Redis keys in {TEST_REDIS_URL}: {shown}", pytrace=False)
