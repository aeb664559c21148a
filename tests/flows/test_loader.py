"""The loader and checker: the shipped file passes; a broken copy reports every problem with its line."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import BaseModel

from flows.loader import check_text, load_flows
from flows.paths import ActionShape
from flows.problems import FlowsError
from tests.shipped import ROOT, SHIPPED_FLOWS, edited, shipped_spec, states_of

SHIPPED = SHIPPED_FLOWS
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
    from tooling.staff_commands import service_signatures  # the same registry `python main.py check` uses

    signatures = asyncio.run(service_signatures(Settings(), connect_redis, build_actions, action_signatures))
    loaded = load_flows(SHIPPED, signatures)
    assert loaded.report.errors == []
    assert {f.role for f in loaded.spec.flows.values()} == {"unlinked", "seeker", "agent", "inspector", "shared"}
    assert loaded.report.states > 50


BROKEN = Path(__file__).parent / "fixtures" / "broken.yaml"


class SampleUser(BaseModel):
    id: str
    name: str
    role: str


SAMPLE_ACTIONS = {"test.identify": ActionShape(set(), SampleUser | None), "test.link": ActionShape({"email"}, SampleUser),
                  "test.items": {"page"}}


def expectations(text: str, with_actions: bool = True) -> list[tuple[int, str]]:
    """`# expect: fragment` comments of a fixture (and `# expect(actions):` ones), with their line numbers."""
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        for marker in ("# expect:", "# expect(actions):") if with_actions else ("# expect:",):
            if marker in line:
                found.append((number, line.split(marker, 1)[1].strip()))
    return found


def test_a_broken_file_reports_schema_reference_and_template_errors_in_one_run():
    """A schema typo no longer hides the rest: every marked line gets its problem, with file:line:col."""
    text = BROKEN.read_text()
    errors = problems_of(text, SAMPLE_ACTIONS)
    wanted = expectations(text)
    assert len(wanted) >= 12
    for line, fragment in wanted:
        assert any(e.startswith(f"flows.yaml:{line}:") and fragment in e for e in errors), (line, fragment, errors)
    assert all(re.match(r"flows\.yaml:\d+:\d+: ", e) for e in errors)
    # Nothing is reported that only follows from a broken node (e.g. `how_many` is still set by `count`).
    lines = {line for line, _ in wanted}
    assert [e for e in errors if int(e.split(":")[1]) not in lines] == []


def test_check_prints_every_problem_of_the_broken_fixture(tmp_path):
    done = subprocess.run([sys.executable, "main.py", "check", "--no-actions", str(BROKEN)], cwd=ROOT,
                          capture_output=True, text=True)
    assert done.returncode == 1
    for line, fragment in expectations(BROKEN.read_text(), with_actions=False):
        assert any(out.startswith(f"{BROKEN}:{line}:") and fragment in out
                   for out in done.stdout.splitlines()), (line, fragment, done.stdout)


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
    ok = subprocess.run([sys.executable, "main.py", "check", str(SHIPPED)], cwd=ROOT, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert f"{SHIPPED}: ok, {len(shipped_spec().flows)} flows" in ok.stdout
    broken = tmp_path / "broken.yaml"

    def retarget(data):
        states_of(data, "seeker")["menu"]["say"]["choices"][0]["goto"] = "nowhere"

    broken.write_text(edited(retarget))
    bad = subprocess.run([sys.executable, "main.py", "check", str(broken)], cwd=ROOT, capture_output=True, text=True)
    assert bad.returncode == 1
    assert f"{broken}:{line_of(broken.read_text(), 'goto: nowhere')}:" in bad.stdout
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
    assert committed == generated, "flows.schema.json is stale: run `make docs`"
