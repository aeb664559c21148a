"""`CompiledFlows.render` and `evaluate` give what Jinja's own `render` and expression call give, with or
without the builtins in the scope, while rendering the turn's scope without copying it."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from engine.compiler import CompiledFlows
from flows.loader import LoadedFlows, check_text
from flows.schema import FlowFile

DATA: dict[str, Any] = {
    "version": 1,
    "messages": {name: "x" for name in ("not_understood", "stale_choice", "unsupported_message",
                                        "action_failed", "state_reset", "rate_limited", "internal_error")},
    "commands": {"menu": {"keywords": ["menu"], "goto": "@menu"}},
    "flows": {"main": {"role": "unlinked", "start": "a", "menu": "a", "states": {"a": {"say": "hi", "otherwise": {"say": "again", "goto": "a"}}}}},
}

TEXTS = [
    "{{ name }} has {{ n }} {{ plural(n, 'photo', 'photos') }}",
    "{% for i in range(n) %}{{ i }},{% endfor %}",
    "{% set shown = items[:2] %}{{ shown|join('/') }} and {{ missing }}.",
    "{{ items|length }} {{ dict(a=1)['a'] }}",
]
EXPRESSIONS = ["n + 1", "items[:2]", "range(n)|list", "plural(n, 'a', 'b')", "missing is defined"]


@pytest.fixture(scope="module")
def flows() -> CompiledFlows:
    _, report = check_text(yaml.safe_dump(DATA))
    assert report.errors == [], [p.format() for p in report.errors]
    return CompiledFlows(LoadedFlows(spec=FlowFile.model_validate(DATA), report=report, path="t.yaml",
                                     sha256="0" * 64))


@pytest.mark.parametrize("with_builtins", [False, True])
def test_render_and_evaluate_match_jinja_with_or_without_the_builtins_in_the_scope(flows, with_builtins):
    values = {"name": "Ada", "n": 3, "items": ["a", "b", "c"]}
    scope = {**flows.env.globals, **values} if with_builtins else dict(values)
    before = dict(scope)
    for text in TEXTS:
        assert flows.render(text, scope) == flows.env.from_string(text).render(values)
    for source in EXPRESSIONS:
        assert flows.evaluate(source, scope) == flows.env.compile_expression(source)(**values)
    assert scope == before  # `{% set %}` and `result` never write into the scope given
