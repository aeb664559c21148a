"""An action failing again from a state that itself reports the failure: the sentence is sent once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import fakeredis

from engine.actions import ActionError, ActionRegistry
from engine.compiler import CompiledFlows
from engine.events import InboundEvent
from engine.interpreter import Engine
from engine.store import ConversationStore
from flows.loader import load_flows

FLOWS = """
version: 1
messages:
  not_understood: "Not understood."
  stale_choice: "Stale."
  unsupported_message: "Unsupported."
  action_failed: "Failed."
  state_reset: "Reset."
  rate_limited: "Slow down."
  internal_error: "Internal error."
commands:
  menu: {keywords: [menu], ids: [menu], goto: "@menu"}
flows:
  unlinked:
    role: unlinked
    start: home
    menu: home
    states:
      home:
        say:
          text: "Home."
          choices:
            - {id: open, title: "Open one", goto: detail}
      listing:
        call: test.items
        as: items
        say:
          text: "The list."
          choices:
            - {id: open, title: "Open one", goto: detail}
      detail:
        call: test.detail
        as: detail
        on_error: gone
        say:
          text: "A detail."
          choices:
            - {id: back_to_listing, title: "Back to the list", goto: listing}
      gone:
        say:
          text: "{{ error.message }}"
          choices:
            - {id: back_to_listing, title: "Back to the list", goto: listing}
            - {id: menu, title: "Main menu", goto: home}
"""
DOWN = "Inspector is down, try later."


async def test_back_to_listing_during_an_outage_says_the_sentence_once(tmp_path: Path):
    path = tmp_path / "flows.yaml"
    path.write_text(FLOWS)
    registry = ActionRegistry()

    @registry.action("test.items")
    async def items(ctx: Any) -> Any:
        raise ActionError(DOWN, kind="unavailable")

    @registry.action("test.detail")
    async def detail(ctx: Any) -> Any:
        raise ActionError(DOWN, kind="unavailable")

    loaded = load_flows(path, {name: registry.params(name) for name in registry})
    engine = Engine(CompiledFlows(loaded), registry, ConversationStore(fakeredis.FakeAsyncRedis()))
    phone = "+2348000000009"
    await engine.handle(InboundEvent(phone=phone, text="hi"))
    turn = await engine.handle(InboundEvent(phone=phone, kind="button", reply_id="open", text="Open one"))
    assert turn.state == "gone" and [m.text for m in turn.messages] == [DOWN]
    turn = await engine.handle(InboundEvent(phone=phone, kind="button", reply_id="back_to_listing", text="Back to the list"))
    assert turn.state == "gone"
    assert [m.text for m in turn.messages] == [DOWN]  # was [DOWN, DOWN]: the sentence, then the prompt saying it
    assert [b.id for b in turn.messages[0].buttons] == ["back_to_listing", "menu"]  # the choices are still offered
