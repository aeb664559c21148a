"""Engine actions that schedule and cancel inspection reminders (flows.yaml: `call: jobs.*`)."""

from __future__ import annotations

import logging
from typing import Any

from adapters.jobs.scheduler import JobScheduler
from engine.actions import ActionContext, ActionError, ActionRegistry

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

    registry.register("jobs.schedule_reminder", schedule_reminder)
    registry.register("jobs.cancel_reminder", cancel_reminder)
