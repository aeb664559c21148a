"""Engine factories for bench/webhook.py: the real engine on the shipped flows and sandbox Inspector.

    python -m bench.webhook --engine bench.engines:shipped

The benchmark matches each Graph API call to its webhook by the reply text `echo:<input>`; the wrapper
adds that line to the first reply of every turn. Everything else (load, match, actions, render, save) is
the production engine on real Redis.
"""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path

from redis.asyncio import Redis

from adapters.settings import Settings
from app.runtime import build_runtime
from engine.events import InboundEvent
from engine.interpreter import Engine
from engine.messages import OutboundMessage
from engine.turn import Turn

ROOT = Path(__file__).resolve().parents[1]


class TaggedEngine:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def handle(self, event: InboundEvent) -> Turn:
        turn = await self.engine.handle(event)
        if turn.messages:
            turn.messages[0].text = f"echo:{event.text}\n" + turn.messages[0].text
        return turn

    def notice(self, phone: str, key: str, **values: object) -> OutboundMessage:
        return self.engine.notice(phone, key, **values)


def shipped(settings: Settings) -> TaggedEngine:
    database = Path(tempfile.mkdtemp(prefix="bench-")) / "accounts.db"
    settings = replace(settings, flows_path=ROOT / "flows.yaml", database_url=f"sqlite:///{database}")
    runtime = build_runtime(settings, redis=Redis.from_url(settings.redis_url))
    return TaggedEngine(runtime.engine)
