"""What `explore` reached of the typed questions (`ask:`) and the per-state `timeouts:` of the flows it walked,
so a run that never answered a question, never reached an `on_fail` or never fired a timeout says so."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from flows.edges import ANSWER, GAVE_UP
from flows.schema import FlowFile

Where = tuple[str, str]


@dataclass
class Coverage:
    """Questions and timeouts of the explored flows, and how often each outcome happened."""

    asks: dict[Where, Any] = field(default_factory=dict)
    timeouts: dict[tuple[str, str, int], Any] = field(default_factory=dict)
    outcomes: dict[str, Counter[Where]] = field(default_factory=lambda: {
        k: Counter() for k in ("answered", "re-asked", "gave up", "routed", "refused", "taken by a choice")})
    fired: Counter[tuple[str, str, int]] = field(default_factory=Counter)
    #: Every edge the explored conversations fired, by any input (`TracingFlows.visits`).
    visits: set[tuple[str, str, str]] = field(default_factory=set)

    @classmethod
    def of(cls, spec: FlowFile, flows: list[str]) -> Coverage:
        coverage = cls()
        for name in flows:
            for state_name, state in spec.flows[name].states.items():
                if state.ask is not None:
                    coverage.asks[(name, state_name)] = state.ask
                for index, timeout in enumerate(state.timeouts):
                    coverage.timeouts[(name, state_name, index)] = timeout
        return coverage

    def count(self, outcome: str, where: Where) -> None:
        self.outcomes[outcome][where] += 1

    def answered(self, where: Where) -> bool:
        """A valid answer was taken, whether the explorer made it or a random text happened to be one."""
        return bool(self.outcomes["answered"][where]) or (*where, ANSWER) in self.visits

    def gave_up(self, where: Where) -> bool:
        return bool(self.outcomes["gave up"][where]) or (*where, GAVE_UP) in self.visits

    def missing(self) -> list[str]:
        """What no example reached: a question never answered, never answered wrongly, an `on_fail` never
        taken, a timeout never fired."""
        found = []
        for where, ask in self.asks.items():
            name = ".".join(where)
            if not self.answered(where):
                found.append(f"ask {name}: no valid answer")
            if not (self.outcomes["re-asked"][where] or self.gave_up(where)):
                found.append(f"ask {name}: no wrong answer")
            if ask.on_fail is not None and not self.gave_up(where):
                found.append(f"ask {name}: on_fail never reached")
        for (flow, state, index), timeout in self.timeouts.items():
            if not self.fired[(flow, state, index)]:
                found.append(f"timeout {flow}.{state}[{index}] (after {timeout.after}) never fired")
        return found

    def figures(self) -> dict[str, Any]:
        with_fail = [w for w, ask in self.asks.items() if ask.on_fail is not None]
        again = [w for w, ask in self.asks.items() if ask.retries > 0 or ask.on_fail is None]  # `retries: 0`: never
        return {
            "asks": len(self.asks),
            "asks_answered": sum(1 for w in self.asks if self.answered(w)),
            "asks_re_askable": len(again),
            "asks_re_asked": sum(1 for w in again if self.outcomes["re-asked"][w]),
            "asks_with_on_fail": len(with_fail),
            "asks_gave_up": sum(1 for w in with_fail if self.gave_up(w)),
            "answers": {k: sum(v.values()) for k, v in self.outcomes.items()},
            "timeouts": len(self.timeouts),
            "timeouts_fired": sum(1 for k in self.timeouts if self.fired[k]),
            "timers_fired": sum(self.fired.values()),
            "missing": self.missing(),
        }

    def lines(self) -> list[str]:
        """The summary `explore` prints under its result line."""
        figures = self.figures()
        answers = figures["answers"]
        out = []
        if figures["asks"]:
            out.append(f"asks: {figures['asks_answered']}/{figures['asks']} answered, {figures['asks_re_asked']}/"
                       f"{figures['asks_re_askable']} re-asked after a wrong answer, {figures['asks_gave_up']}/"
                       f"{figures['asks_with_on_fail']} reached on_fail ({answers['answered']} valid answers taken, "
                       f"{answers['re-asked'] + answers['gave up']} wrong ones refused, {answers['routed']} taken "
                       f"by an `on:` route, {answers['taken by a choice']} by a choice or command)")
        else:
            out.append("asks: none in the explored flows")
        if figures["timeouts"]:
            out.append(f"timeouts: {figures['timeouts_fired']}/{figures['timeouts']} fired "
                       f"({figures['timers_fired']} times)")
        else:
            out.append("timeouts: none in the explored flows")
        out += [f"  not reached: {item}" for item in figures["missing"]]
        return out
