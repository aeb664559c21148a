"""The result of one engine step: what to send, and where the conversation ended up."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from engine.actions import ActionCall
from engine.conversation import Conversation
from engine.events import InboundEvent
from engine.messages import OutboundMessage


@dataclass(slots=True)
class Turn:
    """Messages to send (in order) plus the trace tests and tools read."""

    messages: list[OutboundMessage] = field(default_factory=list)
    flow: str = ""
    state: str = ""
    #: When the turn ends inside a shared flow: the user's own flow, which entered it ("" otherwise).
    within: str = ""
    calls: list[ActionCall] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    #: The conversation as this turn leaves it, for the caller to commit (None: nothing to save).
    conversation: Conversation | None = None
    #: Set when the turn crashed and was rolled back (`conversation` is then the one loaded, unchanged).
    error: str | None = None


class ConversationEngine(Protocol):
    """What a channel adapter needs from the engine."""

    async def run_turn(self, event: InboundEvent, conversation: Conversation | None) -> Turn:
        """Match the input against the loaded conversation, run actions, render replies; the caller commits
        `turn.conversation` (the store is not touched)."""
        ...

    def notice(self, phone: str, key: str, *, language: str = "", **values: object) -> OutboundMessage:
        """Render a shared message of flows.yaml (`messages.<key>`), e.g. `rate_limited`, in `language`."""
        ...
