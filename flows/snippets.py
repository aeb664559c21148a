"""Shared choices: `- use: main_menu` in a state's `choices:` stands for the choice (or list of choices) named
`main_menu` under the top-level `choices:`, as if it were written there.

The loader expands them before the schema and the checks run, so every check (WhatsApp's limits included)
sees each state's choices as sent. The copies keep the positions of the shared definition, so a problem in one
points at the line that has to change; its message also says which `use:` brought it in.
"""

from __future__ import annotations

import copy
import difflib
from typing import Any

from flows.problems import Problem
from flows.source import Path, Source, dotted


def expand_snippets(source: Source) -> tuple[list[Problem], dict[str, str]]:
    """Put shared choices in place of `use:` items in `source.data`; the problems, and for each expanded
    choice's label a note naming the `use:` that brought it in (for problems found later)."""
    data = source.data
    if not isinstance(data, dict):
        return [], {}
    shared = data.get("choices")
    shared = shared if isinstance(shared, dict) else {}
    problems: list[Problem] = []
    notes: dict[str, str] = {}
    used: set[str] = set()
    flows = data.get("flows")
    for flow_name, flow in (flows.items() if isinstance(flows, dict) else []):
        states = flow.get("states") if isinstance(flow, dict) else None
        for state_name, state in (states.items() if isinstance(states, dict) else []):
            say = state.get("say") if isinstance(state, dict) else None
            if isinstance(say, dict) and isinstance(say.get("choices"), list):
                path: Path = ("flows", flow_name, "states", state_name, "say", "choices")
                say["choices"] = _expand(source, path, say["choices"], shared, used, problems, notes)
    for name in shared:
        if name not in used:
            problems.append(source.problem(("choices", name), f"shared choice `{name}` is never used "
                                           f"(put it in a state's choices with `- use: {name}`, or remove it)",
                                           "warning"))
    return problems, notes


def _expand(source: Source, path: Path, items: list[Any], shared: dict[str, Any], used: set[str],
            problems: list[Problem], notes: dict[str, str]) -> list[Any]:
    if not any(_is_use(item) for item in items):
        return items
    depth = len(path)
    old = {p: pos for p, pos in source.positions.items() if len(p) > depth and p[:depth] == path}
    for p in old:
        del source.positions[p]
    out: list[Any] = []
    for i, item in enumerate(items):
        if not _is_use(item):
            _move(source, old, (*path, i), (*path, len(out)))
            out.append(item)
            continue
        name = item["use"]
        where = old.get((*path, i, "use")) or old.get((*path, i)) or source.locate(path)
        if len(item) > 1:
            extra = ", ".join(f"`{k}`" for k in item if k != "use")
            problems.append(_at(source, where, (*path, i), f"`use:` stands alone: {extra} cannot be added to a "
                                                           "shared choice (write the choice out instead)"))
        if not isinstance(name, str) or name not in shared:
            close = difflib.get_close_matches(str(name), list(shared), n=1, cutoff=0.6)
            hint = f"did you mean `{close[0]}`?" if close else f"shared choices: {', '.join(shared) or 'none'}"
            problems.append(_at(source, where, (*path, i, "use"), f"no shared choice `{name}` under the top-level "
                                                                  f"`choices:` ({hint})"))
            continue
        used.add(name)
        value = shared[name]
        parts = value if isinstance(value, list) else [value]
        for k, part in enumerate(parts):
            origin: Path = ("choices", name, k) if isinstance(value, list) else ("choices", name)
            target: Path = (*path, len(out))
            source.positions[target] = where
            for p, pos in list(source.positions.items()):
                if len(p) > len(origin) and p[:len(origin)] == origin:
                    source.positions[(*target, *p[len(origin):])] = pos
            notes[dotted(target)] = f" (from `use: {name}` at line {where[0]})"
            out.append(copy.deepcopy(part))
    return out


def _is_use(item: Any) -> bool:
    return isinstance(item, dict) and "use" in item


def _move(source: Source, old: dict[Path, tuple[int, int]], was: Path, now: Path) -> None:
    for p, pos in old.items():
        if p[:len(was)] == was:
            source.positions[(*now, *p[len(was):])] = pos


def _at(source: Source, where: tuple[int, int], path: Path, message: str) -> Problem:
    return Problem(dotted(path), message, where[0], where[1], file=source.file)
