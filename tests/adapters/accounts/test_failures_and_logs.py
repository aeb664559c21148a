"""Email failures leave no usable code; log records never carry a code, an email or a full phone."""

from __future__ import annotations

import logging
import re

import pytest

from adapters.accounts import LinkingError
from adapters.email import SmtpConfig, SmtpEmailSender
from adapters.email.smtp import smtp_deliver
from adapters.privacy import mask_phone
from tests.adapters.accounts.conftest import OTHER_PHONE, PHONE


def failing_sender(sent: list, sleeps) -> SmtpEmailSender:
    async def deliver(message):
        sent.append(message)
        raise ConnectionRefusedError("smtp down")

    return SmtpEmailSender(SmtpConfig(host="unused", port=25, sender="x@y.z"), deliver=deliver, sleep=sleeps)


async def test_send_failure_is_retried_then_reported_and_the_code_is_dead(make_service, sleeps, redis_client):
    sent: list = []
    service = make_service(email_sender=failing_sender(sent, sleeps))

    with pytest.raises(LinkingError) as err:
        await service.start_link(PHONE, "seeker@example.com")
    assert err.value.kind == "send_failed"
    assert "try again" in err.value.user_message
    assert len(sent) == 3 and sleeps.calls == [0.5, 1.0]

    code = re.search(r"\b(\d{6})\b", sent[-1].get_content()).group(1)
    with pytest.raises(LinkingError) as err:
        await service.verify_code(PHONE, code)
    assert err.value.kind == "no_code"
    assert await service.identify(PHONE) is None
    # A failed send does not count towards the hourly limit.
    keys = [k async for k in redis_client.scan_iter(match=f"{redis_client.test_prefix}:*")
            if not k.endswith(b":all:guesses")]  # the code typed above was a guess, and counts as one
    assert [int(await redis_client.get(k)) for k in keys] == [0, 0, 0]


async def test_unreachable_smtp_server_is_send_failed(make_service, sleeps):
    from tests.adapters.email.smtp_sink import free_port

    config = SmtpConfig(host="127.0.0.1", port=free_port(), sender="x@y.z", timeout=2)
    service = make_service(email_sender=SmtpEmailSender(config, deliver=smtp_deliver(config), sleep=sleeps))
    with pytest.raises(LinkingError) as err:
        await service.start_link(PHONE, "agent@example.com")
    assert err.value.kind == "send_failed"


async def test_no_code_email_or_full_phone_in_any_log_record(service, smtp, make_service, sleeps, caplog):
    caplog.set_level(logging.DEBUG)
    codes = []

    await service.start_link(PHONE, "agent@example.com")
    codes.append(smtp.last_code("agent@example.com"))
    with pytest.raises(LinkingError):
        await service.verify_code(PHONE, f"{(int(codes[-1]) + 1) % 10**6:06d}")
    await service.verify_code(PHONE, codes[-1])
    await service.start_link(OTHER_PHONE, "stranger@example.com")
    for _ in range(3):
        try:
            await service.start_link(OTHER_PHONE, "agent@example.com")
            codes.append(smtp.last_code("agent@example.com"))
        except LinkingError:
            pass
    await service.record_inbound(PHONE, "Ade", service._clock())
    await service.unlink(PHONE)
    sent: list = []
    broken = make_service(email_sender=failing_sender(sent, sleeps))
    with pytest.raises(LinkingError):
        await broken.start_link("+2348055554433", "seeker@example.com")

    assert caplog.records, "expected some logging"
    forbidden = [
        *codes,
        "agent@example.com",
        "stranger@example.com",
        "seeker@example.com",
        "2348012345621",
        "2348099998877",
        "2348055554433",
    ]
    # `mail.log` is aiosmtpd, the test's stand-in for the remote mail server: it sees the email.
    ours = [r for r in caplog.records if not r.name.startswith("mail.")]
    for record in ours:
        text = record.getMessage() + repr(record.args) + (record.exc_text or "")
        for secret in forbidden:
            assert secret not in text, (secret, text)
    assert any(mask_phone(PHONE) in r.getMessage() for r in ours)
