"""Notices about one inspection to the other people in it, sent by a job right after the change.

`send_booking_notice`: the agent hears of a new booking and of a cancellation (with the seeker's name,
the slot and a button to the inquiry); the inspector hears when a booking assigns them; all three hear when
a booking moves to another time (`booking_sweep.TOLD`).
`send_inspection_update`: the seeker hears that the inspector is on the way or running late, or is asked
to pick a new time (a button to the agent's free slots).

Each job reads the inspection fresh from Inspector, so what is said is what is true when it is sent,
and sends each notice once per (inspection, change, phone) through the sent-markers of `JobContext.notify`.
A booking notice also tells the booking sweep what the agent now knows, so the sweep never repeats it.
"""

from __future__ import annotations

import logging
from typing import Any

from adapters.inspector.action_support import properties_by_id, users_by_id
from adapters.inspector.display import inspection_view
from adapters.inspector.errors import InspectorError, InspectorNotFound
from adapters.inspector.models import Inspection
from adapters.jobs.booking_sweep import TOLD, remember, start_stamp, told_of
from adapters.jobs.context import JobContext, jobs_of

log = logging.getLogger(__name__)

SEEKER_CHANGES = {"on_my_way": "inspector_on_the_way", "running_late": "inspector_running_late",
                  "reschedule": "reschedule_request"}


async def _view(jobs: JobContext, ctx: dict[str, Any], inspection_id: str, kind: str) -> tuple[Inspection | None, Any]:
    """The inspection and its view for the templates; (None, outcome) when it is gone or Inspector is down."""
    try:
        inspection = await jobs.inspector.get_inspection(inspection_id)
        props = await properties_by_id(jobs.inspector, [inspection.property_id])
        people = await users_by_id(jobs.inspector, [inspection.seeker_id, inspection.agent_id,
                                                    inspection.inspector_id])
    except InspectorNotFound:
        log.info("%s %s: inspection %s no longer exists", kind, ctx.get("job_id"), inspection_id)
        return None, "gone"
    except InspectorError as exc:
        return None, await jobs.retry_or_give_up(ctx, kind=kind, recipient=f"inspection {inspection_id}",
                                                 error=f"Inspector: {exc}")
    return inspection, inspection_view(inspection, jobs.tz, props.get(inspection.property_id), people)


async def _tell(jobs: JobContext, ctx: dict[str, Any], role: str, user_id: str | None, notification: str,
                view: dict[str, Any], marker: str) -> list[str]:
    if not user_id:
        return []
    phones = (await jobs.phones_by_user(role)).get(user_id, [])
    return [await jobs.notify(ctx, notification, phone, {"inspection": view}, marker) for phone in phones]


async def send_booking_notice(ctx: dict[str, Any], inspection_id: str, change: str, move: str = "") -> str:
    """`move`: the sweep's name for a move (new start and the run that found it), which its markers carry."""
    jobs = jobs_of(ctx)
    if change not in TOLD:
        raise ValueError(f"unknown booking change {change!r}")
    inspection, view = await _view(jobs, ctx, inspection_id, "booking_notice")
    if inspection is None:
        return view
    if change == "moved" and inspection.status != "scheduled":
        return inspection.status  # cancelled meanwhile: the sweep tells that instead
    # A move's marker names the move, so a second move is news and a retry of this one is not.
    marker = f"booking-notice:{inspection_id}:{change}"
    if change == "moved":
        marker += f":{move or start_stamp(inspection)}"
    outcomes = []
    for role, user_id, notification in told_of(change, inspection):
        if role == "inspector" and change == "booked" and inspection.status != "scheduled":
            continue  # cancelled before it was told: no assignment to announce
        outcomes += await _tell(jobs, ctx, role, user_id, notification, view, marker)
    # What was told, not what is true: a booking cancelled before its notice ran is still the sweep's to tell.
    await remember(jobs, inspection, "cancelled" if change == "cancelled" else "scheduled")
    return ",".join(outcomes) or "no recipient"


async def send_inspection_update(ctx: dict[str, Any], inspection_id: str, change: str) -> str:
    jobs = jobs_of(ctx)
    if change not in SEEKER_CHANGES:
        raise ValueError(f"unknown inspection update {change!r}")
    inspection, view = await _view(jobs, ctx, inspection_id, "inspection_update")
    if inspection is None:
        return view
    if inspection.status != "scheduled":
        return inspection.status  # completed or cancelled meanwhile: nothing to tell
    # A second "running late" (say 30 minutes after 15) is news: the marker holds what is reported.
    reported = f"{inspection.late_minutes or 0}:{inspection.starts_at:%Y%m%dT%H%M}"
    marker = f"inspection-update:{inspection_id}:{change}:{reported}"
    outcomes = await _tell(jobs, ctx, "seeker", inspection.seeker_id, SEEKER_CHANGES[change], view, marker)
    return ",".join(outcomes) or "no recipient"
