"""Events as the inbox stores them in a stream come back equal, whatever their text and extra values hold."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.whatsapp.inbox import InboxEntry, dump_event
from engine.events import InboundEvent

values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)
events = st.builds(
    InboundEvent,
    phone=st.text(min_size=1, max_size=16),
    kind=st.sampled_from(["text", "button", "list", "location", "other"]),
    text=st.text(),  # lone surrogates and NULs included
    reply_id=st.none() | st.text(max_size=10),
    profile_name=st.none() | st.text(max_size=10),
    wamid=st.none() | st.text(max_size=20),
    timestamp=st.none() | st.floats(min_value=0, max_value=4e9),
    extra=st.dictionaries(st.text(max_size=8), values, max_size=4),
)


@settings(max_examples=300, deadline=None)
@given(events)
def test_a_stored_event_reads_back_equal(event):
    entry = InboxEntry.from_fields(b"1-0", {b"e": dump_event(event), b"t": b"1700000000.5"})
    assert entry.event == event
    assert (entry.id, entry.received_at) == ("1-0", 1700000000.5)
