"""Random conversations against the real engine, checking invariants after every turn (hypothesis).

Each example is a new WhatsApp number, as a drawn role, sending a drawn list of inputs: taps on the
choices on offer, random text (emoji, 5 KB, empty), stale ids, emails, codes, wrong codes, photos, with
action calls failing at random. A violation is shrunk by hypothesis and printed as a conversation test.
"""

from __future__ import annotations

import asyncio
import itertools
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import yaml
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from engine.messages import OutboundMessage
from engine.turn import Turn
from flows import limits
from tooling.harness import ROLES, UserSession, World, build_world

TEXTS = ["", " ", "menu", "MENU", "help", "cancel", "1", "2", "3", "9", "0", "yes", "no", "back", "hi",
         "seeker@example.com", "agent@example.com", "inspector@example.com", "nobody@example.com", "not@email",
         "123456", "000000", "tomorrow", "friday", "12/12", "10:00", "2:30pm", "30m", "30,000,000", "🏠🙂👍🏾",
         "{{ user }}", "<b>x</b>", "\n\n", "a" * 5120, "🏠" * 2600, "Ikeja", "Lekki"]

step = st.one_of(
    st.tuples(st.just("tap"), st.integers(0, 11)),
    st.tuples(st.just("tap"), st.integers(0, 11)),
    st.tuples(st.just("text"), st.sampled_from(TEXTS)),
    st.tuples(st.just("text"), st.text(max_size=40)),
    st.tuples(st.just("stale"), st.sampled_from(["menu", "help", "book", "confirm_booking", "prop:nope", "x" * 300])),
    # Notification buttons about one booking (prefix command ids), the user's own or someone else's.
    st.tuples(st.just("stale"), st.sampled_from(["directions:ins_001", "call_agent:ins_002", "reschedule:ins_001",
                                                 "inquiry:ins_001", "inspection:ins_002", "my_bookings",
                                                 "more:1", "directions:"])),
    st.tuples(st.just("location"), st.sampled_from([(6.5, 3.37), (9.08, 7.47), (-33.9, 18.4)])),
    st.tuples(st.just("code"), st.sampled_from(["code_from_email", "wrong_code"])),
    st.tuples(st.just("other"), st.sampled_from(["image", "audio", "location"])),
)
walk = st.lists(st.tuples(step, st.integers(0, 9)), min_size=1, max_size=12)  # (input, failure dice)


class Violation(AssertionError):
    def __init__(self, message: str, transcript: str) -> None:
        super().__init__(f"{message}\n\nAs a conversation test (save under tests/conversations/):\n\n{transcript}")
        self.message = message
        self.transcript = transcript


