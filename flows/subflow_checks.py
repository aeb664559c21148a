"""`check` for shared flows: calls name a shared flow and pass exactly its parameters, `return` is used only
inside one, every state of one can still get back to its caller, and calls neither recurse nor nest deeper
than the engine keeps (`MAX_DEPTH`)."""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING

from flows import edges as flow_edges
from flows.schema import FlowFile, State
from flows.schema_reuse import MAX_DEPTH
from flows.source import Path
from flows.targets import DYNAMIC, RETURN

if TYPE_CHECKING:
    from flows.checks import FlowChecker


def check_subflow_call(checker: FlowChecker, flow_name: str, state: State, path: Path) -> None:
    """A state's `subflow:`: the flow exists and is shared, its arguments match its parameters."""
    call = state.subflow
    assert call is not None
    spec, cpath = checker.spec, (*path, "subflow")
    checker.values((*cpath, "with"), call.with_)
    checker.target((*cpath, "then"), call.then, flow_name)
    target = spec.flows.get(call.flow)
    if target is None or not target.shared:
        shared = sorted(name for name, flow in spec.flows.items() if flow.shared)
        close = difflib.get_close_matches(call.flow, shared, n=1, cutoff=0.7)
        hint = f"did you mean `{close[0]}`?" if close else f"shared flows: {', '.join(shared) or 'none'}"
        what = "is not shared (add `role: shared` to it)" if target is not None else "does not exist"
        checker.add((*cpath, "flow"), f"flow `{call.flow}` {what}; `subflow:` enters a shared flow ({hint})")
        return
    for name in call.with_:
        if name not in target.params:
            known = ", ".join(sorted(target.params)) or "nothing"
            checker.add((*cpath, "with", name), f"shared flow `{call.flow}` takes no parameter `{name}` "
                                                f"(it takes: {known})")
    for name, param in target.params.items():
        if param.required and name not in call.with_:
            checker.add((*cpath, "with") if call.with_ else cpath,
                        f"shared flow `{call.flow}` needs `{name}` (pass it in `with:`, or give the parameter "
                        "a `default:`)")


def check_return(checker: FlowChecker, flow_name: str, state: State, path: Path) -> None:
    if state.returns:
        checker.values((*path, "return"), state.return_)
        if not checker.spec.flows[flow_name].shared:
            checker.add((*path, "return"), f"`return` goes back to the caller of a shared flow, but `{flow_name}` "
                                           "is not shared (`role: shared`); use `goto` instead")


def check_shared_flows(checker: FlowChecker) -> None:
    """Every state of a shared flow can get back to its caller, and calls do not recurse or nest too deep."""
    spec = checker.spec
    for flow_name, flow in spec.flows.items():
        if not flow.shared:
            continue
        base: Path = ("flows", flow_name)
        out = _ways_out(spec, flow_name)
        if not any(_returns(state) for state in flow.states.values()):
            checker.add(base, f"shared flow `{flow_name}` never returns to its caller: give a state `return:`, "
                              "or a choice `goto: \"@return\"`")
            continue
        for state_name in flow.states:
            if state_name not in out:
                checker.add((*base, "states", state_name),
                            f"`{flow_name}.{state_name}` can never return to its caller: no `return:` or "
                            "`@return` can be reached from it, and nothing leads out to `@menu` or another flow "
                            "(add a choice with `goto: \"@return\"`)")
    _check_nesting(checker)


def _returns(state: State) -> bool:
    return state.returns or any(edge.target == RETURN for edge in flow_edges.edges(state))


def _ways_out(spec: FlowFile, flow_name: str) -> set[str]:
    """The states of a shared flow from which a return, `@menu`/`@start` or another flow can be reached."""
    states = spec.flows[flow_name].states
    inside: dict[str, set[str]] = {name: set() for name in states}
    done: set[str] = set()
    for name, state in states.items():
        if _returns(state) or any(edge.moves and edge.target in DYNAMIC for edge in flow_edges.edges(state)):
            done.add(name)
        for edge, found in flow_edges.moves(spec, flow_name, state):
            if edge.kind == "subflow":
                continue  # the call comes back to `then`, an edge of its own
            if found.flow != flow_name:
                done.add(name)
            else:
                inside[found.state].add(name)
    frontier = list(done)
    while frontier:  # walk back from the ways out
        for before in inside.get(frontier.pop(), ()):
            if before not in done:
                done.add(before)
                frontier.append(before)
    return done


def _check_nesting(checker: FlowChecker) -> None:
    spec = checker.spec
    calls: dict[str, list[tuple[str, str]]] = {}  # flow -> (state, shared flow it enters)
    for flow_name, flow in spec.flows.items():
        for state_name, state in flow.states.items():
            if state.subflow and state.subflow.flow in spec.flows and spec.flows[state.subflow.flow].shared:
                calls.setdefault(flow_name, []).append((state_name, state.subflow.flow))
    reported: set[tuple[str, str]] = set()

    def walk(flow_name: str, chain: list[str]) -> None:
        for state_name, callee in calls.get(flow_name, []):
            where = ("flows", flow_name, "states", state_name, "subflow", "flow")
            if callee in chain:
                if (flow_name, state_name) not in reported:
                    reported.add((flow_name, state_name))
                    cycle = " → ".join([*chain[chain.index(callee):], callee])
                    checker.add(where, f"shared flows call each other in a circle ({cycle}); the engine keeps at "
                                       f"most {MAX_DEPTH} calls open, so this would end in an error")
                continue
            if len(chain) > MAX_DEPTH:  # chain holds the caller's flow, then one flow per open call
                if (flow_name, state_name) not in reported:
                    reported.add((flow_name, state_name))
                    checker.add(where, f"shared flows nest {len(chain)} deep here ({' → '.join([*chain, callee])}); "
                                       f"the engine keeps at most {MAX_DEPTH} calls open")
                continue
            walk(callee, [*chain, callee])

    for flow_name, flow in spec.flows.items():
        if not flow.shared:
            walk(flow_name, [flow_name])
