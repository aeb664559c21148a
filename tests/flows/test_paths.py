"""`check` finds what only fails at run time: misspelt result fields (against the models actions declare),
dict methods read as keys, division by a constant zero, unknown filters."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from flows.loader import check_text
from flows.paths import ActionShape
from tests.shipped import edited, states_of

SAMPLE = (Path(__file__).parent / "sample.yaml").read_text(encoding="utf-8")


class Item(BaseModel):
    id: int
    name: str
    price: int


class User(BaseModel):
    id: str
    name: str
    role: str


ACTIONS = {"test.identify": ActionShape(set(), User | None), "test.link": ActionShape({"email"}, User),
           "test.items": ActionShape({"page"}, list[Item])}


def errors_with(change) -> list[str]:  # type: ignore[no-untyped-def]
    _, report = check_text(edited(change, SAMPLE), "flows.yaml", ACTIONS)
    return [p.format().split(": ", 1)[1] for p in report.errors]


def say(state: str, text: str):  # type: ignore[no-untyped-def]
    def change(data):  # type: ignore[no-untyped-def]
        states_of(data, "seeker")[state]["say"] = {**states_of(data, "seeker")[state]["say"], "text": text} \
            if isinstance(states_of(data, "seeker")[state]["say"], dict) else text
    return change


def test_the_sample_is_clean_with_typed_actions() -> None:
    assert errors_with(lambda data: None) == []


def test_a_misspelt_field_gets_did_you_mean() -> None:
    assert errors_with(say("detail", "You chose {{ chosen.prise }}")) == [
        "seeker.detail.say.text: `chosen.prise` is not a field of Item; did you mean `price`?"]
    assert errors_with(say("menu", "Hi {{ user.nmae }}")) == [
        "seeker.menu.say.text: `user.nmae` is not a field of User; did you mean `name`?"]


def test_rows_and_loops_know_their_item_type() -> None:
    def row_title(data):  # type: ignore[no-untyped-def]
        states_of(data, "seeker")["browse"]["say"]["choices_from"]["title"] = "{{ item.nmae }}"

    assert errors_with(row_title) == [
        "seeker.browse.say.choices_from.title: `item.nmae` is not a field of Item; did you mean `name`?"]
    assert errors_with(say("browse", "{% for i in items %}{{ i.prcie }}{% endfor %}")) == [
        "seeker.browse.say.text: `i.prcie` is not a field of Item; did you mean `price`?"]
    assert errors_with(say("browse", "{{ items.name }}")) == [
        "seeker.browse.say.text: `items` is a list of Item: `.name` needs one item (loop over it, or use "
        "`items[0].name`)"]


def test_a_dict_method_read_as_a_key_is_an_error_but_calling_it_is_fine() -> None:
    def items(data):  # type: ignore[no-untyped-def]
        states_of(data, "seeker")["browse"]["say"]["choices_from"]["items"] = "chosen.items"

    assert errors_with(items) == ["seeker.browse.say.choices_from.items: `chosen.items` is the dict method `items`, "
                                  "not a field; write `chosen['items']`"]
    assert errors_with(say("detail", "{{ chosen.get('name') }} {{ chosen['name'] }}")) == []


def test_division_by_a_constant_zero_and_unknown_filters() -> None:
    assert errors_with(say("detail", "{{ chosen.price / 0 }}")) == [
        "seeker.detail.say.text: `/ 0` divides by zero (always 0): rendering this fails at run time"]
    assert errors_with(say("detail", "{{ chosen.price % (3 - 3) }}")) == [
        "seeker.detail.say.text: `%` by an expression divides by zero (always 0): rendering this fails at run time"]
    assert errors_with(say("detail", "{{ chosen.price / (page + 1) }}")) == []
    assert errors_with(say("detail", "{{ chosen.price|naira }}")) == [
        "seeker.detail.say.text: template error: No filter named 'naira'."]


def test_actions_reference_is_generated_from_the_registry_and_committed() -> None:
    import subprocess
    import sys

    from tests.shipped import ROOT

    done = subprocess.run([sys.executable, "main.py", "actions"], cwd=ROOT, capture_output=True, text=True, check=True)
    assert "## `inspector.available_properties`" in done.stdout
    assert "| `price` | int | `45000000` | naira |" in done.stdout
    assert "`slot_taken` (the slot filled up or started meanwhile)" in done.stdout
    assert "**with:** `property_id` (required), `slot_id` (required)" in done.stdout
    committed = (ROOT / "docs" / "actions.md").read_text(encoding="utf-8")
    assert committed == done.stdout, "docs/actions.md is stale: run `make docs`"
