"""Per-process observability set-up: masked logging (LOG_FORMAT) and Sentry when SENTRY_DSN is set.

Called once by every process: main.py for the command it runs, and each uvicorn worker of `serve --workers N`
(a fresh process that inherits no logging configuration).
"""

from __future__ import annotations

from importlib import metadata

from adapters.observability.logs import configure_logging
from adapters.observability.redaction import Redactor, settings_secrets
from adapters.observability.sentry import init_sentry
from adapters.settings import Settings


def version() -> str:
    try:
        return metadata.version("inspector-whatsapp")
    except metadata.PackageNotFoundError:
        return "0.0.0"


def configure_process(settings: Settings, *, fmt: str | None = None, level: str | None = None,
                      error_tracking: bool = True) -> None:
    """Every logger through the masking handler; Sentry only for services (`error_tracking`), never for `chat`."""
    secrets = settings_secrets(settings)
    configure_logging(level or settings.log_level, fmt or settings.log_format, secrets=secrets)
    if error_tracking and settings.sentry_dsn:
        init_sentry(settings.sentry_dsn, environment=settings.sentry_environment, release=version(),
                    redact=Redactor(secrets))
