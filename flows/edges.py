"""Every way out of a state, written out once: the compiler, `check`, `graph`, `diff` and test coverage
all read these edges, so reachability and dead ends are computed once, over the same list.

An edge is named by its *trigger*, the name the engine moves by and `diff`/coverage report:
`error`, `empty` (of the first call; `error:<n>`, `empty:<n>` of the n-th of a `call:` list), `branch:<n>`,
`choice:<id>`, `from`, `on:<n>`, `answer`, `gave_up`, `otherwise`, `next`, `subflow` (into a shared flow),
`then` (where it comes back to), `return` (a shared flow's `return:`), and `cmd:<name>` for a global command.
A target of None (or `@stay`, or `@continue` of `on_error`) keeps the user in the state.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from flows.schema import FlowFile, State
from flows.schema_reuse import CONTINUE
from flows.targets import RETURN, STAY, Target, resolve

EdgeKind = Literal["error", "empty", "branch", "choice", "pick", "route", "ask", "otherwise", "next", "command",
                   "timeout", "subflow", "then", "return"]

#: Kinds taken because of the user's input; the others are taken by the state itself as it runs.
INPUT_KINDS: frozenset[EdgeKind] = frozenset({"choice", "pick", "route", "ask", "otherwise"})

ERROR = "error"
EMPTY = "empty"
NEXT = "next"
OTHERWISE = "otherwise"
FROM = "from"
ANSWER = "answer"  # a valid answer to `ask`
GAVE_UP = "gave_up"  # `ask`'s retries used up
SUBFLOW = "subflow"  # into the shared flow a state enters
THEN = "then"  # back from it, to the caller's `then`
RETURN_TRIGGER = "return"  # a shared flow's state with `return:`


def error_trigger(index: int) -> str:
    """The failure of the `index`-th call of a state (the first one's is plain `error`)."""
    return ERROR if index == 0 else f"{ERROR}:{index}"


def empty_trigger(index: int) -> str:
    return EMPTY if index == 0 else f"{EMPTY}:{index}"


def branch_trigger(index: int) -> str:
    return f"branch:{index}"


def choice_trigger(choice_id: str) -> str:
    return f"choice:{choice_id}"


def route_trigger(index: int) -> str:
    return f"on:{index}"


def command_trigger(name: str) -> str:
    return f"cmd:{name}"


def timeout_trigger(index: int) -> str:
    return f"timeout:{index}"


@dataclass(frozen=True, slots=True)
class Edge:
    """One way out of a state: what kind it is, what the engine calls it, what a picture says, where it goes.

    `when` is the edge's condition (`if:` of a branch or a choice), evaluated by the engine, not here."""

    kind: EdgeKind
    trigger: str
    label: str
    target: str | None
    when: str | None = None

    @property
    def moves(self) -> bool:
        """Whether taking the edge leaves the state (a missing target, `@stay` or `@continue` stays)."""
        return self.target is not None and self.target != STAY and self.target != CONTINUE


def edges(state: State) -> list[Edge]:
    """Every edge out of `state`, in the order the state runs: action outcomes, branches, choices, routes,
    `otherwise`, then `goto`, `subflow` (with its `then`) or `return`."""
    out: list[Edge] = []
    calls = state.calls
    for index, call in enumerate(calls):
        of = f" of {call.action}" if len(calls) > 1 else ""
        out.append(Edge("error", error_trigger(index), f"on_error{of}", call.on_error))
        out.append(Edge("empty", empty_trigger(index), f"on_empty{of}", call.on_empty))
    for index, branch in enumerate(state.branch):
        out.append(Edge("branch", branch_trigger(index), f"if {branch.when}", branch.goto, branch.when))
    if state.say:
        for choice in state.say.choices:
            label = f"[{choice.title}]" + (f" if {choice.when}" if choice.when else "")
            out.append(Edge("choice", choice_trigger(choice.id), label, choice.goto, choice.when))
        if state.say.choices_from:
            cf = state.say.choices_from
            out.append(Edge("pick", FROM, f"pick from {cf.items}", cf.goto))
    for index, route in enumerate(state.on):
        if route.keywords is not None:
            label = "says " + " / ".join(route.keywords)
        elif route.regex is not None:
            label = f"/{route.regex}/"
        else:
            label = f"‹{route.capture}›"
        out.append(Edge("route", route_trigger(index), label, route.goto))
    if state.ask:
        out.append(Edge("ask", ANSWER, f"‹{state.ask.type}›", state.ask.goto))
        out.append(Edge("ask", GAVE_UP, f"not a {state.ask.type} after {state.ask.retries + 1} tries",
                        state.ask.on_fail))
    if state.otherwise:
        out.append(Edge("otherwise", OTHERWISE, "otherwise", state.otherwise.goto))
    if state.goto:
        out.append(Edge("next", NEXT, "then", state.goto))
    if state.subflow:
        # The target is the shared flow's name: `moves` resolves it to its start.
        out.append(Edge("subflow", SUBFLOW, f"⤷ {state.subflow.flow}", state.subflow.flow))
        out.append(Edge("then", THEN, f"back from {state.subflow.flow}", state.subflow.then))
    if state.returns:
        out.append(Edge("return", RETURN_TRIGGER, "return", RETURN))
    for index, timeout in enumerate(state.timeouts):
        out.append(Edge("timeout", timeout_trigger(index), f"after {timeout.after}", timeout.goto))
    return out


def command_edges(spec: FlowFile, flow_name: str) -> list[Edge]:
    """The global commands that work from every state of `flow_name` (by the flow's role)."""
    role = spec.flows[flow_name].role
    return [Edge("command", command_trigger(name), name, command.goto)
            for name, command in spec.commands.items() if command.roles is None or role in command.roles]


def moves(spec: FlowFile, flow_name: str, state: State) -> Iterator[tuple[Edge, Target]]:
    """The edges of a state that lead somewhere that exists, with where they lead."""
    for edge in edges(state):
        if edge.kind == "subflow":
            found = subflow_start(spec, edge.target)
            if found is not None:
                yield edge, found
        elif edge.moves:
            assert edge.target is not None
            found = resolve(edge.target, flow_name, spec)
            if found is not None:
                yield edge, found


def subflow_start(spec: FlowFile, name: str | None) -> Target | None:
    """Where entering the shared flow `name` begins; None when there is no such shared flow."""
    flow = spec.flows.get(name or "")
    if flow is None or not flow.shared or flow.start not in flow.states:
        return None
    assert name is not None
    return Target(name, flow.start)


def is_dead_end(state: State) -> bool:
    """A state that waits for input but no input leads anywhere: only a global command gets the user out."""
    return state.waits and not any(edge.moves for edge in edges(state) if edge.kind in INPUT_KINDS)


def reachable(spec: FlowFile) -> set[tuple[str, str]]:
    """The states reachable from each flow's start and menu and from the global commands."""
    frontier: list[tuple[str, str]] = []
    for name, flow in spec.flows.items():
        if flow.shared:  # entered only by `subflow:` edges
            continue
        frontier += [(name, flow.start), (name, flow.menu)]
        for edge in command_edges(spec, name):
            found = resolve(edge.target, name, spec) if edge.moves and edge.target else None
            if found is not None:
                frontier.append((found.flow, found.state))
    seen: set[tuple[str, str]] = set()
    while frontier:
        node = frontier.pop()
        owner = spec.flows.get(node[0])
        if node in seen or owner is None or node[1] not in owner.states:
            continue
        seen.add(node)
        frontier += [(found.flow, found.state) for _, found in moves(spec, node[0], owner.states[node[1]])]
    return seen


#: Kinds the engine takes by itself while running a state, without waiting for the user.
AUTOMATIC_KINDS: frozenset[EdgeKind] = frozenset({"error", "empty", "branch", "next", "subflow"})


def loops_without_input(spec: FlowFile) -> list[list[tuple[str, str]]]:
    """Groups of states that can move among themselves by `goto`, `branch`, `on_error` or `on_empty` alone,
    so a user can circle through them without ever being asked anything (each group sorted, once)."""
    graph: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for flow_name, flow in spec.flows.items():
        for state_name, state in flow.states.items():
            graph[(flow_name, state_name)] = [(found.flow, found.state) for edge, found in
                                              moves(spec, flow_name, state) if edge.kind in AUTOMATIC_KINDS]
    index: dict[tuple[str, str], int] = {}
    low: dict[tuple[str, str], int] = {}
    stack: list[tuple[str, str]] = []
    on_stack: set[tuple[str, str]] = set()
    groups: list[list[tuple[str, str]]] = []

    def visit(node: tuple[str, str]) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, []):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group: list[tuple[str, str]] = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1 or node in graph.get(node, []):
                groups.append(sorted(group))

    for node in graph:
        if node not in index:
            visit(node)
    return sorted(groups)
