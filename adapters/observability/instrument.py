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

    def failure(exc: Exception) -> str:
        return "rate_limited" if getattr(exc, "kind", "") == "rate_limited" else "failed"

    def metered(method: Callable[..., Awaitable[Any]], success: str) -> Callable[..., Awaitable[Any]]:
        @functools.wraps(method)
        async def run(*args: Any, **kwargs: Any) -> Any:
            try:
                result = await method(*args, **kwargs)
            except Exception as exc:
                metrics.linking_event(failure(exc))
                raise
            metrics.linking_event(success)
            return result

        return run

    linking.start_link = metered(linking.start_link, "started")
    linking.verify_code = metered(linking.verify_code, "succeeded")
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
