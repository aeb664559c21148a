"""Engine actions that hand work to the jobs (flows.yaml: `call: jobs.*`): reminders and notices."""

from __future__ import annotations

import logging
from typing import Any

from adapters.jobs.scheduler import JobScheduler
from engine.actions import ActionContext, ActionError, ActionRegistry

log = logging.getLogger(__name__)

NOT_SCHEDULED = "We could not set up your reminder, but your booking is confirmed."
NOT_QUEUED = "We could not pass that on just now. Please try again in a minute."


def register_job_actions(registry: ActionRegistry, scheduler: JobScheduler) -> None:
    async def schedule_reminder(ctx: ActionContext, inspection_id: str, starts_at: str) -> dict[str, Any]:
        try:
            return await scheduler.schedule_reminder(str(inspection_id), str(starts_at))
        except ValueError as exc:
            raise ActionError(NOT_SCHEDULED, kind="invalid", detail=f"starts_at {starts_at!r}") from exc
        except Exception as exc:  # the queue is down: the booking stands, the flow routes on_error
            log.warning("reminder for %s not scheduled: %s", inspection_id, type(exc).__name__)
            raise ActionError(NOT_SCHEDULED, kind="unavailable", detail=type(exc).__name__) from exc

    async def cancel_reminder(ctx: ActionContext, inspection_id: str) -> dict[str, Any]:
        try:
            return {"cancelled": await scheduler.cancel_reminder(str(inspection_id))}
        except Exception as exc:  # the reminder job re-checks the inspection, so nothing is sent anyway
            log.warning("reminder for %s not cancelled: %s", inspection_id, type(exc).__name__)
            raise ActionError("", kind="unavailable", detail=type(exc).__name__) from exc

    async def notify_booking(ctx: ActionContext, inspection_id: str, change: str) -> dict[str, Any]:
        """Tell the agent (and, for a new booking, the inspector) about a booking or a cancellation."""
        if change not in ("booked", "cancelled"):
            raise ActionError("", kind="invalid", detail=f"change {change!r}")
        return await _enqueue("send_booking_notice", inspection_id, change, "")

    async def notify_seeker(ctx: ActionContext, inspection_id: str, change: str, key: Any = "") -> dict[str, Any]:
        """Tell the seeker the inspector is on the way, running late, or asks to reschedule; `key` tells
        repeated reports apart (a later "running late" is news)."""
        if change not in ("on_my_way", "running_late", "reschedule"):
            raise ActionError("", kind="invalid", detail=f"change {change!r}")
        return await _enqueue("send_inspection_update", inspection_id, change, str(key or ""))

    async def _enqueue(function: str, inspection_id: str, change: str, key: str) -> dict[str, Any]:
        try:
            return await scheduler.enqueue_notice(function, str(inspection_id), change, key=key)
        except Exception as exc:  # the change stands in Inspector; only the notice is lost
            log.warning("%s for %s not queued: %s", function, inspection_id, type(exc).__name__)
            # Not "unavailable": Inspector answered; it is our queue that did not (flows may reword `not_queued`).
            raise ActionError(NOT_QUEUED, kind="not_queued", detail=type(exc).__name__) from exc

    registry.register("jobs.notify_booking", notify_booking)
    registry.register("jobs.notify_seeker", notify_seeker)
    registry.register("jobs.schedule_reminder", schedule_reminder)
    registry.register("jobs.cancel_reminder", cancel_reminder)
