"""Where the wording of a flows file lives: every text a user reads, with its path and WhatsApp limit.

Tools that care about wording, not structure, walk this one list: conversation tests point a failed
`says:` at the flows.yaml line that was reworded, and the wording-independence test rewrites every entry.
Data-driven templates (`choices_from` rows) and staff notes (`description:` of a state) are not wording.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any

from flows import limits
from flows.source import Path, Source, dotted

_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)


@dataclass(frozen=True, slots=True)
class Wording:
    """One text of the file: where it is, what it says, how long WhatsApp lets it be."""

    path: Path
    text: str
    limit: int

    @property
    def label(self) -> str:
        return dotted(self.path)

    @property
    def literal(self) -> str:
        """The text without its template tags: what a reader would recognise."""
        return " ".join(_TAG.sub(" ", self.text).split())

    @property
    def has_words(self) -> bool:
        """Whether anything outside its tags is language (`{{ help_text }}` has none: nothing to translate)."""
        return any(ch.isalpha() for ch in self.literal)

    @property
    def pieces(self) -> list[str]:
        """The fixed fragments between tags and line breaks, as they appear in a rendered message."""
        return [p.strip() for chunk in _TAG.split(self.text) for p in chunk.split("\n") if len(p.strip()) >= 2]


def wordings(data: Any) -> Iterator[Wording]:
    """Every user-facing text in raw flows data (as parsed, before the schema), in file order."""
    if not isinstance(data, dict):
        return
    languages = data.get("languages")
    if isinstance(languages, dict):
        yield from _text(("languages", "question"), languages.get("question"), limits.INTERACTIVE_BODY)
    for key, text in _items(data.get("messages")):
        yield from _text(("messages", key), text, limits.TEXT_BODY)
    for name, command in _items(data.get("commands")):
        if isinstance(command, dict):
            yield from _text(("commands", name, "say"), command.get("say"), limits.TEXT_BODY)
    for name, note in _items(data.get("notifications")):
        if isinstance(note, dict):
            yield from _text(("notifications", name, "text"), note.get("text"), limits.INTERACTIVE_BODY)
            yield from _choices(("notifications", name), note.get("choices"))
    for name, shared in _items(data.get("choices")):  # shared choices, put in states by `use:`
        if isinstance(shared, list):
            yield from _choices(("choices",), {name: shared}, key=name)
        else:
            yield from _choices(("choices",), {name: [shared]}, key=name, single=True)
    for flow_name, flow in _items(data.get("flows")):
        states = flow.get("states") if isinstance(flow, dict) else None
        for state_name, state in _items(states):
            if isinstance(state, dict):
                yield from _state(("flows", flow_name, "states", state_name), state)


def _state(path: Path, state: dict[str, Any]) -> Iterator[Wording]:
    subflow = state.get("subflow")
    if isinstance(subflow, dict):  # texts a shared flow shows, passed as its parameters
        for name, value in _items(subflow.get("with")):
            if isinstance(value, str) and " " in value.strip():
                yield from _text((*path, "subflow", "with", name), value, limits.INTERACTIVE_BODY)
    for i, branch in enumerate(_list(state.get("branch"))):
        if isinstance(branch, dict):
            yield from _text((*path, "branch", i, "say"), branch.get("say"), limits.TEXT_BODY)
    say = state.get("say")
    if isinstance(say, str):
        yield from _text((*path, "say"), say, limits.TEXT_BODY)
    elif isinstance(say, dict):
        yield from _text((*path, "say", "text"), say.get("text"), limits.INTERACTIVE_BODY)
        for key, limit in (("header", limits.HEADER), ("footer", limits.FOOTER), ("list_button", limits.LIST_BUTTON)):
            yield from _text((*path, "say", key), say.get(key), limit)
        yield from _choices((*path, "say"), say.get("choices"))
    for i, route in enumerate(_list(state.get("on"))):
        if isinstance(route, dict):
            yield from _text((*path, "on", i, "say"), route.get("say"), limits.TEXT_BODY)
    otherwise = state.get("otherwise")
    if isinstance(otherwise, str):
        yield from _text((*path, "otherwise"), otherwise, limits.TEXT_BODY)
    elif isinstance(otherwise, dict):
        yield from _text((*path, "otherwise", "say"), otherwise.get("say"), limits.TEXT_BODY)
    ask = state.get("ask")
    if isinstance(ask, dict):
        yield from _text((*path, "ask", "error"), ask.get("error"), limits.TEXT_BODY)
    for i, timeout in enumerate(_list(state.get("timeouts"))):
        if isinstance(timeout, dict):
            yield from _text((*path, "timeouts", i, "say"), timeout.get("say"), limits.TEXT_BODY)


def _choices(path: Path, choices: Any, key: str = "choices", single: bool = False) -> Iterator[Wording]:
    """The texts of a list of choices under `path` + `key` (`single`: one choice right there, not a list)."""
    items = choices.get(key) if isinstance(choices, dict) else choices
    for i, choice in enumerate(_list(items)):
        if isinstance(choice, dict):
            at: Path = (*path, key) if single else (*path, key, i)
            # A title's limit depends on how the message is sent; the button limit holds for both.
            yield from _text((*at, "title"), choice.get("title"), limits.BUTTON_TITLE)
            yield from _text((*at, "description"), choice.get("description"), limits.ROW_DESCRIPTION)
            yield from _text((*at, "say"), choice.get("say"), limits.TEXT_BODY)


def _text(path: Path, value: Any, limit: int) -> Iterator[Wording]:
    if isinstance(value, str) and value.strip():
        yield Wording(path, value, limit)


def _items(value: Any) -> list[tuple[str, Any]]:
    return list(value.items()) if isinstance(value, dict) else []


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def reworded(old: str, source: Source, shown: Sequence[str] = (), prefer: tuple[str, ...] = ()
              ) -> tuple[Wording, int] | None:
    """The text of the file that most likely replaced `old`, a snippet a test quoted before a copy edit.

    Candidates are the texts the bot just showed (`shown`: every fixed piece of them appears there), else
    every text. The best keeps most of the snippet (runs of 4+ characters, case-insensitive); texts under a
    `prefer`red path (the state the bot ended in) win ties and stand in when nothing is similar. Returns the
    text and its line, or None when nothing is a plausible match.
    """
    wanted = " ".join(str(old).split()).lower()
    if not wanted:
        return None
    everything = list(wordings(source.data))
    output = "\n".join(shown)
    on_screen = [w for w in everything if output and w.pieces and all(p in output for p in w.pieces)]

    def similarity(wording: Wording) -> float:
        matcher = SequenceMatcher(None, wanted, wording.literal.lower(), autojunk=False)
        return sum(b.size for b in matcher.get_matching_blocks() if b.size >= 4) / len(wanted)

    def preferred(wording: Wording) -> bool:
        return any(wording.label.startswith(p) for p in prefer)

    ranked = sorted(on_screen or everything, key=lambda w: (similarity(w), preferred(w)), reverse=True)
    best = ranked[0] if ranked else None
    if best is not None and similarity(best) < (0.3 if on_screen else 0.6):
        best = next((w for w in on_screen if preferred(w)), None)
    if best is None:
        return None
    return best, source.locate(best.path)[0]
