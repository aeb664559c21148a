"""Spacing sends at a fixed rate: Meta allows a phone number about 80 messages a second.

`await pacer.wait()` returns at `start + n / rate` for the n-th call, so any one-second window holds at
most `rate` starts (+1 at its edge), however long each send takes; sends run concurrently up to a bound.
Clock and sleep are passed in, so tests check the schedule without waiting for it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable


class Pacer:
    def __init__(self, rate: float, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        if rate <= 0:
            raise ValueError("the broadcast rate must be above 0 messages per second")
        self.rate = rate
        self.clock = clock
        self.sleep = sleep
        self._origin: float | None = None
        self._count = 0

    async def wait(self) -> float:
        """Wait for the next slot; returns the time it starts. Slots are `origin + n / rate` (no drift from
        adding up intervals); after an idle spell longer than a slot the schedule restarts from now."""
        now = self.clock()
        if self._origin is None or self._origin + self._count / self.rate < now:
            self._origin, self._count = now, 0
        slot = self._origin + self._count / self.rate
        self._count += 1
        if slot > now:
            await self.sleep(slot - now)
        return slot
