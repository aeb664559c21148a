"""Outgoing email: an `EmailSender` protocol, an SMTP sender, and a console sender for development."""

from adapters.email.console import ConsoleEmailSender
from adapters.email.factory import build_email_sender
from adapters.email.sender import Deliver, EmailSender, EmailSendError, deliver_with_retry
from adapters.email.smtp import SmtpConfig, SmtpEmailSender

__all__ = [
    "ConsoleEmailSender",
    "Deliver",
    "EmailSendError",
    "EmailSender",
    "SmtpConfig",
    "SmtpEmailSender",
    "build_email_sender",
    "deliver_with_retry",
]
