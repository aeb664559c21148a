"""engine/render.py: a correction and the prompt it repeats travel as one message when WhatsApp allows it."""

from hypothesis import given
from hypothesis import strategies as st

from engine.messages import Button, OutboundMessage, Row
from engine.render import with_lead
from flows import limits

PHONE = "+2348000000001"


def correction(text: str = "Not quite: try again.") -> OutboundMessage:
    return OutboundMessage(to=PHONE, text=text)


def test_a_buttons_prompt_takes_the_correction_as_its_first_paragraph_and_keeps_its_buttons() -> None:
    prompt = OutboundMessage(to=PHONE, kind="buttons", text="The question.", header="A header",
                             buttons=[Button("b1", "First button")])
    together = with_lead(correction(), prompt)
    assert together is not None
    assert together.text == "Not quite: try again.\n\nThe question."
    assert (together.kind, together.header, together.buttons) == ("buttons", "A header", prompt.buttons)
    assert prompt.text == "The question."  # the saved prompt is not changed: the next correction starts afresh


def test_a_list_and_a_text_prompt_take_it_too() -> None:
    rows = [Row("a", "Row A"), Row("b", "Row B")]
    assert with_lead(correction(), OutboundMessage(to=PHONE, kind="list", text="Pick a row.", rows=rows)) is not None
    assert with_lead(correction(), OutboundMessage(to=PHONE, text="How many?")) is not None


def test_what_would_not_fit_or_is_not_plain_text_stays_two_messages() -> None:
    near_full = OutboundMessage(to=PHONE, kind="buttons", text="x" * (limits.INTERACTIVE_BODY - 10),
                                buttons=[Button("ok", "OK")])
    assert with_lead(correction(), near_full) is None  # the body would pass 1,024 characters
    photo = OutboundMessage(to=PHONE, kind="image", text="Front view", media={"url": "https://example.com/a.jpg"})
    assert with_lead(correction(), photo) is None
    card = OutboundMessage(to=PHONE, kind="buttons", text="Pick one", buttons=[Button("a", "A")])
    assert with_lead(card, OutboundMessage(to=PHONE, text="How many?")) is None  # only a plain text leads


@given(lead=st.text(min_size=1, max_size=limits.TEXT_BODY), body=st.text(min_size=1, max_size=limits.INTERACTIVE_BODY).filter(str.strip),
       kind=st.sampled_from(["text", "buttons", "list"]))
def test_a_merged_message_is_always_within_whatsapps_limits(lead: str, body: str, kind: str) -> None:
    limit = limits.TEXT_BODY if kind == "text" else limits.INTERACTIVE_BODY
    prompt = OutboundMessage(to=PHONE, kind=kind, text=body, buttons=[Button("ok", "OK")] if kind == "buttons"
                             else [], rows=[Row("r", "Row")] if kind == "list" else [])
    together = with_lead(correction(lead), prompt)
    if together is None:
        assert len(lead) + 2 + len(prompt.text) > limit
    else:
        assert not limits.violations(together)
