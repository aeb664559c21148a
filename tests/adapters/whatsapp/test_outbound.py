"""Sending through pywa_async to the fake Graph API: payloads, limits, retries, permanent errors."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.whatsapp.limits import enforce_limits
from adapters.whatsapp.outbound import LogSender, SendResult, WhatsAppSender, backoff_retry, build_sender
from engine.messages import Button, OutboundMessage, Row, TemplateRef
from tests.adapters.whatsapp.conftest import make_settings

TO = "2348012345631"


async def _no_sleep(_: float) -> None:
    return None


@pytest.fixture
async def sender(fake_graph):
    s = WhatsAppSender(make_settings(fake_graph.url), retry=backoff_retry(attempts=3, sleep=_no_sleep))
    yield s
    await s.aclose()


async def test_text_buttons_list_and_template_payloads(sender, fake_graph):
    results = [
        await sender.send(OutboundMessage(to=TO, text="plain")),
        await sender.send(OutboundMessage(to=TO, kind="buttons", text="Pick", header="H", footer="F",
                                          buttons=[Button("a", "A"), Button("b", "B")])),
        await sender.send(OutboundMessage(to=TO, kind="list", text="Choose", list_button="Properties",
                                          rows=[Row("p1", "Flat 1", "2 bed"), Row("p2", "Flat 2")])),
        await sender.send(OutboundMessage(to=TO, kind="template",
                                          template=TemplateRef("inspection_reminder", "en_US", ["Ada", "9am"]))),
    ]
    assert all(r.ok and r.wamid.startswith("wamid.fake.") for r in results)
    text, buttons, lst, tpl = (c.json for c in fake_graph.messages)
    assert text["text"]["body"] == "plain"
    assert buttons["interactive"]["type"] == "button"
    assert [b["reply"] for b in buttons["interactive"]["action"]["buttons"]] == [
        {"id": "a", "title": "A"}, {"id": "b", "title": "B"}]
    assert buttons["interactive"]["header"]["text"] == "H" and buttons["interactive"]["footer"]["text"] == "F"
    action = lst["interactive"]["action"]
    assert action["button"] == "Properties"
    assert [r["id"] for r in action["sections"][0]["rows"]] == ["p1", "p2"]
    assert tpl["template"]["name"] == "inspection_reminder"
    assert tpl["template"]["language"]["code"] == "en_US"
    assert [x["text"] for x in tpl["template"]["components"][0]["parameters"]] == ["Ada", "9am"]


async def test_contact_card_location_pin_and_photo_payloads(sender, fake_graph):
    results = [
        await sender.send(OutboundMessage(to=TO, kind="contacts",
                                          media={"name": "Tunde Agent", "phone": "+2348010000002"})),
        await sender.send(OutboundMessage(to=TO, kind="location", media={
            "latitude": "6.4474", "longitude": "3.4739", "name": "Flat", "address": "12 Admiralty Way"})),
        await sender.send(OutboundMessage(to=TO, kind="image", text="c" * 2000,
                                          media={"url": "https://photos.inspector.example/1.jpg"})),
    ]
    assert all(r.ok for r in results), results
    contact, pin, photo = (c.json for c in fake_graph.messages)
    assert contact["type"] == "contacts"
    [card] = contact["contacts"]
    assert card["name"]["formatted_name"] == "Tunde Agent"
    assert card["phones"][0]["phone"] == "+2348010000002" and card["phones"][0]["wa_id"] == "2348010000002"
    assert pin["type"] == "location"
    assert (pin["location"]["latitude"], pin["location"]["longitude"]) == (6.4474, 3.4739)
    assert pin["location"]["name"] == "Flat" and pin["location"]["address"] == "12 Admiralty Way"
    assert photo["type"] == "image" and photo["image"]["link"] == "https://photos.inspector.example/1.jpg"
    assert len(photo["image"]["caption"]) == 1024  # fitted to WhatsApp's caption limit


async def test_limits_are_enforced_before_sending(sender, fake_graph):
    await sender.send(OutboundMessage(
        to=TO, kind="buttons", text="x" * 2000, buttons=[Button(f"id{i}" * 100, "T" * 30) for i in range(5)]))
    await sender.send(OutboundMessage(
        to=TO, kind="list", text="rows", list_button="A very long list button label",
        rows=[Row(f"r{i}", "R" * 40, "D" * 100) for i in range(15)]))
    await sender.send(OutboundMessage(to=TO, text="y" * 5000))
    buttons, lst, text = (c.json for c in fake_graph.messages)
    inter = buttons["interactive"]
    assert len(inter["body"]["text"]) == 1024 and inter["body"]["text"].endswith("…")
    # Five "buttons" are more than WhatsApp's three: sent as a list, so no choice is lost.
    assert inter["type"] == "list"
    five = inter["action"]["sections"][0]["rows"]
    assert len(five) == 5 and all(len(r["title"]) <= 24 and len(r["id"]) <= 256 for r in five)
    rows = lst["interactive"]["action"]["sections"][0]["rows"]
    assert len(rows) == 10 and all(len(r["title"]) <= 24 and len(r["description"]) <= 72 for r in rows)
    assert len(lst["interactive"]["action"]["button"]) <= 20
    assert len(text["text"]["body"]) == 4096


@given(st.text(max_size=5000), st.lists(st.tuples(st.text(max_size=300), st.text(max_size=40)), max_size=6),
       st.lists(st.tuples(st.text(max_size=300), st.text(max_size=40), st.text(max_size=100)), max_size=14))
def test_enforce_limits_always_within_whatsapp_limits(text, buttons, rows):
    b = enforce_limits(OutboundMessage(to=TO, kind="buttons", text=text, buttons=[Button(*x) for x in buttons]))
    assert len(b.text) <= 1024 and len(b.buttons) <= 3
    assert all(len(x.title) <= 20 and len(x.id) <= 256 for x in b.buttons)
    r = enforce_limits(OutboundMessage(to=TO, kind="list", text=text, rows=[Row(*x) for x in rows]))
    assert len(r.rows) <= 10 and all(len(x.title) <= 24 and len(x.description) <= 72 for x in r.rows)
    t = enforce_limits(OutboundMessage(to=TO, text=text))
    assert len(t.text) <= 4096 and (t.text == text or t.text.endswith("…"))


@pytest.mark.parametrize("status", [429, 500, 503])
async def test_retryable_failure_is_retried_then_succeeds(sender, fake_graph, status):
    fake_graph.fail_next(2, status=status)
    result = await sender.send(OutboundMessage(to=TO, text="eventually"))
    assert result.ok and result.attempts == 3
    assert [c.status for c in fake_graph.calls] == [status, status, 200]


async def test_retries_give_up_after_the_limit(sender, fake_graph):
    fake_graph.fail_next(10, status=429)
    result = await sender.send(OutboundMessage(to=TO, text="never"))
    assert not result.ok and result.retryable and result.error_code == 130429 and result.attempts == 4


@pytest.mark.parametrize("code", [131047, 131026])
async def test_permanent_error_is_recorded_not_retried(sender, fake_graph, code):
    fake_graph.fail_next(1, code=code)
    result = await sender.send(OutboundMessage(to=TO, text="outside window"))
    assert (result.ok, result.retryable, result.error_code) == (False, False, code)
    assert len(fake_graph.calls) == 1


async def test_timeout_is_retryable(fake_graph):
    fake_graph.delay = 0.3
    s = WhatsAppSender(make_settings(fake_graph.url), timeout=0.05,
                       retry=backoff_retry(attempts=1, sleep=_no_sleep))
    try:
        result = await s.send(OutboundMessage(to=TO, text="slow"))
    finally:
        fake_graph.delay = 0.0
        await s.aclose()
    assert not result.ok and result.retryable and "Timeout" in result.error


async def test_retry_hook_can_hand_off_to_a_background_job(fake_graph):
    queued: list[dict] = []

    async def enqueue(message, first, send_once):
        queued.append(message.to_dict())
        return SendResult(first.to, first.kind, False, error_code=first.error_code, queued=True)

    s = WhatsAppSender(make_settings(fake_graph.url), retry=enqueue)
    fake_graph.fail_next(1, status=429)
    result = await s.send(OutboundMessage(to=TO, text="later"))
    await s.aclose()
    assert result.queued and queued[0]["text"] == "later" and len(fake_graph.calls) == 1


async def test_without_credentials_messages_are_logged_with_a_masked_phone(caplog):
    caplog.set_level("INFO")
    sender = build_sender(make_settings("http://127.0.0.1:9", whatsapp_token=""))
    assert isinstance(sender, LogSender)
    result = await sender.send(OutboundMessage(to=TO, text="hello dev"))
    assert result.ok
    assert TO not in caplog.text and "+2348" in caplog.text and "development mode" in caplog.text
