"""Staff templates: Jinja2 in a sandbox, with filters for money and dates.

Shared by the checker (parsing, finding variables) and the engine (rendering), so both agree on syntax.
"""

from __future__ import annotations

import contextvars
import re
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from jinja2 import Undefined
from jinja2.ext import Extension
from jinja2.sandbox import ImmutableSandboxedEnvironment

#: Names found undefined (or None) while rendering; the engine reports them per turn.
missing_names: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar("missing_names", default=None)


class RecordingUndefined(Undefined):
    """Renders as empty text (the user never sees a crash) but records the name for the operator."""

    __slots__ = ()

    def _record(self) -> None:
        seen = missing_names.get()
        if seen is not None:
            seen.append(self._undefined_name or "?")

    def __str__(self) -> str:
        self._record()
        return ""

    def __iter__(self) -> Iterator[Any]:
        self._record()
        return iter(())

    def __bool__(self) -> bool:
        return False

    def __len__(self) -> int:
        return 0

    def __getattr__(self, name: str) -> Any:
        if name[:2] == "__":
            raise AttributeError(name)
        return RecordingUndefined(name=f"{self._undefined_name}.{name}")

    __getitem__ = __getattr__


def _finalize(value: Any) -> Any:
    if value is None:
        seen = missing_names.get()
        if seen is not None:
            seen.append("None")
        return ""
    return value


def money(value: Any, symbol: str = "₦") -> str:
    """`45000000` -> `₦45,000,000`."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    return f"{symbol}{number:,.0f}"


def when(value: Any, fmt: str = "%a %-d %b, %H:%M") -> str:
    """ISO date/datetime text or object -> `Tue 1 Dec, 10:00`."""
    if isinstance(value, str):
        text: str = value
        try:
            # A bare date ("2026-12-04") is a day, not midnight: no "00:00" in "What time on ...?".
            value = date.fromisoformat(text) if len(text.strip()) == 10 else datetime.fromisoformat(text)
        except ValueError:
            return text
    if isinstance(value, datetime):
        return value.strftime(fmt)
    if isinstance(value, date):
        return value.strftime(fmt.replace(", %H:%M", ""))
    return str(value)


_BLOCK_ONLY_LINE = re.compile(r"^([ \t]*\{%[^%\n]*%\}[ \t]*)\n", re.MULTILINE)


class BlockLines(Extension):
    """Drop the newline after a line holding only a `{% ... %}` tag, and nowhere else.

    Jinja's `trim_blocks` also eats the newline after an inline `{% endif %}` ending a line of text,
    which glued staff's lines together ("Lekki, 12 Admiralty Way💰 ₦45,000,000").
    """

    def preprocess(self, source: str, name: str | None, filename: str | None = None) -> str:
        return _BLOCK_ONLY_LINE.sub(r"\1", source)


def create_environment() -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(
        undefined=RecordingUndefined,
        finalize=_finalize,
        autoescape=False,
        trim_blocks=False,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        extensions=[BlockLines],
    )
    env.filters["money"] = money
    env.filters["when"] = when
    return env


def is_expression_template(value: str) -> bool:
    """`"{{ page + 1 }}"` is evaluated to a native value; mixed text is rendered as text."""
    stripped = value.strip()
    return (
        stripped.startswith("{{")
        and stripped.endswith("}}")
        and stripped.count("{{") == 1
        and "{%" not in stripped
    )


def expression_of(value: str) -> str:
    return value.strip()[2:-2].strip()
