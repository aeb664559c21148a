"""Building the admin-alert watchdog from a Runtime: who to tell (ALERT_EMAIL, ALERT_PHONES) and what to watch."""

from __future__ import annotations

from typing import Any

from adapters.observability.alerts import AdminAlerts, AlertWatchdog
from adapters.observability.backlog import BacklogProbe
from app.runtime import Runtime


def build_watchdog(runtime: Runtime, sender: Any, *, interval: float = 30.0) -> AlertWatchdog:
    """Dead letters (webhook and jobs) and this process's Inspector breaker; idle when no recipient is set."""
    settings = runtime.settings
    alerts = AdminAlerts(runtime.redis, emails=[settings.alert_email] if settings.alert_email else [],
                         phones=settings.alert_phone_list, email=runtime.email, sender=sender,
                         throttle_seconds=settings.alert_throttle_seconds)
    probe = BacklogProbe(runtime.redis, runtime.metrics)

    async def dead_letters() -> dict[str, int]:
        return (await probe.refresh())["dead_letters"]

    return AlertWatchdog(alerts, dead_letters, lambda: runtime.inspector.breaker.state, interval=interval)
