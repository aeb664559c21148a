"""Pictures of flows.yaml: every state and transition as Mermaid, DOT, or SVG/PNG through Graphviz.

The graph is built once as plain data (`FlowGraph`: nodes and edges with a kind) and then written out
in a format. Action failures (`on_error`, `on_empty`) are drawn dashed and red/orange; global commands
appear once, in a legend node; unreachable states and dead ends are highlighted.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass, field
from typing import Literal

from flows import edges as flow_edges
from flows.edges import EdgeKind
from flows.schema import FlowFile
from flows.targets import RETURN, dynamic

INSTALL_HINT = ("the Graphviz `dot` program is needed for SVG/PNG: install it with `apt-get install graphviz` "
                "(Debian/Ubuntu) or `brew install graphviz` (macOS), or use --format mermaid|dot")


@dataclass(frozen=True, slots=True)
class Node:
    flow: str
    state: str
    label: str
    call: str | None = None
    waits: bool = True
    external: bool = False  # a state of another flow, drawn as a stub
    unreachable: bool = False
    dead_end: bool = False

    @property
    def id(self) -> str:
        return re.sub(r"\W", "_", f"{self.flow}__{self.state}")


@dataclass(frozen=True, slots=True)
class Edge:
    """A drawn edge between two node ids; its kind and label are those of the `flows.edges.Edge` it draws."""

    source: str
    target: str
    label: str
    kind: EdgeKind


@dataclass
class FlowGraph:
    title: str
    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)
    starts: dict[str, str] = field(default_factory=dict)  # flow -> node id of its start


def build_graph(spec: FlowFile, flow: str | None = None) -> FlowGraph:
    """The graph of one flow (other flows' states become stubs), or of every flow when `flow` is None."""
    if flow is not None and flow not in spec.flows:
        raise KeyError(f"no flow `{flow}` (flows: {', '.join(spec.flows)})")
    names = [flow] if flow else list(spec.flows)
    reached = flow_edges.reachable(spec)
    graph = FlowGraph(title=f"flow {flow}" if flow else "all flows")
    ids: dict[tuple[str, str], str] = {}
    for name in names:
        for state_name, state in spec.flows[name].states.items():
            node = Node(name, state_name, state_name, call=" + ".join(c.action for c in state.calls) or None,
                        waits=state.waits,
                        unreachable=(name, state_name) not in reached,
                        dead_end=flow_edges.is_dead_end(state))
            graph.nodes.append(node)
            ids[(name, state_name)] = node.id
        graph.starts[name] = ids[(name, spec.flows[name].start)]
    for name in names:
        for state_name, state in spec.flows[name].states.items():
            for edge, found in flow_edges.moves(spec, name, state):
                key = (found.flow, found.state)
                if key not in ids:
                    stub = Node(found.flow, found.state, f"{found.flow}.{found.state}", external=True)
                    graph.nodes.append(stub)
                    ids[key] = stub.id
                graph.edges.append(Edge(ids[(name, state_name)], ids[key], edge.label, edge.kind))
            for edge in flow_edges.edges(state):  # a shared flow's `@return`, `@menu`, `@start`: to a stub
                if edge.moves and edge.target is not None and dynamic(edge.target, name, spec):
                    key = (name, edge.target)
                    if key not in ids:
                        text = "↩ caller" if edge.target == RETURN else f"{edge.target} (own flow)"
                        stub = Node(name, edge.target, text, external=True)
                        graph.nodes.append(stub)
                        ids[key] = stub.id
                    graph.edges.append(Edge(ids[(name, state_name)], ids[key], edge.label, edge.kind))
    for command_name, command in spec.commands.items():
        words = ", ".join(command.keywords or command.ids) or command_name
        roles = f" ({', '.join(command.roles)})" if command.roles else ""
        graph.commands.append(f"{words} → {command.goto}{roles}")
    return graph


# -- Mermaid ---------------------------------------------------------------------------------------------

def to_mermaid(graph: FlowGraph) -> str:
    lines = ["flowchart TD"]
    by_flow: dict[str, list[Node]] = {}
    for node in graph.nodes:
        by_flow.setdefault("~external" if node.external else node.flow, []).append(node)
    for flow, nodes in by_flow.items():
        if flow != "~external":
            lines.append(f"  subgraph {flow}[\"flow {flow}\"]")
        for node in nodes:
            lines.append(f"    {node.id}{_mermaid_shape(node)}")
        if flow != "~external":
            lines.append("  end")
    for flow, start in graph.starts.items():
        lines.append(f"  start_{flow}(( )) --> {start}")
    styles: list[str] = []
    for index, edge in enumerate(graph.edges):
        arrow = "-.->" if edge.kind in ("error", "empty") else "-->"
        lines.append(f"  {edge.source} {arrow}|\"{_mermaid_text(edge.label)}\"| {edge.target}")
        if edge.kind == "error":
            styles.append(f"  linkStyle {index} stroke:#d32f2f,color:#d32f2f")
        elif edge.kind == "empty":
            styles.append(f"  linkStyle {index} stroke:#ef6c00,color:#ef6c00")
    if graph.commands:
        text = "<br/>".join(_mermaid_text(c) for c in graph.commands)
        lines.append(f"  commands[\"<b>Commands, from every state</b><br/>{text}\"]:::legend")
    lines += styles
    lines += [
        "  classDef action fill:#e3f2fd,stroke:#1565c0",
        "  classDef external fill:#eeeeee,stroke:#9e9e9e,stroke-dasharray:3 3",
        "  classDef unreachable fill:#ffcdd2,stroke:#b71c1c,stroke-width:3px",
        "  classDef deadend fill:#fff3e0,stroke:#e65100,stroke-width:3px",
        "  classDef legend fill:#fffde7,stroke:#f9a825",
    ]
    return "\n".join(lines) + "\n"


def _mermaid_shape(node: Node) -> str:
    label = _mermaid_text(node.label)
    if node.external:
        return f"[[\"→ {label}\"]]:::external"
    if node.call:
        label += f"<br/><i>⚙ {_mermaid_text(node.call)}</i>"
    label += _flags(node, "<br/>")
    css = "unreachable" if node.unreachable else "deadend" if node.dead_end else "action" if node.call else ""
    shape = f"[\"{label}\"]" if node.waits else f"([\"{label}\"])"
    return shape + (f":::{css}" if css else "")


def _flags(node: Node, sep: str) -> str:
    flags = (["⚠ unreachable"] if node.unreachable else []) + (["⚠ dead end"] if node.dead_end else [])
    return (sep + " · ".join(flags)) if flags else ""


def _mermaid_text(text: str) -> str:
    text = " ".join(text.split())
    return text.replace("\"", "#quot;").replace("|", "#124;").replace("<", "#lt;").replace(">", "#gt;")


# -- DOT / Graphviz -------------------------------------------------------------------------------------

_DOT_EDGE = {
    "error": 'style=dashed color="#d32f2f" fontcolor="#d32f2f"',
    "empty": 'style=dashed color="#ef6c00" fontcolor="#ef6c00"',
    "next": 'color="#616161"',
    "branch": 'color="#6a1b9a" fontcolor="#6a1b9a"',
}


def to_dot(graph: FlowGraph) -> str:
    lines = [f"digraph {_q(graph.title)} {{", "  rankdir=LR; compound=true;",
             '  node [shape=box style="rounded,filled" fillcolor=white fontname="Helvetica" fontsize=10];',
             '  edge [fontname="Helvetica" fontsize=9];']
    by_flow: dict[str, list[Node]] = {}
    for node in graph.nodes:
        by_flow.setdefault("~external" if node.external else node.flow, []).append(node)
    for flow, nodes in by_flow.items():
        inner = "    " if flow != "~external" else "  "
        if flow != "~external":
            cluster = re.sub(r"\W", "_", flow)
            lines.append(f"  subgraph cluster_{cluster} {{ label={_q('flow ' + flow)};")
        for node in nodes:
            lines.append(f"{inner}{node.id} [{_dot_node(node)}];")
        if flow != "~external":
            lines.append("  }")
    for flow, start in graph.starts.items():
        lines.append(f"  start_{flow} [shape=point width=0.15]; start_{flow} -> {start};")
    for edge in graph.edges:
        extra = _DOT_EDGE.get(edge.kind, "")
        lines.append(f"  {edge.source} -> {edge.target} [label={_q(edge.label)} {extra}];")
    if graph.commands:
        text = "Commands, from every state\\l" + "".join(_esc(c) + "\\l" for c in graph.commands)
        lines.append(f'  commands [shape=note fillcolor="#fffde7" label="{text}"];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def _dot_node(node: Node) -> str:
    if node.external:
        return f'label={_q("→ " + node.label)} style="dashed,rounded" fontcolor="#616161"'
    label = node.label + (f"\n⚙ {node.call}" if node.call else "") + _flags(node, "\n")
    fill = ("#ffcdd2" if node.unreachable else "#fff3e0" if node.dead_end else "#e3f2fd" if node.call else "white")
    style = '"rounded,filled"' if node.waits else '"filled"'  # square corners: moves on at once
    pen = " penwidth=3" if node.unreachable or node.dead_end else ""
    return f"label={_q(label)} style={style} fillcolor=\"{fill}\"{pen}"


def _esc(text: str) -> str:
    return " ".join(text.split("\n")).replace("\\", "\\\\").replace('"', '\\"')


def _q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def render_dot(dot: str, fmt: Literal["svg", "png"] = "svg") -> bytes:
    """Run Graphviz; RuntimeError with an install instruction when `dot` is missing."""
    binary = shutil.which("dot")
    if binary is None:
        raise RuntimeError(INSTALL_HINT)
    done = subprocess.run([binary, f"-T{fmt}"], input=dot.encode("utf-8"), capture_output=True, timeout=60)
    if done.returncode != 0:
        raise RuntimeError(f"dot failed: {done.stderr.decode('utf-8', 'replace').strip()}")
    return done.stdout


def render_svg(spec: FlowFile, flow: str | None = None) -> bytes:
    """SVG of one flow (or all flows): what the web app serves at GET /flows/graph?flow=NAME.

    Raises KeyError for an unknown flow and RuntimeError when Graphviz is not installed.
    """
    return render_dot(to_dot(build_graph(spec, flow)), "svg")


def render(spec: FlowFile, flow: str | None, fmt: str) -> bytes:
    """The graph in `fmt` (mermaid, dot, svg, png) as bytes ready to write."""
    graph = build_graph(spec, flow)
    if fmt == "mermaid":
        return to_mermaid(graph).encode("utf-8")
    if fmt == "dot":
        return to_dot(graph).encode("utf-8")
    if fmt in ("svg", "png"):
        return render_dot(to_dot(graph), fmt)  # type: ignore[arg-type]
    raise ValueError(f"unknown format {fmt!r} (expected mermaid, dot, svg or png)")
