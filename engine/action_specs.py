"""What an action declares about itself: the shape of its result and the kinds of error it raises.

Flows read results by path (`{{ property.price }}`); a typed result lets `check` catch a misspelt path
before a user sees an empty value, and lets `python main.py actions` document every action for staff
without their reading Python. Results stay plain data at run time: the model describes, it does not convert.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class ActionSpec:
    """`result` is a pydantic model, `list[Model]`, `Model | None`, or None (undeclared)."""

    result: Any = None
    errors: dict[str, str] = field(default_factory=dict)
    doc: str = ""
    #: argument name -> its default as text (`""` when required), in the order the action takes them
    args: dict[str, str] = field(default_factory=dict)
