"""How big a flows file is, for keeping it small: `python -m tooling.flow_stats [flows.yaml]`.

Prints its lines, states (shared flows included) and pass-through states: states that say nothing and move
on at once (`goto`, `subflow` or `return`) after their `set`, calls and branches. Each is a name staff must
follow to read a journey; a list of calls or a choice's own `set` usually does the same in the state before.
"""

from __future__ import annotations

import sys
from pathlib import Path

from flows.loader import check_text
from flows.schema import FlowFile, State


def passes_through(state: State) -> bool:
    """Says nothing and does not wait: only sets, calls, branches and moves on."""
    return state.say is None and not state.waits


def pass_through_states(spec: FlowFile) -> list[str]:
    return [f"{flow_name}.{state_name}" for flow_name, flow in spec.flows.items()
            for state_name, state in flow.states.items() if passes_through(state)]


def main(argv: list[str]) -> int:
    path = Path(argv[0] if argv else "flows.yaml")
    text = path.read_text(encoding="utf-8")
    spec, report = check_text(text, str(path))
    if spec is None:
        print("\n".join(p.format() for p in report.errors), file=sys.stderr)
        return 1
    states = pass_through_states(spec)
    print(f"{path}: {len(text.splitlines())} lines, {sum(len(f.states) for f in spec.flows.values())} states, "
          f"{len(states)} pass-through states")
    for name in states:
        print(f"  {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
