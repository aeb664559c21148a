"""Building the jobs' pieces from Settings: the scheduler (web side) and the JobContext (worker side)."""

from __future__ import annotations

import logging
import sys
from email.message import EmailMessage

from adapters.email.sender import Deliver
from adapters.email.smtp import SmtpConfig, smtp_deliver
from adapters.jobs.connections import Clock, arq_redis, build_scheduler
from adapters.jobs.context import JobContext
from adapters.jobs.delivery import whatsapp_retry_hook
from adapters.jobs.scheduler import JobScheduler
from adapters.jobs.store import DEFAULT_NAMESPACE, JobStore
from adapters.settings import Settings
from adapters.whatsapp.outbound import Sender, build_sender
from app.runtime import Runtime

log = logging.getLogger(__name__)

__all__ = ["arq_redis", "build_scheduler", "build_job_context", "email_delivery"]


def email_delivery(settings: Settings) -> Deliver:
    """One real delivery attempt, for the `deliver_email` job: SMTP, or stdout in development."""
    if settings.smtp_configured:
        return smtp_deliver(SmtpConfig.from_settings(settings))

    async def print_it(message: EmailMessage) -> None:
        sys.stdout.write(f"\n[dev email, not sent]\n{message.as_string()}\n")
        sys.stdout.flush()

    return print_it


def build_job_context(runtime: Runtime, *, sender: Sender | None = None, scheduler: JobScheduler | None = None,
                      deliver_email: Deliver | None = None, namespace: str = DEFAULT_NAMESPACE,
                      clock: Clock | None = None, retry_base: float = 5.0) -> JobContext:
    """The worker side. Without `sender`, one is built whose retryable failures become jobs."""
    settings = runtime.settings
    scheduler = scheduler or runtime.extras.get("jobs.scheduler") or build_scheduler(
        settings, runtime.redis, namespace=namespace)
    if sender is None:
        sender = build_sender(settings, retry=whatsapp_retry_hook(scheduler))
    return JobContext(
        settings=settings, engine=runtime.engine, inspector=runtime.inspector, linking=runtime.linking,
        sender=sender, deliver_email=deliver_email or email_delivery(settings),
        store=JobStore(scheduler.queue, scheduler.namespace), scheduler=scheduler,
        clock=clock or runtime.engine.clock, retry_base=retry_base,
    )
