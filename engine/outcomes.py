"""How running a state ends, as types rather than trigger strings with a sentinel."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Leave:
    """Leave the state by the edge named `trigger` (`flows.edges`: `next`, `error`, `branch:0`, ...); `value` is
    what a shared flow's `return:` gives its caller."""

    trigger: str
    value: Any = None


@dataclass(frozen=True, slots=True)
class Wait:
    """The state has run and now waits for the user's input."""


@dataclass(frozen=True, slots=True)
class Halt:
    """An action failed with no `on_error`: the user is back at their last prompt; nothing more runs."""


Outcome = Leave | Wait | Halt
WAIT = Wait()
HALT = Halt()
