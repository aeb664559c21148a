"""Counting around existing services without changing their signatures: jobs and account linking.

Both wrap the public entry points once, in the composition root, so every caller (webhook flows, REST
routes, the worker) is counted the same way and the services themselves stay free of metrics code.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from arq.worker import Retry

from adapters.observability.metrics import Metrics

Job = TypeVar("Job", bound=Callable[..., Awaitable[Any]])

#: What a job may return that is worth its own label; anything else is `ok`.
JOB_OUTCOMES = {"dead-lettered": "dead_lettered", "failed": "failed", "expired": "expired", "duplicate": "duplicate"}


def metered_job(job: Job, metrics: Metrics) -> Job:
    """`job` counted by name and outcome: ok, retry (arq will run it again), error, dead_lettered, ..."""
    name = job.__name__

    @functools.wraps(job)
    async def run(ctx: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        try:
            result = await job(ctx, *args, **kwargs)
        except Retry:
            metrics.job_finished(name, "retry")
            raise
        except Exception:
            metrics.job_finished(name, "error")
            raise
        metrics.job_finished(name, JOB_OUTCOMES.get(result, "ok") if isinstance(result, str) else "ok")
        return result

    return run  # type: ignore[return-value]


def instrument_linking(linking: Any, metrics: Metrics) -> Any:
    """Count `start_link` (started / rate_limited / failed) and `verify_code` (succeeded / failed) on `linking`."""
    start_link, verify_code = linking.start_link, linking.verify_code

    def failure(exc: Exception) -> str:
        return "rate_limited" if getattr(exc, "kind", "") == "rate_limited" else "failed"

    @functools.wraps(start_link)
    async def metered_start(*args: Any, **kwargs: Any) -> Any:
        try:
            result = await start_link(*args, **kwargs)
        except Exception as exc:
            metrics.linking_event(failure(exc))
            raise
        metrics.linking_event("started")
        return result

    @functools.wraps(verify_code)
    async def metered_verify(*args: Any, **kwargs: Any) -> Any:
        try:
            result = await verify_code(*args, **kwargs)
        except Exception as exc:
            metrics.linking_event(failure(exc))
            raise
        metrics.linking_event("succeeded")
        return result

    linking.start_link, linking.verify_code = metered_start, metered_verify
    return linking


def counted_action(count: Callable[[], Awaitable[None]]) -> Callable[[Any], Any]:
    """An `ActionRegistry.wrap` wrapper that awaits `count()` after each successful call of the action."""

    def wrapper(action: Any) -> Any:
        @functools.wraps(action)
        async def run(ctx: Any, **args: Any) -> Any:
            result = await action(ctx, **args)
            await count()
            return result

        return run

    return wrapper
