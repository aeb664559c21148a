"""The `conversation_timeout` job: a waiting state's timeout, due `after` the user's last turn.

Scheduled after every committed turn whose state has `timeouts:` (one deferred job per timeout, its id
naming the commit, so a redelivered turn schedules nothing twice). When it runs, the engine checks the user
has not moved on; a nudge is sent only inside WhatsApp's 24-hour window, a `goto` moves the conversation
either way (and schedules the timeouts of the state it lands in; a nudge schedules nothing, so it is sent once).
"""

from __future__ import annotations

import logging
from typing import Any

from adapters.jobs.context import jobs_of
from adapters.privacy import mask_phone
from engine.timeouts import Timer, fire, timers_for

log = logging.getLogger(__name__)


async def conversation_timeout(ctx: dict[str, Any], phone: str, flow: str, state: str, stamp: float,
                               index: int) -> str:
    jobs = jobs_of(ctx)
    in_window = await jobs.in_window(phone)
    turn = await fire(jobs.engine, Timer(phone, flow, state, stamp, index, 0.0), in_window=in_window)
    if turn is None:
        log.info("timeout %d of %s.%s for %s: the user moved on", index, flow, state, mask_phone(phone))
        return "moved on"
    if turn.error is not None:  # logged with its traceback by the engine; the user stays where they were
        return f"failed in {turn.flow}.{turn.state}: {turn.error}"
    for message in turn.messages:
        await jobs.sender.send(message)
    if turn.conversation is not None and turn.conversation.updated_at != stamp:
        # Moved: the new state's timeouts. A nudge keeps the stamp, and the state's other timers are queued
        # already; queueing them again would repeat this nudge once arq has forgotten this job's id.
        await jobs.scheduler.schedule_timeouts(timers_for(jobs.engine, turn.conversation))
    return f"{'sent' if turn.messages else 'silent'} -> {turn.flow}.{turn.state}"
