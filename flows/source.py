"""YAML reading that remembers where every key and value came from.

PyYAML's composer keeps line and column marks on nodes; we convert nodes to plain Python ourselves and
record the mark of each path, so a problem found later (by pydantic or a check) can name `file:line:col`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from flows.problems import Problem

Path = tuple[str | int, ...]


@dataclass
class Source:
    """Parsed YAML data with the position of every path in it."""

    data: Any
    file: str
    positions: dict[Path, tuple[int, int]] = field(default_factory=dict)

    def locate(self, path: Path) -> tuple[int, int]:
        """Position of `path`, or of its closest recorded ancestor."""
        path = tuple(path)
        while path:
            if path in self.positions:
                return self.positions[path]
            path = path[:-1]
        return self.positions.get((), (1, 1))

    def problem(self, path: Path, message: str, severity: str = "error", label: str | None = None) -> Problem:
        line, column = self.locate(path)
        return Problem(
            path=label if label is not None else dotted(path),
            message=message,
            line=line,
            column=column,
            severity=severity,  # type: ignore[arg-type]
            file=self.file,
        )


def dotted(path: Path) -> str:
    """`('flows','seeker','states','menu','say')` -> `seeker.menu.say`: how staff name things."""
    parts = list(path)
    if len(parts) >= 2 and parts[0] == "flows":
        parts = parts[1:]
        if len(parts) >= 2 and parts[1] == "states":
            parts = [parts[0], *parts[2:]]
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def parse(text: str, file: str = "flows.yaml") -> tuple[Source | None, list[Problem]]:
    """Parse YAML text; syntax errors come back as problems, not exceptions."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        what = exc.problem or str(exc)
        return None, [Problem("", f"YAML syntax error: {what}", line, column, file=file)]
    if node is None:
        return None, [Problem("", "the file is empty (expected `flows:` and `messages:`)", 1, 1, file=file)]
    source = Source(data=None, file=file)
    problems: list[Problem] = []
    source.data = _convert(node, (), source, problems)
    return source, problems


def _convert(node: yaml.Node, path: Path, source: Source, problems: list[Problem]) -> Any:
    source.positions.setdefault(path, (node.start_mark.line + 1, node.start_mark.column + 1))
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            # Keys are names: take the raw text, so YAML 1.1 does not read `on:` as the boolean True.
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if not isinstance(key, str):
                problems.append(
                    Problem(dotted(path), "keys must be plain names", key_node.start_mark.line + 1,
                            key_node.start_mark.column + 1, file=source.file)
                )
                continue
            child = (*path, key)
            if key in result:
                problems.append(
                    Problem(dotted(child), "this key is defined twice; the second definition would silently win",
                            key_node.start_mark.line + 1, key_node.start_mark.column + 1, file=source.file)
                )
            source.positions[child] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            result[key] = _convert(value_node, child, source, problems)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_convert(item, (*path, i), source, problems) for i, item in enumerate(node.value)]
    return yaml.SafeLoader(" ").construct_object(node)
