"""Per-state timeouts: when a user leaves a waiting state unanswered for a while, nudge once, or move them.

```yaml
pick_slot:
  timeouts:
    - {after: 10m, say: "Still there? Pick a time, or type menu."}   # a nudge, once
    - {after: 24h, goto: "@menu"}                                     # a quiet reset
```

The engine only says which timers a conversation has (`timers_for`, after each committed turn) and fires
one (`fire`); background jobs hold them until they are due. A timer names the conversation's commit stamp:
any later turn changes the stamp, so a timer the user has answered since does nothing. A nudge keeps the
stamp (it is not the user's activity), so the later timers of the same state still fire.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from engine.events import InboundEvent
from engine.failures import IdentifyError, internal_error
from engine.movement import follow
from engine.step import Step
from engine.turn import Turn
from flows.edges import timeout_trigger
from flows.templating import missing_names

if TYPE_CHECKING:
    from engine.conversation import Conversation
    from engine.interpreter import Engine


@dataclass(frozen=True, slots=True)
class Timer:
    """Timeout `index` of the state `flow.state` a conversation committed at `stamp` waits in."""

    phone: str
    flow: str
    state: str
    stamp: float
    index: int
    delay: float  # seconds after the commit


def timers_for(engine: Engine, conversation: Conversation | None) -> list[Timer]:
    """The timers of the state a committed conversation waits in (none when it waits in none)."""
    if conversation is None:
        return []
    state = engine.flows.state(conversation.flow, conversation.state)
    if state is None or not state.waits:
        return []
    return [Timer(conversation.phone, conversation.flow, conversation.state, conversation.updated_at, index,
                  timeout.seconds) for index, timeout in enumerate(state.timeouts)]


async def fire(engine: Engine, timer: Timer, *, in_window: bool) -> Turn | None:
    """Run a due timer: its `say` (only inside the 24-hour window) and its `goto`; None when the user has
    moved on since (or the state no longer has that timeout). The turn's messages are for the caller to
    send; the conversation is committed here. A timer whose move crashes (a template error, a loop of
    states) leaves the conversation as it was and returns the turn with `error` set and nothing to send."""
    async with engine.store.checkout(timer.phone) as checkout:
        conversation = checkout.conversation
        if conversation is None or (conversation.flow, conversation.state, conversation.updated_at) != (
                timer.flow, timer.state, timer.stamp):
            return None
        flows = engine.flows.in_language(conversation.language)  # the nudge in the user's language
        state = flows.state(timer.flow, timer.state)
        if state is None or timer.index >= len(state.timeouts):
            return None
        timeout = state.timeouts[timer.index]
        step = Step(engine.flows, InboundEvent(phone=timer.phone), conversation, actions=engine.actions,
                    now=engine.clock(), counts=engine.counts, tz=engine.tz)
        step.asks_language = False  # the question waits for the user's own next message
        token = missing_names.set(step.missing)  # an empty value in the nudge is logged, as in a turn
        try:
            if timeout.say and in_window:
                step.say_text(flows.render(timeout.say, step.scope()))
            if timeout.goto:
                await follow(step, timeout_trigger(timer.index), timeout.goto)
        except IdentifyError:
            raise
        except Exception as exc:  # as a crashed turn: rolled back, logged and counted, the user stays put;
            crashed = internal_error(step, exc)  # and nobody who did not write hears an apology
            crashed.messages.clear()
            return crashed
        finally:
            missing_names.reset(token)
        turn = step.finish()
        assert turn.conversation is not None
        if not timeout.goto:
            turn.conversation.updated_at = timer.stamp
        if not in_window:
            turn.messages.clear()  # outside the window only approved templates may be sent
        await checkout.commit(turn.conversation)
    return turn
