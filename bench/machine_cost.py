"""What a `transitions` machine would cost the engine step, next to the plain table the compiler builds.

The README's "Why a table and not a transitions machine" quotes this. `transitions` is not a dependency
any more; install it to run this: `pip install transitions`.

    python bench/machine_cost.py
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable
from typing import Any

try:
    from transitions import Machine
    from transitions.extensions.asyncio import AsyncMachine
except ModuleNotFoundError:
    sys.exit("this benchmark compares against transitions, which is not installed: pip install transitions")

STATES = [f"s{i}" for i in range(60)]
EDGES = [{"trigger": f"choice:{j}", "source": f"s{i}", "dest": f"s{(i + j) % 60}"} for i in range(60) for j in range(8)]
N = 20_000


class Cursor:
    """A throwaway object holding a state name: no model is registered per user."""

    __slots__ = ("state",)

    def __init__(self, state: str) -> None:
        self.state = state


def per_call(fn: Callable[[], Any]) -> float:
    started = time.perf_counter()
    for _ in range(N):
        fn()
    return (time.perf_counter() - started) / N * 1e6


def main() -> None:
    def entered(*_: Any) -> None:
        return None

    machine = Machine(model=None, states=STATES, transitions=EDGES, auto_transitions=False, initial="s0")
    for name in STATES:
        machine.get_state(name).add_callback("enter", entered)
    table = {(e["source"], e["trigger"]): e["dest"] for e in EDGES}
    cursor = Cursor("s0")

    def fire() -> None:
        cursor.state = "s3"
        machine.events["choice:2"].trigger(cursor)

    print(f"sync Machine event with on_enter   {per_call(fire):7.1f} µs")
    print(f"Machine.get_triggers               {per_call(lambda: machine.get_triggers('s3')):7.1f} µs")
    print(f"dict lookup                        {per_call(lambda: table[('s3', 'choice:2')]):7.2f} µs")

    async def run_async() -> float:
        async def entered_async(*_: Any) -> None:
            return None

        amachine = AsyncMachine(model=None, states=STATES, transitions=EDGES, auto_transitions=False, initial="s0")
        for name in STATES:
            amachine.get_state(name).add_callback("enter", entered_async)
        acursor = Cursor("s0")
        started = time.perf_counter()
        for _ in range(N):
            acursor.state = "s3"
            await amachine.events["choice:2"].trigger(acursor)
        return (time.perf_counter() - started) / N * 1e6

    print(f"AsyncMachine event with on_enter   {asyncio.run(run_async()):7.1f} µs")


if __name__ == "__main__":
    main()
