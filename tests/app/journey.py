"""A whole WhatsApp journey through the composed web app: signed webhooks in, the fake Graph API out.

An unlinked user says hi, sends their email, a wrong code, then the right one (read from a real SMTP
exchange); on the way a delivery arrives unsigned, one twice. Metrics and log tests run it and look at
what it left behind.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from pathlib import Path

import httpx

from adapters.settings import Settings
from app.runtime import Runtime, build_runtime
from app.web import create_app
from tests.adapters.whatsapp import payloads as p
from tests.adapters.whatsapp.conftest import SECRET, VERIFY, fast_options, post_signed

ROOT = Path(__file__).resolve().parents[2]
PHONE = "2348055512345"
EMAIL = "seeker@example.com"


@dataclass
class JourneyResult:
    runtime: Runtime
    app: object
    code: str
    wrong: str
    phone: str = PHONE
    email: str = EMAIL


def journey_settings(tmp_path: Path, graph_url: str, smtp_port: int, **values) -> Settings:
    return Settings().model_copy(update=dict(flows_path=ROOT / "flows.yaml", database_url=f"sqlite:///{tmp_path / 'db.sqlite'}",
                   whatsapp_token="test-token", whatsapp_phone_id=p.PHONE_ID, whatsapp_verify_token=VERIFY,
                   whatsapp_app_secret=SECRET, whatsapp_graph_url=graph_url, rate_limit_per_minute=1000,
                   smtp_host="127.0.0.1", smtp_port=smtp_port, secret_key="k" * 40, **values))


@contextlib.asynccontextmanager
async def running_app(settings: Settings, **runtime_options):
    runtime = build_runtime(settings, **runtime_options)
    app = create_app(runtime, options=fast_options())
    try:
        async with app.router.lifespan_context(app):
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bot.test") as client:
                yield runtime, app, client
    finally:
        await runtime.aclose()


async def say(app, client, text: str, *, twice: bool = False) -> None:
    body = p.body([p.text(PHONE, text)], [p.contact(PHONE)])
    for _ in range(2 if twice else 1):
        response = await post_signed(client, body)
        assert response.status_code == 200, response.text
    assert await app.state.pipeline.drain(10)


async def run_journey(app, client, smtp) -> tuple[str, str]:
    """Returns (right code, wrong code)."""
    unsigned = await client.post("/api/v1/webhook", json=p.body([p.text(PHONE, "hi")]))
    assert unsigned.status_code == 401
    verify = await client.get("/api/v1/webhook", params={"hub.mode": "subscribe", "hub.verify_token": VERIFY,
                                                         "hub.challenge": "42"})
    assert verify.status_code == 200
    await say(app, client, "hi", twice=True)
    await say(app, client, EMAIL)
    code = await asyncio.to_thread(smtp.last_code, EMAIL)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    await say(app, client, wrong)
    await say(app, client, code)
    return code, wrong
