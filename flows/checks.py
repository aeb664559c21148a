"""Static checks over a schema-valid flows file: references, templates, WhatsApp limits, dead ends.

Every check appends a Problem located at the offending key; nothing raises, so one run shows all.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from jinja2 import TemplateSyntaxError, meta

from flows import edges as flow_edges
from flows import limits
from flows.ask_checks import check_ask
from flows.context_types import declared_types
from flows.notification_checks import check_notifications
from flows.paths import UNKNOWN, ActionShape, template_problems
from flows.problems import Problem
from flows.regex_safety import backtracking_risk
from flows.say_checks import check_say
from flows.schema import MESSAGE_VARIABLES, REQUIRED_MESSAGES, ROLES, FlowFile, State
from flows.schema_reuse import CONTINUE
from flows.source import Path, Source
from flows.subflow_checks import check_return, check_shared_flows, check_subflow_call
from flows.targets import STAY, describe_unknown, dynamic, resolve
from flows.templating import create_environment

#: Names every template can use without declaring them.
BUILTINS = frozenset(
    {"user", "phone", "profile_name", "messages", "now", "today", "input", "error", "result", "flow",
     "state", "role", "range", "loop", "true", "false", "none", "True", "False", "None", "dict", "namespace",
     "lipsum", "cycler", "joiner", "plural", "language"}
)


@dataclass
class CheckReport:
    problems: list[Problem] = field(default_factory=list)
    flows: int = 0
    states: int = 0
    transitions: int = 0
    #: The spec in each other language whose translation has no errors, by code (flows.translation_checks).
    translations: dict[str, FlowFile] = field(default_factory=dict)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    def summary(self, file: str) -> str:
        warnings = sum(p.severity == "warning" for p in self.problems)
        notes = sum(p.severity == "note" for p in self.problems)
        return (f"{file}: ok, {self.flows} flows, {self.states} states, {self.transitions} transitions"
                f" ({warnings} warnings, {notes} notes)")


#: Action name -> its keyword arguments (None: any), or an ActionShape that also declares its result type.
ActionSignatures = Mapping[str, "set[str] | None | ActionShape"]


class FlowChecker:
    """Runs every static check over one parsed file."""

    def __init__(self, spec: FlowFile, source: Source, actions: ActionSignatures | None = None) -> None:
        self.spec = spec
        self.source = source
        self.actions = actions
        self.env = create_environment()
        self.report = CheckReport()
        self.declared = self._declared_names()
        self.types = declared_types(self.spec, self.actions, self.env, self._all_states)

    # -- helpers ---------------------------------------------------------------------------------

    def add(self, path: Path, message: str, severity: str = "error") -> None:
        self.report.problems.append(self.source.problem(path, message, severity))

    def run(self) -> CheckReport:
        spec = self.spec
        self.report.flows = len(spec.flows)
        self._check_messages()
        self._check_roles()
        self._check_commands()
        self._check_session()
        for flow_name, flow in spec.flows.items():
            base: Path = ("flows", flow_name)
            for key in ("start",) if flow.shared else ("start", "menu"):
                if getattr(flow, key) not in flow.states:
                    self.add((*base, key), describe_unknown(getattr(flow, key), flow_name, spec))
            if flow.shared and flow.menu:
                self.add((*base, "menu"), "a shared flow has no `menu:` (its `@menu` is the menu of the user's own "
                                          "flow); remove it")
            if not flow.shared and flow.params:
                self.add((*base, "params"), "only a shared flow (`role: shared`) takes `params:`")
            for state_name, state in flow.states.items():
                self.report.states += 1
                self._check_state(flow_name, state_name, state, (*base, "states", state_name))
        check_notifications(self)
        check_shared_flows(self)
        self._check_reachability()
        self._check_loops()
        self.report.problems.sort(key=lambda p: (p.line, p.column))
        return self.report

    def _declared_names(self) -> set[str]:
        names = set(BUILTINS)
        for flow in self.spec.flows.values():
            names.update(flow.params)
        for _, state in self._all_states():
            names.update(call.as_ or "result" for call in state.calls)
            if state.subflow and state.subflow.as_:
                names.add(state.subflow.as_)
            names.update(state.set)
            if state.ask:
                names.add(state.ask.into)
            for route in state.on:
                if route.into:
                    names.add(route.into)
                names.update(route.set)
            for branch in state.branch:
                names.update(branch.set)
            if state.say:
                for choice in state.say.choices:
                    names.update(choice.set)
                if state.say.choices_from:
                    if state.say.choices_from.into:
                        names.add(state.say.choices_from.into)
                    names.update(state.say.choices_from.set)
        for command in self.spec.commands.values():
            names.update(command.set)
        return names

    def _all_states(self) -> Iterator[tuple[str, State]]:
        for flow_name, flow in self.spec.flows.items():
            for state_name, state in flow.states.items():
                yield f"{flow_name}.{state_name}", state

    # -- templates -------------------------------------------------------------------------------

    def template(self, path: Path, text: str, extra: Iterable[str] = (), expression: bool = False,
                 local: Mapping[str, Any] | None = None) -> None:
        source = "{{ " + text + " }}" if expression else text
        try:
            ast = self.env.parse(source)
        except TemplateSyntaxError as exc:
            self.add(path, f"template syntax error: {exc.message}")
            return
        scope = {**self.types, **(local or {})}
        for name in extra:
            scope.setdefault(name, UNKNOWN)
        for problem in template_problems(ast, scope):
            self.add(path, problem.message, problem.severity)
        try:
            self.env.compile(ast)  # an unknown filter or test fails here, not in front of a user
        except TemplateSyntaxError as exc:
            self.add(path, f"template error: {exc.message}")
            return
        unknown = sorted(meta.find_undeclared_variables(ast) - self.declared - set(extra))
        for name in unknown:
            self.add(path, f"template variable `{name}` is never set (set it with `as:`, `into:` or `set:`,"
                           " or check the spelling)")
        if not expression:
            for match in re.finditer(r"messages\.(\w+)", text):
                if match.group(1) not in self.spec.messages:
                    self.add(path, f"`messages.{match.group(1)}` is not defined under `messages:`")

    def values(self, path: Path, data: Any, extra: Iterable[str] = (),
               local: Mapping[str, Any] | None = None) -> None:
        """Check templates inside `with:`/`set:` values (strings with `{{` are templates)."""
        if isinstance(data, str):
            if "{{" in data or "{%" in data:
                self.template(path, data, extra, local=local)
        elif isinstance(data, dict):
            for key, value in data.items():
                self.values((*path, key), value, extra, local)
        elif isinstance(data, list):
            for i, value in enumerate(data):
                self.values((*path, i), value, extra, local)

    # -- sections --------------------------------------------------------------------------------

    def _check_messages(self) -> None:
        for key, why in REQUIRED_MESSAGES.items():
            if key not in self.spec.messages:
                self.add(("messages",), f"`messages.{key}` is missing (sent when {why})")
        for key, text in self.spec.messages.items():
            self.template(("messages", key), text, MESSAGE_VARIABLES.get(key, ()))
            if len(text) > limits.TEXT_BODY:
                self.add(("messages", key), f"text is {len(text)} chars; WhatsApp allows {limits.TEXT_BODY}")

    def _check_roles(self) -> None:
        roles = {flow.role for flow in self.spec.flows.values()}
        for role in ROLES:
            if role not in roles:
                severity = "error" if role == "unlinked" else "warning"
                self.add(("flows",), f"no flow has `role: {role}`; those users would have nowhere to go",
                         severity)
        seen: dict[str, str] = {}
        for name, flow in self.spec.flows.items():
            if flow.shared:
                continue
            if flow.role in seen:
                self.add(("flows", name, "role"),
                         f"role `{flow.role}` already belongs to flow `{seen[flow.role]}`; one flow per role")
            seen[flow.role] = name

    def _check_commands(self) -> None:
        if not any(c.goto == "@menu" for c in self.spec.commands.values()):
            self.add(("commands",), "no command leads to `@menu`; users need a way back to the menu "
                                    "from every state (e.g. `menu: {keywords: [menu], goto: '@menu'}`)")
        for name, command in self.spec.commands.items():
            path: Path = ("commands", name)
            if not command.keywords and not command.ids:
                self.add(path, "a command needs `keywords:` or `ids:` to be triggered")
            if command.say:
                self.template((*path, "say"), command.say)
            self.values((*path, "set"), command.set, ("payload",) if any(i.endswith("*") for i in command.ids) else ())
            for flow_name, flow in self.spec.flows.items():
                if flow.shared or (command.roles is not None and flow.role not in command.roles):
                    continue
                if command.goto != STAY and resolve(command.goto, flow_name, self.spec) is None:
                    self.add((*path, "goto"), f"in flow `{flow_name}`: "
                             + describe_unknown(command.goto, flow_name, self.spec))

    def _check_session(self) -> None:
        if self.spec.session.identify:
            self.action(("session", "identify"), self.spec.session.identify, {})
        if self.spec.session.remember_language:
            self.action(("session", "remember_language"), self.spec.session.remember_language,
                        {"language": "en"})
        if self.spec.languages is not None:
            self.template(("languages", "question"), self.spec.languages.question)
            if len(self.spec.languages.name) > limits.BUTTON_TITLE:
                self.add(("languages", "name"), f"`{self.spec.languages.name}` is a button title in the language "
                                                f"question; WhatsApp allows {limits.BUTTON_TITLE} chars")

    def action(self, path: Path, name: str, args: dict[str, Any]) -> None:
        if self.actions is None:
            return
        if name not in self.actions:
            close = difflib.get_close_matches(name, list(self.actions), n=1, cutoff=0.7)
            if close:
                hint = f"did you mean `{close[0]}`?"
            elif len(self.actions) <= 8:
                hint = f"known: {', '.join(sorted(self.actions)) or 'none registered'}"
            else:
                hint = "`python main.py actions` lists them all"
            self.add(path, f"action `{name}` does not exist ({hint})")
            return
        accepted = self.actions[name]
        if isinstance(accepted, ActionShape):
            accepted = accepted.params
        if accepted is not None:
            for arg in args:
                if arg not in accepted:
                    self.add(path, f"action `{name}` takes no argument `{arg}` "
                                   f"(it takes: {', '.join(sorted(accepted)) or 'nothing'})")

    def target(self, path: Path, target: str | None, flow_name: str, carry_on: bool = False) -> None:
        """A target must lead somewhere; `carry_on`: `@continue` is allowed (a call's `on_error`/`on_empty`)."""
        self.report.transitions += target is not None
        if target is None or target == STAY or dynamic(target, flow_name, self.spec):
            return
        if target == CONTINUE:
            if not carry_on:
                self.add(path, "`@continue` only works in a call's `on_error` or `on_empty` (carry on with the "
                               "next call); to stay in the state use `@stay`")
            return
        found = resolve(target, flow_name, self.spec)
        if found is None:
            close = difflib.get_close_matches(target, [CONTINUE], n=1, cutoff=0.8) if carry_on else []
            hint = f"; did you mean `{CONTINUE}` (carry on with the next call)?" if close else ""
            self.add(path, describe_unknown(target, flow_name, self.spec) + hint)
        elif found.flow != flow_name and self.spec.flows[found.flow].shared:
            self.add(path, f"`{target}` jumps into shared flow `{found.flow}`, which only `subflow:` may enter "
                           f"(e.g. `subflow: {{flow: {found.flow}, then: ...}}`), so it knows where to return")

    def _check_state(self, flow_name: str, state_name: str, state: State, path: Path) -> None:
        self.values((*path, "set"), state.set)
        for i, call in enumerate(state.calls):
            single = not isinstance(state.call, list)
            cpath: Path = path if single else (*path, "call", i)
            self.action((*path, "call") if single else (*cpath, "action"), call.action, call.with_)
            self.values((*cpath, "with"), call.with_)
            self.target((*cpath, "on_error"), call.on_error, flow_name, carry_on=True)
            self.target((*cpath, "on_empty"), call.on_empty, flow_name, carry_on=True)
        if state.subflow:
            check_subflow_call(self, flow_name, state, path)
        check_return(self, flow_name, state, path)
        for i, branch in enumerate(state.branch):
            bpath = (*path, "branch", i)
            self.template((*bpath, "if"), branch.when, expression=True)
            self.values((*bpath, "set"), branch.set)
            if branch.say:
                self.template((*bpath, "say"), branch.say)
            self.target((*bpath, "goto"), branch.goto, flow_name)
        if state.say:
            check_say(self, flow_name, state.say, (*path, "say"))
        for i, route in enumerate(state.on):
            rpath = (*path, "on", i)
            if route.regex is not None:
                try:
                    re.compile(route.regex)
                except re.error as exc:
                    self.add((*rpath, "regex"), f"invalid regular expression: {exc}")
                risk = backtracking_risk(route.regex)
                if risk:
                    self.add((*rpath, "regex"), f"slow regular expression: {risk}", "warning")
            if route.keywords is not None and not route.keywords:
                self.add((*rpath, "keywords"), "empty keyword list (expected at least one word)")
            if route.say:
                self.template((*rpath, "say"), route.say)
            self.values((*rpath, "set"), route.set)
            self.target((*rpath, "goto"), route.goto, flow_name)
        if state.ask:
            check_ask(self, flow_name, state, (*path, "ask"))
        for i, timeout in enumerate(state.timeouts):
            tpath = (*path, "timeouts", i)
            if timeout.say:
                self.template((*tpath, "say"), timeout.say)
            self.target((*tpath, "goto"), timeout.goto, flow_name)
            if i and timeout.seconds <= state.timeouts[i - 1].seconds:
                self.add((*tpath, "after"), f"`after: {timeout.after}` is not later than the timeout before it; "
                                            "list timeouts from the soonest", "warning")
        if state.timeouts and not state.waits:
            self.add((*path, "timeouts"), "timeouts only run while a state waits for an answer; this one moves on "
                                          "at once (`goto`)")
        if state.otherwise:
            if state.otherwise.say:
                self.template((*path, "otherwise", "say"), state.otherwise.say)
            self.target((*path, "otherwise", "goto"), state.otherwise.goto, flow_name)
        self.target((*path, "goto"), state.goto, flow_name)
        if state.goto is not None and (state.on or (state.say and (state.say.choices or state.say.choices_from))):
            self.add((*path, "goto"), "`goto` moves on at once, so the choices and routes of this state can "
                                      "never be used (remove `goto`, or move the choices to the target)")
        if flow_edges.is_dead_end(state):
            self.add(path, "dead end: the state waits for input but offers no choices, `on:` routes, "
                           "`otherwise.goto` or `goto`, so users could only leave with a command "
                           "(add choices, e.g. one leading to `@menu`)")

    def _check_loops(self) -> None:
        for group in flow_edges.loops_without_input(self.spec):
            flow_name, state_name = group[0]
            names = ", ".join(f"{f}.{s}" for f, s in group)
            self.add(("flows", flow_name, "states", state_name),
                     f"loop without input: {names} can lead into each other by `goto`, `branch`, `on_error` or "
                     "`on_empty` alone, so a user could circle through them without being asked anything; "
                     "after 25 states the engine gives up on the turn with `messages.internal_error` "
                     "(let one of them wait for input)", "warning")

    def _check_reachability(self) -> None:
        seen = flow_edges.reachable(self.spec)
        for flow_name, flow in self.spec.flows.items():
            for state_name in flow.states:
                if (flow_name, state_name) not in seen:
                    self.add(("flows", flow_name, "states", state_name),
                             "unreachable: no choice, route or goto leads here", "warning")

