"""Where a `goto` leads: `state`, `flow.state`, or a relative target resolved in the user's flow.

In a shared flow, `@menu`, `@start` and `@return` depend on who entered it: the engine resolves them when
they are taken (`dynamic`), so the static table leaves them out.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass

from flows.schema import FlowFile

STAY = "@stay"
RETURN = "@return"
#: Targets a shared flow resolves only when taken: the user's own menu or start, or back to the caller.
DYNAMIC = frozenset({"@menu", "@start", RETURN})


@dataclass(frozen=True, slots=True)
class Target:
    flow: str
    state: str

    def __str__(self) -> str:
        return f"{self.flow}.{self.state}"


def resolve(target: str, flow_name: str, spec: FlowFile) -> Target | None:
    """Resolve `target` as seen from `flow_name`; None means "stay" (`@stay`) or unknown.

    Relative targets: `@menu` and `@start` are the flow's own; `@name` is a state of that name in it.
    """
    flow = spec.flows.get(flow_name)
    if flow is None:
        return None
    if target == STAY or target == RETURN or (flow.shared and target in DYNAMIC):
        return None
    if target.startswith("@"):
        name = target[1:]
        if name == "menu":
            return Target(flow_name, flow.menu)
        if name == "start":
            return Target(flow_name, flow.start)
        return Target(flow_name, name) if name in flow.states else None
    if "." in target:
        other, _, state = target.partition(".")
        if other in spec.flows and state in spec.flows[other].states:
            return Target(other, state)
        return None
    return Target(flow_name, target) if target in flow.states else None


def dynamic(target: str, flow_name: str, spec: FlowFile) -> bool:
    """Whether `target` is only resolved when taken: `@menu`/`@start`/`@return` of a shared flow."""
    flow = spec.flows.get(flow_name)
    return flow is not None and flow.shared and target in DYNAMIC


def describe_unknown(target: str, flow_name: str, spec: FlowFile) -> str:
    """Say what is wrong with a target that does not resolve, and what would work."""
    flow = spec.flows.get(flow_name)
    if target == RETURN:
        return (f"`@return` goes back to the caller of a shared flow, but `{flow_name}` is not shared "
                "(`role: shared`); use `goto` to a state, or `@menu`")
    if target.startswith("@"):
        return (f"`{target}` names no state of flow `{flow_name}` "
                "(expected @menu, @start, @stay or @<state of the flow>)")
    if "." in target:
        other, _, state = target.partition(".")
        if other not in spec.flows:
            return f"flow `{other}` does not exist (flows: {', '.join(sorted(spec.flows))})"
        return f"flow `{other}` has no state `{state}`{_suggest(state, spec.flows[other].states, other)}"
    states = flow.states if flow else {}
    return f"state `{target}` does not exist in flow `{flow_name}`{_suggest(target, states, flow_name)}"


def _suggest(name: str, known: Mapping[str, object], flow_name: str) -> str:
    """`(did you mean `x`?)` for a likely typo, else the list of states when it is short."""
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.75)
    if close:
        return f" (did you mean `{close[0]}`?)"
    if len(known) <= 8:
        return f" (states: {', '.join(sorted(known))})"
    return f" (run `python main.py graph --flow {flow_name}` to see its states)"
