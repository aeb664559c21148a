"""Flows compiled once into `transitions` machines shared by every user.

Each flow becomes one Machine with `model=None`: no model is ever added per user (transitions costs
~130 µs and ~29 KiB per registered model). A step fires `machine.events[trigger].trigger(cursor)` on a
throwaway cursor holding the user's state name. Targets in other flows are placeholder states named
`flow.state`; landing on one switches machine.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from jinja2 import Template, Undefined
from transitions import Machine

from engine.matching import normalize
from flows.loader import LoadedFlows
from flows.schema import Command, Flow, FlowFile, State
from flows.targets import STAY, Target, resolve
from flows.templating import create_environment, expression_of, is_expression_template


class _Cursor:
    """The throwaway object a machine moves: just a state name."""

    __slots__ = ("state",)

    def __init__(self, state: str) -> None:
        self.state = state


@dataclass(frozen=True, slots=True)
class CompiledCommand:
    name: str
    spec: Command
    keywords: frozenset[str]
    ids: frozenset[str]

    def applies_to(self, role: str) -> bool:
        return self.spec.roles is None or role in self.spec.roles


class CompiledFlows:
    """A loaded flows file ready to interpret: machines, templates and command tables, built once."""

    def __init__(self, loaded: LoadedFlows) -> None:
        self.loaded = loaded
        self.spec: FlowFile = loaded.spec
        self.hash = loaded.hash
        self.env = create_environment()
        self.machines = {name: self._machine(name, flow) for name, flow in self.spec.flows.items()}
        self.flow_by_role = {flow.role: name for name, flow in self.spec.flows.items()}
        self.commands = [
            CompiledCommand(name, cmd, frozenset(keyword_form(k) for k in cmd.keywords), frozenset(cmd.ids))
            for name, cmd in self.spec.commands.items()
        ]
        self.template = lru_cache(maxsize=4096)(self._template)
        self.keywords = lru_cache(maxsize=1024)(self._keywords)
        self.expression = lru_cache(maxsize=4096)(self._expression)

    # -- compile -------------------------------------------------------------------------------------

    def _machine(self, flow_name: str, flow: Flow) -> Machine:
        states: set[str] = set(flow.states)
        transitions: list[dict[str, str]] = []

        def add(trigger: str, source: str, target: str | None) -> None:
            if target is None or target == STAY:
                return
            found = resolve(target, flow_name, self.spec)
            if found is None:
                return
            dest = found.state if found.flow == flow_name else str(found)
            states.add(dest)
            transitions.append({"trigger": trigger, "source": source, "dest": dest})

        for name, state in flow.states.items():
            for trigger, target in triggers(state):
                add(trigger, name, target)
        for name, command in self.spec.commands.items():
            if command.roles is None or flow.role in command.roles:
                add(f"cmd:{name}", "*", command.goto)
        return Machine(
            model=None,
            states=sorted(states),
            transitions=transitions,
            initial=flow.start if flow.start in states else None,
            auto_transitions=False,
            ignore_invalid_triggers=False,
        )

    # -- lookups ---------------------------------------------------------------------------------

    def state(self, flow: str, state: str) -> State | None:
        found = self.spec.flows.get(flow)
        return found.states.get(state) if found else None

    def flow_for_role(self, role: str) -> str:
        return self.flow_by_role.get(role) or self.flow_by_role["unlinked"]

    def fire(self, flow: str, state: str, trigger: str) -> Target | None:
        """Move from `flow.state` by `trigger` through the flow's machine; None when it has no such edge."""
        machine = self.machines[flow]
        event = machine.events.get(trigger)
        if event is None:
            return None
        cursor = _Cursor(state)
        try:
            event.trigger(cursor)
        except Exception:  # MachineError: no edge for this source
            return None
        dest = cursor.state
        if "." in dest:
            other, _, name = dest.partition(".")
            return Target(other, name)
        return Target(flow, dest)

    @staticmethod
    def _keywords(words: tuple[str, ...]) -> frozenset[str]:
        """A route's keywords, normalised once rather than on every message."""
        return frozenset(keyword_form(w) for w in words)

    def _template(self, source: str) -> Template:
        return self.env.from_string(source)

    def _expression(self, source: str) -> Any:
        return self.env.compile_expression(source, undefined_to_none=False)

    # -- evaluation --------------------------------------------------------------------------------

    def render(self, source: str, scope: dict[str, Any]) -> str:
        if "{" not in source:
            return source
        return self.template(source).render(scope)

    def evaluate(self, source: str, scope: dict[str, Any]) -> Any:
        return self.expression(source)(**scope)

    def value(self, raw: Any, scope: dict[str, Any]) -> Any:
        """`with:`/`set:` values: `{{ expr }}` -> native value, mixed text -> rendered text, else as is."""
        if isinstance(raw, str):
            if is_expression_template(raw):
                result = self.evaluate(expression_of(raw), scope)
                return None if _is_undefined(result) else result
            if "{{" in raw or "{%" in raw:
                return self.render(raw, scope)
            return raw
        if isinstance(raw, dict):
            return {k: self.value(v, scope) for k, v in raw.items()}
        if isinstance(raw, list):
            return [self.value(v, scope) for v in raw]
        return raw


def keyword_form(text: str) -> str:
    """How keywords and typed text are compared: normalised, but a text of punctuation alone stays as typed,
    so `?` is a keyword of its own and a lone `!` or `...` matches nothing instead of every empty form."""
    return normalize(text) or " ".join(text.split())


def triggers(state: State) -> list[tuple[str, str | None]]:
    """Every edge out of a state, as (trigger name, target)."""
    edges: list[tuple[str, str | None]] = [
        ("error", state.on_error),
        ("empty", state.on_empty),
        ("next", state.goto),
    ]
    edges += [(f"branch:{i}", b.goto) for i, b in enumerate(state.branch)]
    edges += [(f"on:{i}", r.goto) for i, r in enumerate(state.on)]
    if state.otherwise:
        edges.append(("otherwise", state.otherwise.goto))
    if state.say:
        edges += [(f"choice:{c.id}", c.goto) for c in state.say.choices]
        if state.say.choices_from:
            edges.append(("from", state.say.choices_from.goto))
    return edges


def _is_undefined(value: Any) -> bool:
    return isinstance(value, Undefined)
