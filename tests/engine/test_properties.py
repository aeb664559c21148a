"""Properties over generated flows: any input sequence never raises, always gets a reply within
WhatsApp's limits, and `menu` always returns to the role's menu."""

from __future__ import annotations

import asyncio
from typing import Any

import fakeredis
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.actions import ActionError, ActionRegistry
from engine.compiler import CompiledFlows
from engine.events import InboundEvent
from engine.interpreter import Engine
from engine.store import ConversationStore
from flows.edges import loops_without_input
from flows.limits import violations
from flows.loader import LoadedFlows, check_text

MESSAGES = {
    "not_understood": "Sorry?", "stale_choice": "Old button.", "unsupported_message": "Text only.",
    "action_failed": "Failed.", "state_reset": "Reset.", "rate_limited": "Slow.", "internal_error": "Oops.",
}
words = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=20)


@st.composite
def flow_files(draw: Any) -> dict[str, Any]:
    """A valid flows file: an unlinked flow that links, and a seeker flow of random states."""
    count = draw(st.integers(2, 7))
    names = [f"s{i}" for i in range(count)]
    states: dict[str, Any] = {}
    for index, name in enumerate(names):
        state: dict[str, Any] = {}
        if index > 0 and draw(st.booleans()):  # the menu (s0) calls nothing, as menus should
            state["call"] = "demo.items"
            state["as"] = "items"
            if draw(st.booleans()):
                state["on_error"] = draw(st.sampled_from(names))
        text = draw(st.text(min_size=1, max_size=draw(st.sampled_from([30, 300, 5000]))).filter(str.strip))
        say: dict[str, Any] = {"text": text.replace("{", "(").replace("}", ")").replace("%", "")
                               + (" {{ items|length }}" if "call" in state else "")}
        if index > 0 and draw(st.integers(0, 4)) == 0:
            state["goto"] = draw(st.sampled_from(names[:index]))  # backwards only: no goto loop
        else:
            n = draw(st.integers(0, 10))
            say["choices"] = [
                {"id": f"c{j}", "title": draw(words).replace("{", "(").replace("}", ")"),
                 "goto": draw(st.sampled_from(names))} for j in range(n)]
            if "call" in state and draw(st.booleans()):
                say["choices_from"] = {"items": "items", "id": "it:{{ item.id }}",
                                       "title": "{{ item.name }}", "goto": draw(st.sampled_from(names))}
                say["choices"] = say["choices"][:5]
            routes = []
            if draw(st.booleans()) or not (say["choices"] or "choices_from" in say):
                routes.append({"capture": draw(st.sampled_from(["number", "text", "email", "date"])),
                               "into": "captured", "goto": draw(st.sampled_from(names))})
            if routes:
                state["on"] = routes
        state["say"] = say
        states[name] = state
    return {
        "messages": MESSAGES,
        "session": {"identify": "demo.identify"},
        "commands": {"menu": {"keywords": ["menu"], "ids": ["menu"], "goto": "@menu"}},
        "flows": {
            "unlinked": {"role": "unlinked", "start": "hello", "menu": "hello", "states": {
                "hello": {"say": {"text": "Hello", "choices": [{"id": "go", "title": "Go", "goto": "link"}]}},
                "link": {"set": {"user": {"id": "u", "name": "Ada", "role": "seeker"}}, "goto": "seeker.s0"},
            }},
            "seeker": {"role": "seeker", "start": names[0], "menu": names[0], "states": states},
        },
    }


inputs = st.lists(
    st.one_of(
        st.text(max_size=50),
        st.sampled_from(["menu", "1", "2", "3", "10", "0", "a@b.co", "", "🏠🔥", "x" * 5000]),
        st.tuples(st.sampled_from(["button", "list"]), st.sampled_from(["c0", "c1", "c9", "it:1", "menu", "zzz"])),
        st.just(("other", "image")),
    ),
    min_size=1, max_size=12,
)


def make(spec: dict[str, Any], fail: bool) -> Engine:
    _, report = check_text(yaml.safe_dump(spec, allow_unicode=True))
    assert report.errors == [], [p.format() for p in report.errors]
    from flows.schema import FlowFile

    loaded = LoadedFlows(spec=FlowFile.model_validate(spec), report=report, path="gen.yaml", sha256="0" * 64)
    registry = ActionRegistry()

    @registry.action("demo.identify")
    async def identify(ctx: Any) -> None:
        return None

    @registry.action("demo.items")
    async def items(ctx: Any) -> list[dict[str, Any]]:
        if fail:
            raise ActionError("Down.", kind="unavailable")
        return [{"id": i, "name": "N" * (i * 7)} for i in range(14)]

    return Engine(CompiledFlows(loaded), registry, ConversationStore(fakeredis.FakeAsyncRedis()))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(spec=flow_files(), steps=inputs, fail=st.booleans())
def test_generated_flows_never_strand_a_user(spec, steps, fail):
    engine = make(spec, fail)
    # `on_error` may point anywhere, so failing actions can circle through states that never wait; that is
    # the one internal error allowed, and only where `check` warned of it.
    looping = bool(loops_without_input(engine.flows.spec))

    def no_internal_error(turn: Any, step: Any) -> None:
        if turn.error is not None:
            assert looping and turn.error.startswith("FlowLoop"), f"internal error on {step!r}: {turn.error}"

    async def run() -> None:
        phone = "+2348000000002"
        for first in (InboundEvent(phone=phone, text="hi"),
                      InboundEvent(phone=phone, kind="button", text="Go", reply_id="go")):
            no_internal_error(await engine.handle(first), first)
        for step in steps:
            if isinstance(step, tuple) and step[0] == "other":
                event = InboundEvent(phone=phone, kind="other", message_type=step[1])
            elif isinstance(step, tuple):
                event = InboundEvent(phone=phone, kind=step[0], text=step[1], reply_id=step[1])
            else:
                event = InboundEvent(phone=phone, text=step)
            turn = await engine.handle(event)
            no_internal_error(turn, step)
            assert turn.messages, f"no reply to {step!r} in {turn.flow}.{turn.state}"
            for message in turn.messages:
                assert violations(message) == [], (step, message)
            assert turn.flow == "seeker"
        turn = await engine.handle(InboundEvent(phone=phone, text="menu"))
        assert (turn.flow, turn.state) == ("seeker", "s0")
        if not looping:
            assert engine.counts["errors"] == 0  # no crash was hidden behind a polite reply

    asyncio.run(run())
