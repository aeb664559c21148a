"""The explorer's invariants on the shipped flows (bounded), and proof that it catches a broken file."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.shipped import SHIPPED_FLOWS, edited, states_of
from tooling.conversations import load_file, run_file
from tooling.explore import Violation, explore

FLOWS = SHIPPED_FLOWS
LAGOS = ZoneInfo("Africa/Lagos")
# The sandbox's data is seeded around the world's clock: each exploration at a fixed instant, so a run explores
# the same data on any day. A Tuesday morning, and a Sunday just after midnight (no slots that day).
TUESDAY_MORNING = datetime(2026, 12, 1, 8, 0, tzinfo=LAGOS)
SUNDAY_AFTER_MIDNIGHT = datetime(2026, 12, 6, 0, 30, tzinfo=LAGOS)


def test_the_shipped_flows_hold_every_invariant() -> None:
    figures = explore(FLOWS, examples=150, progress=None, at=TUESDAY_MORNING)
    assert figures["examples"] == 150 and figures["turns"] > 150


def test_one_flow_with_a_seed() -> None:
    figures = explore(FLOWS, flow="agent", examples=40, seed=7, progress=None, at=SUNDAY_AFTER_MIDNIGHT)
    assert figures["examples"] == 40


def test_a_template_with_an_undefined_value_fails_with_a_shrunk_saveable_transcript(tmp_path: Path) -> None:
    def misspell(data):  # a name that is never set, in the seeker's menu
        states_of(data, "seeker")["menu"]["say"]["text"] += " {{ user.nickname }}"

    broken = edited(misspell)
    flows = tmp_path / "flows.yaml"
    flows.write_text(broken, encoding="utf-8")
    with pytest.raises(Violation) as caught:
        explore(flows, flow="seeker", examples=100, seed=1, progress=None, at=TUESDAY_MORNING)
    violation = caught.value
    assert "template rendered empty values: nickname" in violation.message
    lines = [line for line in violation.transcript.splitlines() if "user:" in line]
    assert len(lines) == 1, violation.transcript  # shrunk to a single input
    saved = tmp_path / "found.yaml"
    saved.write_text(violation.transcript, encoding="utf-8")
    [outcome] = asyncio.run(run_file(load_file(saved), flows))
    assert outcome.ok  # the transcript replays as a conversation test (its `bot:` states hold)


def test_a_loop_between_states_is_caught(tmp_path: Path) -> None:
    def loop(data):  # the seeker's help bounces between two states that move on at once
        states = states_of(data, "seeker")
        states["old_help"] = states["help"]
        states["help"] = {"goto": "help_again"}
        states["help_again"] = {"goto": "help"}

    broken = edited(loop)
    flows = tmp_path / "flows.yaml"
    flows.write_text(broken, encoding="utf-8")
    with pytest.raises(Violation) as caught:
        explore(flows, flow="seeker", examples=100, seed=3, progress=None, at=TUESDAY_MORNING)
    assert "internal_error" in caught.value.message
