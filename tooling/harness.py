"""An in-process world for staff tooling: the real runtime on a fresh fakeredis, a fresh SQLite file, the
embedded sandbox Inspector, an advanceable clock and a captured email outbox.

Conversation tests and the explorer both drive users through `UserSession`, which turns a step's input
(typed text, a tapped button or row, the code from the last email) into the event WhatsApp would send.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import fakeredis

from adapters.inspector.sandbox_store import SandboxStore
from adapters.settings import Settings
from app.chat import link_demo_user
from app.runtime import Runtime, build_runtime
from engine.compiler import CompiledFlows
from engine.events import EventKind, InboundEvent
from engine.matching import normalize
from engine.messages import OutboundMessage
from engine.turn import Turn
from flows.targets import Target
from tooling.flaky import FlakyActions

ROLES = ("unlinked", "seeker", "agent", "inspector")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)\s*$")


def parse_duration(text: str) -> timedelta:
    """`90s`, `6m`, `2h`, `1d` -> a timedelta."""
    found = _DURATION.match(str(text))
    if not found:
        raise ValueError(f"cannot read the duration {text!r} (expected e.g. 30s, 6m, 2h, 1d)")
    amount, unit = float(found.group(1)), found.group(2)
    return timedelta(**{{"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[unit]: amount})


class TestClock:
    """Real time (or a fixed instant) plus an offset that steps can advance."""

    __test__ = False  # not a pytest class

    def __init__(self, fixed: datetime | None = None) -> None:
        self.fixed = fixed
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return (self.fixed or datetime.now(UTC)) + self.offset

    def reset(self, fixed: datetime | str | None = None) -> None:
        self.fixed = datetime.fromisoformat(fixed) if isinstance(fixed, str) else fixed
        self.offset = timedelta()

    def advance(self, delta: timedelta) -> None:
        self.offset += delta


@dataclass
class Outbox:
    """An EmailSender that keeps every email instead of sending it."""

    sent: list[dict[str, str]] = field(default_factory=list)

    async def send(self, *, to: str, subject: str, text: str) -> None:
        self.sent.append({"to": to, "subject": subject, "text": text})

    def last_code(self) -> str | None:
        for mail in reversed(self.sent):
            found = re.search(r"\b(\d{6})\b", mail["text"])
            if found:
                return found.group(1)
        return None


class TracingFlows(CompiledFlows):
    """CompiledFlows that remember every edge fired: all of them for `test --coverage`, and in order in `trail`
    (which `explore` empties before each turn, to see which way an answer or a timeout went)."""

    def __init__(self, loaded: Any, visits: set[tuple[str, str, str]]) -> None:
        super().__init__(loaded)
        self.visits = visits
        self.trail: list[tuple[str, str, str]] = []

    def transition(self, flow: str, state: str, trigger: str, home: str | None = None) -> Target | None:
        found = super().transition(flow, state, trigger, home)
        if found is not None:
            self.visits.add((flow, state, trigger))
            self.trail.append((flow, state, trigger))
        return found

    def dynamic_target(self, flow: str, state: str, trigger: str) -> str | None:
        found = super().dynamic_target(flow, state, trigger)
        if found is not None:
            self.visits.add((flow, state, trigger))
            self.trail.append((flow, state, trigger))
        return found


@dataclass
class World:
    runtime: Runtime
    clock: TestClock
    outbox: Outbox
    visits: set[tuple[str, str, str]]
    states: set[tuple[str, str]]
    actions: FlakyActions
    jobs: Any = None  # the JobContext of `jobs:` steps (tooling.jobs), built on first use

    async def aclose(self) -> None:
        await self.runtime.aclose()


def build_world(flows_path: str | Path, workdir: str | Path, clock: TestClock | None = None) -> World:
    """A runtime on embedded everything; its actions can be made to fail (`world.actions.failing = True`)."""
    clock = clock or TestClock()
    outbox = Outbox()
    settings = Settings(flows_path=Path(flows_path), database_url=f"sqlite:///{Path(workdir) / 'accounts.db'}")
    runtime = build_runtime(settings, clock=clock, email=outbox, redis=fakeredis.FakeAsyncRedis(
        server=fakeredis.FakeServer()))
    app = getattr(runtime.inspector, "sandbox_app", None)
    if app is not None:  # the sandbox on the same clock, so "tomorrow" means the same day everywhere
        app.state.store = SandboxStore.load(None, clock)
    visits: set[tuple[str, str, str]] = set()
    runtime.engine.replace_flows(TracingFlows(runtime.engine.flows.loaded, visits))
    actions = FlakyActions(runtime.engine.actions)
    runtime.engine.actions = actions  # type: ignore[assignment]
    return World(runtime, clock, outbox, visits, set(), actions)


def phone_for(*parts: str) -> str:
    return f"+2347{zlib.crc32(':'.join(parts).encode()) % 10**9:09d}"


class UserSession:
    """One pretend WhatsApp user: sends inputs, remembers the choices last offered."""

    def __init__(self, world: World, phone: str) -> None:
        self.world = world
        self.phone = phone
        self.last: OutboundMessage | None = None

    async def start(self, role: str, language: str | None = "en") -> None:
        """Begin as `role`, having picked `language` long ago (None: the user has never been asked)."""
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r} (expected one of {', '.join(ROLES)})")
        if language is not None:
            await self.world.runtime.engine.preset_language(self.phone, language)
        if role != "unlinked":  # linked, at their menu: its choices are the first on offer
            _, messages = await link_demo_user(self.world.runtime, self.phone, role)
            taps = [m for m in messages if m.kind in ("buttons", "list")]
            self.last = taps[-1] if taps else self.last

    def event(self, given: Any) -> InboundEvent:
        """The event for a step's `user:` value."""
        if isinstance(given, date | datetime):  # YAML reads 2026-12-20 as a date; the user typed text
            given = given.isoformat()
        if isinstance(given, str | int | float):
            return InboundEvent(phone=self.phone, text=str(given))
        if not isinstance(given, dict) or len(given) != 1:
            raise ValueError("`user:` is text or one of {button: ...}, {list: ...}, {text: ...}, "
                             "{code_from_email: true}, {wrong_code: true}, {location: [lat, lng]}, {other: image}")
        (key, value), = given.items()
        if key in ("button", "list", "tap"):
            return self.tap(value if isinstance(value, int) else str(value), key)
        if key == "text":
            return InboundEvent(phone=self.phone, text=str(value))
        if key == "code_from_email":
            code = self.world.outbox.last_code()
            if code is None:
                raise ValueError("no email with a 6-digit code was sent yet")
            return InboundEvent(phone=self.phone, text=code)
        if key == "wrong_code":
            code = self.world.outbox.last_code() or "000000"
            return InboundEvent(phone=self.phone, text=f"{(int(code) + 1) % 10**6:06d}")
        if key == "location":  # a shared pin: [latitude, longitude] or {latitude, longitude, name, address}
            pin = dict(zip(("latitude", "longitude"), value, strict=False)) if isinstance(value, list) else dict(value)
            pin = {"latitude": float(pin["latitude"]), "longitude": float(pin["longitude"]),
                   "name": str(pin.get("name") or ""), "address": str(pin.get("address") or "")}
            return InboundEvent(phone=self.phone, kind="location", text=pin["name"] or pin["address"],
                                message_type="location", extra={"location": pin})
        if key == "other":
            return InboundEvent(phone=self.phone, kind="other", message_type=str(value))
        raise ValueError(f"unknown user input `{key}`")

    def tap(self, wanted: str | int, kind: str = "tap") -> InboundEvent:
        """Tap a choice of the last interactive message by title, id or position (1, 2, ...); an unknown one
        is a stale tap (its id sent as is)."""
        choices = self.last.choices() if self.last else []
        if isinstance(wanted, int) and 1 <= wanted <= len(choices):
            wanted = choices[wanted - 1].id
        wanted = str(wanted)
        typed = normalize(wanted)
        picked = next((c for c in choices if c.id == wanted), None) or next(
            (c for c in choices if normalize(c.title) == typed), None)
        tap_kind: EventKind = "list" if kind == "list" or (
            kind not in ("button", "list") and self.last is not None and self.last.kind == "list") else "button"
        if picked is None:
            return InboundEvent(phone=self.phone, kind=tap_kind, text=wanted, reply_id=wanted,
                                message_type="interactive")
        return InboundEvent(phone=self.phone, kind=tap_kind, text=picked.title, reply_id=picked.id,
                            message_type="interactive")

    async def notify(self, given: Any) -> Turn:
        """Deliver a notification of flows.yaml to this user, as a job would inside the 24-hour window.

        `given` is its name, or `{name: ..., with: {variable: value}}`; its buttons become the ones to tap.
        """
        name, values = (given, {}) if isinstance(given, str) else (given.get("name"), given.get("with") or {})
        engine = self.world.runtime.engine
        if name not in engine.flows.spec.notifications:
            raise ValueError(f"no notification `{name}` in flows.yaml "
                             f"(notifications: {', '.join(engine.flows.spec.notifications)})")
        conversation = await engine.store.load(self.phone)
        message = engine.notification(str(name), self.phone, dict(values), in_window=True,
                                      language=conversation.language if conversation else "")
        if message.kind in ("buttons", "list"):
            self.last = message
        return Turn(messages=[message], flow=conversation.flow if conversation else "",
                    state=conversation.state if conversation else "")

    async def send(self, event: InboundEvent) -> Turn:
        turn = await self.world.runtime.engine.handle(event)
        taps = [m for m in turn.messages if m.kind in ("buttons", "list")]
        if taps:
            self.last = taps[-1]
        self.world.states.add((turn.flow, turn.state))
        return turn
