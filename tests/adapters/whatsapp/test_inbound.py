"""Parsing Meta's webhook bodies: every message type, batches, statuses, and garbage that must not crash."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.whatsapp.inbound import parse_body
from tests.adapters.whatsapp import payloads as p

U1, U2 = "2348012345601", "2348012345602"


def test_text_with_contact_gives_profile_name_and_timestamp():
    m = p.text(U1, "hello")
    out = parse_body(p.body([m], [p.contact(U1, "Ada")]))
    (e,) = out.events
    assert (e.kind, e.text, e.phone, e.wamid, e.profile_name, e.timestamp) == (
        "text",
        "hello",
        U1,
        m["id"],
        "Ada",
        1744344496.0,
    )


def test_text_with_user_id_and_without_contacts():
    with_uid = parse_body(p.body([p.text(U1)], [p.contact(U1, user_id="US.13491208655302741918")]))
    assert with_uid.events[0].extra["user_id"] == "US.13491208655302741918"
    bare = parse_body(p.body([p.text(U1, "hi")]))
    assert bare.events[0].phone == U1 and bare.events[0].profile_name is None


def test_message_naming_sender_by_user_id_only():
    m = p.text(U1)
    del m["from"]
    m["from_user_id"] = "US.1"
    out = parse_body(p.body([m], [p.contact(U1, "Ada", user_id="US.1")]))
    assert out.events[0].phone == U1 and out.events[0].profile_name == "Ada"
    assert out.events[0].extra["user_id"] == "US.1"


def test_choices_become_button_and_list_events():
    out = parse_body(
        p.body(
            [
                p.button_reply(U1, "yes", "Yes"),
                p.list_reply(U1, "row_2", "Row two"),
                p.template_button(U1, "STOP", "Stop promos"),
            ],
            [p.contact(U1)],
        )
    )
    assert [(e.kind, e.reply_id, e.text) for e in out.events] == [
        ("button", "yes", "Yes"),
        ("list", "row_2", "Row two"),
        ("button", "STOP", "Stop promos"),
    ]
    assert out.events[0].extra["context_id"].startswith("wamid.")


def test_a_shared_location_is_a_location_event_with_its_coordinates():
    (e,) = parse_body(p.body([p.OTHER_MESSAGES["location"](U1)], [p.contact(U1)])).events
    assert (e.kind, e.message_type, e.text) == ("location", "location", "Lagos")
    assert e.extra["location"] == {"latitude": 6.5244, "longitude": 3.3792, "name": "Lagos", "address": "Lagos, NG"}
    for broken in ({"latitude": "north", "longitude": 3.3}, {"latitude": 95, "longitude": 3.3}, {"name": "x"}):
        (e,) = parse_body(p.body([p.message(U1, "location", broken)])).events
        assert (e.kind, e.message_type) == ("other", "location"), broken


def test_every_other_type_is_kind_other_with_its_type():
    for mtype, build in p.OTHER_MESSAGES.items():
        if mtype == "location":  # read as a location event (above)
            continue
        (e,) = parse_body(p.body([build(U1)], [p.contact(U1)])).events
        assert (e.kind, e.message_type) == ("other", mtype), mtype
    (e,) = parse_body(p.body([p.OTHER_MESSAGES["unsupported"](U1)])).events
    assert e.extra["errors"][0]["code"] == 131051


def test_batched_body_every_entry_change_and_message():
    b = p.body([p.text(U1, "a"), p.text(U2, "b")], [p.contact(U1), p.contact(U2)])
    second = p.body([p.text(U1, "c")], [p.contact(U1)])["entry"][0]
    b["entry"].append(second)
    b["entry"][0]["changes"].append({"field": "account_update", "value": {"event": "VERIFIED_ACCOUNT"}})
    out = parse_body(b)
    assert [(e.phone, e.text) for e in out.events] == [(U1, "a"), (U2, "b"), (U1, "c")]


def test_statuses_including_failed_with_meta_error():
    out = parse_body(
        p.body(
            statuses=[
                p.status("sent", U1),
                p.status("delivered", U1),
                p.status("read", U1),
                p.status("failed", U1, code=131047, title="Re-engagement message"),
            ]
        )
    )
    assert [s.status for s in out.statuses] == ["sent", "delivered", "read", "failed"]
    failed = out.statuses[-1]
    assert (failed.error_code, failed.error_title, failed.recipient) == (131047, "Re-engagement message", U1)
    assert not out.events


def test_a_broken_message_does_not_stop_the_others():
    out = parse_body(
        p.body(
            [
                p.text(U1, "first"),
                "garbage",
                {"type": "text"},
                {"from": U1, "id": "x", "type": "interactive", "interactive": "nope"},
                p.text(U2, "last"),
            ]
        )
    )
    assert [e.text for e in out.events if e.kind == "text"] == ["first", "last"]
    assert out.skipped == 2


def test_unknown_fields_are_ignored():
    m = p.text(U1, "hi", brand_new_field={"x": 1})
    b = p.body([m])
    b["entry"][0]["changes"][0]["value"]["something_new"] = [1]
    assert parse_body(b).events[0].text == "hi"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "entry",
                    "changes",
                    "value",
                    "messages",
                    "statuses",
                    "contacts",
                    "from",
                    "id",
                    "type",
                    "text",
                    "interactive",
                    "button",
                    "field",
                    "errors",
                    "wa_id",
                    "x",
                ]
            ),
            inner,
            max_size=4,
        )
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_parse_body_never_raises(value):
    parse_body(value)
