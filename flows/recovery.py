"""Schema validation that costs only the broken node: the rest of the file is still checked in the same run.

A typo in one state used to stop `check` before references and templates were looked at, so each broken file
took two or three runs. Here every node is validated on its own; a node that fails is replaced by a
placeholder that raises nothing of its own, but keeps the names others depend on (the state still exists, the
context names it sets are still set), and the problems that only follow from the placeholder are dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from flows.problems import Problem
from flows.schema import ROLES, Command, Flow, FlowFile, Notification, Session, State

_STR = TypeAdapter(str)
_INT = TypeAdapter(int)


@dataclass
class Recovered:
    """A schema-invalid file as far as it is valid: placeholders stand where nodes were broken."""

    spec: FlowFile
    #: Flows with a broken state: who reaches what there is unknown, so unreachability is not reported.
    flows_with_broken_states: set[str] = field(default_factory=set)
    #: Flows whose own keys (role, start, menu) were broken: role-coverage problems follow from that.
    flows_broken: set[str] = field(default_factory=set)

    def keep(self, problem: Problem) -> bool:
        """Whether a checker problem about the recovered spec is real, not a consequence of a placeholder."""
        flow = problem.path.split(".", 1)[0]
        if problem.message.startswith("unreachable") and flow in self.flows_with_broken_states:
            return False
        if self.flows_broken and (problem.message.startswith("no flow has `role:")
                                  or "already belongs to flow" in problem.message):
            return False
        return True


def recover(data: Any) -> Recovered | None:
    """The valid part of raw flows data as a FlowFile, or None when the top level itself is unusable."""
    if not isinstance(data, dict):
        return None
    result = Recovered(spec=FlowFile.model_construct(messages={}, flows={}))
    messages = {key: _valid(_STR, value, "") for key, value in _mapping(data.get("messages")).items()}
    commands = {}
    for name, raw in _mapping(data.get("commands")).items():
        command = _valid(Command, raw)
        if command is None:  # keeps the command's goto so "a command leads to @menu" still holds
            goto = raw.get("goto") if isinstance(raw, dict) and isinstance(raw.get("goto"), str) else "@menu"
            command = Command(keywords=[f"<{name}>"], goto=goto, roles=[])
        commands[name] = command
    notifications = {}
    for name, raw in _mapping(data.get("notifications")).items():
        note = _valid(Notification, raw)
        if note is not None:
            notifications[name] = note
    flows = {}
    for name, raw in _mapping(data.get("flows")).items():
        flows[name] = _flow(name, raw if isinstance(raw, dict) else {}, result)
    parts: dict[str, Any] = {
        "version": _valid(_INT, data.get("version", 1), 1),
        "session": _valid(Session, data.get("session", {})) or Session(),
        "messages": messages, "commands": commands, "notifications": notifications, "flows": flows,
    }
    result.spec = FlowFile.model_construct(**parts)
    return result


def _flow(name: str, raw: dict[str, Any], result: Recovered) -> Flow:
    states = {}
    for state_name, state_raw in _mapping(raw.get("states")).items():
        state = _valid(State, state_raw)
        if state is None:
            result.flows_with_broken_states.add(name)
            state = State(goto="@stay", set=dict.fromkeys(_declared(state_raw)))
        states[state_name] = state
    flow: Flow | None = _valid(Flow, {**raw, "states": {}})
    if flow is not None:
        return flow.model_copy(update={"states": states})
    result.flows_broken.add(name)
    first = next(iter(states), "")
    role = raw.get("role") if raw.get("role") in ROLES else None
    start = raw.get("start") if isinstance(raw.get("start"), str) and raw.get("start") in states else first
    menu = raw.get("menu") if isinstance(raw.get("menu"), str) and raw.get("menu") in states else first
    fields: dict[str, Any] = {"role": role, "description": "", "start": start, "menu": menu, "states": states}
    return Flow.model_construct(**fields)  # role None: the role problems it causes are dropped (`keep`)


def _declared(raw: Any) -> set[str]:
    """Context names a broken state would have set, so templates elsewhere that read them are not flagged."""
    names: set[str] = set()
    if not isinstance(raw, dict):
        return names
    if isinstance(raw.get("as"), str):
        names.add(raw["as"])
    names.update(_mapping(raw.get("set")))
    for item in [*_list(raw.get("on")), *_list(raw.get("branch"))]:
        if isinstance(item, dict):
            if isinstance(item.get("into"), str):
                names.add(item["into"])
            names.update(_mapping(item.get("set")))
    say = raw.get("say")
    if isinstance(say, dict):
        for choice in _list(say.get("choices")):
            if isinstance(choice, dict):
                names.update(_mapping(choice.get("set")))
        rows = say.get("choices_from")
        if isinstance(rows, dict):
            if isinstance(rows.get("into"), str):
                names.add(rows["into"])
            names.update(_mapping(rows.get("set")))
    return {n for n in names if isinstance(n, str)}


def _valid(kind: Any, value: Any, default: Any = None) -> Any:
    try:
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            return kind.model_validate(value)
        return kind.validate_python(value)
    except ValidationError:
        return default


def _mapping(value: Any) -> dict[Any, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
