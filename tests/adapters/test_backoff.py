"""The one backoff rule every adapter retry loop uses."""

from __future__ import annotations

import random

from adapters.backoff import backoff_delay


def test_doubles_from_the_base_up_to_the_cap_without_jitter():
    assert [backoff_delay(n, base=0.5, cap=4, jitter=False) for n in range(1, 7)] == [0.5, 1, 2, 4, 4, 4]


def test_jitter_stays_in_the_upper_half_of_each_step():
    rng = random.Random(1)
    for attempt in range(1, 8):
        step = backoff_delay(attempt, base=0.1, cap=2, jitter=False)
        for _ in range(200):
            assert step / 2 <= backoff_delay(attempt, base=0.1, cap=2, rng=rng) <= step
