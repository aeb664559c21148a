"""Suite-wide hygiene: tests that use the real Redis (TEST_REDIS_URL) must delete what they write.

Keys present when the session starts are left alone (another checkout may share the database); any key
that appeared during the run and is still there at the end fails the run, named, so a leak is fixed where
it starts rather than piling up for 24 hours on a shared server.

Hypothesis: `HYPOTHESIS_PROFILE=ci` (set by .ci/run) draws the same examples every run, so a red CI is a
regression of the change under test, never a new example met by chance; runs elsewhere draw at random and
keep what fails in .hypothesis/ for the next run.
"""

from __future__ import annotations

import os

import pytest
import redis
from hypothesis import settings

from tests.services import TEST_REDIS_URL

settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


def _keys(client: redis.Redis) -> set[bytes]:
    return set(client.scan_iter(count=1000))


def _is_xdist_worker(config: pytest.Config) -> bool:
    """Under pytest-xdist the check runs once, in the controller, around all workers (each worker would see
    the keys of tests still running in the others)."""
    return hasattr(config, "workerinput")


def pytest_sessionstart(session: pytest.Session) -> None:
    if _is_xdist_worker(session.config):
        return
    client = redis.Redis.from_url(TEST_REDIS_URL, socket_connect_timeout=1)
    try:
        session.config.stash[_BEFORE] = _keys(client)
    except redis.RedisError:  # no Redis here: the tests that need it fail on their own
        pass
    finally:
        client.close()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    before = session.config.stash.get(_BEFORE, None)
    if before is None or _is_xdist_worker(session.config):
        return
    client = redis.Redis.from_url(TEST_REDIS_URL, socket_connect_timeout=1)
    try:
        left = sorted(k.decode(errors="replace") for k in _keys(client) - before)
    except redis.RedisError:
        return
    finally:
        client.close()
    if left:
        shown = ", ".join(left[:10]) + (f" and {len(left) - 10} more" if len(left) > 10 else "")
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        message = f"tests left {len(left)} Redis keys in {TEST_REDIS_URL}: {shown}"
        if reporter is not None:
            reporter.write_line("\n" + message, red=True, bold=True)
        else:
            print(message)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


_BEFORE = pytest.StashKey[set[bytes]]()
