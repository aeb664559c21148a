"""The explorer answers typed questions and lets timeouts fire: on a small flows file of its own (every ask
type, with bounds, retries and `on_fail`; nudges and moves), it reaches where valid answers, wrong answers
and timeouts lead, and reports a broken template behind a question as a failure with a replayable test."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from engine.asks import WRONG, parse_answer
from flows.schema_inputs import Ask
from flows.source import parse
from tooling.conversations import load_file, run_file
from tooling.explore import Explorer, Violation, explore
from tooling.explore_asks import answer_for

FIXTURE = Path(__file__).parent / "fixtures" / "asking.yaml"
TODAY = date(2026, 12, 1)


def fixture_data() -> dict[str, Any]:
    """The fixture as data (its own wording, not flows.yaml's: this module runs on no shipped text)."""
    source, _ = parse(FIXTURE.read_text(encoding="utf-8"))
    assert source is not None
    return source.data


def fixture_states() -> dict[str, Any]:
    return fixture_data()["flows"]["seeker"]["states"]


QUESTIONS = [name for name, state in fixture_states().items() if "ask" in state]


def broken(tmp_path: Path, change, only: str) -> Path:  # type: ignore[no-untyped-def]
    """The fixture changed by `change`, its menu offering only the question `only` (found sooner)."""
    data = fixture_data()
    states = data["flows"]["seeker"]["states"]
    change(states)
    menu = states["menu"]["say"]
    menu["choices"] = [c for c in menu["choices"] if c["id"] == only] + [{"id": "back", "title": "Back",
                                                                           "goto": "menu"}]
    path = tmp_path / "flows.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1000), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def explored(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Explorer]:
    """One exploration per question, the menu offering only it: each reaches all its outcomes in a few
    examples, where one run over the whole menu needs many more."""
    runs = {}
    for name in QUESTIONS:
        explorer = Explorer(broken(tmp_path_factory.mktemp(name), lambda states: None, only=name), flow="seeker",
                            examples=200, progress=None)
        explorer.run()
        runs[name] = explorer
    return runs


def test_valid_answers_reach_the_state_after_each_question_and_wrong_ones_its_on_fail(
        explored: dict[str, Explorer]) -> None:
    asks = {name: fixture_states()[name]["ask"] for name in QUESTIONS}
    assert len({ask["type"] for ask in asks.values()}) == 8  # every type of question
    for name, ask in asks.items():
        visits = explored[name].visits
        assert ("seeker", name, "answer") in visits, name  # a valid answer went to `ask.goto`
        assert ("seeker", ask["goto"], "next") in visits  # ... and on from there
        assert ("seeker", name, "gave_up") in visits, name  # wrong answers, then `on_fail`
        outcomes = explored[name].coverage.outcomes  # the answers explore made, and where it saw them lead
        assert outcomes["answered"][("seeker", name)] > 0, name
        assert outcomes["re-asked"][("seeker", name)] + outcomes["gave up"][("seeker", name)] > 0, name
        assert [m for m in explored[name].coverage.missing() if f"seeker.{name}" in m] == []
    judged = [explored[name].coverage.outcomes for name in QUESTIONS]
    assert sum(o["gave up"][("seeker", name)] for o, name in zip(judged, QUESTIONS, strict=True)) > 0


def test_timeouts_fire_during_exploration(explored: dict[str, Explorer]) -> None:
    timeouts = {(name, i): t for name, state in fixture_states().items()
                for i, t in enumerate(state.get("timeouts", []))}
    assert len(timeouts) == 4
    for (name, index), timeout in timeouts.items():
        run = explored.get(name) or explored[QUESTIONS[0]]  # the menu's timeout: any run
        assert run.coverage.fired[("seeker", name, index)] > 0, (name, index)
        if "goto" in timeout:
            assert ("seeker", name, f"timeout:{index}") in run.visits
    line = next(line for line in explored["amount"].coverage.lines() if line.startswith("timeouts:"))
    assert line.startswith("timeouts: 3/4 fired")  # the menu's and the amount question's two; not the day's


def test_a_broken_template_behind_a_question_fails_with_a_replayable_test(tmp_path: Path) -> None:
    def year_of_a_text(states):  # type: ignore[no-untyped-def]
        states["got_day"]["say"] = "Day {{ day.year }} noted."  # a date answer is stored as ISO text

    flows = broken(tmp_path, year_of_a_text, only="day")
    with pytest.raises(Violation) as caught:
        explore(flows, flow="seeker", examples=200, progress=None)
    violation = caught.value
    assert "template rendered empty values: year" in violation.message
    steps = yaml.safe_load(violation.transcript)["tests"][0]["steps"]
    users = [s["user"] for s in steps if "user" in s]
    assert len(users) == 2 and users[0] == {"list": "day"}, violation.transcript  # shrunk: pick, answer
    saved = tmp_path / "found.yaml"
    saved.write_text(violation.transcript, encoding="utf-8")
    [outcome] = asyncio.run(run_file(load_file(saved), flows))
    assert outcome.ok, outcome.failure  # it replays as a conversation test


def test_a_nudge_that_renders_an_empty_value_fails_with_advance_and_jobs_in_its_test(tmp_path: Path) -> None:
    def year_of_a_text(states):  # type: ignore[no-untyped-def]
        states["amount"]["timeouts"][0]["say"] = "Still there? {{ input.year }}"

    flows = broken(tmp_path, year_of_a_text, only="amount")
    with pytest.raises(Violation) as caught:
        explore(flows, flow="seeker", examples=200, progress=None)
    violation = caught.value
    assert "timeout 0 of seeker.amount (after 10m)" in violation.message
    assert "template rendered empty values: year" in violation.message
    steps = yaml.safe_load(violation.transcript)["tests"][0]["steps"]
    assert {"advance": "600s"} in steps and {"jobs": "run"} in steps, violation.transcript
    saved = tmp_path / "found.yaml"
    saved.write_text(violation.transcript, encoding="utf-8")
    [outcome] = asyncio.run(run_file(load_file(saved), flows))
    assert outcome.ok, outcome.failure  # the timeout fires again, through the real job, on the test clock


def test_the_summary_says_when_an_on_route_keeps_a_question_from_its_on_fail(tmp_path: Path) -> None:
    """`on:` routes are tried after the question: one that takes any text takes every wrong answer too, so
    `on_fail` is never reached, and the summary says so."""
    def swallow_wrong_answers(states):  # type: ignore[no-untyped-def]
        states["mail"]["on"] = [{"capture": "text", "into": "whatever", "goto": "@stay"}]

    flows = broken(tmp_path, swallow_wrong_answers, only="mail")
    figures = explore(flows, flow="seeker", examples=200, progress=None)["coverage"]
    assert figures["asks_answered"] == 1 and figures["answers"]["routed"] > 0
    assert figures["answers"]["gave up"] == figures["answers"]["re-asked"] == 0
    assert "ask seeker.mail: on_fail never reached" in figures["missing"]


kinds = st.sampled_from(["number", "money", "date", "time", "email", "phone", "choice", "text"])


@st.composite
def questions(draw: Any) -> Ask:
    kind = draw(kinds)
    fields: dict[str, Any] = {"into": "x", "type": kind}
    if kind in ("number", "money"):
        low = draw(st.integers(0, 10**6))
        fields.update(min=draw(st.sampled_from([None, low])), max=draw(st.sampled_from([None, low + draw(
            st.integers(0, 10**9))])))
    elif kind == "text":
        low = draw(st.integers(1, 50))
        fields.update(min=draw(st.sampled_from([None, low])), max=draw(st.sampled_from([None, low + 20])))
    elif kind == "date":
        fields.update(min=draw(st.sampled_from([None, "today", "2026-06-01"])),
                      max=draw(st.sampled_from([None, "2027-12-31"])))
    elif kind == "choice":
        fields["options"] = draw(st.lists(st.sampled_from(["Lagos", "Abuja", "Port Harcourt", "Ibadan"]),
                                          min_size=1, max_size=4, unique=True))
    return Ask(**fields)


@given(questions(), st.integers(0, 2**16))
def test_valid_answers_parse_to_their_value_and_wrong_ones_do_not_parse(ask: Ask, n: int) -> None:
    valid = answer_for(ask, True, n, TODAY)
    assert parse_answer(ask, valid.text, TODAY) == valid.value, valid
    wrong = answer_for(ask, False, n, TODAY)
    assert parse_answer(ask, wrong.text, TODAY) is WRONG, wrong


def test_a_date_question_bounded_by_today_gets_no_answer_before_it() -> None:
    ask = Ask(into="x", type="date", min="today", max=(TODAY + timedelta(days=3)).isoformat())
    values = {answer_for(ask, True, n, TODAY).value for n in range(50)}
    assert values == {(TODAY + timedelta(days=d)).isoformat() for d in range(4)}


def test_the_fixture_conversations_pass_through_the_real_timeout_job() -> None:
    """The fixture's own conversation tests (the README runs them): a nudge and a move fired by `jobs: run`
    on the test clock, a question asked again and one that gives up."""
    outcomes = asyncio.run(run_file(load_file(FIXTURE.with_name("asking_conversations.yaml")), FIXTURE))
    assert [o.ok for o in outcomes] == [True, True, True], [o.failure for o in outcomes]
