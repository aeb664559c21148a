"""Staff templates: Jinja2 in a sandbox, with filters for money and dates.

Shared by the checker (parsing, finding variables) and the engine (rendering), so both agree on syntax.

The sandbox is bounded, because one template runs inside a user's turn on the shared event loop: a
rendered text stops at `MAX_RESULT` characters, string and list repetition (`'x' * 10**8`), powers and
`%`-format widths that would build more than that are refused, and `range` stops at `MAX_RANGE` items.
Data from outside (Inspector, users) is only ever passed *into* a template as a value, never compiled.
"""

from __future__ import annotations

import contextvars
import re
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime
from typing import Any

from jinja2 import Environment, Undefined
from jinja2.ext import Extension
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

from flows.plurals import plural_function

#: The longest text a template may render, or a value an expression may build (WhatsApp sends 4096).
MAX_RESULT = 100_000
#: The most items `range()` may give a loop.
MAX_RANGE = 1_000
_FORMAT_WIDTH = re.compile(r"%[-#0 +]*(\d+)?(?:\.(\d+))?")

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

    def __getitem__(self, key: Any) -> Any:
        # `missing[:3]` slices, `missing[0]` indexes: both are as empty as the value itself.
        label = key if isinstance(key, str) else "[…]"
        return RecordingUndefined(name=f"{self._undefined_name}.{label}")


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


class BoundedSandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox, with the sizes of what a template may build bounded (see module doc)."""

    intercepted_binops = frozenset({"*", "**", "%"})

    def call_binop(self, context: Context, op: str, left: Any, right: Any) -> Any:
        if op == "*":
            _check_repeat(left, right)
            _check_repeat(right, left)
        elif op == "**" and isinstance(left, int) and isinstance(right, int) and right > 0:
            if max(abs(left), 2).bit_length() * right > MAX_RESULT * 4:
                raise SecurityError(f"{left} ** {right} is too large")
        elif op == "%" and isinstance(left, str):
            _check_format(left)
        return super().call_binop(context, op, left, right)


def _check_repeat(seq: Any, times: Any) -> None:
    if isinstance(seq, str | list | tuple) and isinstance(times, int) and len(seq) * times > MAX_RESULT:
        raise SecurityError(f"repeating {len(seq)} items {times} times is too large")


def _check_format(text: str) -> None:
    for width, precision in _FORMAT_WIDTH.findall(text):
        if len(width) > 6 or len(precision) > 6 or int(width or 0) > MAX_RESULT or int(precision or 0) > MAX_RESULT:
            raise SecurityError("a %-format width is too large")


def bounded_concat(parts: Iterable[str]) -> str:
    """`"".join` that stops once the text passes MAX_RESULT (a loop cannot build gigabytes first)."""
    out: list[str] = []
    size = 0
    for part in parts:
        size += len(part)
        if size > MAX_RESULT:
            raise SecurityError(f"template output is longer than {MAX_RESULT} characters")
        out.append(part)
    return "".join(out)


def bounded_range(*args: int) -> range:
    numbers = range(*args)
    if len(numbers) > MAX_RANGE:
        raise SecurityError(f"range() of {len(numbers)} items; at most {MAX_RANGE}")
    return numbers


def _bounded_widths(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """A filter whose number arguments (`center(10**9)`, `indent(...)`) are sizes of what it builds."""

    def bounded(*args: Any, **kwargs: Any) -> Any:
        for value in [*args[1:], *kwargs.values()]:
            if isinstance(value, int) and not isinstance(value, bool) and value > MAX_RESULT:
                raise SecurityError(f"{name}({value}) is too large")
        if name == "format" and args and isinstance(args[0], str):
            _check_format(args[0])
        return func(*args, **kwargs)

    bounded.__name__ = func.__name__
    bounded.jinja_pass_arg = getattr(func, "jinja_pass_arg", None)  # type: ignore[attr-defined]
    return bounded


def create_environment(language: str = "en") -> ImmutableSandboxedEnvironment:
    """The sandbox templates render in; `plural()` follows the plural rule of `language`."""
    env = BoundedSandbox(
        undefined=RecordingUndefined,
        finalize=_finalize,
        autoescape=False,
        trim_blocks=False,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        extensions=[BlockLines],
    )
    env.concat = bounded_concat  # type: ignore[method-assign]
    env.globals["range"] = bounded_range
    env.globals["plural"] = plural_function(language)
    for name in ("center", "indent", "format", "wordwrap", "truncate"):
        env.filters[name] = _bounded_widths(name, env.filters[name])
    env.filters["money"] = money
    env.filters["when"] = when
    return env


def with_globals(env: Environment, scope: dict[str, Any]) -> dict[str, Any]:
    """`scope` with the environment's globals (`range`, `plural`...) under it: itself when it holds them
    already (the engine's turn scope does, so it is not copied for every text), else a merged copy."""
    names = env.globals
    if names.keys() <= scope.keys():
        return scope
    return {**names, **scope}


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
