"""Random conversations against the real engine, checking invariants after every turn (hypothesis).

Each example is a new WhatsApp number, as a drawn role, sending a drawn list of inputs: taps on the
choices on offer, random text (emoji, 5 KB, empty), stale ids, emails, codes, wrong codes, photos, with
action calls failing at random. Where the user stands at a typed question (`ask:`), it also sends valid and
wrong answers of the question's type and checks where each leads (`tooling.explore_asks`); where the state
has `timeouts:`, it lets time pass and fires the due ones, as the background job would. A violation is
shrunk by hypothesis and printed as a conversation test (a timeout as `advance:` and `jobs: run`).
"""

from __future__ import annotations

import asyncio
import itertools
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple, TextIO

from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from engine.asks import TRIES
from engine.compiler import keyword_form
from engine.inputs import offer_for_text
from engine.turn import Turn
from flows.schema_inputs import Ask
from tooling.explore_asks import Answer, answer_for, ask_outcome
from tooling.explore_coverage import Coverage
from tooling.explore_timeouts import pass_time
from tooling.explore_walk import Violation, Walk, message_problems, transcript
from tooling.harness import ROLES, TestClock, UserSession, World, build_world

__all__ = ["Explorer", "Violation", "check_turn", "explore", "message_problems", "transcript"]

TEXTS = ["", " ", "menu", "MENU", "help", "cancel", "1", "2", "3", "9", "0", "yes", "no", "back", "hi",
         "seeker@example.com", "agent@example.com", "inspector@example.com", "nobody@example.com", "not@email",
         "123456", "000000", "tomorrow", "friday", "12/12", "10:00", "2:30pm", "30m", "30,000,000", "🏠🙂👍🏾",
         "{{ user }}", "<b>x</b>", "\n\n", "a" * 5120, "🏠" * 2600, "Ikeja", "Lekki"]

step = st.one_of(
    # A choice on offer (by index); where a question offers nothing to tap, an answer to it (valid if even).
    st.tuples(st.just("tap"), st.integers(0, 255)),
    st.tuples(st.just("tap"), st.integers(0, 255)),
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
    # At a typed question: a valid or a wrong answer of its type; elsewhere these steps are skipped.
    st.tuples(st.just("answer"), st.tuples(st.just(True), st.integers(0, 2**16))),
    st.tuples(st.just("answer"), st.tuples(st.just(False), st.integers(0, 2**16))),
    st.tuples(st.just("stubborn"), st.integers(0, 2**16)),  # wrong answers until `on_fail`
)
#: (input, failure dice, pause): after a step, a pause of 7 or more lets time pass in a state with `timeouts:`
#: until its pending timeout number `pause - 7` is due (the earlier ones fire first); elsewhere it changes
#: nothing. Shrinking takes numbers towards 0, so a shrunk transcript keeps only the pauses it needs.
walk = st.lists(st.tuples(step, st.integers(0, 9), st.integers(0, 9)), min_size=1, max_size=12)


class Question(NamedTuple):
    """The typed question a user stands at: the conversation before the answer, the question, the answer."""

    before: Any
    ask: Ask
    answer: Answer


