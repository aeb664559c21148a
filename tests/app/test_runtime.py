"""The composed runtime end to end: engine + flows.yaml + real SMTP and the sandbox Inspector over real HTTP."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from adapters.inspector.sandbox import create_sandbox_app
from adapters.settings import Settings
from app.runtime import build_runtime
from engine.events import InboundEvent
from tests.adapters.email.smtp_sink import SmtpSink
from tests.fakes.loopback import LoopbackServer
from tests.shipped import SHIPPED_FLOWS, say_text, shipped_spec, shows, state, title


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def smtp():
    sink = SmtpSink().start()
    yield sink
    sink.stop()


def settings_for(tmp_path: Path, **values) -> Settings:
    return Settings().model_copy(update=dict(flows_path=SHIPPED_FLOWS, database_url=f"sqlite:///{tmp_path / 'db.sqlite'}",
                   **values))


async def english(runtime, *phones: str) -> None:
    """Users who picked English long ago (tests/conversations/pidgin.yaml covers the language question)."""
    for phone in phones:
        await runtime.engine.preset_language(phone, "en")


async def say(runtime, phone: str, text: str = "", **kw):
    turn = await runtime.engine.handle(InboundEvent(phone=phone, text=text, **kw))
    return turn, "\n".join(m.text for m in turn.messages)


def message(name: str) -> str:
    return shipped_spec().messages[name]


def greeting(flow: str) -> str:
    """What `unlinked.verify_code` says to a user of this role as it moves them to their menu."""
    return next(b.say for b in state("unlinked", "verify_code").branch if b.goto == f"{flow}.menu")


@pytest.mark.parametrize("email,flow", [
    ("seeker@example.com", "seeker"), ("agent@example.com", "agent"), ("inspector@example.com", "inspector"),
])
async def test_linking_conversation_with_the_code_from_a_real_smtp_exchange(tmp_path, smtp, email, flow):
    clock = Clock()
    runtime = build_runtime(settings_for(tmp_path, smtp_host="127.0.0.1", smtp_port=smtp.port), clock=clock)
    phone = "+2348055500001"
    try:
        await english(runtime, phone)
        turn, text = await say(runtime, phone, "hi")
        assert turn.state == "welcome" and shows(say_text("unlinked", "welcome"), text)
        turn, text = await say(runtime, phone, f"/link {email}")
        assert turn.state == "ask_code" and shows(say_text("unlinked", "ask_code"), text)
        code = await asyncio.to_thread(smtp.last_code, email)
        wrong = f"{(int(code) + 1) % 1_000_000:06d}"
        turn, text = await say(runtime, phone, wrong)
        assert turn.state == "code_failed" and shows(message("error_wrong_code"), text) and " 4 " in text
        turn, text = await say(runtime, phone, code)
        assert (turn.flow, turn.state) == (flow, "menu") and shows(greeting(flow), text)
        turn, text = await say(runtime, phone, code)  # the same code again: now just input in the menu
        assert turn.flow == flow
    finally:
        await runtime.aclose()


async def test_an_expired_code_says_so_and_offers_a_new_one(tmp_path, smtp):
    clock = Clock()
    runtime = build_runtime(settings_for(tmp_path, smtp_host="127.0.0.1", smtp_port=smtp.port), clock=clock)
    phone = "+2348055500002"
    try:
        await english(runtime, phone)
        await say(runtime, phone, "seeker@example.com")
        code = await asyncio.to_thread(smtp.last_code, "seeker@example.com")
        clock.now += timedelta(minutes=6)
        turn, text = await say(runtime, phone, code)
        assert turn.state == "code_expired" and shows(message("error_expired"), text)
        assert [b.id for b in turn.messages[-1].buttons] == ["new_code", "change_email"]
        turn, _ = await say(runtime, phone, title("unlinked", "code_expired", "new_code"), kind="button",
                            reply_id="new_code")
        assert turn.state == "ask_code" and len(smtp.to("seeker@example.com")) == 2
        fresh = await asyncio.to_thread(smtp.last_code, "seeker@example.com")
        turn, _ = await say(runtime, phone, fresh)
        assert (turn.flow, turn.state) == ("seeker", "menu")
    finally:
        await runtime.aclose()


async def open_first_property(runtime, phone: str) -> str:
    await say(runtime, phone, "menu")
    turn, _ = await say(runtime, phone, title("seeker", "menu", "browse"), kind="list", reply_id="browse")
    first = turn.messages[-1].rows[0]
    turn, _ = await say(runtime, phone, first.title, kind="list", reply_id=first.id)
    assert turn.state == "property_detail"
    return first.id.removeprefix("prop:")


async def test_journeys_over_real_http_and_a_race_for_the_last_place(tmp_path):
    """Inspector is the sandbox served by uvicorn on loopback: the production client path, not ASGI."""
    with LoopbackServer(create_sandbox_app()) as server:
        runtime = build_runtime(settings_for(tmp_path, inspector_api_base_url=server.url))
        try:
            ada, bola = "+2348010000001", "+2348010000004"
            await english(runtime, ada, bola, "+2348099900001")
            for phone, email in ((ada, "seeker@example.com"), (bola, "bola@example.com")):
                user = await runtime.inspector.get_user_by_email(email)
                await runtime.engine.start_as(phone, await runtime.linking.link_demo_user(phone, user.model_dump()))
            property_id = await open_first_property(runtime, ada)
            assert await open_first_property(runtime, bola) == property_id
            slot = await runtime.inspector.add_slot(property_id, datetime.now(UTC) + timedelta(days=3), capacity=1)
            for phone in (ada, bola):
                turn, _ = await say(runtime, phone, title("seeker", "property_detail", "book"), kind="button",
                                    reply_id="book")
                assert any(r.id == f"slot:{slot.id}" for r in turn.messages[-1].rows)
                turn, _ = await say(runtime, phone, "x", kind="list", reply_id=f"slot:{slot.id}")
                assert turn.state == "confirm_booking"
            yes = title("seeker", "confirm_booking", "confirm_booking")
            (turn_a, text_a), (turn_b, text_b) = await asyncio.gather(
                say(runtime, ada, yes, kind="button", reply_id="confirm_booking"),
                say(runtime, bola, yes, kind="button", reply_id="confirm_booking"))
            outcomes = sorted([(turn_a.state, text_a), (turn_b.state, text_b)])
            assert outcomes[0][0] == "booked" and shows(say_text("seeker", "booked"), outcomes[0][1])
            assert outcomes[1][0] == "pick_slot" and shows(message("error_slot_taken"), outcomes[1][1])
            reference = re.search(r"INS-\w+", outcomes[0][1]).group()
            # The agent of that property sees the booking among the inquiries (over HTTP too).
            prop = await runtime.inspector.get_property(property_id)
            agent = await runtime.inspector.get_user(prop.agent_id)
            agent_phone = "+2348099900001"
            await runtime.engine.start_as(agent_phone, await runtime.linking.link_demo_user(agent_phone,
                                                                                             agent.model_dump()))
            turn, text = await say(runtime, agent_phone, title("agent", "menu", "agent_inquiries"), kind="list",
                                   reply_id="agent_inquiries")
            assert reference in "\n".join(f"{r.title} {r.description}" for r in turn.messages[-1].rows)
            # Inspector going down mid-journey costs one clear sentence and keeps the user's place.
            server.stop()
            turn, text = await say(runtime, ada, title("seeker", "booked", "bookings"), kind="button",
                                   reply_id="bookings")
            assert shows(message("error_unavailable"), text)
            assert turn.state == "booked"
        finally:
            await runtime.aclose()
