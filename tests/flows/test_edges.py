"""One list of edges: the compiler's table, check's reachability and dead ends, graph, diff and test
coverage all read `flows.edges.edges`, so changing what it returns changes all of them at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.compiler import CompiledFlows
from flows import diff, edges
from flows.checks import CheckReport
from flows.edges import Edge, is_dead_end
from flows.graph import build_graph
from flows.loader import LoadedFlows, check_text
from flows.schema import FlowFile, State
from flows.targets import Target
from tooling.conversations import coverage

SAMPLE = Path(__file__).parent / "sample.yaml"
ORPHAN = "\n      orphan:\n        say: \"Nobody comes here.\"\n"


def spec_with_orphan() -> FlowFile:
    spec, _ = check_text(SAMPLE.read_text() + ORPHAN)
    assert spec is not None
    return spec


def unreachable(report: CheckReport) -> list[str]:
    return [p.format() for p in report.problems if "unreachable" in p.message]


def test_compiler_check_graph_diff_and_coverage_all_read_the_one_edge_list(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = spec_with_orphan()
    _, report = check_text(SAMPLE.read_text() + ORPHAN)
    assert any("seeker.orphan" in line for line in unreachable(report))
    assert CompiledFlows(LoadedFlows(spec, report, "x", "0" * 64)).transition("seeker", "menu", "on:99") is None

    original = edges.edges
    secret = Edge("route", "on:99", "says open sesame", "orphan")

    def with_secret(state: State) -> list[Edge]:
        found = original(state)
        return found + [secret] if state is spec.flows["seeker"].states["menu"] else found

    monkeypatch.setattr(edges, "edges", with_secret)

    compiled = CompiledFlows(LoadedFlows(spec, report, "x", "0" * 64))
    assert compiled.transition("seeker", "menu", "on:99") == Target("seeker", "orphan")
    assert ("seeker", "orphan") in edges.reachable(spec)
    graph = build_graph(spec, "seeker")
    assert [(e.source, e.target, e.kind) for e in graph.edges if e.label == "says open sesame"] == [
        ("seeker__menu", "seeker__orphan", "route")]
    assert not [n for n in graph.nodes if n.unreachable]
    assert diff.edges(spec.flows["seeker"].states["menu"])["on:99"] == "orphan"
    _, missed = coverage(spec, set(), set())
    assert "seeker.menu --on:99--> orphan" in missed
    # check reads the same reachability (the spec is re-parsed, so patch by the state's name there)
    monkeypatch.setattr(edges, "edges", lambda state: original(state) + (
        [secret] if state.say and state.say.text.startswith("Hi {{ user.name }}") else []))
    _, rechecked = check_text(SAMPLE.read_text() + ORPHAN)
    assert unreachable(rechecked) == []


def test_dead_end_is_one_definition() -> None:
    spec = spec_with_orphan()
    orphan = spec.flows["seeker"].states["orphan"]
    assert is_dead_end(orphan)
    _, report = check_text(SAMPLE.read_text() + ORPHAN)
    assert any("seeker.orphan: dead end" in p.format() for p in report.problems)
    [node] = [n for n in build_graph(spec, "seeker").nodes if n.state == "orphan"]
    assert node.dead_end


def test_every_trigger_the_engine_can_leave_by_is_an_edge() -> None:
    spec = spec_with_orphan()
    compiled = CompiledFlows(LoadedFlows(spec, check_text(SAMPLE.read_text())[1], "x", "0" * 64))
    listed = {(f, s, e.trigger) for f, flow in spec.flows.items() for s, st in flow.states.items()
              for e in edges.edges(st) if e.moves}
    assert set(compiled.table) == listed


def test_a_loop_that_never_waits_for_input_is_a_warning() -> None:
    looping = SAMPLE.read_text().replace(
        "      next_page:\n        set: {page: \"{{ page + 1 }}\"}\n        goto: browse",
        "      next_page:\n        goto: spin\n      spin:\n        goto: next_page")
    spec, report = check_text(looping)
    assert spec is not None and not report.errors
    assert edges.loops_without_input(spec) == [[("seeker", "next_page"), ("seeker", "spin")]]
    [warning] = [p.format() for p in report.problems if "loop without input" in p.message]
    assert "seeker.next_page, seeker.spin" in warning and warning.startswith("flows.yaml:")
    assert edges.loops_without_input(spec_with_orphan()) == []  # a state that leads back after waiting is no loop
