"""`check` of notifications: their texts, WhatsApp's limits on their buttons, and that every button leads
into the flow of whoever taps it (a resolvable `goto`, or a command's id), with ids that tell them apart."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flows import limits
from flows.schema_say import Choice
from flows.source import Path
from flows.targets import STAY, describe_unknown, resolve

if TYPE_CHECKING:
    from flows.checks import FlowChecker


def check_notifications(checker: FlowChecker) -> None:
    """Texts, limits and buttons of every notification."""
    seen_ids: dict[str, tuple[str, str | None]] = {}
    for name, note in checker.spec.notifications.items():
        path: Path = ("notifications", name)
        extra = {*note.variables, "recipient"}
        checker.template((*path, "text"), note.text, extra)
        for i, param in enumerate(note.template.params):
            checker.template((*path, "template", "params", i), param, extra)
        for i, choice in enumerate(note.choices):
            checker.template((*path, "choices", i, "title"), choice.title, extra)
            if len(choice.title) > limits.BUTTON_TITLE and "{{" not in choice.title:
                checker.add((*path, "choices", i, "title"), f"title is {len(choice.title)} chars; WhatsApp "
                                                          f"allows {limits.BUTTON_TITLE}")
        if len(note.choices) > limits.MAX_BUTTONS:
            checker.add((*path, "choices"), f"notifications carry at most {limits.MAX_BUTTONS} buttons")
        for i, choice in enumerate(note.choices):
            _check_button(checker, name, choice, (*path, "choices", i), seen_ids)

def _check_button(checker: FlowChecker, name: str, choice: Choice, path: Path,
                  seen: dict[str, tuple[str, str | None]]) -> None:
    """A notification's button must lead into the recipient's flow: a `goto`, or a command's id."""
    command_ids = [i for command in checker.spec.commands.values() for i in command.ids]
    if choice.id in seen and seen[choice.id][1] != choice.goto:
        checker.add((*path, "id"), f"id `{choice.id}` is also a button of notification `{seen[choice.id][0]}` "
                                "leading elsewhere; a tap could not tell them apart (use another id)")
    seen.setdefault(choice.id, (name, choice.goto))
    if choice.say:
        checker.template((*path, "say"), choice.say)
    checker.values((*path, "set"), choice.set)
    if choice.goto is None:
        if not any(_matches(pattern, choice.id) for pattern in command_ids):
            checker.add((*path, "goto"), f"button `{choice.id}` leads nowhere: give it `goto:` (e.g. `@menu` or "
                                      "`seeker.browse`), or the id of a command")
        return
    checker.report.transitions += 1
    target = choice.goto
    if target in (STAY, "@menu", "@start"):
        return
    if target.startswith("@"):
        if not any(resolve(target, flow, checker.spec) for flow in checker.spec.flows):
            checker.add((*path, "goto"), f"`{target}` names no state of any flow")
    elif "." not in target:
        checker.add((*path, "goto"), f"`{target}`: a notification belongs to no flow, so name the flow "
                                  f"(`flow.{target}`) or use `@{target}` (that state of the user's own flow)")
    elif resolve(target, next(iter(checker.spec.flows), ""), checker.spec) is None:
        flow = target.partition(".")[0]
        checker.add((*path, "goto"), describe_unknown(target, flow if flow in checker.spec.flows else "", checker.spec))


def _matches(pattern: str, button_id: str) -> bool:
    """A command's id matches the button's, or its `prefix:*` matches the start of it (`call_agent:{{ id }}`)."""
    if pattern.endswith("*"):
        return button_id.startswith(pattern[:-1])
    return pattern == button_id
