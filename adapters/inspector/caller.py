"""One logical HTTP request to Inspector: retried when safe, guarded by the circuit breaker, decoded.

The attempts are run by tenacity (the wait is `Backoff`: full jitter, or a 429's Retry-After).
Only idempotent calls are retried (GET, PUT, DELETE, and POST when it carries an Idempotency-Key), on
connect errors, timeouts, 429 (honouring Retry-After, capped) and 5xx. Every failed attempt counts
towards the circuit breaker, so an outage opens it after a few calls and later calls fail fast.
A 429 is not a failure of Inspector's health and leaves the breaker alone.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from pydantic import TypeAdapter, ValidationError
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_after_attempt

from adapters.inspector.errors import (
    InspectorBadResponse,
    InspectorConflict,
    InspectorError,
    InspectorNotFound,
    InspectorRejected,
    InspectorUnavailable,
)
from adapters.inspector.resilience import Backoff, CircuitBreaker, RetryableFailure

log = logging.getLogger("adapters.inspector")
_IDEMPOTENT = {"GET", "PUT", "DELETE", "HEAD", "OPTIONS"}
_adapters: dict[Any, TypeAdapter[Any]] = {}


def validate(shape: Any, data: Any, endpoint: str) -> Any:
    """`data` as `shape` (a model or `list[Model]`), or InspectorBadResponse naming the endpoint."""
    if shape not in _adapters:
        _adapters[shape] = TypeAdapter(shape)
    try:
        return _adapters[shape].validate_python(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '<body>'}: {e['msg']}" for e in exc.errors()[:3])
        raise InspectorBadResponse(f"unexpected response shape ({problems})", endpoint=endpoint) from None


class InspectorCaller:
    """Sends requests through `http`; `endpoint` is the path template used in errors and logs."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        retries: int,
        breaker: CircuitBreaker,
        backoff: Backoff,
        sleep: Callable[[float], Awaitable[None]],
    ) -> None:
        self.http = http
        self.retries = max(retries, 0)
        self.breaker = breaker
        self.backoff = backoff
        self.sleep = sleep

    async def call(
        self,
        method: str,
        endpoint: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        idempotency_key: str | None = None,
    ) -> Any:
        """Return the decoded JSON body (None for an empty one) or raise an InspectorError."""
        retryable = method in _IDEMPOTENT or (method == "POST" and bool(idempotency_key))
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        if params:
            params = {k: v for k, v in params.items() if v is not None}
        attempts = 1 + (self.retries if retryable else 0)
        last: InspectorError | None = None

        async def attempt() -> Any:
            nonlocal last
            if not self.breaker.allow():
                raise InspectorUnavailable("circuit open, Inspector is failing", endpoint=endpoint) from last
            try:
                response = await self.http.request(method, path, params=params, json=json, headers=headers)
            except httpx.TimeoutException:
                self.breaker.record_failure()
                last = InspectorUnavailable("timed out", endpoint=endpoint)
                raise RetryableFailure(last) from None
            except httpx.TransportError as exc:
                self.breaker.record_failure()
                last = InspectorUnavailable(f"connection failed ({type(exc).__name__})", endpoint=endpoint)
                raise RetryableFailure(last) from None
            status = response.status_code
            if status == 429:
                self.breaker.release()
                last = InspectorUnavailable("rate limited", endpoint=endpoint, status=429)
                raise RetryableFailure(last, retry_after=response.headers.get("Retry-After", ""))
            if status >= 500:
                self.breaker.record_failure()
                last = InspectorUnavailable(f"server error {status}", endpoint=endpoint, status=status)
                raise RetryableFailure(last)
            self.breaker.record_success()
            return _decode(response, endpoint)

        def before_sleep(state: RetryCallState) -> None:
            log.warning("Inspector %s failed (%s); retry %d of %d", endpoint, last, state.attempt_number,
                        attempts - 1)

        retrying = AsyncRetrying(stop=stop_after_attempt(attempts), wait=self.backoff, sleep=self.sleep,
                                 retry=retry_if_exception_type(RetryableFailure), before_sleep=before_sleep,
                                 reraise=True)
        try:
            return await retrying(attempt)
        except RetryableFailure as failed:
            log.error("Inspector %s failed: %s", endpoint, failed.error)
            raise failed.error from None


def _decode(response: httpx.Response, endpoint: str) -> Any:
    status = response.status_code
    if status >= 400:
        body = _error_body(response)
        message = str(body.get("detail") or "")[:200]
        if status == 404:
            raise InspectorNotFound(message or "not found", endpoint=endpoint, status=404)
        if status == 409:
            code = str(body.get("error") or "")
            raise InspectorConflict(message or "conflict", endpoint=endpoint, code=code)
        raise InspectorRejected(message or f"rejected with {status}", endpoint=endpoint, status=status)
    if status == 204 or not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        raise InspectorBadResponse("response is not JSON", endpoint=endpoint, status=status) from None


def _error_body(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
