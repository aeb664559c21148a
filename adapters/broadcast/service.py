"""Choosing a broadcast's audience and starting it: a dry run counts, a real one is stored and queued."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from adapters.broadcast.runner import WINDOW
from adapters.broadcast.store import BroadcastMessage, BroadcastStore

Enqueue = Callable[[str], Awaitable[None]]


class Audience(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Literal["seeker", "agent", "inspector"] | None = Field(default=None, description="every role when empty")
    active_within_days: int | None = Field(default=None, ge=1, le=365,
                                           description="only users who wrote to the bot in the last N days")


class Template(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=512)
    language: str = Field(default="en", max_length=15)
    params: list[str] = Field(default_factory=list, max_length=20)


class BroadcastRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    audience: Audience = Field(default_factory=Audience)
    text: str | None = Field(default=None, min_length=1, max_length=4096,
                             description="sent inside the 24-hour window")
    template: Template | None = Field(default=None, description="sent outside the 24-hour window")
    dry_run: bool = False

    @model_validator(mode="after")
    def _something_to_send(self) -> BroadcastRequest:
        if not self.text and self.template is None:
            raise ValueError("give text, template, or both")
        return self

    def message(self) -> BroadcastMessage:
        t = self.template
        return BroadcastMessage(text=self.text or "", template=t.name if t else "", language=t.language if t else "en",
                                params=list(t.params) if t else [])


class BroadcastService:
    def __init__(self, store: BroadcastStore, linking: Any, *, enqueue: Enqueue | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.store = store
        self.linking = linking
        self.enqueue = enqueue
        self.clock = clock

    async def audience(self, audience: Audience) -> list[Any]:
        users = await self.linking.linked_users(audience.role)
        if audience.active_within_days is not None:
            since = self.clock() - timedelta(days=audience.active_within_days)
            users = [u for u in users if u.last_inbound_at is not None and _aware(u.last_inbound_at) >= since]
        return sorted(users, key=lambda u: u.phone)

    async def count(self, request: BroadcastRequest) -> dict[str, Any]:
        users = await self.audience(request.audience)
        now = self.clock()
        inside = sum(1 for u in users if u.last_inbound_at is not None and now - _aware(u.last_inbound_at) < WINDOW)
        outside = len(users) - inside
        return {"dry_run": True, "audience": len(users), "inside_window": inside, "outside_window": outside,
                "unreachable": 0 if request.template else outside}

    async def start(self, request: BroadcastRequest) -> dict[str, Any]:
        users = await self.audience(request.audience)
        broadcast_id = await self.store.create(request.message(), [u.phone for u in users],
                                               audience=request.audience.model_dump())
        if self.enqueue is not None:
            await self.enqueue(broadcast_id)
        return {"id": broadcast_id, "status": "queued", "total": len(users)}


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
