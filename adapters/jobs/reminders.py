"""The inspection reminder job: deferred to `reminder_lead_hours` before the inspection.

It reads the inspection fresh from Inspector when it runs: a cancelled, moved or past inspection
gets no reminder, whatever was scheduled.
"""

from __future__ import annotations

import logging
from typing import Any

from adapters.inspector.action_support import properties_by_id, users_by_id
from adapters.inspector.display import inspection_view
from adapters.inspector.errors import InspectorError, InspectorNotFound
from adapters.jobs.context import jobs_of
from adapters.jobs.scheduler import parse_moment

log = logging.getLogger(__name__)


async def send_inspection_reminder(ctx: dict[str, Any], inspection_id: str, starts_at: str) -> str:
    jobs = jobs_of(ctx)
    scheduled_for = parse_moment(starts_at)
    try:
        inspection = await jobs.inspector.get_inspection(inspection_id)
    except InspectorNotFound:
        log.info("reminder %s: inspection %s no longer exists", ctx.get("job_id"), inspection_id)
        return "gone"
    except InspectorError as exc:
        return await jobs.retry_or_give_up(ctx, kind="reminder", recipient=f"inspection {inspection_id}",
                                           error=f"Inspector: {exc}")
    if inspection.status != "scheduled":
        log.info("reminder %s: inspection %s is %s", ctx.get("job_id"), inspection_id, inspection.status)
        return inspection.status
    if inspection.starts_at != scheduled_for:
        log.info("reminder %s: inspection %s moved; its new reminder will run", ctx.get("job_id"), inspection_id)
        return "moved"
    if inspection.starts_at <= jobs.clock():
        return "past"

    phones = (await jobs.phones_by_user("seeker")).get(inspection.seeker_id, [])
    if not phones:
        log.info("reminder %s: seeker of %s has no linked WhatsApp number", ctx.get("job_id"), inspection_id)
        return "no recipient"
    try:
        props = await properties_by_id(jobs.inspector, [inspection.property_id])
        people = await users_by_id(jobs.inspector, [inspection.agent_id, inspection.seeker_id])
    except InspectorError as exc:
        return await jobs.retry_or_give_up(ctx, kind="reminder", recipient=f"inspection {inspection_id}",
                                           error=f"Inspector: {exc}")
    view = inspection_view(inspection, jobs.tz, props.get(inspection.property_id), people)
    marker = f"reminder:{inspection_id}:{scheduled_for:%Y%m%dT%H%M%SZ}"
    outcomes = [await jobs.notify(ctx, "inspection_reminder", phone, {"inspection": view}, marker)
                for phone in phones]
    return ",".join(outcomes)
