"""Deliverer: a timed-out send is recorded, then resent once with the longer timeout, whatever Redis says."""

from __future__ import annotations

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ReadOnlyError

from adapters.whatsapp.delivery import Deliverer
from adapters.whatsapp.outbound import SendResult
from adapters.whatsapp.stats import WebhookStats
from adapters.whatsapp.turns import OutboxItem
from engine.messages import OutboundMessage


class TimesOutOnce:
    """A Graph that does not answer the first send in time and accepts the patient resend."""

    def __init__(self) -> None:
        self.calls: list[bool] = []

    async def send_once(self, message: OutboundMessage, *, patient: bool = False) -> SendResult:
        self.calls.append(patient)
        if not patient:
            return SendResult(message.to, message.kind, ok=False, error="read timeout", retryable=True, timed_out=True)
        return SendResult(message.to, message.kind, ok=True, wamid="wamid.sent")


class RedisFailing:
    """Redis failing over (READONLY) or gone while the attempt is being recorded."""

    def __init__(self, error: Exception) -> None:
        self.error = error
        self.marked = 0

    async def mark_attempt(self, phone: str, index: int, item: OutboxItem) -> None:
        self.marked += 1
        raise self.error


@pytest.mark.parametrize("error", [ReadOnlyError("READONLY You can't write against a read only replica."),
                                   RedisConnectionError("Connection refused")])
async def test_a_timeout_whose_attempt_cannot_be_recorded_is_still_resent_once(error: Exception) -> None:
    sender, turns, stats = TimesOutOnce(), RedisFailing(error), WebhookStats()
    deliverer = Deliverer(sender, turns, stats=stats)  # type: ignore[arg-type]
    item = OutboxItem(OutboundMessage(to="+2348000000001", text="hello"))
    [result] = await deliverer.deliver("+2348000000001", [item])
    assert result.ok and result.attempts == 2
    assert sender.calls == [False, True]  # the resend is the patient one, and there is no third
    assert turns.marked == 1 and stats.send_timeouts == 1 and stats.sent == 1
