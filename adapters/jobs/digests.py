"""The daily digests, run at `daily_digest_hour` in the platform's time zone.

Inspectors get the day's inspections; agents get tomorrow's inspections on their properties.
Only linked WhatsApp users are messaged, and only when they have something on that day.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from typing import Any

from adapters.inspector.action_support import properties_by_id, users_by_id
from adapters.inspector.display import inspection_view
from adapters.inspector.errors import InspectorError
from adapters.inspector.models import Role
from adapters.jobs.context import JobContext, jobs_of

log = logging.getLogger(__name__)


def day_text(day: date) -> str:
    """`Tue 1 Dec`, as the notifications show a day."""
    return f"{day:%a} {day.day} {day:%b}"


async def _digest(jobs: JobContext, ctx: dict[str, Any], *, role: Role, notification: str, day: date) -> dict[str, int]:
    start = datetime.combine(day, time(0), jobs.tz)
    end = start + timedelta(days=1)
    counts = {"sent": 0, "skipped": 0}
    for user_id, phones in (await jobs.phones_by_user(role)).items():
        inspections = await jobs.inspector.inspections_for(role, user_id, start=start, end=end, status="scheduled")
        if not inspections:
            counts["skipped"] += 1
            continue
        props = await properties_by_id(jobs.inspector, [i.property_id for i in inspections])
        people = await users_by_id(jobs.inspector, [i.seeker_id for i in inspections])
        views = [inspection_view(i, jobs.tz, props.get(i.property_id), people) for i in inspections]
        values = {"inspections": views, "day": day_text(day)}
        for phone in phones:
            outcome = await jobs.notify(ctx, notification, phone, values, f"digest:{role}:{day.isoformat()}")
            counts["sent"] += outcome in ("sent", "queued")
    return counts


async def send_daily_digests(ctx: dict[str, Any]) -> dict[str, Any] | str:
    jobs = jobs_of(ctx)
    today = jobs.clock().astimezone(jobs.tz).date()
    try:
        inspectors = await _digest(jobs, ctx, role="inspector", notification="inspector_daily", day=today)
        agents = await _digest(jobs, ctx, role="agent", notification="agent_daily", day=today + timedelta(days=1))
    except InspectorError as exc:
        # Sent-markers make the retry skip whoever already got their digest.
        return await jobs.retry_or_give_up(ctx, kind="daily_digest", recipient="*", error=f"Inspector: {exc}")
    log.info("daily digests for %s: inspectors %s, agents %s", today, inspectors, agents)
    return {"day": today.isoformat(), "inspectors": inspectors, "agents": agents}
