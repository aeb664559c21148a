from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import redis.asyncio as aioredis

from adapters.accounts import AccountsDatabase, LinkingService, upgrade_database
from adapters.email import SmtpConfig, SmtpEmailSender
from tests.adapters.email.smtp_sink import SmtpSink
from tests.services import TEST_REDIS_URL

ACCOUNTS = {
    "seeker@example.com": {"id": 101, "name": "Sade Seeker", "email": "seeker@example.com", "role": "seeker"},
    "agent@example.com": {"id": 202, "name": "Ade Agent", "email": "agent@example.com", "role": "agent"},
    "inspector@example.com": {
        "id": 303,
        "name": "Ifeoma Inspector",
        "email": "inspector@example.com",
        "role": "inspector",
    },
}
PHONE = "+2348012345621"
OTHER_PHONE = "+2348099998877"


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


class Sleeps:
    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


async def lookup_user_by_email(email: str) -> dict | None:
    return ACCOUNTS.get(email.lower())


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'accounts.db'}"


@pytest.fixture
def database(sqlite_url):
    upgrade_database(sqlite_url)
    db = AccountsDatabase.from_url(sqlite_url)
    yield db
    db.dispose()


@pytest.fixture
async def redis_client():
    """Real Redis; this test's keys live under a unique prefix and are deleted afterwards."""
    client = aioredis.Redis.from_url(TEST_REDIS_URL)
    prefix = f"test:accounts:{uuid.uuid4().hex}"
    client.test_prefix = prefix  # type: ignore[attr-defined]
    yield client
    keys = [key async for key in client.scan_iter(match=f"{prefix}:*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


@pytest.fixture
def smtp():
    sink = SmtpSink().start()
    yield sink
    sink.stop()


@pytest.fixture
def make_service(database, redis_client, clock, sleeps, smtp):
    def make(**overrides) -> LinkingService:
        deps = {
            "database": database,
            "redis": redis_client,
            "lookup_user_by_email": lookup_user_by_email,
            "email_sender": SmtpEmailSender(
                SmtpConfig(host="127.0.0.1", port=smtp.port, sender="Inspector <no-reply@inspector.test>"),
                sleep=sleeps,
            ),
            "secret_key": "test-secret",
            "clock": clock,
            "key_prefix": redis_client.test_prefix,
            "sleep": sleeps,
        }
        deps.update(overrides)
        return LinkingService(**deps)

    return make


@pytest.fixture
def service(make_service) -> LinkingService:
    return make_service()
