"""SMTP delivery with the standard library's `smtplib`, run in a worker thread.

`smtplib` is blocking; one email per linking request does not justify an extra dependency such as
aiosmtplib, so each delivery runs in `asyncio.to_thread` and the event loop stays free.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage

from adapters.email.sender import Deliver, Sleep, build_message, deliver_with_retry
from adapters.settings import Settings

TLS_MODES = ("starttls", "ssl", "none")
_DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    sender: str
    tls: str = "none"
    user: str = ""
    password: str = ""
    timeout: float = 10.0

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpConfig:
        """SMTP_TLS defaults to starttls when credentials are set, none for an unauthenticated relay."""
        tls = (settings.smtp_tls or ("starttls" if settings.smtp_user else "none")).strip().lower()
        if tls not in TLS_MODES:
            raise ValueError(f"SMTP_TLS must be one of {', '.join(TLS_MODES)}, got {settings.smtp_tls!r}")
        return cls(
            host=settings.smtp_host,
            port=settings.smtp_port or _DEFAULT_PORTS[tls],
            sender=settings.smtp_from,
            tls=tls,
            user=settings.smtp_user,
            password=settings.smtp_password,
        )


def smtp_deliver(config: SmtpConfig) -> Deliver:
    """A `Deliver` that opens one SMTP connection per message, in a thread."""

    def send_blocking(message: EmailMessage) -> None:
        if config.tls == "ssl":
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                config.host, config.port, timeout=config.timeout, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(config.host, config.port, timeout=config.timeout)
        with client:
            if config.tls == "starttls":
                client.starttls(context=ssl.create_default_context())
            if config.user:
                client.login(config.user, config.password)
            client.send_message(message)

    async def deliver(message: EmailMessage) -> None:
        await asyncio.to_thread(send_blocking, message)

    return deliver


class SmtpEmailSender:
    """Builds the message, then delivers it through `deliver` (SMTP by default) with retries."""

    def __init__(
        self,
        config: SmtpConfig,
        *,
        deliver: Deliver | None = None,
        attempts: int = 3,
        backoff: float = 0.5,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.config = config
        self._deliver = deliver or smtp_deliver(config)
        self._attempts = attempts
        self._backoff = backoff
        self._sleep = sleep

    async def send(self, *, to: str, subject: str, text: str) -> None:
        message = build_message(sender=self.config.sender, to=to, subject=subject, text=text)
        await deliver_with_retry(
            self._deliver, message, attempts=self._attempts, backoff=self._backoff, sleep=self._sleep
        )

    def __repr__(self) -> str:
        return f"SmtpEmailSender(host={self.config.host!r}, port={self.config.port}, tls={self.config.tls!r})"
