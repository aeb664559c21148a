"""One explored conversation as it goes: the transcript `explore` prints as a conversation test when an
invariant breaks, and the failure that carries it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from engine.messages import OutboundMessage
from flows import limits


class Violation(AssertionError):
    def __init__(self, message: str, transcript: str) -> None:
        super().__init__(f"{message}\n\nAs a conversation test (save under tests/conversations/):\n\n{transcript}")
        self.message = message
        self.transcript = transcript


@dataclass
class Walk:
    """One example's conversation so far: the transcript, and the timers fired and time waited per stay in a
    state (a stay is named by the commit stamp the timers carry)."""

    role: str
    script: list[dict[str, Any]]
    fired: set[tuple[float, int]] = field(default_factory=set)
    waited: dict[float, float] = field(default_factory=dict)

    def bot(self, flow: str, state: str, problems: list[str]) -> None:
        """Note where the bot left the user; a problem ends the example with the transcript so far."""
        step: dict[str, Any] = {"state": f"{flow}.{state}"}
        if problems:
            step["#"] = "; ".join(problems)
        self.script.append({"bot": step})
        if problems:
            raise Violation("; ".join(problems), transcript(self.role, self.script))


def message_problems(m: OutboundMessage) -> list[str]:
    return limits.violations(m)


def transcript(role: str, script: list[dict[str, Any]]) -> str:
    """The steps as a ready-to-save conversation test (the violation as a comment on the last step)."""
    steps = []
    for item in script:
        note = item.get("bot", {}).pop("#", None) if "bot" in item else None
        line = "      - " + yaml.safe_dump(item, allow_unicode=True, default_flow_style=True, width=10**6).strip()
        steps.append(line + (f"   # VIOLATION: {note}" if note else ""))
    return "tests:\n  - name: found by explore\n    as: " + role + "\n    steps:\n" + "\n".join(steps) + "\n"
