"""WhatsApp channel adapter: signed webhooks in, engine turns, pywa_async messages out."""

from adapters.whatsapp.app import create_webhook_app
from adapters.whatsapp.dispatch import Dispatcher, DispatchOptions
from adapters.whatsapp.inbound import StatusUpdate, WebhookBody, parse_body
from adapters.whatsapp.inbox import Inbox, InboxEntry
from adapters.whatsapp.outbound import (
    LogSender,
    RetryHook,
    Sender,
    SendResult,
    WhatsAppSender,
    backoff_retry,
    build_sender,
)
from adapters.whatsapp.ratelimit import RateLimiter

__all__ = [
    "DispatchOptions", "Dispatcher", "Inbox", "InboxEntry", "LogSender", "RateLimiter", "RetryHook",
    "SendResult", "Sender", "StatusUpdate", "WebhookBody", "WhatsAppSender", "backoff_retry",
    "build_sender", "create_webhook_app", "parse_body",
]
