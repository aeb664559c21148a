"""WhatsApp channel adapter: signed webhooks into per-user ordered streams, engine turns, an outbox to pywa."""

from adapters.whatsapp.consumer import ConsumerOptions
from adapters.whatsapp.delivery import DeliveryOptions
from adapters.whatsapp.inbound import StatusUpdate, WebhookBody, parse_body
from adapters.whatsapp.inbox import InboxEntry, StreamInbox
from adapters.whatsapp.keys import PipelineKeys
from adapters.whatsapp.outbound import (
    LogSender,
    RetryHook,
    Sender,
    SendResult,
    WhatsAppSender,
    backoff_retry,
    build_sender,
)
from adapters.whatsapp.pipeline import Pipeline, PipelineOptions
from adapters.whatsapp.routes import webhook_routes

__all__ = [
    "ConsumerOptions", "DeliveryOptions", "InboxEntry", "LogSender", "Pipeline", "PipelineKeys", "PipelineOptions",
    "RetryHook", "SendResult", "Sender", "StatusUpdate", "StreamInbox", "WebhookBody", "WhatsAppSender",
    "backoff_retry", "build_sender", "parse_body", "webhook_routes",
]
