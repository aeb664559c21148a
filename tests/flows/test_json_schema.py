"""flows.schema.json, the schema staff's editors use: it accepts every valid file and rejects, as `check` does,
what JSON Schema can express (WhatsApp's lengths and counts, unknown keys, missing messages); every key is
documented with a description and an example."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from flows.loader import check_text
from flows.source import parse
from tests.shipped import ROOT, SHIPPED_FLOWS, edited

SCHEMA = json.loads((ROOT / "flows.schema.json").read_text(encoding="utf-8"))
FIXTURES = Path(__file__).parent
SAMPLE = (FIXTURES / "sample.yaml").read_text(encoding="utf-8")
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)


def schema_errors(text: str) -> list[str]:
    source, problems = parse(text)
    assert source is not None and not problems
    return [f"{'.'.join(map(str, e.absolute_path))}: {e.message[:160]}" for e in VALIDATOR.iter_errors(source.data)]


def check_errors(text: str) -> list[str]:
    return [p.format() for p in check_text(text)[1].errors]


def test_the_schema_is_valid_json_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


@pytest.mark.parametrize("path", [SHIPPED_FLOWS, FIXTURES / "sample.yaml"], ids=["shipped", "sample"])
def test_valid_files_pass(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert check_errors(text) == []
    assert schema_errors(text) == []  # plain-text `say:` and `otherwise:` included


def seeker(data: dict[str, Any]) -> dict[str, Any]:
    return data["flows"]["seeker"]["states"]


def menu_choices(data: dict[str, Any]) -> list[dict[str, Any]]:
    return seeker(data)["menu"]["say"]["choices"]


def rows(count: int) -> list[dict[str, Any]]:
    return [{"id": f"r{i}", "title": f"Row {i}", "goto": "menu"} for i in range(count)]


NOTE = {"text": "Hello", "template": {"name": "hello"}}

BROKEN: dict[str, Callable[[dict[str, Any]], None]] = {
    "button title over 20": lambda d: menu_choices(d)[0].update(title="A" * 21),
    "row title over 24": lambda d: menu_choices(d).extend(rows(2)) or menu_choices(d)[0].update(title="B" * 25),
    "row description over 72": lambda d: menu_choices(d)[0].update(description="C" * 73),
    "more than 10 choices": lambda d: menu_choices(d).extend(rows(9)),
    "list button over 20": lambda d: seeker(d)["menu"]["say"].update(list_button="D" * 21),
    "header over 60": lambda d: seeker(d)["menu"]["say"].update(header="E" * 61),
    "interactive body over 1024": lambda d: seeker(d)["menu"]["say"].update(text="F" * 1025),
    "text over 4096": lambda d: seeker(d)["count"].update(say="G" * 4097),
    "id over 256": lambda d: menu_choices(d)[0].update(id="h" * 257),
    "notification with 4 buttons": lambda d: d.update(notifications={"n": {**NOTE, "choices": rows(4)}}),
    "notification button title over 20": lambda d: d.update(
        notifications={"n": {**NOTE, "choices": [{"id": "x", "title": "I" * 21}]}}),
    "a required message missing": lambda d: d["messages"].pop("not_understood"),
    "an unknown key": lambda d: seeker(d)["count"].update(otherwis="typo"),
    "`with` without `call`": lambda d: seeker(d)["count"].update({"with": {"a": 1}}),
    "a route with two matchers": lambda d: seeker(d)["count"]["on"][0].update(keywords=["five"]),
    "an unknown capture": lambda d: seeker(d)["count"]["on"][0].update(capture="money"),
}


@pytest.mark.parametrize("name", list(BROKEN))
def test_what_check_rejects_the_schema_rejects(name: str) -> None:
    text = edited(BROKEN[name], SAMPLE)
    assert check_errors(text), f"check accepts {name}"
    assert schema_errors(text), f"the schema accepts {name}"


def test_a_template_may_be_longer_than_the_text_it_renders() -> None:
    def long_template(data: dict[str, Any]) -> None:
        menu_choices(data)[0]["title"] = "{{ user.name|truncate(18, True, '…') }}"  # 38 chars, renders <= 18

    assert schema_errors(edited(long_template, SAMPLE)) == []


def test_the_broken_fixture_is_rejected_where_json_schema_can_see_it() -> None:
    errors = schema_errors((FIXTURES / "fixtures" / "broken.yaml").read_text(encoding="utf-8"))
    joined = "\n".join(errors)
    for where in ("unlinked.states.welcome.on.0.capture", "seeker.states.count", "seeker.states.detail.say",
                  "seeker.states.menu.say"):
        assert f"flows.{where}" in joined, joined


def test_every_key_has_a_description_and_an_example() -> None:
    undocumented = []
    for owner, schema in [("FlowFile", SCHEMA), *SCHEMA["$defs"].items()]:
        for key, prop in schema.get("properties", {}).items():
            if not prop.get("description") or not prop.get("examples"):
                undocumented.append(f"{owner}.{key}")
    assert undocumented == []
    assert all(schema.get("description") for schema in SCHEMA["$defs"].values())
