"""`check` warns of staff regexes that can backtrack exponentially on what a user types."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.loader import check_text
from flows.regex_safety import backtracking_risk

HOSTILE = Path(__file__).resolve().parents[1] / "engine" / "hostile.yaml"


@pytest.mark.parametrize("pattern", [r"^(a+)+$", r"^(\w+\s?)*$", r"(\d{1,3})+x", r"(?:(?:a|b)+c)+", r"(x|(y+))*z",
                                     r"(?=(a+)+)b", r"(.*,)*end"])
def test_nested_variable_repeats_are_flagged(pattern):
    assert backtracking_risk(pattern) is not None


@pytest.mark.parametrize("pattern", [r"^REF-(?P<ref>\w{1,20})$", r"^REF-(?P<ref>\w+)$", r"(ab)+", r"^(?:yes|no)$",
                                     r"\w{1,20}", r"((a)+){1,3}", r"(\d{3})+", r"[(+"])
def test_linear_and_invalid_patterns_are_not(pattern):
    assert backtracking_risk(pattern) is None


def test_check_reports_a_slow_route_as_a_warning_with_its_place():
    text = HOSTILE.read_text().replace(r"'^REF-(?P<ref>\w{1,20})$'", r"'^(\w+\s?)*$'")
    spec, report = check_text(text, "hostile.yaml", None)
    slow = [p for p in report.problems if "slow regular expression" in p.message]
    assert spec is not None and len(slow) == 1 and slow[0].severity == "warning"
    assert slow[0].format().startswith("hostile.yaml:") and "regex" in slow[0].format()
