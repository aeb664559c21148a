"""Pick the email sender from the settings: SMTP when SMTP_HOST is set, the console otherwise."""

from __future__ import annotations

import logging

from adapters.email.console import ConsoleEmailSender
from adapters.email.sender import EmailSender
from adapters.email.smtp import SmtpConfig, SmtpEmailSender
from adapters.settings import Settings

log = logging.getLogger(__name__)


def build_email_sender(settings: Settings) -> EmailSender:
    if settings.smtp_configured:
        config = SmtpConfig.from_settings(settings)
        log.info("email: SMTP via %s:%d (tls=%s)", config.host, config.port, config.tls)
        return SmtpEmailSender(config)
    log.warning(
        "email: SMTP_HOST is not set, so emails are printed to stdout instead of sent. "
        "This is a development convenience only; set SMTP_* in production."
    )
    return ConsoleEmailSender(sender=settings.smtp_from)
