"""The template sandbox bounds what a template may build: repetition, powers, widths, loops, output."""

from __future__ import annotations

import pytest
from jinja2.sandbox import SecurityError

from flows.templating import MAX_RANGE, MAX_RESULT, create_environment

ENV = create_environment()

REFUSED = [
    "{{ 'x' * 10**8 }}",
    "{{ 10**8 * 'x' }}",
    "{{ [1] * 10**9 }}",
    "{{ 7 ** (10**7) }}",
    "{{ '%999999999s' % 1 }}",
    "{{ '%.999999999f' % 1 }}",
    "{{ 'x'|center(10**9) }}",
    "{{ 'x'|indent(10**9, true) }}",
    "{{ '%999999999d'|format(1) }}",
    "{% for i in range(10**7) %}x{% endfor %}",
    "{% for i in range(" + str(MAX_RANGE) + ") %}{{ 'y' * 500 }}{% endfor %}",
]


@pytest.mark.parametrize("source", REFUSED)
def test_oversized_templates_are_refused(source):
    with pytest.raises(SecurityError):
        ENV.from_string(source).render()


def test_oversized_expressions_are_refused():
    with pytest.raises(SecurityError):
        ENV.compile_expression("'x' * 10**8")()


def test_ordinary_templates_still_render():
    source = ("{{ 'ab' * 3 }} {{ 2 ** 10 }} {{ '%05d' % 42 }} {{ 'x'|center(5) }}|"
              "{% for i in range(3) %}{{ i }}{% endfor %} {{ '%s-%s'|format(1, 2) }} {{ 'hello world'|truncate(5) }}")
    assert ENV.from_string(source).render() == "ababab 1024 00042   x  |012 1-2 he..."
    assert len(ENV.from_string("{{ 'y' * " + str(MAX_RESULT) + " }}").render()) == MAX_RESULT
