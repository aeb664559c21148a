"""Email senders against a real SMTP server on loopback, retries, and choosing the sender."""

from __future__ import annotations

import io
import logging

import pytest

from adapters.email import (
    ConsoleEmailSender,
    EmailSendError,
    SmtpConfig,
    SmtpEmailSender,
    build_email_sender,
    deliver_with_retry,
)
from adapters.email.sender import build_message
from adapters.settings import Settings
from tests.adapters.email.smtp_sink import SmtpSink, free_port


class Sleeps:
    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture
def smtp():
    sink = SmtpSink().start()
    yield sink
    sink.stop()


async def test_smtp_sender_delivers_to_a_real_server(smtp):
    sender = SmtpEmailSender(SmtpConfig(host="127.0.0.1", port=smtp.port, sender="Inspector <bot@insp.test>"))
    await sender.send(to="ada@example.com", subject="Hello", text="Your code is 123456")

    [message] = smtp.messages
    assert message["From"] == "Inspector <bot@insp.test>"
    assert message["To"] == "ada@example.com"
    assert message["Subject"] == "Hello"
    assert "Your code is 123456" in message.get_content()
    assert smtp.envelopes[0].rcpt_tos == ["ada@example.com"]


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
async def test_smtp_sender_logs_in_when_credentials_are_set():
    sink = SmtpSink(credentials=("bot", "s3cret")).start()
    try:
        config = SmtpConfig(
            host="127.0.0.1", port=sink.port, sender="bot@insp.test", tls="none", user="bot", password="s3cret"
        )
        await SmtpEmailSender(config).send(to="ada@example.com", subject="Hi", text="body")
        assert sink.logins == ["bot"] and len(sink.messages) == 1

    finally:
        sink.stop()


async def test_unreachable_server_fails_after_retries_with_backoff():
    sleeps = Sleeps()
    sender = SmtpEmailSender(
        SmtpConfig(host="127.0.0.1", port=free_port(), sender="bot@insp.test", timeout=2), sleep=sleeps
    )
    with pytest.raises(EmailSendError):
        await sender.send(to="ada@example.com", subject="Hi", text="body")
    assert sleeps.calls == [0.5, 1.0]


async def test_retry_succeeds_after_transient_failures(caplog):
    attempts = []

    async def flaky(message):
        attempts.append(message)
        if len(attempts) < 3:
            raise TimeoutError("slow relay")

    sleeps = Sleeps()
    message = build_message(sender="a@b.c", to="ada@example.com", subject="s", text="code 654321")
    await deliver_with_retry(flaky, message, attempts=4, backoff=0.1, sleep=sleeps)
    assert len(attempts) == 3 and sleeps.calls == [0.1, 0.2]
    for record in caplog.records:
        assert "ada@example.com" not in record.getMessage() and "654321" not in record.getMessage()


async def test_injected_deliver_replaces_smtp():
    queued = []

    async def enqueue(message):
        queued.append(message)

    sender = SmtpEmailSender(SmtpConfig(host="unused", port=25, sender="a@b.c"), deliver=enqueue)
    await sender.send(to="ada@example.com", subject="s", text="t")
    assert [m["To"] for m in queued] == ["ada@example.com"]


async def test_console_sender_prints_the_email_but_logs_nothing(caplog):
    caplog.set_level(logging.DEBUG)
    stream = io.StringIO()
    await ConsoleEmailSender(stream=stream).send(to="ada@example.com", subject="Code", text="It is 112233")
    printed = stream.getvalue()
    assert "ada@example.com" in printed and "112233" in printed and "not sent" in printed
    assert not any("112233" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    ("env", "tls", "port"),
    [
        ({"SMTP_HOST": "localhost"}, "none", 25),
        ({"SMTP_HOST": "smtp.x", "SMTP_USER": "u", "SMTP_PASSWORD": "p"}, "starttls", 587),
        ({"SMTP_HOST": "smtp.x", "SMTP_USER": "u", "SMTP_TLS": "ssl"}, "ssl", 465),
        ({"SMTP_HOST": "smtp.x", "SMTP_TLS": "STARTTLS", "SMTP_PORT": "2525"}, "starttls", 2525),
    ],
)
def test_smtp_config_defaults(env, tls, port):
    config = SmtpConfig.from_settings(Settings.from_env(env))
    assert (config.tls, config.port) == (tls, port)


def test_smtp_config_rejects_unknown_tls_mode():
    with pytest.raises(ValueError, match="SMTP_TLS"):
        SmtpConfig.from_settings(Settings.from_env({"SMTP_HOST": "x", "SMTP_TLS": "maybe"}))


def test_build_email_sender(caplog):
    caplog.set_level(logging.INFO)
    console = build_email_sender(Settings.from_env({}))
    assert isinstance(console, ConsoleEmailSender)
    assert any("development" in r.getMessage() for r in caplog.records)

    smtp = build_email_sender(Settings.from_env({"SMTP_HOST": "mail.example.com", "SMTP_USER": "u"}))
    assert isinstance(smtp, SmtpEmailSender)
    assert smtp.config.tls == "starttls"
    assert "u" not in repr(smtp).replace("SmtpEmailSender", "")
