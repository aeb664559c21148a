"""Template paths checked against the types actions declare, and template mistakes that only fail at run time.

`{{ property.prise }}` renders empty; `properties.items` is the dict method, so a list of rows built from it is
silently empty; `{{ total / 0 }}` raises mid-turn. None of these is a syntax error, so each is found here by
walking the parsed template: paths are resolved field by field against the result models (pydantic) that
actions declare, and constant divisors are evaluated.
"""

from __future__ import annotations

import difflib
import types
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Union, get_args, get_origin

from jinja2 import Environment, nodes
from jinja2.nodes import EvalContext
from pydantic import BaseModel

#: Attribute names that, on a dict (every action result is one at run time), are methods, not keys.
DICT_METHODS = frozenset({"items", "keys", "values", "get", "pop", "update", "copy", "clear", "setdefault",
                          "popitem", "fromkeys"})
UNKNOWN = object()  # a value whose type is not declared: nothing below it is checked


@dataclass(frozen=True, slots=True)
class ActionShape:
    """What `check` knows of a registered action: its keyword arguments and its declared result type."""

    params: set[str] | None
    result: Any = None


def type_name(tp: Any) -> str:
    tp = _optional(tp)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return str(tp.model_config.get("title") or tp.__name__)
    if get_origin(tp) is list:
        return f"list of {type_name(get_args(tp)[0])}"
    return getattr(tp, "__name__", str(tp))


def field_type(tp: Any, name: str) -> Any:
    """The type of field `name` of model `tp`; None when it has no such field; UNKNOWN when not a model."""
    tp = _optional(tp)
    if not (isinstance(tp, type) and issubclass(tp, BaseModel)):
        return UNKNOWN
    for field_name, info in tp.model_fields.items():
        if name in (field_name, info.alias):
            return info.annotation
    return None


def element_type(tp: Any) -> Any:
    tp = _optional(tp)
    return get_args(tp)[0] if get_origin(tp) is list and get_args(tp) else UNKNOWN


def plain(tp: Any) -> Any:
    """`Model | None` -> `Model`: a value that may be missing has the fields of the value when present."""
    if get_origin(tp) in (Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        return args[0] if len(args) == 1 else UNKNOWN
    return tp


_optional = plain


@dataclass(frozen=True, slots=True)
class PathProblem:
    message: str
    severity: str = "error"


def template_problems(ast: nodes.Template, scope: Mapping[str, Any]) -> Iterator[PathProblem]:
    """Every run-time failure found in a parsed template; `scope` maps context names to declared types."""
    yield from _Walker(dict(scope)).walk(ast)


class _Walker:
    def __init__(self, scope: dict[str, Any]) -> None:
        self.scope = scope
        self.eval = EvalContext(_ENV)

    def walk(self, node: nodes.Node, called: bool = False) -> Iterator[PathProblem]:
        if isinstance(node, nodes.For):
            yield from self.walk(node.iter)
            inner = dict(self.scope)
            if isinstance(node.target, nodes.Name):
                inner[node.target.name] = element_type(self._type_of(node.iter))
            saved, self.scope = self.scope, inner
            for child in [*node.body, *node.else_]:
                yield from self.walk(child)
            if node.test is not None:
                yield from self.walk(node.test)
            self.scope = saved
            return
        if isinstance(node, nodes.Call):
            yield from self.walk(node.node, called=True)
            for child in [*node.args, *node.kwargs, *(x for x in (node.dyn_args, node.dyn_kwargs) if x)]:
                yield from self.walk(child)
            return
        if isinstance(node, (nodes.Getattr, nodes.Getitem)):
            yield from self._path(node, called)
            return
        if isinstance(node, (nodes.Div, nodes.FloorDiv, nodes.Mod)):
            divisor = self._const(node.right)
            if divisor is not UNKNOWN and isinstance(divisor, int | float) and divisor == 0:
                op = {nodes.Div: "/", nodes.FloorDiv: "//", nodes.Mod: "%"}[type(node)]
                right = node.right
                what = f"`{op} {right.value!r}`" if isinstance(right, nodes.Const) else f"`{op}` by an expression"
                yield PathProblem(f"{what} divides by zero (always 0): rendering this fails at run time")
        for child in node.iter_child_nodes():
            yield from self.walk(child)

    def _path(self, node: nodes.Getattr | nodes.Getitem, called: bool) -> Iterator[PathProblem]:
        steps: list[tuple[str, bool]] = []  # (name, written as attribute)
        base: nodes.Node = node
        while isinstance(base, (nodes.Getattr, nodes.Getitem)):
            if isinstance(base, nodes.Getattr):
                steps.append((base.attr, True))
            else:
                key = self._const(base.arg)
                yield from self.walk(base.arg)
                steps.append((key, False) if isinstance(key, str) else ("", False))
            base = base.node
        steps.reverse()
        if not isinstance(base, nodes.Name):
            yield from self.walk(base)
            return
        written = base.name
        tp = self.scope.get(base.name, UNKNOWN)
        for index, (name, as_attribute) in enumerate(steps):
            last = index == len(steps) - 1
            if not name:
                return
            if as_attribute and name in DICT_METHODS and not (last and called):
                yield PathProblem(f"`{written}.{name}` is the dict method `{name}`, not a field; write "
                                  f"`{written}['{name}']`")
                return
            if tp is UNKNOWN or (last and called):
                return
            found = field_type(tp, name)
            if found is UNKNOWN:
                if element_type(tp) is not UNKNOWN:
                    yield PathProblem(f"`{written}` is a {type_name(tp)}: `.{name}` needs one item (loop over it,"
                                      f" or use `{written}[0].{name}`)")
                return
            if found is None:
                fields = list(_optional(tp).model_fields)
                close = difflib.get_close_matches(name, fields, n=1, cutoff=0.6)
                hint = f"did you mean `{close[0]}`?" if close else f"its fields: {', '.join(fields)}"
                yield PathProblem(f"`{written}.{name}` is not a field of {type_name(tp)}; {hint}")
                return
            tp = found
            written = f"{written}.{name}" if as_attribute else f"{written}['{name}']"

    def _type_of(self, node: nodes.Node) -> Any:
        """The declared type of a plain path expression (`a.b['c']`), else UNKNOWN."""
        steps: list[str] = []
        while isinstance(node, (nodes.Getattr, nodes.Getitem)):
            key = node.attr if isinstance(node, nodes.Getattr) else self._const(node.arg)
            if not isinstance(key, str):
                return UNKNOWN
            steps.append(key)
            node = node.node
        if not isinstance(node, nodes.Name):
            return UNKNOWN
        tp = self.scope.get(node.name, UNKNOWN)
        for key in reversed(steps):
            if tp is UNKNOWN:
                return UNKNOWN
            tp = field_type(tp, key)
            if tp is None:
                return UNKNOWN
        return tp

    def _const(self, node: nodes.Node) -> Any:
        if not isinstance(node, nodes.Expr):
            return UNKNOWN
        try:
            return node.as_const(self.eval)
        except Exception:  # nodes.Impossible, or an error evaluating a constant
            return UNKNOWN


def expression_type(ast: nodes.Template, scope: Mapping[str, Any]) -> Any:
    """The declared type of a template that is a single path expression (`{{ properties['items'] }}`)."""
    body = ast.body
    if len(body) == 1 and isinstance(body[0], nodes.Output) and len(body[0].nodes) == 1:
        return _Walker(dict(scope))._type_of(body[0].nodes[0])
    return UNKNOWN


_ENV = Environment()  # only to evaluate constants (`as_const`), never to render
