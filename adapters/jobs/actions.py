"""Engine actions that hand work to the jobs (flows.yaml: `call: jobs.*`): reminders and notices."""

from __future__ import annotations

import logging
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from adapters.jobs.scheduler import JobScheduler
from engine.actions import ActionContext, ActionError, ActionRegistry


class ReminderScheduled(BaseModel):
    """Whether a reminder will be sent (none for an inspection less than an hour away)."""

    model_config = ConfigDict(extra="forbid")

    scheduled: bool = Field(examples=[True])
    job_id: str | None = Field(examples=["reminder:ins_001"])
    at: str | None = Field(description="ISO date-time it is sent", examples=["2026-12-02T10:00:00+01:00"])
    new: bool = Field(False, description="false when it was already scheduled", examples=[True])


class ReminderCancelled(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cancelled: bool = Field(description="false when there was none", examples=[True])


class NoticeQueued(BaseModel):
    """A notice job queued for the people concerned (sent by the background jobs)."""

    model_config = ConfigDict(extra="forbid")

    job_id: str = Field(examples=["inspector:jobs:notice:ins_001:booked"])
    new: bool = Field(description="false when the same notice was already queued", examples=[True])


NOTICE_ERRORS = {"invalid": "`change` is not one this action knows", "not_queued": "the job queue is down"}
REMINDER_ERRORS = {"invalid": "`starts_at` is not a date-time", "unavailable": "the job queue is down"}

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

    registry.register("jobs.notify_booking", notify_booking, result=NoticeQueued, errors=NOTICE_ERRORS)
    registry.register("jobs.notify_seeker", notify_seeker, result=NoticeQueued, errors=NOTICE_ERRORS)
    registry.register("jobs.schedule_reminder", schedule_reminder, result=ReminderScheduled, errors=REMINDER_ERRORS,
                      doc="Remind the seeker 24 h before the inspection (at once if sooner, never within 1 h).")
    registry.register("jobs.cancel_reminder", cancel_reminder, result=ReminderCancelled,
                      errors={"unavailable": REMINDER_ERRORS["unavailable"]},
                      doc="Drop the pending reminder of an inspection.")
