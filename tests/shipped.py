"""The flows file that flow-dependent Python tests run against, and its texts as the loaded spec gives them.

No test outside tests/conversations/ may depend on flows.yaml's wording: tests name states and choice ids,
and take any text they look for from the loaded spec (`title`, `shows`). `TEST_FLOWS_PATH` points every one
of them at another copy; tests/tooling/test_wording.py rewrites every text of the shipped file and runs them
against it, so a wording dependency fails that test instead of a staff member's copy edit.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from flows.loader import check_text
from flows.schema import FlowFile, State
from flows.source import parse

ROOT = Path(__file__).resolve().parents[1]
SHIPPED_FLOWS = Path(os.environ.get("TEST_FLOWS_PATH") or ROOT / "flows.yaml")

_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)
_BLOCK = re.compile(r"\{%-?\s*(if|for|macro|call|filter|set\s+\w+\s*%)|\{%-?\s*(endif|endfor|endmacro|endcall|"
                    r"endfilter|endset)\b")


def shipped_text() -> str:
    return SHIPPED_FLOWS.read_text(encoding="utf-8")


@cache
def shipped_spec() -> FlowFile:
    spec, report = check_text(shipped_text(), str(SHIPPED_FLOWS))
    assert spec is not None and not report.errors, [p.format() for p in report.errors]
    return spec


def state(flow: str, name: str) -> State:
    return shipped_spec().flows[flow].states[name]


def title(flow: str, state_name: str, choice_id: str) -> str:
    """The title staff gave the choice `choice_id` of a state (what a user taps or types)."""
    say = state(flow, state_name).say
    assert say is not None, f"{flow}.{state_name} says nothing"
    return next(c.title for c in say.choices if c.id == choice_id)


def say_text(flow: str, state_name: str) -> str:
    say = state(flow, state_name).say
    assert say is not None, f"{flow}.{state_name} says nothing"
    return say.text


def pieces(template: str) -> list[str]:
    """The literal text a template always renders: what lies outside tags and outside `{% if %}`/`{% for %}`."""
    found, depth, at = [], 0, 0
    for tag in _TAG.finditer(template):
        if depth == 0:
            found.extend(_lines(template[at:tag.start()]))
        block = _BLOCK.match(tag.group())
        if block and block.group(1):
            depth += 1
        elif block and block.group(2):
            depth -= 1
        at = tag.end()
    if depth == 0:
        found.extend(_lines(template[at:]))
    return found


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.split("\n") if line.strip()]


def shows(template: str, text: str) -> bool:
    """Whether `text` is what `template` renders, as far as its fixed wording goes."""
    wanted = pieces(template)
    assert wanted, f"the template {template!r} has no fixed text to look for"
    return all(piece in text for piece in wanted)


def edited(change: Callable[[dict[str, Any]], None], text: str | None = None) -> str:
    """The shipped file as data, changed by `change`, written back as YAML: edits by key, never by wording."""
    source, problems = parse(text if text is not None else shipped_text())
    assert source is not None and not problems
    change(source.data)
    return yaml.safe_dump(source.data, allow_unicode=True, sort_keys=False, width=1000)


def states_of(data: dict[str, Any], flow: str) -> dict[str, Any]:
    """The `states:` mapping of a flow in raw flows data (for `edited`)."""
    return data["flows"][flow]["states"]
