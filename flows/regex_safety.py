"""Can a staff `regex:` route take exponential time? It runs on what any user types.

Python's `re` backtracks: a repeat of something that itself repeats a variable number of times
(`(a+)+`, `(\\w+\\s?)*`, `(\\d{1,3})+`) tries exponentially many ways to split a text that almost
matches, and holds the event loop (and every other user) while it does. Input is capped at 4,096
characters, which does not help against exponential time. This finds that shape in the parsed pattern;
it can flag a safe pattern whose inner repeat is fenced by a literal (`(\\.\\w+)*`), so `check` reports
it as a warning saying how to bound it.
"""

from __future__ import annotations

import re

# The stdlib parser `re.compile` itself uses (sre_parse is its deprecated alias).
from re import _constants as sre  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

_REPEATS = {sre.MAX_REPEAT, sre.MIN_REPEAT}


def backtracking_risk(pattern: str) -> str | None:
    """A sentence saying why `pattern` may take exponential time, or None. Invalid patterns: None
    (`re.compile` reports those)."""
    try:
        parsed = sre_parse.parse(pattern)
    except (re.error, RecursionError):
        return None
    if not _nested_repeat(parsed, inside_unbounded=False):
        return None
    return ("it repeats, without bound, a part that itself repeats a variable number of times (like `(a+)+` or "
            "`(\\w+\\s?)*`): on a message that almost matches this can take exponential time and freeze the "
            "service for everyone. Bound the outer repeat (e.g. `{1,20}`) or make the inner part fixed-width")


def _nested_repeat(items: Any, *, inside_unbounded: bool) -> bool:
    for op, av in items:
        if op in _REPEATS:
            low, high, sub = av
            if inside_unbounded and low != high:
                return True
            if _nested_repeat(sub, inside_unbounded=inside_unbounded or high == sre.MAXREPEAT):
                return True
        elif op is sre.SUBPATTERN:
            if _nested_repeat(av[3], inside_unbounded=inside_unbounded):
                return True
        elif op is sre.BRANCH:
            if any(_nested_repeat(branch, inside_unbounded=inside_unbounded) for branch in av[1]):
                return True
        elif op in (sre.ASSERT, sre.ASSERT_NOT):
            if _nested_repeat(av[1], inside_unbounded=inside_unbounded):
                return True
    return False
