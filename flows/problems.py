"""Problems as data: every issue in a flows file is collected, then printed together.

Unlike raising one exception per problem, this lets staff fix a broken file in one pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning", "note"]


@dataclass(frozen=True, slots=True)
class Problem:
    path: str
    message: str
    line: int = 0
    column: int = 0
    severity: Severity = "error"
    file: str = "flows.yaml"

    def format(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}" if self.line else self.file
        label = "" if self.severity == "error" else f"{self.severity}: "
        path = f"{self.path}: " if self.path else ""
        return f"{where}: {label}{path}{self.message}"


class FlowsError(Exception):
    """A flows file that cannot be used; `problems` lists everything wrong with it."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        errors = [p for p in problems if p.severity == "error"]
        super().__init__("\n".join(p.format() for p in errors) or "invalid flows file")
