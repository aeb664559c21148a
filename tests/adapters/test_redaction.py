"""The log masker: whatever surrounds them, phones, emails, codes and secrets never come out whole."""

from __future__ import annotations

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from adapters.observability.redaction import Redactor

SECRET = "wa-token-ABCDEF123"
noise = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60)
separators = st.sampled_from([" ", "\n", "/", "(", "'", '"', ", ", ": ", "=", "\t", "[", "{"])
phones = st.integers(min_value=10**10, max_value=10**14 - 1).map(lambda n: f"234{n}"[:13])
emails = st.tuples(st.from_regex(r"[a-z][a-z0-9._]{1,20}", fullmatch=True),
                   st.sampled_from(["example.com", "mail.inspector.ng", "x.io"])).map(lambda t: f"{t[0]}@{t[1]}")
codes = st.integers(min_value=100000, max_value=999999).map(str)


@settings(max_examples=300, deadline=None)
@given(noise, separators, st.one_of(phones, phones.map(lambda p: "+" + p), emails, codes, st.just(SECRET)),
       separators, noise)
def test_sensitive_values_never_survive(before, left, value, right, after):
    text = f"{before}{left}{value}{right}{after}"
    # Noise may hold the value again inside a longer token ("999999" in "0999999", a number that is no code; found
    # at random in one run), which the check below would take for a leak: the value is placed once, found once.
    assume(text.count(value) == 1)
    masked = Redactor([SECRET])(text)
    assert value not in masked


@settings(max_examples=200, deadline=None)
@given(st.one_of(phones, emails, codes), st.sampled_from(["/users/by-email/{}", "?phone={}", "to={}&x=1",
                                                          '{{"to": "{}"}}', "code {} sent", "%2B{}"]))
def test_in_urls_bodies_and_sentences(value, template):
    if template.startswith("%2B") and not value.isdigit() or template.startswith("%2B") and len(value) == 6:
        template = "{}"  # an encoded + only ever precedes a phone number
    text = template.format(value.replace("@", "%40") if "by-email" in template else value)
    masked = Redactor()(text)
    assert value not in masked and value.replace("@", "%40") not in masked


def test_ordinary_text_is_left_alone():
    text = 'GET /api/v1/properties?limit=10&offset=20 "HTTP/1.1 200 OK" took 12 ms at 2026-11-27 05:09:59'
    assert Redactor([SECRET])(text) == text
