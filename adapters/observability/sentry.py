"""Optional error tracking with Sentry: on only when SENTRY_DSN is set, with the logs' masking applied.

`sentry-sdk` is an optional extra (`pip install '.[sentry]'`). Every event and breadcrumb is walked and each
string masked by the same `Redactor` as the log lines before it leaves the process; request bodies,
cookies and headers are never sent (`send_default_pii=False`, `max_request_body_size="never"`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from adapters.observability.redaction import Redactor

log = logging.getLogger(__name__)


def scrub(value: Any, redact: Redactor, depth: int = 0) -> Any:
    """`value` with every string masked (dicts and lists walked, 20 levels at most)."""
    if isinstance(value, str):
        return redact(value)
    if depth > 20:
        return "[deep]"
    if isinstance(value, dict):
        return {k: scrub(v, redact, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub(v, redact, depth + 1) for v in value]
    return value


def before_send(redact: Redactor) -> Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]]:
    def hook(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any]:
        event.pop("user", None)
        request = event.get("request")
        if isinstance(request, dict):
            for field in ("data", "cookies", "headers"):
                request.pop(field, None)
        return scrub(event, redact)

    return hook


def init_sentry(dsn: str, *, environment: str, release: str, redact: Redactor,
                transport: Any = None) -> bool:
    """Start Sentry when `dsn` is set; False (and a warning when the SDK is missing) otherwise."""
    if not dsn:
        return False
    try:
        import sentry_sdk
    except ImportError:
        log.warning("SENTRY_DSN is set but sentry-sdk is not installed: pip install '.[sentry]'")
        return False
    hook = before_send(redact)
    options: dict[str, Any] = {
        "dsn": dsn, "environment": environment, "release": release, "send_default_pii": False,
        "max_request_body_size": "never", "before_send": hook,
        "before_breadcrumb": lambda crumb, hint: scrub(crumb, redact), "traces_sample_rate": 0.0,
    }
    if transport is not None:
        options["transport"] = transport
    sentry_sdk.init(**options)
    log.info("error tracking on (Sentry, environment %s)", environment)
    return True
