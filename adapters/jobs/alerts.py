"""The property-alerts job: new listings since the last run, matched to each seeker's preferences.

A high-water mark in Redis (the newest `created_at` seen) makes each listing count once; a seeker
gets at most one message per run, with up to three matching properties, newest first, and the number of
the others ("…and 2 more").
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from adapters.inspector.display import property_view
from adapters.inspector.errors import InspectorError
from adapters.inspector.models import AlertPreferences, Property
from adapters.jobs.context import jobs_of

log = logging.getLogger(__name__)

MAX_PER_MESSAGE = 3
HIGH_WATER = "property-alerts"


def matches(prefs: AlertPreferences, prop: Property) -> bool:
    """Location is a case-insensitive part of the location or address; bedrooms is a minimum."""
    if not prefs.enabled:
        return False
    needle = (prefs.location or "").strip().lower()
    if needle and needle not in prop.location.lower() and needle not in prop.address.lower():
        return False
    if prefs.max_price is not None and prop.price > prefs.max_price:
        return False
    if prefs.bedrooms is not None and prop.bedrooms < prefs.bedrooms:
        return False
    return True


async def send_property_alerts(ctx: dict[str, Any]) -> dict[str, Any] | str:
    jobs = jobs_of(ctx)
    since = await jobs.store.high_water(HIGH_WATER)
    if since is None:
        since = jobs.clock() - timedelta(hours=max(1, jobs.settings.alerts_interval_hours))
    try:
        new = await jobs.inspector.properties_created_after(since)
        new = [p for p in new if p.created_at > since]
        if not new:
            return {"since": since.isoformat(), "new": 0, "sent": 0}
        subscribers = await jobs.inspector.alert_subscribers()
    except InspectorError as exc:
        return await jobs.retry_or_give_up(ctx, kind="property_alerts", recipient="*", error=f"Inspector: {exc}")

    newest_first = sorted(new, key=lambda p: (p.created_at, p.id), reverse=True)
    phones = await jobs.phones_by_user("seeker")
    sent = 0
    for prefs in subscribers:
        matching = [p for p in newest_first if matches(prefs, p)]
        if not matching:
            continue
        # The newest three by name, and how many more there are ("…and 2 more").
        values = {"properties": [property_view(p) for p in matching[:MAX_PER_MESSAGE]],
                  "more": max(len(matching) - MAX_PER_MESSAGE, 0)}
        for phone in phones.get(prefs.user_id, []):
            outcome = await jobs.notify(ctx, "property_alert", phone, values, f"alerts:{since:%Y%m%dT%H%M%S.%fZ}")
            sent += outcome in ("sent", "queued")
    await jobs.store.set_high_water(HIGH_WATER, max(p.created_at for p in new))
    log.info("property alerts: %d new listings since %s, %d messages", len(new), since.isoformat(), sent)
    return {"since": since.isoformat(), "new": len(new), "sent": sent}
