"""Admin alerts: sent by email and WhatsApp when dead letters grow or the breaker opens, throttled in Redis."""

from __future__ import annotations

import uuid

import pytest
from redis.asyncio import Redis

from adapters.observability.alerts import AdminAlerts, AlertWatchdog
from adapters.whatsapp.outbound import SendResult
from tests.services import TEST_REDIS_URL


class Mailbox:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str]] = []

    async def send(self, *, to: str, subject: str, text: str) -> None:
        self.sent.append((to, subject, text))


class Phone:
    def __init__(self) -> None:
        self.sent = []

    async def send(self, message):
        self.sent.append(message)
        return SendResult(message.to, message.kind, True, wamid="w")


@pytest.fixture
async def redis():
    client = Redis.from_url(TEST_REDIS_URL)
    prefix = f"test:alerts:{uuid.uuid4().hex[:8]}"
    yield client, prefix
    keys = [k async for k in client.scan_iter(match=f"{prefix}*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


def make(redis, prefix, mailbox, phone, throttle=3600):
    return AdminAlerts(redis, emails=["ops@example.com"], phones=["+2348000000099"], email=mailbox, sender=phone,
                       throttle_seconds=throttle, prefix=prefix)


async def test_dead_letters_growing_alerts_once_per_throttle_window(redis):
    client, prefix = redis
    mailbox, phone = Mailbox(), Phone()
    alerts = make(client, prefix, mailbox, phone)
    assert await alerts.check({"jobs": 3}, "closed") == []  # the first look only sets the baseline
    assert await alerts.check({"jobs": 3}, "closed") == []
    assert await alerts.check({"jobs": 5}, "closed") == ["dead_letters_jobs"]
    assert mailbox.sent[0][0] == "ops@example.com" and "2 new dead letter(s) in jobs" in mailbox.sent[0][2]
    assert [m.to for m in phone.sent] == ["+2348000000099"]
    assert await alerts.check({"jobs": 9}, "closed") == []  # throttled
    # Another process (same Redis) is throttled too.
    assert await make(client, prefix, mailbox, phone).check({"jobs": 12}, "closed") == []
    assert len(mailbox.sent) == len(phone.sent) == 1


async def test_an_open_breaker_alerts_and_a_closed_one_does_not(redis):
    client, prefix = redis
    mailbox, phone = Mailbox(), Phone()
    alerts = make(client, prefix, mailbox, phone)
    watchdog = AlertWatchdog(alerts, dead_letters=lambda: _counts({}), breaker_state=lambda: state[0])
    state = ["closed"]
    assert await watchdog.tick() == []
    state[0] = "open"
    assert await watchdog.tick() == ["inspector_breaker_open"]
    assert await watchdog.tick() == []
    assert "circuit breaker is open" in mailbox.sent[0][2]


async def test_no_recipient_means_no_alert_and_no_task(redis):
    client, prefix = redis
    alerts = AdminAlerts(client, prefix=prefix)
    assert not alerts.enabled and await alerts.alert("x", "y") is False
    watchdog = AlertWatchdog(alerts, dead_letters=lambda: _counts({}), breaker_state=lambda: "open")
    watchdog.start()
    assert watchdog._task is None


async def _counts(value):
    return value
