"""'More…' paging for `choices_from` lists that do not fit one WhatsApp message (10 rows in all).

Every list pages the same way, so no flow needs next/previous states of its own: when the items do not
fit beside the fixed choices, one row is kept for "More…", which shows the next page of the same items
(the action is not called again); on the last page the row leads back to the first. A tapped "More…"
re-renders only the waiting state's `say` (`Step.choose` -> `render_say(page=...)`). The row's texts are
`messages.list_more` / `list_first` / `list_more_description`, so staff can reword them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.offers import Offer

#: The trigger of a "More…" offer; it is not an edge of the flow (the state stays where it is).
TRIGGER = "more"
MORE_TEXT = "More…"
FIRST_TEXT = "Back to the first"
DESCRIPTION = "{{ first }}–{{ last }} of {{ total }}"


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a list: its items, and the page a "More…" row leads to (None: everything fits)."""

    items: list[Any]
    number: int
    next: int | None
    first: int  # 1-based position of the next page's first item, for the row's description
    last: int
    total: int


def page_of(items: list[Any], limit: int, room: int, number: int = 0, *, enabled: bool = True) -> Page:
    """The `number`th page of `items`, with at most `limit` items per page and `room` rows in all."""
    fits = max(min(limit, room), 0)
    size = min(limit, room - 1)
    if not enabled or len(items) <= fits or size < 1:
        return Page(items[:fits], 0, None, 0, 0, len(items))
    pages = -(-len(items) // size)
    number = number % pages if number >= 0 else 0
    following = (number + 1) % pages
    start = following * size
    return Page(items[number * size:(number + 1) * size], number, following, start + 1,
                min(start + size, len(items)), len(items))


def more_offer(page: Page, messages: dict[str, str], render: Any) -> Offer:
    """The "More…" (or, on the last page, "Back to the first") offer for `page`; `render(source, scope)`."""
    assert page.next is not None
    key, default = ("list_first", FIRST_TEXT) if page.next == 0 else ("list_more", MORE_TEXT)
    scope = {"first": page.first, "last": page.last, "total": page.total, "page": page.next + 1}
    return Offer(
        id=f"{TRIGGER}:{page.next}",
        title=render(messages.get(key) or default, scope),
        description=render(messages.get("list_more_description") or DESCRIPTION, scope),
        trigger=TRIGGER,
        item={"page": page.next},  # which page "More…" shows, stored with the offer
    )