@dataclass
class Explorer:
    """One world, many random users. `run()` raises Violation with a shrunk transcript."""

    flows_path: str | Path
    flow: str | None = None
    examples: int = 100
    seed: int | None = None
    failure_rate: float = 0.1
    progress: TextIO | None = None
    turns: int = 0
    done: int = 0
    _phones: Any = field(default_factory=lambda: itertools.count(1))

    def run(self) -> dict[str, Any]:
        started = time.perf_counter()
        loop = asyncio.new_event_loop()
        with tempfile.TemporaryDirectory(prefix="explore-") as tmp:
            world = build_world(self.flows_path, tmp)
            spec = world.runtime.engine.flows.spec
            if self.flow is not None and self.flow not in spec.flows:
                raise KeyError(f"no flow `{self.flow}` (flows: {', '.join(spec.flows)})")
            if self.flow and spec.flows[self.flow].shared:
                raise KeyError(f"`{self.flow}` is a shared flow, entered from the role flows: explore those")
            roles = [spec.flows[self.flow].role] if self.flow else list(ROLES)
            dice = int(self.failure_rate * 10)

            @settings(max_examples=self.examples, database=None, deadline=None, derandomize=self.seed is None,
                      suppress_health_check=list(HealthCheck), print_blob=False)
            @given(role=st.sampled_from(roles), steps=walk)
            def property_holds(role: str, steps: list[tuple[tuple[str, Any], int]]) -> None:
                loop.run_until_complete(self.example(world, role, [(s, d >= 10 - dice) for s, d in steps]))

            test = seed(self.seed)(property_holds) if self.seed is not None else property_holds
            try:
                test()
            finally:
                loop.run_until_complete(world.aclose())
                loop.close()
                if self.progress:
                    print(file=self.progress)
        return {"examples": self.done, "turns": self.turns, "seconds": round(time.perf_counter() - started, 1)}

    async def example(self, world: World, role: str, steps: list[tuple[tuple[str, Any], bool]]) -> None:
        user = UserSession(world, f"+2346{next(self._phones):09d}")
        await user.start(role)
        engine, spec = world.runtime.engine, world.runtime.engine.flows.spec
        script: list[dict[str, Any]] = []
        errors = engine.counts["errors"]
        for (kind, value), fail in steps:
            given = self.input(user, kind, value)
            if given is None:
                continue
            if fail:
                script.append({"fail_actions": True})
            script.append({"user": given})
            world.actions.failing = fail
            try:
                turn = await user.send(user.event(given))
            except Exception as exc:  # noqa: BLE001 - any escape from the engine is the finding
                raise Violation(f"the engine raised {type(exc).__name__}: {exc}", transcript(role, script)) from exc
            finally:
                world.actions.failing = False
            self.turns += 1
            conversation = await engine.store.load(user.phone)
            problems = check_turn(turn, given, conversation.role if conversation else "unlinked", spec)
            if turn.error is not None:
                problems.append(f"internal error, turn rolled back: {turn.error}")
            elif engine.counts["errors"] > errors:
                problems.append("the engine hit an internal error (see the log)")
            script.append({"bot": {"state": f"{turn.flow}.{turn.state}"}})
            if problems:
                script[-1] = {"bot": {"state": f"{turn.flow}.{turn.state}", "#": "; ".join(problems)}}
                raise Violation("; ".join(problems), transcript(role, script))
        self.done += 1
        if self.progress and (self.done % 10 == 0 or self.done == self.examples):
            print(f"\rexplore: {self.done}/{self.examples} examples, {self.turns} turns", end="",
                  file=self.progress, flush=True)

    @staticmethod
    def input(user: UserSession, kind: str, value: Any) -> Any:
        """The step's input in conversation-test form; None when it makes no sense right now."""
        if kind == "tap":
            choices = user.last.choices() if user.last else []
            if not choices:
                return None
            picked = choices[value % len(choices)]
            return {"button" if user.last.kind == "buttons" else "list": picked.id}  # type: ignore[union-attr]
        if kind == "text":
            return value
        if kind == "stale":
            return {"button": value}
        if kind == "location":
            return {"location": list(value)}
        if kind == "code":
            return {value: True} if user.world.outbox.last_code() else None
        return {"other": value}


def check_turn(turn: Turn, given: Any, role: str, spec: Any) -> list[str]:
    """Every invariant a turn must hold."""
    problems = []
    if not turn.messages:
        problems.append("no reply")
    for message in turn.messages:
        problems += message_problems(message)
    problems += [n for n in turn.notices if n.startswith("template rendered empty values")]
    problems += [n for n in turn.notices if n.startswith("role guard")]
    internal = spec.messages.get("internal_error")
    if internal and any(m.text == internal for m in turn.messages):
        problems.append("the user was told `messages.internal_error` (an engine error or a loop of states)")
    flow = spec.flows.get(turn.flow)
    if flow is None:
        problems.append(f"ended in unknown flow {turn.flow!r}")
    elif flow.shared and spec.flows.get(turn.within) is not None and spec.flows[turn.within].role == role:
        pass  # inside a shared flow the user's own flow entered
    elif flow.role != role:
        problems.append(f"a {role} user ended in the {flow.role} flow {turn.flow}")
    elif isinstance(given, str) and given.strip().lower() == "menu" and turn.state != flow.menu:
        problems.append(f"`menu` led to {turn.flow}.{turn.state}, not {turn.flow}.{flow.menu}")
    return problems


def message_problems(m: OutboundMessage) -> list[str]:
    return limits.violations(m)


def transcript(role: str, script: list[dict[str, Any]]) -> str:
    """The steps as a ready-to-save conversation test (the violation as a comment on the last step)."""
    steps = []
    for item in script:
        note = item.get("bot", {}).pop("#", None) if "bot" in item else None
        line = "      - " + yaml.safe_dump(item, allow_unicode=True, default_flow_style=True, width=10**6).strip()
        steps.append(line + (f"   # VIOLATION: {note}" if note else ""))
    return "tests:\n  - name: found by explore\n    as: " + role + "\n    steps:\n" + "\n".join(steps) + "\n"


def explore(flows_path: str | Path, *, flow: str | None = None, examples: int = 100, seed: int | None = None,
            failure_rate: float = 0.1, progress: TextIO | None = sys.stderr) -> dict[str, Any]:
    """Run the exploration; returns figures, raises Violation (with the shrunk transcript) on a failure."""
    return Explorer(flows_path, flow, examples, seed, failure_rate, progress).run()
