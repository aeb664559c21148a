"""The seeker-flow change that schedules and cancels reminders, as a text edit of flows.yaml.

flows.yaml may only name `jobs.*` actions once the runtime registers them (flows are checked
against the registry at start-up), so the edit ships here until adapters/runtime.py calls
`register_job_actions`; `python -m adapters.jobs.flows_patch flows.yaml` applies it in place.
Every user-visible text stays exactly as it was: `book` now passes through `schedule_reminder`
to `booked`, which says the old confirmation (also when scheduling fails: on_error leads there too).
"""

from __future__ import annotations

import sys
from pathlib import Path

BOOK_SAY = """        on_error: booking_failed
        say:
          text: |
            ✅ Booked!"""

BOOK_NEW = """        on_error: booking_failed
        goto: schedule_reminder

      schedule_reminder:
        description: Pass-through. The booking stands even when the reminder cannot be scheduled.
        call: jobs.schedule_reminder
        with: {inspection_id: "{{ booking.id }}", starts_at: "{{ booking.starts_at }}"}
        as: reminder
        on_error: booked
        goto: booked

      booked:
        say:
          text: |
            ✅ Booked!"""

CANCEL_OLD = """        say: "🗑 Cancelled your inspection {{ cancelled.reference }} on {{ cancelled.when }}."
        goto: bookings
"""

CANCEL_NEW = """        say: "🗑 Cancelled your inspection {{ cancelled.reference }} on {{ cancelled.when }}."
        goto: cancel_reminder

      cancel_reminder:
        description: Pass-through. The reminder job re-checks the inspection, so a failure here sends nothing.
        call: jobs.cancel_reminder
        with: {inspection_id: "{{ cancelled.id }}"}
        as: reminder_cancelled
        on_error: bookings
        goto: bookings
"""


def patch_flows(text: str) -> str:
    """flows.yaml with the reminder states; unchanged when they are already there."""
    if "jobs.schedule_reminder" in text:
        return text
    for anchor in (BOOK_SAY, CANCEL_OLD):
        if text.count(anchor) != 1:
            raise ValueError(f"flows.yaml changed: expected exactly one {anchor.strip().splitlines()[0]!r}")
    return text.replace(BOOK_SAY, BOOK_NEW).replace(CANCEL_OLD, CANCEL_NEW)


if __name__ == "__main__":
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "flows.yaml")
    path.write_text(patch_flows(path.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"{path}: reminder states added")
