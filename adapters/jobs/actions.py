"""Engine actions that schedule and cancel inspection reminders (flows.yaml: `call: jobs.*`)."""

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


REMINDER_ERRORS = {"invalid": "`starts_at` is not a date-time", "unavailable": "the job queue is down"}

log = logging.getLogger(__name__)

NOT_SCHEDULED = "We could not set up your reminder, but your booking is confirmed."


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

    registry.register("jobs.schedule_reminder", schedule_reminder, result=ReminderScheduled, errors=REMINDER_ERRORS,
                      doc="Remind the seeker 24 h before the inspection (at once if sooner, never within 1 h).")
    registry.register("jobs.cancel_reminder", cancel_reminder, result=ReminderCancelled,
                      errors={"unavailable": REMINDER_ERRORS["unavailable"]},
                      doc="Drop the pending reminder of an inspection.")
