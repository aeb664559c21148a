"""Conversation tests: YAML transcripts of what a user sends and what the bot must answer.

```yaml
tests:
  - name: seeker books an inspection
    as: seeker                      # unlinked | seeker | agent | inspector
    language: pcm                   # the language the user picked long ago (default en); `ask`: never asked
    clock: "2026-12-01T09:00:00+01:00"   # optional; steps may `advance: 6m`
    steps:
      - user: menu
      - bot: {says: "What would you like to do?", rows: [Browse properties, ...], state: seeker.menu}
      - user: {list: Browse properties}
      - bot: {called: inspector.available_properties}
```

Each file gets its own world (fakeredis, SQLite file, sandbox Inspector, email outbox); its tests run in
order on it, so a later test sees what an earlier one booked. Failures name the step's `file:line`.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from app.chat import format_message
from engine.turn import Turn
from flows import edges as flow_edges
from flows.source import Source, parse
from tooling.harness import TestClock, UserSession, World, build_world, parse_duration, phone_for
from tooling.jobs import run_due_jobs
from tooling.rewording import (
    listed,
    missing_text,
    rewording_hint,
    shown,
    side_by_side,
    tap_hint,
    title_not_on_offer,
    titles_hint,
)

EXPECT_KEYS = {"says", "not_says", "matches", "buttons", "rows", "descriptions", "state", "called", "not_called",
               "silent", "kinds"}


@dataclass
class Failure:
    where: str
    message: str
    expected: str = ""
    actual: str = ""
    #: Old and new wording side by side when the bot's text was probably reworded in flows.yaml.
    hint: str = ""

    def format(self) -> str:
        out = [f"{self.where}: {self.message}"]
        if self.hint:
            out.append(self.hint)
        if self.expected or self.actual:
            out.append(side_by_side(self.expected, self.actual))
        return "\n".join(out)


@dataclass
class TestOutcome:
    __test__ = False
    file: str
    name: str
    line: int
    failure: Failure | None = None

    @property
    def ok(self) -> bool:
        return self.failure is None


@dataclass
class ConversationFile:
    path: str
    source: Source
    tests: list[dict[str, Any]] = field(default_factory=list)

    def where(self, *path: str | int) -> str:
        line, _ = self.source.locate(tuple(path))
        return f"{self.path}:{line}"


def load_file(path: str | Path) -> ConversationFile:
    text = Path(path).read_text(encoding="utf-8")
    source, problems = parse(text, str(path))
    if source is None or problems:
        raise ValueError("\n".join(p.format() for p in problems))
    data = source.data or {}
    if not isinstance(data, dict) or not isinstance(data.get("tests"), list):
        raise ValueError(f"{path}: expected a top-level `tests:` list")
    return ConversationFile(str(path), source, data["tests"])


def discover(target: str | Path) -> list[Path]:
    target = Path(target)
    return sorted(target.glob("*.yaml")) if target.is_dir() else [target]


async def run_file(conv: ConversationFile, flows_path: str | Path, world: World | None = None) -> list[TestOutcome]:
    """Run every test of a file in order on one world (a fresh one unless given)."""
    own = world is None
    tmp = tempfile.TemporaryDirectory(prefix="convtest-") if own else None
    clock = TestClock()
    if world is None:
        clock.reset(conv.source.data.get("clock"))
        world = build_world(flows_path, tmp.name, clock)  # type: ignore[union-attr]
    try:
        return [await run_test(conv, i, world) for i in range(len(conv.tests))]
    finally:
        if own:
            await world.aclose()
            tmp.cleanup()  # type: ignore[union-attr]


async def run_test(conv: ConversationFile, index: int, world: World) -> TestOutcome:
    test = conv.tests[index]
    name = str(test.get("name") or f"test {index + 1}")
    outcome = TestOutcome(conv.path, name, conv.source.locate(("tests", index))[0])
    world.clock.reset(test.get("clock") or conv.source.data.get("clock"))
    world.actions.failing = False
    user = UserSession(world, str(test.get("phone") or phone_for(conv.path, name)))
    try:
        language = str(test.get("language") or conv.source.data.get("language") or "en")
        await user.start(str(test.get("as", "unlinked")), None if language == "ask" else language)
        turn: Turn | None = None
        sent = ""
        # The first title the test tapped that was not on offer (stale on purpose, or renamed): a likely root cause.
        tapped_away: tuple[str, list[str], str] | None = None
        for s, step in enumerate(test.get("steps") or []):
            path = ("tests", index, "steps", s)
            if not isinstance(step, dict) or len(step) != 1:
                raise StepError(conv.where(*path),
                                "a step is one of `user:`, `bot:`, `notify:`, `advance:`, `jobs:` or `fail_actions:`")
            (kind, value), = step.items()
            if kind == "user":
                try:
                    event = user.event(value)
                except ValueError as exc:
                    raise StepError(conv.where(*path), str(exc)) from None
                sent = _describe_input(value)
                offered = [c.title for c in user.last.choices()] if user.last else []
                stale = title_not_on_offer(value, event)
                if stale and tapped_away is None:
                    tapped_away = (stale, offered, conv.where(*path))
                turn = await user.send(event)
                world.actions.failing = False
            elif kind == "notify":  # a job sends this user a notification (inside the 24-hour window)
                try:
                    turn = await user.notify(value)
                except (KeyError, ValueError) as exc:
                    raise StepError(conv.where(*path), f"cannot notify: {exc}") from None
                sent = f"(notification {value if isinstance(value, str) else value.get('name')})"
            elif kind == "fail_actions":  # the next user turn's action calls fail, as if Inspector were down
                world.actions.failing = bool(value)
            elif kind == "advance":
                world.clock.advance(parse_duration(value))
            elif kind == "jobs":  # run the background jobs due now; what they sent this user is the next turn
                enqueue = None if value in (None, True, "run") else str(value)
                messages = await run_due_jobs(world, user.phone, enqueue)
                stored = await world.runtime.engine.store.load(user.phone)  # a timeout may have moved the user
                turn = Turn(messages=messages, flow=stored.flow if stored else turn.flow if turn else "",
                            state=stored.state if stored else turn.state if turn else "",
                            within=(world.runtime.engine.flows.flow_for_role(stored.role) if stored.stack else "")
                            if stored else turn.within if turn else "")
                taps = [m for m in messages if m.kind in ("buttons", "list")]
                if taps:
                    user.last = taps[-1]
                sent = f"[jobs: {value}]"
            elif kind == "bot":
                if turn is None:
                    raise StepError(conv.where(*path), "`bot:` before any `user:` step")
                problem = check_turn(value, turn)
                if problem:
                    error = StepError(conv.where(*path), f"after you> {sent}: {problem}",
                                      yaml.safe_dump(value, allow_unicode=True, sort_keys=False, width=60),
                                      format_turn(turn))
                    # A renamed title tapped earlier is the likely root cause of what follows: show it first.
                    hints = [tap_hint(*tapped_away, world) if tapped_away else "",
                             titles_hint(value, turn, world) or rewording_hint(missing_text(value, turn),
                                                                               shown(turn), turn, world)]
                    error.failure.hint = "\n".join(h for h in hints if h)
                    raise error
            else:
                raise StepError(conv.where(*path),
                                f"unknown step `{kind}` (expected user, bot, notify, advance, jobs or fail_actions)")
    except StepError as exc:
        outcome.failure = exc.failure
    except Exception as exc:  # a broken test file or an engine crash: report it, keep going
        outcome.failure = Failure(f"{conv.path}:{outcome.line}", f"{name}: {type(exc).__name__}: {exc}")
    return outcome


class StepError(Exception):
    def __init__(self, where: str, message: str, expected: str = "", actual: str = "") -> None:
        super().__init__(message)
        self.failure = Failure(where, message, expected, actual)


def check_turn(expect: Any, turn: Turn) -> str | None:
    """What is wrong with `turn` given a `bot:` expectation; None when it matches."""
    if isinstance(expect, str):
        expect = {"says": expect}
    if not isinstance(expect, dict):
        return "`bot:` needs a mapping of expectations"
    unknown = set(expect) - EXPECT_KEYS
    if unknown:
        return f"unknown expectation(s) {', '.join(sorted(unknown))} (expected: {', '.join(sorted(EXPECT_KEYS))})"
    texts = [m.text for m in turn.messages]
    for wanted in listed(expect.get("says")):
        if not any(str(wanted) in t for t in texts):
            return f"no message says {wanted!r}"
    for unwanted in listed(expect.get("not_says")):
        if any(str(unwanted) in t for t in texts):
            return f"a message says {unwanted!r}"
    for pattern in listed(expect.get("matches")):
        if not any(re.search(str(pattern), t) for t in texts):
            return f"no message matches /{pattern}/"
    if expect.get("silent") and turn.messages:
        return "expected no reply"
    for key, kind in (("buttons", "buttons"), ("rows", "list")):
        if key in expect:
            offered = [c.title for m in turn.messages if m.kind == kind for c in m.choices()]
            problem = _compare_titles(key, expect[key], offered)
            if problem:
                return problem
    if "descriptions" in expect:  # of list rows, in order
        described = [r.description for m in turn.messages if m.kind == "list" for r in m.rows]
        problem = _compare_titles("descriptions", expect["descriptions"], described)
        if problem:
            return problem
    if "kinds" in expect:  # the kinds of the messages sent, in order (text, buttons, list, image, ...)
        sent = [m.kind for m in turn.messages]
        if list(expect["kinds"]) != sent:
            return f"message kinds are {sent}, expected {list(expect['kinds'])}"
    if "state" in expect and expect["state"] not in places(turn):
        return f"ended in {' = '.join(places(turn))}, expected {expect['state']}"
    for wanted in listed(expect.get("called")):
        name, args = (wanted, {}) if isinstance(wanted, str) else (wanted.get("name"), wanted.get("with") or {})
        if not any(c.name == name and all(c.args.get(k) == v for k, v in args.items()) for c in turn.calls):
            return f"{name} was not called" + (f" with {args}" if args else "")
    for name in listed(expect.get("not_called")):
        if any(c.name == name for c in turn.calls):
            return f"{name} was called"
    return None


def _compare_titles(key: str, wanted: Any, offered: list[str]) -> str | None:
    if isinstance(wanted, dict):  # {include: [...]}: a subset, in any order
        missing = [t for t in wanted.get("include", []) if t not in offered]
        return f"{key} {offered} lack {missing}" if missing else None
    if list(wanted) != offered:
        return f"{key} are {offered}, expected {list(wanted)}"
    return None


def _describe_input(value: Any) -> str:
    if isinstance(value, dict):
        (k, v), = value.items()
        return f"[{k}: {v}]"
    return str(value)


def format_turn(turn: Turn) -> str:
    lines = [format_message(m) for m in turn.messages] or ["(no reply)"]
    lines.append(f"state: {turn.flow}.{turn.state}")
    for call in turn.calls:
        lines.append(f"called: {call.name} {call.args}" + ("" if call.ok else f" -> failed ({call.error})"))
    lines += [f"notice: {n}" for n in turn.notices]
    return "\n".join(lines)


# -- coverage ---------------------------------------------------------------------------------------------

def places(turn: Turn) -> list[str]:
    """How a test may name where a turn ended: `flow.state`; inside a shared flow also `<own flow>.<state>`
    (`seeker.help` for the shared `account.help` a seeker entered), so moving states into a shared flow does
    not change what the tests say."""
    here = f"{turn.flow}.{turn.state}"
    return [here, f"{turn.within}.{turn.state}"] if turn.within else [here]


def coverage(spec: Any, visits: set[tuple[str, str, str]], states: set[tuple[str, str]]) -> tuple[list[str], list[str]]:
    """(states never visited, transitions never taken), each as `flow.state` / `flow.state --trigger--> target`."""
    seen_states = set(states)
    for flow, state, _ in visits:
        seen_states.add((flow, state))
    for flow_name, flow in spec.flows.items():
        for state_name, state in flow.states.items():
            for edge, found in flow_edges.moves(spec, flow_name, state):
                if (flow_name, state_name, edge.trigger) in visits:
                    seen_states.add((found.flow, found.state))
    missed_states, missed_edges = [], []
    for flow_name, flow in spec.flows.items():
        for state_name, state in flow.states.items():
            if (flow_name, state_name) not in seen_states:
                missed_states.append(f"{flow_name}.{state_name}")
            for edge in flow_edges.edges(state):
                if not edge.moves or (flow_name, state_name, edge.trigger) in visits:
                    continue
                missed_edges.append(f"{flow_name}.{state_name} --{edge.trigger}--> {edge.target}")
    return missed_states, missed_edges


async def run_paths(paths: list[Path], flows_path: str | Path, *, with_coverage: bool = False,
                    out: Any = None) -> tuple[list[TestOutcome], tuple[list[str], list[str]] | None]:
    """Run every file; print one line per test to `out`; return outcomes (and coverage when asked)."""
    outcomes: list[TestOutcome] = []
    visits: set[tuple[str, str, str]] = set()
    states: set[tuple[str, str]] = set()
    spec = None
    for path in paths:
        try:
            conv = load_file(path)
        except ValueError as exc:
            outcomes.append(TestOutcome(str(path), "(file)", 0, Failure(str(path), str(exc))))
            continue
        with tempfile.TemporaryDirectory(prefix="convtest-") as tmp:
            clock = TestClock()
            clock.reset(conv.source.data.get("clock"))
            world = build_world(flows_path, tmp, clock)
            spec = world.runtime.engine.flows.spec
            try:
                results = await run_file(conv, flows_path, world)
            finally:
                await world.aclose()
            visits |= world.visits
            states |= world.states
        for result in results:
            outcomes.append(result)
            if out is not None:
                print(f"{'PASS' if result.ok else 'FAIL'} {result.file}:{result.line} {result.name}", file=out)
    report = coverage(spec, visits, states) if with_coverage and spec is not None else None
    return outcomes, report
