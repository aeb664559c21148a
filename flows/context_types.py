"""Which type each context name holds, as far as the actions' declared results tell, for `check`'s path checks.

A name bound only by `as:` of calls returning one model (or by `into:` of rows built from a typed list, or by
`set:` from a typed path) has that model's fields; a name anything else may set is left unchecked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from jinja2 import Environment, TemplateSyntaxError

from flows.paths import UNKNOWN, ActionShape, element_type, expression_type, plain
from flows.schema import FlowFile, State


def declared_types(spec: FlowFile, actions: Mapping[str, Any] | None, env: Environment,
                   states: Callable[[], Iterator[tuple[str, State]]]) -> dict[str, Any]:
    """Context name -> the result type actions declare for it; names with any other binding are left out."""
    bound: dict[str, list[Any]] = {}

    def bind(name: str, tp: Any) -> None:
        bound.setdefault(name, []).append(tp)

    shapes = {name: shape for name, shape in (actions or {}).items() if isinstance(shape, ActionShape)}
    if spec.session.identify:
        bind("user", plain(shapes.get(spec.session.identify, ActionShape(None)).result) or UNKNOWN)
    for _, state in states():
        for call in state.calls:
            bind(call.as_ or "result", plain(shapes.get(call.action, ActionShape(None)).result) or UNKNOWN)
        if state.subflow and state.subflow.as_:
            bind(state.subflow.as_, UNKNOWN)
    settled = {name: tps[0] if all(t == tps[0] for t in tps) else UNKNOWN for name, tps in bound.items()}
    for _, state in states():  # names set from a typed path keep its type
        for name, value in state.set.items():
            typed = isinstance(value, str) and value.strip().startswith("{{")
            bind(name, expression_type_of(env, value.strip()[2:-2], settled) if typed else UNKNOWN)
        if state.ask:
            bind(state.ask.into, UNKNOWN)
        for route in state.on:
            if route.into:
                bind(route.into, UNKNOWN)
            for name in route.set:
                bind(name, UNKNOWN)
        for branch in state.branch:
            for name in branch.set:
                bind(name, UNKNOWN)
        if state.say:
            for choice in state.say.choices:
                for name in choice.set:
                    bind(name, UNKNOWN)
            rows = state.say.choices_from
            if rows:
                if rows.into:
                    bind(rows.into, element_type(expression_type_of(env, rows.items, settled)))
                for name in rows.set:
                    bind(name, UNKNOWN)
    for command in spec.commands.values():
        for name in command.set:
            bind(name, UNKNOWN)
    for flow in spec.flows.values():  # a shared flow's parameter is whatever its callers pass
        for name in flow.params:
            bind(name, UNKNOWN)
    return {name: tps[0] for name, tps in bound.items() if tps[0] is not UNKNOWN and all(t == tps[0] for t in tps)}


def expression_type_of(env: Environment, expression: str, scope: Mapping[str, Any]) -> Any:
    """The declared type of an expression that is a plain path (`properties['items']`), else UNKNOWN."""
    try:
        return expression_type(env.parse("{{ " + expression + " }}"), scope)
    except TemplateSyntaxError:
        return UNKNOWN
