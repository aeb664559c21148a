"""The hourly reminder sweep: every upcoming inspection gets its reminder, however it was booked.

The booking flow schedules a reminder for bookings made on WhatsApp; one made on the Inspector website
never passes through the bot. Every hour this job reads the scheduled inspections of the next
`reminder_lead_hours` + 2 hours from Inspector and schedules the reminder of each one whose seeker has a
linked number. `JobScheduler.schedule_reminder` uses deterministic job ids (inspection + start time),
so an inspection already scheduled (by the flow or an earlier sweep) enqueues nothing, and a moved one
gets its old reminder replaced; the reminder job's sent-marker stops a second message in any case.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from adapters.inspector.errors import InspectorError
from adapters.jobs.context import jobs_of

log = logging.getLogger(__name__)

#: How far past the lead time the sweep looks, so an inspection is seen by at least one sweep before its
#: reminder is due even when a run is late.
MARGIN = timedelta(hours=2)


async def sweep_reminders(ctx: dict[str, Any]) -> dict[str, int] | str:
    jobs = jobs_of(ctx)
    now = jobs.clock()
    try:
        upcoming = await jobs.inspector.all_inspections(start=now, end=now + jobs.scheduler.lead + MARGIN)
    except InspectorError as exc:
        return await jobs.retry_or_give_up(ctx, kind="reminder_sweep", recipient="*", error=f"Inspector: {exc}")
    linked = await jobs.phones_by_user("seeker")
    counts = {"upcoming": len(upcoming), "new": 0, "kept": 0, "skipped": 0}
    for inspection in upcoming:
        if inspection.status != "scheduled" or inspection.seeker_id not in linked:
            counts["skipped"] += 1  # nobody to remind on WhatsApp
            continue
        result = await jobs.scheduler.schedule_reminder(inspection.id, inspection.starts_at)
        if not result["scheduled"]:
            counts["skipped"] += 1  # starts too soon for a reminder
        elif result.get("new"):
            counts["new"] += 1
        else:
            counts["kept"] += 1
    log.info("reminder sweep: %s", counts)
    return counts
