"""Delivery jobs: WhatsApp messages that failed with a retryable error, and emails (the OTP).

Each try is one attempt; a failure raises arq's `Retry` with exponential backoff until
`job_max_tries`, then the job is recorded in the dead-letter list and logged with its id.
Also the two hooks that hand work to these jobs: the WhatsApp sender's `retry` and the email
sender's `deliver` step.
"""

from __future__ import annotations

import email
import email.policy
import logging
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

from adapters.email.sender import Deliver
from adapters.jobs.context import jobs_of
from adapters.jobs.scheduler import JobScheduler, parse_moment
from adapters.privacy import mask_email, mask_phone
from adapters.whatsapp.outbound import RetryHook, SendOnce, SendResult
from engine.messages import OutboundMessage

log = logging.getLogger(__name__)


async def deliver_whatsapp(ctx: dict[str, Any], message: dict[str, Any], reason: str = "") -> str:
    jobs = jobs_of(ctx)
    outbound = OutboundMessage.from_dict(message)
    marker = f"wa:{ctx.get('job_id')}"
    if not await jobs.store.claim(marker, outbound.to):
        return "duplicate"
    send_once = getattr(jobs.sender, "send_once", None) or jobs.sender.send
    try:
        result = await send_once(outbound)
    except BaseException:
        await jobs.store.release(marker, outbound.to)
        raise
    if result.ok:
        log.info("job %s: %s to %s sent on try %s", ctx.get("job_id"), outbound.kind, mask_phone(outbound.to),
                 ctx.get("job_try"))
        return "sent"
    await jobs.store.release(marker, outbound.to)
    error = f"{result.error_code or ''} {result.error}".strip()
    if not result.retryable:  # permanent (e.g. 131026 undeliverable): no point trying again
        await jobs.store.dead_letter(job_id=str(ctx.get("job_id")), kind=f"whatsapp:{outbound.kind}",
                                     recipient=mask_phone(outbound.to), error=error,
                                     tries=int(ctx.get("job_try") or 1), now=jobs.clock())
        return "dead-lettered"
    return await jobs.retry_or_give_up(ctx, kind=f"whatsapp:{outbound.kind}", recipient=mask_phone(outbound.to),
                                       error=error)


async def deliver_email(ctx: dict[str, Any], raw: bytes, not_after: str | None = None) -> str:
    jobs = jobs_of(ctx)
    message = email.message_from_bytes(raw, policy=email.policy.default)
    recipient = mask_email(str(message.get("To", "")))
    if not_after and jobs.clock() > parse_moment(not_after):
        await jobs.store.dead_letter(job_id=str(ctx.get("job_id")), kind="email", recipient=recipient,
                                     error="expired before it could be delivered",
                                     tries=int(ctx.get("job_try") or 1), now=jobs.clock())
        return "expired"
    marker = f"email:{ctx.get('job_id')}"
    if not await jobs.store.claim(marker, recipient):
        return "duplicate"
    try:
        await jobs.deliver_email(message)
    except Exception as exc:  # noqa: BLE001 - every transport failure is retried the same way
        await jobs.store.release(marker, recipient)
        return await jobs.retry_or_give_up(ctx, kind="email", recipient=recipient, error=type(exc).__name__)
    log.info("job %s: email to %s delivered on try %s", ctx.get("job_id"), recipient, ctx.get("job_try"))
    return "sent"


def whatsapp_retry_hook(scheduler: JobScheduler) -> RetryHook:
    """A `WhatsAppSender(retry=...)` hook: a retryable failure becomes a `deliver_whatsapp` job."""

    async def retry(message: OutboundMessage, first: SendResult, send_once: SendOnce) -> SendResult:
        reason = f"{first.error_code or ''} {first.error}".strip()
        try:
            await scheduler.enqueue_whatsapp(message, reason=reason)
        except Exception:  # Redis down: report the original failure rather than pretend it is queued
            log.exception("could not queue %s to %s for retry", message.kind, mask_phone(message.to))
            return first
        return SendResult(first.to, first.kind, False, error_code=first.error_code, error=first.error,
                          retryable=True, attempts=first.attempts, queued=True)

    return retry


def email_deliver(scheduler: JobScheduler, *, valid_for: timedelta | None = timedelta(minutes=5)) -> Deliver:
    """A `Deliver` step that enqueues a `deliver_email` job; tries stop after `valid_for` (the OTP's life)."""

    async def deliver(message: EmailMessage) -> None:
        not_after: datetime | None = scheduler.clock() + valid_for if valid_for else None
        job_id = await scheduler.enqueue_email(message, not_after=not_after)
        log.info("email to %s queued as job %s", mask_email(str(message.get("To", ""))), job_id)

    return deliver
