"""Plurals by the language's own rule (CLDR, through Babel), not hand-written `'s' if n != 1`.

`{{ plural(n, 'try', 'tries') }}` picks `one` or `other` (or `zero`/`two`/`few`/`many` when given) by the
plural rule of the language the text is rendered in: English says "1 try, 0 tries", Naijá Pidgin's rule
(`one: i in 0 or n in 1`) says "0 try". A hand-written English rule in a translated file would be wrong for
every other language, so `check` points at it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import Any

from babel import Locale, UnknownLocaleError

#: `'s' if n != 1` and `'try' if n == 1 else 'tries'`: English plural rules written by hand in a template.
HANDWRITTEN = re.compile(r"""\{\{[^}]*?['"]\s*if\s+[^}]*?(?:!=|==)\s*\d+\s*(?:else\b[^}]*)?\}\}""")


@cache
def plural_rule(code: str) -> Callable[[Any], str]:
    """The CLDR plural category function of a language (`en`'s for a code Babel does not know)."""
    try:
        return Locale.parse(code).plural_form
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en").plural_form


def plural_function(code: str) -> Callable[..., Any]:
    """`plural(n, one, other, **forms)` for templates rendered in language `code`."""
    rule = plural_rule(code)

    def plural(n: Any, one: Any, other: Any, **forms: Any) -> Any:
        try:
            form = rule(abs(n))
        except (TypeError, ValueError):
            return other
        if form == "one":
            return one
        return forms.get(form, other)

    return plural


def handwritten_plural(text: str) -> str | None:
    """The first hand-written plural rule in a template, or None."""
    found = HANDWRITTEN.search(text)
    return found.group(0) if found else None
