"""A missing value renders as nothing and is recorded for the operator, however the template reaches into it."""

from __future__ import annotations

import pytest

from flows.templating import create_environment, missing_names

ENV = create_environment()


@pytest.mark.parametrize("source", [
    "{{ result.items[:3] }}",
    "{% for p in result.items[:2] %}{{ p }}{% endfor %}",
    "{{ result['items'][0].title }}",
    "{{ result.items[1:] | join(', ') }}",
])
def test_slicing_or_indexing_a_missing_value_renders_empty_and_records_it(source: str) -> None:
    seen: list[str] = []
    token = missing_names.set(seen)
    try:
        rendered = ENV.from_string(source).render()
    finally:
        missing_names.reset(token)
    assert rendered == ""
    assert seen and all(name.startswith("result") for name in seen)