@dataclass
class Explorer:
    """One world, many random users. `run()` raises Violation with a shrunk transcript."""

    flows_path: str | Path
    flow: str | None = None
    examples: int = 100
    seed: int | None = None
    failure_rate: float = 0.1
    progress: TextIO | None = None
    #: The instant the world starts at (the sandbox seeds its bookings and slots around it); None: now.
    at: datetime | None = None
    turns: int = 0
    done: int = 0
    coverage: Coverage = field(default_factory=Coverage)
    visits: set[tuple[str, str, str]] = field(default_factory=set)  # (flow, state, trigger) of every edge fired
    _phones: Any = field(default_factory=lambda: itertools.count(1))

    def run(self) -> dict[str, Any]:
        started = time.perf_counter()
        loop = asyncio.new_event_loop()
        with tempfile.TemporaryDirectory(prefix="explore-") as tmp:
            world = build_world(self.flows_path, tmp, TestClock(self.at))
            self.visits = world.visits
            spec = world.runtime.engine.flows.spec
            if self.flow is not None and self.flow not in spec.flows:
                raise KeyError(f"no flow `{self.flow}` (flows: {', '.join(spec.flows)})")
            if self.flow and spec.flows[self.flow].shared:
                raise KeyError(f"`{self.flow}` is a shared flow, entered from the role flows: explore those")
            roles = [spec.flows[self.flow].role] if self.flow else list(ROLES)
            self.coverage = Coverage.of(spec, [self.flow] if self.flow else [
                name for name, flow in spec.flows.items() if flow.role in roles])
            self.coverage.visits = world.visits
            dice = int(self.failure_rate * 10)

            @settings(max_examples=self.examples, database=None, deadline=None, derandomize=self.seed is None,
                      suppress_health_check=list(HealthCheck), print_blob=False)
            @given(role=st.sampled_from(roles), steps=walk)
            def property_holds(role: str, steps: list[tuple[tuple[str, Any], int, int]]) -> None:
                loop.run_until_complete(self.example(world, role, [(s, d >= 10 - dice, p) for s, d, p in steps]))

            test = seed(self.seed)(property_holds) if self.seed is not None else property_holds
            try:
                test()
            finally:
                loop.run_until_complete(world.aclose())
                loop.close()
                if self.progress:
                    print(file=self.progress)
        return {"examples": self.done, "turns": self.turns, "seconds": round(time.perf_counter() - started, 1),
                "coverage": self.coverage.figures(), "coverage_lines": self.coverage.lines()}

    async def example(self, world: World, role: str, steps: list[tuple[tuple[str, Any], bool, int]]) -> None:
        user = UserSession(world, f"+2346{next(self._phones):09d}")
        await user.start(role)
        walk = Walk(role, [])
        for (kind, value), fail, pause in steps:
            await self.step(world, user, walk, kind, value, fail)
            if pause >= 7:
                self.turns += await pass_time(world, user, pause - 7, walk, self.coverage)
        self.done += 1
        if self.progress and (self.done % 10 == 0 or self.done == self.examples):
            print(f"\rexplore: {self.done}/{self.examples} examples, {self.turns} turns", end="",
                  file=self.progress, flush=True)

    async def step(self, world: World, user: UserSession, walk: Walk, kind: str, value: Any, fail: bool) -> None:
        """One drawn input: what it means where the user stands, sent and checked."""
        if kind == "stubborn":  # wrong answers until the question gives up (or the user is elsewhere)
            for attempt in range(11):  # `retries` is at most 10
                wrong = await self.question(world, user, False, value + attempt)
                if wrong is None:
                    break
                await self.turn(world, user, walk, wrong.answer.text, fail, wrong)
            return
        question = None
        given: Any = self.input(user, kind, value)
        if kind in ("answer", "tap"):  # a tap where the question offers nothing to tap answers it instead
            question = await self.question(world, user, *(value if kind == "answer" else (value % 2 == 0, value)))
            if kind == "tap" and question is not None and question.before.offered:
                question = None
            given = question.answer.text if question else given
        if given is not None:
            await self.turn(world, user, walk, given, fail, question)

    async def turn(self, world: World, user: UserSession, walk: Walk, given: Any, fail: bool,
                   question: Question | None) -> None:
        """Send one input and check every invariant of the turn (and, for an answer, where it led)."""
        engine, script = world.runtime.engine, walk.script
        if fail:
            script.append({"fail_actions": True})
        script.append({"user": given})
        world.actions.failing = fail
        trail = _trail(world)
        trail.clear()
        errors = engine.counts["errors"]
        try:
            turn = await user.send(user.event(given))
        except Exception as exc:  # noqa: BLE001 - any escape from the engine is the finding
            raise Violation(f"the engine raised {type(exc).__name__}: {exc}", transcript(walk.role, script)) from exc
        finally:
            world.actions.failing = False
        self.turns += 1
        conversation = await engine.store.load(user.phone)
        problems = check_turn(turn, given, conversation.role if conversation else "unlinked", engine.flows.spec)
        if turn.error is not None:
            problems.append(f"internal error, turn rolled back: {turn.error}")
        elif engine.counts["errors"] > errors:
            problems.append("the engine hit an internal error (see the log)")
        if question is not None and not fail and not problems:
            problems += self.judge_answer(world, question, trail, conversation)
        walk.bot(turn.flow, turn.state, problems)

    async def question(self, world: World, user: UserSession, valid: bool, n: int) -> Question | None:
        """The typed question the user stands at, its state and a drawn answer; None away from one."""
        engine = world.runtime.engine
        conversation = await engine.store.load(user.phone)
        state = engine.flows.state(conversation.flow, conversation.state) if conversation else None
        if state is None or state.ask is None:
            return None
        return Question(conversation, state.ask, answer_for(state.ask, valid, n, engine.today()))

    def judge_answer(self, world: World, question: Question, trail: list[tuple[str, str, str]],
                     after: Any) -> list[str]:
        """Where the answer led, against where the question says it must; counted for the coverage."""
        before, ask, answer = question
        where = (before.flow, before.state)
        typed = keyword_form(answer.text)
        commands = [c for c in world.runtime.engine.flows.commands if c.applies_to(before.role)]
        if offer_for_text(before.offered, typed) is not None or any(typed in c.keywords for c in commands):
            self.coverage.count("taken by a choice", where)  # choices and commands come before the question
            return []
        state = world.runtime.engine.flows.state(*where)
        outcome, problem = ask_outcome(ask, where, answer, int(before.vars.get(TRIES) or 0),
                                       bool(state and state.on), trail, after)
        self.coverage.count(outcome, where)
        return [problem] if problem else []

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
        if kind == "other":
            return {"other": value}
        return None  # an answer: made for the question at hand (`question`)


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


def _trail(world: World) -> list[tuple[str, str, str]]:
    """The edges the world's flows fired since it was last emptied (`TracingFlows.trail`)."""
    return getattr(world.runtime.engine.flows, "trail", [])


def explore(flows_path: str | Path, *, flow: str | None = None, examples: int = 100, seed: int | None = None,
            failure_rate: float = 0.1, progress: TextIO | None = sys.stderr,
            at: datetime | None = None) -> dict[str, Any]:
    """Run the exploration; returns figures, raises Violation (with the shrunk transcript) on a failure."""
    return Explorer(flows_path, flow, examples, seed, failure_rate, progress, at).run()
