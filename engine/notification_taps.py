"""A tap on a button of a notification (a reminder, a digest, an alert) leads into the user's flow.

A notification is sent by a job, outside any conversation turn, so its buttons are never among the choices
the conversation last offered; without this, "Stop alerts" on an alert was answered "That button belongs to
an earlier message". The button's `goto` is resolved from wherever the user stands now (`@menu`, `@<state>`
of their own flow, or `flow.state`), after its `set` and `say`, as a choice's would be.
"""

from __future__ import annotations

from typing import Any

from engine.movement import follow
from flows.schema import FlowFile
from flows.schema_say import Choice


def notification_choice(spec: FlowFile, reply_id: str) -> Choice | None:
    """The notification button with this id that leads somewhere, or None."""
    for notification in spec.notifications.values():
        for choice in notification.choices:
            if choice.id == reply_id and choice.goto:
                return choice
    return None


async def follow_notification_tap(step: Any, choice: Choice) -> None:
    """Run a tapped notification button on a Step: its `set`, its `say`, then its `goto`."""
    step.apply_set(choice.set)
    if choice.say:
        step.say_text(step.flows.render(choice.say, step.scope()))
    await follow(step, f"notification:{choice.id}", choice.goto)
