"""Flows compiled once into one transition table shared by every user.

The table is built from `flows.edges` (the one list of every state's exits, which `check`, `graph`, `diff`
and test coverage read too): (flow, state, trigger) -> target, with the global commands per flow.
Per-user state is plain data in the store; nothing is registered per user.

Why not a `transitions` machine: measured on this box (transitions 0.9.3, a 60-state flow), one
`AsyncMachine` event with an `on_enter` callback costs ~42 µs and a sync `Machine` event ~8 µs (a missed
trigger raises), against ~0.1 µs for a dict lookup; a turn moves 2-4 times, so a machine that ran the
states (async actions, hence `AsyncMachine`) would add 80-170 µs to a ~200 µs step. The table is what
the machine was being used as, without the cost.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from jinja2 import Template, Undefined
from jinja2.runtime import Context

from engine.matching import normalize
from flows import edges as flow_edges
from flows.loader import LoadedFlows
from flows.schema import Command, FlowFile, State
from flows.targets import Target, dynamic, resolve
from flows.templating import create_environment, expression_of, is_expression_template, with_globals


@dataclass(frozen=True, slots=True)
class CompiledCommand:
    name: str
    spec: Command
    keywords: frozenset[str]
    ids: frozenset[str]

    def applies_to(self, role: str) -> bool:
        return self.spec.roles is None or role in self.spec.roles


class CompiledFlows:
    """A loaded flows file ready to interpret: transition table, templates and command tables, built once."""

    def __init__(self, loaded: LoadedFlows) -> None:
        self.loaded = loaded
        self.spec: FlowFile = loaded.spec
        self.hash = loaded.hash
        #: The languages users may pick, this file's first: (code, name); empty when there is nothing to pick.
        self.languages: list[tuple[str, str]] = list(loaded.languages)
        self.language = self.default_language = loaded.spec.languages.code if loaded.spec.languages else "en"
        self.table, self.command_table = _table(self.spec)
        #: (flow, state, trigger) -> `@return`/`@menu`/`@start` of a shared flow, resolved when taken.
        self.dynamic = _dynamic(self.spec)
        self.flow_by_role: dict[str, str] = {flow.role: name for name, flow in self.spec.flows.items()}
        self._use(self.spec, self.language)
        #: These flows in each language, built on first use and shared by all of them.
        self.variants: dict[str, CompiledFlows] = {self.language: self}

    def _use(self, spec: FlowFile, language: str) -> None:
        """Take the texts (and command keywords) of `spec`, rendered with `language`'s plural rule."""
        self.spec, self.language = spec, language
        self.env = create_environment(language)
        self.commands = [
            CompiledCommand(name, cmd, frozenset(keyword_form(k) for k in cmd.keywords), frozenset(cmd.ids))
            for name, cmd in spec.commands.items()
        ]
        self.template = lru_cache(maxsize=4096)(self._template)
        self.keywords = lru_cache(maxsize=1024)(self._keywords)
        self.expression = lru_cache(maxsize=4096)(self._expression)

    def in_language(self, code: str) -> CompiledFlows:
        """These flows with the texts of language `code` (a translated text falls back to this file's own);
        the same states, edges and transition table, so a user can switch language anywhere."""
        found = self.variants.get(code or self.default_language)
        if found is not None:
            return found
        spec = self.loaded.translations.get(code)
        if spec is None:
            return self.variants[self.default_language]
        variant = copy.copy(self)  # keeps a subclass's extras (test coverage's edge recorder)
        variant._use(spec, code)
        self.variants[code] = variant
        return variant

    def offers_language(self, code: str) -> bool:
        return any(code == offered for offered, _ in self.languages)

    # -- lookups ---------------------------------------------------------------------------------

    def state(self, flow: str, state: str) -> State | None:
        found = self.spec.flows.get(flow)
        return found.states.get(state) if found else None

    def flow_for_role(self, role: str) -> str:
        return self.flow_by_role.get(role) or self.flow_by_role["unlinked"]

    def transition(self, flow: str, state: str, trigger: str, home: str | None = None) -> Target | None:
        """Where `flow.state` leads by `trigger` (an edge, or a command of `home`, the user's own flow, by
        default `flow`); None when it has no such edge, or its target is `dynamic`."""
        return self.table.get((flow, state, trigger)) or self.command_table.get((home or flow, trigger))

    def dynamic_target(self, flow: str, state: str, trigger: str) -> str | None:
        """The `@return`, `@menu` or `@start` a shared flow's edge leads to, for the engine to resolve."""
        return self.dynamic.get((flow, state, trigger))

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
        template = self.template(source)
        # Jinja's `render` copies the scope and the globals into a new dict for every text; a turn renders a
        # dozen or more, so the scope is given as the context's parent as it is (`templating.with_globals`).
        context = self._context(template, scope)
        try:
            return self.env.concat(template.root_render_func(context))
        except Exception:
            self.env.handle_exception()

    def _context(self, template: Template, scope: dict[str, Any]) -> Context:
        """What `template.new_context(scope, shared=True)` builds, without its set of the template's globals (a
        ChainMap walked for every text, read only by `{% import %}`, which the sandboxed flows never reach)."""
        return Context(self.env, with_globals(self.env, scope), template.name, template.blocks)

    def evaluate(self, source: str, scope: dict[str, Any]) -> Any:
        # What `TemplateExpression.__call__` does, minus its two copies of the scope (kwargs, then a dict).
        template = self.expression(source)._template
        context = self._context(template, scope)
        for _ in template.root_render_func(context):
            pass
        return context.vars["result"]

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


def _table(spec: FlowFile) -> tuple[dict[tuple[str, str, str], Target], dict[tuple[str, str], Target]]:
    """(flow, state, trigger) -> target for every state's edges, and (flow, trigger) -> target for commands."""
    table: dict[tuple[str, str, str], Target] = {}
    commands: dict[tuple[str, str], Target] = {}
    for flow_name, flow in spec.flows.items():
        for state_name, state in flow.states.items():
            for edge, found in flow_edges.moves(spec, flow_name, state):
                table[(flow_name, state_name, edge.trigger)] = found
        if flow.shared:  # commands lead into the user's own flow, looked up there
            continue
        for edge in flow_edges.command_edges(spec, flow_name):
            command = resolve(edge.target, flow_name, spec) if edge.moves and edge.target else None
            if command is not None:
                commands[(flow_name, edge.trigger)] = command
    return table, commands


def _dynamic(spec: FlowFile) -> dict[tuple[str, str, str], str]:
    out: dict[tuple[str, str, str], str] = {}
    for flow_name, flow in spec.flows.items():
        for state_name, state in flow.states.items():
            for edge in flow_edges.edges(state):
                if edge.moves and edge.target is not None and dynamic(edge.target, flow_name, spec):
                    out[(flow_name, state_name, edge.trigger)] = edge.target
    return out


def _is_undefined(value: Any) -> bool:
    return isinstance(value, Undefined)
