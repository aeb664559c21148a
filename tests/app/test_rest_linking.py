"""REST linking through the composed app: the code reaches the phone as the `link_code` WhatsApp
notification (the fake Graph API on loopback), and the phone's next message lands in its role's menu."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from adapters.settings import Settings
from app.runtime import build_runtime
from app.web import create_app
from engine.events import InboundEvent
from tests.fakes.graph_api import FakeGraphAPI

ROOT = Path(__file__).resolve().parents[2]
API_KEY = "website-" + "k" * 32
META_PHONE = "2348055500009"  # how WhatsApp names the sender: no plus
PHONE = "+" + META_PHONE


async def test_a_rest_link_sends_the_code_by_whatsapp_and_refreshes_the_cached_conversation(tmp_path):
    with FakeGraphAPI() as graph:
        settings = Settings().model_copy(update=dict(flows_path=ROOT / "flows.yaml", database_url=f"sqlite:///{tmp_path / 'db'}",
                           api_key=API_KEY, whatsapp_token="t", whatsapp_phone_id="1", whatsapp_graph_url=graph.url))
        runtime = build_runtime(settings)
        app = create_app(runtime)
        try:
            before = await runtime.engine.handle(InboundEvent(phone=META_PHONE, text="hi"))
            assert before.flow == "unlinked"

            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://web.test",
                                         headers={"Authorization": f"Bearer {API_KEY}"}) as client:
                started = await client.post("/api/v1/auth/initiate-linking",
                                            json={"phone_number": PHONE, "email": "agent@example.com"})
                assert started.status_code == 200, started.text
                (sent,) = graph.messages_to(META_PHONE) or graph.messages_to(PHONE)
                assert sent.json["type"] == "template"  # no inbound recorded: outside the 24-hour window
                template = runtime.engine.flows.spec.notifications["link_code"].template
                assert sent.json["template"]["name"] == template.name
                code = sent.json["template"]["components"][0]["parameters"][0]["text"]
                assert len(code) == 6 and code.isdigit()
                linked = await client.post("/api/v1/auth/verify-otp", json={"phone_number": PHONE, "otp_code": code})
                assert linked.status_code == 200 and linked.json()["user"]["role"] == "agent"

            after = await runtime.engine.handle(InboundEvent(phone=META_PHONE, text="hi"))
            spec = runtime.engine.flows.spec
            assert (after.flow, after.state) == ("agent", spec.flows["agent"].menu)
        finally:
            await app.state.sender.aclose()
            await runtime.aclose()


async def test_inside_the_24_hour_window_the_code_goes_as_the_notification_text(tmp_path):
    with FakeGraphAPI() as graph:
        settings = Settings().model_copy(update=dict(flows_path=ROOT / "flows.yaml", database_url=f"sqlite:///{tmp_path / 'db'}",
                           api_key=API_KEY, whatsapp_token="t", whatsapp_phone_id="1", whatsapp_graph_url=graph.url))
        runtime = build_runtime(settings)
        app = create_app(runtime)
        try:
            await runtime.linking.record_inbound(PHONE, "Ada", runtime.engine.clock())  # wrote to us just now
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://web.test",
                                         headers={"Authorization": f"Bearer {API_KEY}"}) as client:
                started = await client.post("/api/v1/auth/initiate-linking",
                                            json={"phone_number": PHONE, "email": "seeker@example.com"})
                assert started.status_code == 200, started.text
            (sent,) = graph.messages_to(META_PHONE) or graph.messages_to(PHONE)
            assert sent.json["type"] == "text"
            (code,) = re.findall(r"(?<!\d)\d{6}(?!\d)", sent.text)
            expected = runtime.engine.notification("link_code", PHONE, {"code": code, "minutes": 5}, in_window=True)
            assert len(code) == 6 and sent.text == expected.text
        finally:
            await app.state.sender.aclose()
            await runtime.aclose()
