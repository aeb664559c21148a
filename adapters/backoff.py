"""One rule for how long to wait before trying again, shared by every retry loop of the adapters.

Exponential (base, 2x base, 4x base ...), capped, with "equal jitter": a random point in the upper half of
the step, so processes that failed together do not retry together, yet the wait never collapses to zero.
The Inspector client and the email sender run their loops with tenacity; the pipeline's hot loops (every
Redis call of a turn) use this function directly, where a retry library's per-call cost would show.
"""

from __future__ import annotations

import random


def backoff_delay(attempt: int, *, base: float, cap: float, jitter: bool = True,
                  rng: random.Random | None = None) -> float:
    """Seconds to wait after failed attempt number `attempt` (1 for the first failure)."""
    step = min(cap, base * 2 ** max(0, attempt - 1))
    if not jitter:
        return step
    return step * (0.5 + (rng or random).random() / 2)
