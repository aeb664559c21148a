"""Which turn is running: a context variable the log formatter reads, so every line of a turn is correlated.

The channel adapter opens the scope when it picks an event up (it knows the wamid); the engine fills in the
flow and state once the conversation is loaded. Everything logged inside, by any module, is tagged with the
same turn id. The engine holds only this data; how it is written (masked, as JSON) is the adapters' business.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(slots=True)
class TurnContext:
    turn_id: str
    phone: str = ""
    wamid: str = ""
    flow: str = ""
    state: str = ""


_current: ContextVar[TurnContext | None] = ContextVar("turn_context", default=None)


def current_turn() -> TurnContext | None:
    return _current.get()


@contextlib.contextmanager
def turn_scope(phone: str, wamid: str = "") -> Iterator[TurnContext]:
    """Open a turn for `phone`, or join the one already open for it (the adapter's, seen from the engine)."""
    existing = _current.get()
    if existing is not None and existing.phone == phone:
        if wamid and not existing.wamid:
            existing.wamid = wamid
        yield existing
        return
    context = TurnContext(uuid.uuid4().hex[:12], phone, wamid)
    token = _current.set(context)
    try:
        yield context
    finally:
        _current.reset(token)
