"""What changes between two flows files: states, transitions, texts, and who is standing in removed states.

Transitions are keyed the way the engine names them (`choice:<id>`, `on:<n>`, `branch:<n>`, `error`,
`empty`, `next`, `otherwise`, `from`), so a choice whose `goto` changed shows as retargeted, not as a
removal plus an addition.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast

from flows import edges as flow_edges
from flows.schema import FlowFile, State

if TYPE_CHECKING:  # the language needs no Redis client to load; `diff --redis` passes one in
    from redis.asyncio import Redis


@dataclass
class FlowsDiff:
    states_added: list[str] = field(default_factory=list)
    states_removed: list[str] = field(default_factory=list)
    transitions_added: list[str] = field(default_factory=list)
    transitions_removed: list[str] = field(default_factory=list)
    transitions_retargeted: list[str] = field(default_factory=list)
    texts_changed: list[tuple[str, str, str]] = field(default_factory=list)  # (where, old, new)

    @property
    def empty(self) -> bool:
        return not any((self.states_added, self.states_removed, self.transitions_added, self.transitions_removed,
                        self.transitions_retargeted, self.texts_changed))

    def format(self) -> str:
        if self.empty:
            return "no changes to states, transitions or texts"
        out: list[str] = []
        sections = [("states added", "+", self.states_added), ("states removed", "-", self.states_removed),
                    ("transitions added", "+", self.transitions_added),
                    ("transitions removed", "-", self.transitions_removed),
                    ("transitions retargeted", "~", self.transitions_retargeted)]
        for title, mark, items in sections:
            if items:
                out.append(f"{title} ({len(items)}):")
                out += [f"  {mark} {item}" for item in items]
        if self.texts_changed:
            out.append(f"texts changed ({len(self.texts_changed)}):")
            for where, old, new in self.texts_changed:
                out += [f"  ~ {where}", f"      - {_short(old)}", f"      + {_short(new)}"]
        return "\n".join(out)


def diff_specs(old: FlowFile, new: FlowFile) -> FlowsDiff:
    diff = FlowsDiff()
    old_states, new_states = _states(old), _states(new)
    diff.states_added = sorted(set(new_states) - set(old_states))
    diff.states_removed = sorted(set(old_states) - set(new_states))
    for name in sorted(set(old_states) | set(new_states)):
        before = edges(old_states[name]) if name in old_states else {}
        after = edges(new_states[name]) if name in new_states else {}
        for key in after.keys() - before.keys():
            diff.transitions_added.append(f"{name} --{key}--> {after[key]}")
        for key in before.keys() - after.keys():
            diff.transitions_removed.append(f"{name} --{key}--> {before[key]}")
        for key in before.keys() & after.keys():
            if before[key] != after[key]:
                diff.transitions_retargeted.append(f"{name} --{key}--> {before[key]} (now {after[key]})")
    for lst in (diff.transitions_added, diff.transitions_removed, diff.transitions_retargeted):
        lst.sort()
    old_texts, new_texts = texts(old), texts(new)
    for where in sorted(old_texts.keys() & new_texts.keys()):
        if old_texts[where] != new_texts[where]:
            diff.texts_changed.append((where, old_texts[where], new_texts[where]))
    return diff


def edges(state: State) -> dict[str, str]:
    """Every edge with a target, keyed by its trigger (`flows.edges`), as `diff` compares them."""
    return {edge.trigger: edge.target for edge in flow_edges.edges(state) if edge.target}


def texts(spec: FlowFile) -> dict[str, str]:
    """Every text staff write, by where it lives (`seeker.menu.say`, `messages.not_understood`, ...)."""
    out = {f"messages.{k}": v for k, v in spec.messages.items()}
    out.update({f"notifications.{k}": n.text for k, n in spec.notifications.items()})
    out.update({f"commands.{k}.say": c.say for k, c in spec.commands.items() if c.say})
    for name, state in _states(spec).items():
        if state.say:
            out[f"{name}.say"] = state.say.text
            out.update({f"{name}.choices.{c.id}": c.title for c in state.say.choices})
        if state.otherwise and state.otherwise.say:
            out[f"{name}.otherwise"] = state.otherwise.say
        out.update({f"{name}.branch[{i}].say": b.say for i, b in enumerate(state.branch) if b.say})
        out.update({f"{name}.on[{i}].say": r.say for i, r in enumerate(state.on) if r.say})
        if state.subflow:  # a text passed to a shared flow is shown by it
            out.update({f"{name}.subflow.with.{k}": v for k, v in state.subflow.with_.items() if isinstance(v, str)})
    return out


def _states(spec: FlowFile) -> dict[str, State]:
    return {f"{flow}.{name}": state for flow, f in spec.flows.items() for name, state in f.states.items()}


def _short(text: str, limit: int = 100) -> str:
    flat = " ⏎ ".join(line.strip() for line in text.strip().splitlines())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


async def live_in_states(redis: Redis, states: list[str], prefix: str = "conv") -> tuple[int, dict[str, int]]:
    """(conversations scanned, how many sit in each of `states`), reading the store's `conv:{phone}` hashes."""
    wanted = set(states)
    counts: dict[str, int] = {}
    total = 0
    async for key in redis.scan_iter(match=f"{prefix}:{{*}}", count=500):
        name = key.decode() if isinstance(key, bytes) else key
        if not name.endswith("}"):  # `conv:{phone}:lock` and other per-user keys
            continue
        raw = await cast("Awaitable[bytes | None]", redis.hget(name, "data"))
        if raw is None:
            continue
        total += 1
        try:
            data = json.loads(raw)
        except ValueError:
            continue
        where = f"{data.get('flow')}.{data.get('state')}"
        if where in wanted:
            counts[where] = counts.get(where, 0) + 1
    return total, counts
