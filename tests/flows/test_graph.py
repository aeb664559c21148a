"""flows graph: every state and labelled transition, distinct failure edges, one command legend, warnings."""

from __future__ import annotations

import shutil

import pytest

from flows.graph import build_graph, render, render_svg, to_dot, to_mermaid
from flows.loader import check_text
from tests.shipped import edited, shipped_text, states_of, title

FLOWS = shipped_text()


def spec_of(text: str):  # type: ignore[no-untyped-def]
    spec, _ = check_text(text)
    assert spec is not None
    return spec


def test_every_state_and_edge_with_its_input() -> None:
    spec = spec_of(FLOWS)
    graph = build_graph(spec)
    assert {(n.flow, n.state) for n in graph.nodes if not n.external} == {
        (f, s) for f, flow in spec.flows.items() for s in flow.states}
    labels = {(e.source, e.target): (e.label, e.kind) for e in graph.edges}
    assert labels[("unlinked__welcome", "unlinked__ask_code")] == ("‹email›", "route")
    assert labels[("seeker__menu", "seeker__browse")] == (f"[{title('seeker', 'menu', 'browse')}]", "choice")
    assert labels[("seeker__browse", "seeker__no_properties")] == ("on_empty", "empty")
    assert labels[("seeker__booked", "seeker__booking_failed")] == ("on_error of inspector.book_inspection", "error")
    assert labels[("seeker__browse", "seeker__view_property")] == ("pick from properties['items']", "pick")
    assert labels[("unlinked__verify_code", "seeker__menu")][1] == "branch"
    assert not [n for n in graph.nodes if n.unreachable or n.dead_end]


def test_one_flow_shows_other_flows_as_stubs_and_commands_once() -> None:
    graph = build_graph(spec_of(FLOWS), "seeker")
    stubs = [n for n in graph.nodes if n.external]
    assert [(n.flow, n.state) for n in stubs] == [("account", "help")]
    mermaid = to_mermaid(graph)
    assert mermaid.count("Commands, from every state") == 1
    assert f"{', '.join(spec_of(FLOWS).commands['menu'].keywords)} → @menu" in mermaid
    assert "-.->|\"on_error\"|" in mermaid and "linkStyle" in mermaid and "stroke:#d32f2f" in mermaid
    dot = to_dot(graph)
    assert 'style=dashed color="#d32f2f"' in dot and "shape=note" in dot


def test_unreachable_states_and_dead_ends_are_highlighted() -> None:
    def orphan(data):
        states_of(data, "seeker")["orphan"] = {"say": "Nobody comes here"}

    broken = edited(orphan)
    graph = build_graph(spec_of(broken), "seeker")
    [orphan] = [n for n in graph.nodes if n.state == "orphan"]
    assert orphan.unreachable and orphan.dead_end
    assert "seeker__orphan[\"orphan<br/>⚠ unreachable · ⚠ dead end\"]:::unreachable" in to_mermaid(graph)


def test_unknown_flow() -> None:
    with pytest.raises(KeyError):
        build_graph(spec_of(FLOWS), "nobody")


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` is not installed")
def test_svg_and_png_through_graphviz() -> None:
    spec = spec_of(FLOWS)
    svg = render_svg(spec, "agent")
    assert svg.startswith(b"<?xml") and b"<svg" in svg and b"slot_property" in svg
    assert render(spec, None, "png").startswith(b"\x89PNG")


def test_missing_graphviz_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(RuntimeError, match="apt-get install graphviz"):
        render_svg(spec_of(FLOWS), "agent")
