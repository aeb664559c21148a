"""Properties over generated flows: any input sequence never raises, always gets a reply within
WhatsApp's limits, and `menu` always returns to the role's menu. The flows hold typed questions (`ask:`) and
per-state `timeouts:`, and the inputs typed answers and timers firing (inside and outside the 24-hour window)."""

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
from engine.timeouts import fire, timers_for
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
            if draw(st.integers(0, 2)) == 0:
                state["ask"] = draw(asks(names))
            if draw(st.integers(0, 2)) == 0:
                state["timeouts"] = draw(timeouts(names))
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


@st.composite
def asks(draw: Any, names: list[str]) -> dict[str, Any]:
    """A typed question of any type, with bounds that fit it, retries, and maybe `on_fail`, `goto`, `error`."""
    kind = draw(st.sampled_from(["number", "money", "date", "time", "email", "phone", "choice", "text"]))
    ask: dict[str, Any] = {"into": "answer", "type": kind, "retries": draw(st.integers(0, 3))}
    if kind in ("number", "money"):
        low = draw(st.integers(0, 100))
        ask.update(min=low, max=draw(st.one_of(st.none(), st.integers(low, low + 10**7))))
    elif kind == "text":
        ask.update(min=draw(st.integers(1, 3)), max=draw(st.integers(3, 60)))
    elif kind == "date":
        ask.update(min=draw(st.sampled_from(["today", "2020-01-01"])))
    elif kind == "choice":
        ask["options"] = draw(st.lists(words.map(lambda w: w.replace("{", "(").replace("}", ")")), min_size=1,
                                       max_size=4))
    for key in ("on_fail", "goto"):
        if draw(st.booleans()):
            ask[key] = draw(st.sampled_from(names))
    if draw(st.booleans()):
        ask["error"] = "Wrong answer ({{ ask.tries_left }} left, between {{ ask.min }} and {{ ask.max }})."
    return {key: value for key, value in ask.items() if value is not None}


@st.composite
def timeouts(draw: Any, names: list[str]) -> list[dict[str, Any]]:
    """A nudge, a move, or a nudge then a move, soonest first."""
    nudge = {"after": "10m", "say": "Still there? " + "Z" * draw(st.sampled_from([0, 2000]))}
    move = {"after": "1d", "goto": draw(st.sampled_from([*names, "@menu"]))}
    return draw(st.sampled_from([[nudge], [move], [nudge, move], [{**move, "say": "Moving on."}]]))


ANSWERS = ["45m", "₦1,500", "7", "2027-01-15", "tomorrow", "10:30", "2pm", "ada@example.com", "0801 234 5678",
           "+2348012345678", "lots", "25:99"]

inputs = st.lists(
    st.one_of(
        st.text(max_size=50),
        st.sampled_from(["menu", "1", "2", "3", "10", "0", "a@b.co", "", "🏠🔥", "x" * 5000]),
        st.tuples(st.sampled_from(["button", "list"]), st.sampled_from(["c0", "c1", "c9", "it:1", "menu", "zzz"])),
        st.just(("other", "image")),
        st.sampled_from(ANSWERS),
        st.tuples(st.just("wait"), st.integers(0, 2), st.booleans()),  # a due timer fires (in the window?)
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
            if isinstance(step, tuple) and step[0] == "wait":
                timers = timers_for(engine, await engine.store.load(phone))
                if timers:
                    turn = await fire(engine, timers[step[1] % len(timers)], in_window=step[2])
                    assert turn is not None and turn.flow == "seeker", step
                    assert all(violations(message) == [] for message in turn.messages), step
                    assert step[2] or turn.messages == []  # outside the window nothing is sent
                continue
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
