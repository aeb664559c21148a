"""The booking sweep: the people in an inspection hear of bookings, cancellations and moves made on the
Inspector website.

The booking flow enqueues `send_booking_notice` itself; a booking made, cancelled or moved on the website
never passes through the bot. Every ten minutes this job reads everyone's inspections of the next
`booking_sweep_days` (every status) and compares them with what it saw before (one Redis key per
inspection, its status and start, kept until the inspection is past): an inspection it has not seen is a
new booking, a seen scheduled one now cancelled is a cancellation, a seen scheduled one starting at another
time is a move. Each enqueues the flow's own `send_booking_notice` under the flow's job id, so the flow's
notice and the sweep's are one job, and its sent-markers stop a second message.

The first run (nothing remembered, e.g. after a Redis flush) only records what exists: it cannot tell new
bookings from old ones, and must not flood the agents. A run records only what it read, so a booking made
while a run is under way is new to the next one. A lock keeps two runs from overlapping (two first runs
could otherwise both record, and lose, a booking made between their reads).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from adapters.inspector.errors import InspectorError
from adapters.inspector.models import Inspection
from adapters.jobs.context import JobContext, jobs_of

log = logging.getLogger(__name__)

NAME = "booking-sweep"  # its high-water mark (the last complete run) and its lock
#: Read back this far too, so a booking made minutes before its start, between two runs, is still seen.
LOOKBACK = timedelta(hours=1)
#: The first run records this far ahead, so bookings made before it never reach the window as "new".
FIRST_RUN_HORIZON = timedelta(days=366)
#: A seen inspection is remembered this long after it leaves the window.
KEEP_AFTER = timedelta(days=1)
LOCK_TTL = 300  # seconds; longer than any run, shorter than the gap between two


#: Who hears of each change, by role: (role, notification). The seeker made a booking or a cancellation
#: themselves; a move may be the agent's, so the seeker hears of it too.
TOLD = {
    "booked": (("agent", "agent_new_booking"), ("inspector", "inspector_assigned")),
    "cancelled": (("agent", "agent_booking_cancelled"),),
    "moved": (("agent", "agent_booking_moved"), ("inspector", "inspector_booking_moved"),
              ("seeker", "seeker_booking_moved")),
}


def told_of(change: str, inspection: Inspection) -> list[tuple[str, str | None, str]]:
    """(role, user id, notification) for everyone `change` is told to."""
    users = {"agent": inspection.agent_id, "inspector": inspection.inspector_id, "seeker": inspection.seeker_id}
    return [(role, users[role], notification) for role, notification in TOLD[change]]


def seen_ttl(starts_at: datetime, now: datetime) -> int:
    """Seconds to remember an inspection: until it has left every window the sweep reads, and a day more."""
    return int((starts_at - now + LOOKBACK + KEEP_AFTER).total_seconds())


def start_stamp(inspection: Inspection) -> str:
    """When the inspection starts, to the minute in UTC: how the sweep tells a move."""
    return inspection.starts_at.astimezone(UTC).strftime("%Y%m%dT%H%M")


def memory(status: str, inspection: Inspection) -> str:
    """What the sweep keeps of an inspection: `status@start` (a key written before moves were told holds the
    status alone, and is rewritten on the next run)."""
    return f"{status}@{start_stamp(inspection)}"


async def remember(jobs: JobContext, inspection: Inspection, status: str) -> None:
    """Record `status` (at the inspection's start) as what the sweep knows of it; the notice job does this
    for what it told."""
    await jobs.store.remember_statuses({inspection.id: (memory(status, inspection),
                                                        seen_ttl(inspection.starts_at, jobs.clock()))})


def change_of(known: str | None, inspection: Inspection) -> str | None:
    """What to tell: "booked" for an unseen scheduled inspection, "cancelled" for a seen scheduled one now
    cancelled, "moved" for a seen scheduled one that now starts at another time. An unseen one already
    cancelled or done (booked and cancelled between two runs) is news to nobody."""
    status = inspection.status
    if known is None:
        return "booked" if status == "scheduled" else None
    known_status, _, known_start = known.partition("@")
    if known_status != "scheduled":
        return None
    if status == "cancelled":
        return "cancelled"
    if status == "scheduled" and known_start and known_start != start_stamp(inspection):
        return "moved"
    return None


async def sweep_bookings(ctx: dict[str, Any]) -> dict[str, int] | str:
    jobs = jobs_of(ctx)
    token = await jobs.store.try_lock(NAME, LOCK_TTL)
    if token is None:
        log.info("booking sweep %s: another run is under way", ctx.get("job_id"))
        return "busy"  # nothing recorded: the next run sees everything this one would have
    try:
        return await _sweep(jobs, ctx)
    finally:
        await jobs.store.unlock(NAME, token)


async def _sweep(jobs: JobContext, ctx: dict[str, Any]) -> dict[str, int] | str:
    now = jobs.clock()
    first_run = await jobs.store.high_water(NAME) is None
    horizon = FIRST_RUN_HORIZON if first_run else timedelta(days=jobs.settings.booking_sweep_days)
    try:
        found = await jobs.inspector.all_inspections(start=now - LOOKBACK, end=now + horizon, status=None)
    except InspectorError as exc:
        return await jobs.retry_or_give_up(ctx, kind="booking_sweep", recipient="*", error=f"Inspector: {exc}")
    known = await jobs.store.seen_statuses([i.id for i in found])
    counts = {"inspections": len(found), "booked": 0, "cancelled": 0, "moved": 0, "unlinked": 0}
    if not first_run:
        linked = {role: await jobs.phones_by_user(role) for role in ("agent", "inspector", "seeker")}
        for inspection in found:
            change = change_of(known.get(inspection.id), inspection)
            if change is None:
                continue
            if not any(user in linked[role] for role, user, _ in told_of(change, inspection)):
                counts["unlinked"] += 1  # nobody on WhatsApp to tell
                continue
            # Before it is remembered: a run that dies here is repeated by the next, and the job id dedupes.
            # A move is named by its new start and this run, so every move is told, even one back to a time
            # told before (a run that dies here may then tell a move twice: a repeat, never a miss).
            move = f"{start_stamp(inspection)}-{now.astimezone(UTC):%Y%m%dT%H%M%S%f}" if change == "moved" else ""
            await jobs.scheduler.enqueue_notice("send_booking_notice", inspection.id, change, key=move,
                                                extra=(move,) if move else ())
            counts[change] += 1
    # Every one, every run: a moved inspection's key lives as long as it does.
    await jobs.store.remember_statuses({i.id: (memory(i.status, i), seen_ttl(i.starts_at, now)) for i in found})
    await jobs.store.set_high_water(NAME, now)
    if first_run:
        log.info("booking sweep: first run, %d inspections recorded, nothing sent", len(found))
        return {**counts, "first_run": 1}
    log.info("booking sweep: %s", counts)
    return counts
