"""The loader and checker: the shipped file passes; a broken copy reports every problem with its line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from flows.loader import check_text, load_flows
from flows.problems import FlowsError

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "flows.yaml"
SAMPLE = Path(__file__).parent / "sample.yaml"


def problems_of(text: str, actions=None) -> list[str]:
    _, report = check_text(text, "flows.yaml", actions)
    return [p.format() for p in report.problems if p.severity == "error"]


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    seen = 0
    for number, line in enumerate(text.splitlines(), 1):
        if needle in line:
            seen += 1
            if seen == occurrence:
                return number
    raise AssertionError(f"{needle!r} not in text")


def test_shipped_flows_are_valid_with_the_real_actions():
    import asyncio

    from adapters.redis import connect_redis
    from adapters.settings import Settings
    from app.runtime import action_signatures, build_actions
    from main import _signatures  # the same registry `python main.py check` uses

    signatures = asyncio.run(_signatures(Settings(), connect_redis, build_actions, action_signatures))
    loaded = load_flows(SHIPPED, signatures)
    assert loaded.report.errors == []
    assert {f.role for f in loaded.spec.flows.values()} == {"unlinked", "seeker", "agent", "inspector"}
    assert loaded.report.states > 50


BROKEN_EDITS = [
    # (original, replacement, expected message fragment, needle on the reported line)
    ('goto: filter_location}', 'goto: filter_locaton}', "state `filter_locaton` does not exist", "filter_locaton"),
    ('goto: seeker.menu\n', 'goto: seekr.menu\n', "flow `seekr` does not exist", "seekr.menu"),
    ('call: inspector.agent_inquiries', 'call: inspector.agent_inquirys', "action `inspector.agent_inquirys` does not exist",
     "agent_inquirys"),
    ('Hi {{ user.name }} 👋 What would you like to see?', 'Hi {{ usr.name }} 👋 What would you like to see?',
     "template variable `usr` is never set", "usr.name"),
    ('title: "Main menu", goto: menu}\n\n      next_page', 'title: "Main menu, then much more", goto: menu}\n\n      next_page',
     "is 25 chars; WhatsApp allows 24", "Main menu, then much more"),
    ('            - {id: cancel, title: "Cancel", goto: menu}\n\n      book:',
     '            - {id: cancel, title: "Cancel", goto: menu}\n            - {id: fourth, title: "Fourth", goto: book}\n'
     '          style: buttons\n\n      book:', "4 choices but WhatsApp allows 3", None),
    ('  rate_limited: ', '  rate_limitd: ', "`messages.rate_limited` is missing", None),
    ('        otherwise: "Please pick a budget or type an amount such as 30m."',
     '        otherwis: "typo"', "unknown key `otherwis` (expected one of:", "otherwis"),
]


def test_a_broken_copy_reports_every_problem_with_its_line():
    text = SHIPPED.read_text()
    broken = text
    for original, replacement, *_ in BROKEN_EDITS:
        assert original in broken, original
        broken = broken.replace(original, replacement, 1)
    errors = problems_of(broken)
    joined = "\n".join(errors)
    # Schema errors stop the semantic pass; fix the schema error and the rest appear, each at its line.
    assert "unknown key `otherwis`" in joined
    assert f"flows.yaml:{line_of(broken, 'otherwis:')}:" in joined
    fixed = broken.replace('        otherwis: "typo"', '        otherwise: "Please pick a budget."')
    errors = problems_of(fixed, {"inspector.available_properties": None})  # only one action is known
    joined = "\n".join(errors)
    for _, _, fragment, needle in BROKEN_EDITS:
        if fragment and "otherwis" not in fragment:
            assert fragment in joined, fragment
            if needle:
                line = line_of(fixed, needle)
                assert any(e.startswith(f"flows.yaml:{line}:") and fragment in e for e in errors), (fragment, line)


def test_duplicate_keys_and_yaml_on_keyword():
    text = SAMPLE.read_text().replace("      linked:\n        call: test.link",
                                      "      linked:\n        goto: welcome\n        call: test.link\n        goto: welcome")
    errors = problems_of(text)
    assert any("defined twice" in e and "unlinked.linked.goto" in e for e in errors), errors


def test_yaml_syntax_error_has_a_line():
    errors = problems_of("flows:\n  a: [1, 2\n  b: 3\n")
    assert len(errors) == 1 and errors[0].startswith("flows.yaml:3:") and "YAML syntax error" in errors[0]


def test_dead_end_and_unreachable():
    text = SAMPLE.read_text() + "\n      orphan:\n        say: \"Nothing to do here.\"\n"
    _, report = check_text(text)
    formatted = [p.format() for p in report.problems]
    assert any("seeker.orphan: dead end" in p for p in formatted)
    assert any("warning: seeker.orphan: unreachable" in p for p in formatted)


def test_load_flows_raises_with_all_problems(tmp_path):
    path = tmp_path / "flows.yaml"
    path.write_text(SAMPLE.read_text().replace("goto: detail", "goto: detial").replace("goto: counted", "goto: cuonted"))
    with pytest.raises(FlowsError) as caught:
        load_flows(path)
    messages = [p.message for p in caught.value.problems if p.severity == "error"]
    assert len(messages) == 2


def test_check_command_exit_codes(tmp_path):
    ok = subprocess.run([sys.executable, "main.py", "check"], cwd=ROOT, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "flows.yaml: ok, 4 flows" in ok.stdout
    broken = tmp_path / "broken.yaml"
    broken.write_text(SHIPPED.read_text().replace("goto: filter_location}", "goto: nowhere}", 1))
    bad = subprocess.run([sys.executable, "main.py", "check", str(broken)], cwd=ROOT, capture_output=True, text=True)
    assert bad.returncode == 1
    assert f"{broken}:{line_of(broken.read_text(), 'goto: nowhere}')}:" in bad.stdout
    assert "state `nowhere` does not exist in flow `seeker`" in bad.stdout


def test_schema_command_prints_json_schema():
    out = subprocess.run([sys.executable, "main.py", "schema"], cwd=ROOT, capture_output=True, text=True, check=True)
    schema = json.loads(out.stdout)
    assert "flows" in schema["properties"] and "State" in schema["$defs"]


def test_committed_json_schema_matches_the_models():
    """flows.yaml's first line points editors at flows.schema.json; `make docs` regenerates it."""
    from flows.schema import FlowFile

    committed = json.loads((ROOT / "flows.schema.json").read_text())
    generated = FlowFile.model_json_schema()
    generated["title"] = "Inspector WhatsApp flows.yaml"
    assert committed == generated, "flows.schema.json is stale: run `make docs`"
