"""`check` of typed questions (`ask:`): where answers lead, the wrong-answer text, and bounds that fit the type."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from flows.schema import State
from flows.source import Path

if TYPE_CHECKING:
    from flows.checks import FlowChecker


def check_ask(checker: FlowChecker, flow_name: str, state: State, path: Path) -> None:
    """Targets, the error template and bounds that fit the question's type."""
    ask = state.ask
    assert ask is not None
    if state.goto is not None:
        checker.add((*path,), "`ask` waits for an answer but the state's `goto` moves on at once (remove `goto`; "
                           "`ask.goto` says where a valid answer leads)")
    if ask.error:
        checker.template((*path, "error"), ask.error, extra=("ask",))
    checker.target((*path, "goto"), ask.goto, flow_name)
    checker.target((*path, "on_fail"), ask.on_fail, flow_name)
    for key in ("min", "max"):
        bound = getattr(ask, key)
        if bound is None:
            continue
        if ask.type in ("number", "money", "text") and not isinstance(bound, int | float):
            checker.add((*path, key), f"`{key}` of a {ask.type} is a number")
        elif ask.type == "date" and (not isinstance(bound, str) or not _iso_or_today(bound)):
            checker.add((*path, key), f"`{key}` of a date is `today` or an ISO date (2026-12-31)")
        elif ask.type not in ("number", "money", "text", "date"):
            checker.add((*path, key), f"a {ask.type} has no `{key}`")
    if isinstance(ask.min, int | float) and isinstance(ask.max, int | float) and ask.min > ask.max:
        checker.add((*path, "max"), f"`max` ({ask.max}) is below `min` ({ask.min}): no answer could pass")


def _iso_or_today(value: str) -> bool:
    if value == "today":
        return True
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True
