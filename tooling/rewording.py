"""When a conversation test fails after a copy edit: the old wording beside the new, with its flows.yaml line.

Conversation tests pin wording on purpose; staff reword flows.yaml. A failing step quotes text (`says:`),
titles (`buttons:`/`rows:`) or taps a title that is gone; these hints find what replaced it and where.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.turn import Turn
from flows.source import Source, dotted, parse
from flows.texts import reworded, wordings

if TYPE_CHECKING:
    from tooling.harness import World


def side_by_side(left: str, right: str, width: int = 48, *, left_title: str = "EXPECTED",
                 right_title: str = "ACTUAL") -> str:
    a, b = left.rstrip("\n").split("\n"), right.rstrip("\n").split("\n")
    rows = [f"  {left_title:<{width}} | {right_title}", f"  {'-' * width}-+-{'-' * width}"]
    for i in range(max(len(a), len(b))):
        x = a[i] if i < len(a) else ""
        y = b[i] if i < len(b) else ""
        rows.append(f"  {x[:width]:<{width}} | {y}")
    return "\n".join(rows)


def listed(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def missing_text(expect: Any, turn: Turn) -> str:
    """The first `says:` snippet no message contains (the one a copy edit may have changed)."""
    if isinstance(expect, str):
        expect = {"says": expect}
    if not isinstance(expect, dict):
        return ""
    texts = [m.text for m in turn.messages]
    missing = [str(w) for w in listed(expect.get("says")) if not any(str(w) in t for t in texts)]
    return missing[0] if missing else ""


def titles_hint(expect: Any, turn: Turn, world: World) -> str:
    """Expected button or row titles that are not offered: beside the ones that are, position by position."""
    if not isinstance(expect, dict):
        return ""
    for key, kind in (("buttons", "buttons"), ("rows", "list")):
        wanted = expect.get(key)
        exact = not isinstance(wanted, dict)
        wanted = [str(t) for t in ((wanted or {}).get("include", []) if not exact else wanted or [])]
        offered = [c.title for m in turn.messages if m.kind == kind for c in m.choices()]
        if not wanted or not offered or not [t for t in wanted if t not in offered]:
            continue  # nothing offered at all is not a rename (the journey went elsewhere)
        if exact and len(wanted) == len(offered):  # same count: the differing places are the renamed ones
            pairs = [(old, new) for old, new in zip(wanted, offered, strict=True) if old != new]
            old_text, new_text = "\n".join(p[0] for p in pairs), "\n".join(p[1] for p in pairs)
        else:
            old_text, new_text = "\n".join(wanted), "\n".join(offered)
        where = _choices_line(offered, world)
        return (f"  the test expects {key} the message does not offer; if they were renamed, update the test:\n"
                + side_by_side(old_text, new_text, left_title="IN THE TEST (OLD)", right_title=f"OFFERED{where}"))
    return ""


def title_not_on_offer(value: Any, event: Any) -> str:
    if isinstance(value, dict) and len(value) == 1:
        (key, wanted), = value.items()
        if key in ("button", "list", "tap") and isinstance(wanted, str) and event.reply_id == wanted:
            return wanted
    return ""


def shown(turn: Turn) -> list[str]:
    return [part for m in turn.messages for part in (m.text, m.header or "", m.footer or "",
                                                     *(c.title for c in m.choices()))]


def _flows_source(world: World) -> Source | None:
    path = world.runtime.engine.flows.loaded.path
    try:
        source, _ = parse(Path(path).read_text(encoding="utf-8"), str(path))
    except OSError:
        return None
    return source


def _choices_line(offered: list[str], world: World) -> str:
    """` flows.yaml:LINE (flow.state.say.choices)`: the choices list holding most of these titles, or ''."""
    source = _flows_source(world)
    if source is None or not offered:
        return ""
    lists: dict[tuple[Any, ...], set[str]] = {}
    for wording in wordings(source.data):
        if wording.path[-1] == "title":
            lists.setdefault(wording.path[:-2], set()).add(wording.text)
    overlap, choices = max(((len(titles & set(offered)), path) for path, titles in lists.items()), default=(0, ()))
    return f" {source.file}:{source.locate(choices)[0]} ({dotted(choices)})" if overlap else ""


def tap_hint(old: str, offered: list[str], where: str, world: World) -> str:
    """A tapped title that was not on offer: show it beside the titles that were, with their flows.yaml line."""
    if not old or not offered:
        return ""
    return (f"  at {where} the test tapped a title the message did not offer; if it was renamed, update the test:\n"
            + side_by_side(old, "\n".join(offered), left_title="TAPPED IN THE TEST",
                           right_title=f"OFFERED{_choices_line(offered, world)}"))


def rewording_hint(old: str, shown: list[str], turn: Turn, world: World) -> str:
    """When a failure quotes text the flows no longer have, show it beside the text that replaced it.

    Staff reword flows.yaml; conversation tests pin wording. This finds the flows.yaml text the test most
    likely quoted (preferring the state the bot ended in) and prints old and new side by side with its line.
    """
    source = _flows_source(world) if old else None
    if source is None:
        return ""
    found = reworded(old, source, shown, prefer=(f"{turn.flow}.{turn.state}.",))
    if found is None:
        return ""
    wording, line = found
    if old in wording.text:
        return ""
    header = f"{source.file}:{line} ({wording.label})"
    return ("  the test quotes text that is no longer in the flows; if the new wording is right, update the test:\n"
            + side_by_side(old, wording.text, left_title="IN THE TEST (OLD)", right_title=f"IN {header} (NEW)"))
