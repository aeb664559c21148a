"""How uvicorn serves the app: timeouts and limits, so idle or trickling connections cannot pile up.

Uvicorn closes idle keep-alive connections, but has no timeout for a request's headers or body: a client
sending one byte a minute held a connection (and a file descriptor) forever. `GuardedH11Protocol` adds
both: the headers of a request must arrive within `HTTP_HEADER_TIMEOUT` seconds of its first byte (or of
the connection), and its body within `HTTP_BODY_TIMEOUT` after the headers; otherwise the connection is
closed. `HTTP_LIMIT_CONCURRENCY` makes uvicorn answer 503 beyond that many connections and tasks.
"""

from __future__ import annotations

import asyncio
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from adapters.settings import Settings


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline for each request's headers and another for its body.

    uvicorn takes a protocol *class* (pickled by name into `--workers` processes), so the deadlines are
    class attributes, set by `uvicorn_config_options` in each process that serves."""

    header_timeout: float = 10.0
    body_timeout: float = 30.0

    @classmethod
    def configure(cls, header_timeout: float, body_timeout: float) -> None:
        cls.header_timeout, cls.body_timeout = header_timeout, body_timeout

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None
        self._waiting_for: Any = None  # the h11 state the deadline is for (IDLE: headers, SEND_BODY: body)

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._watch()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._watch()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._cancel()  # idle now: uvicorn's keep-alive timeout applies until the next byte

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel()
        super().connection_lost(exc)

    def _watch(self) -> None:
        """Arm, keep or drop the deadline for what the connection is waiting for from the client."""
        state = self.conn.their_state
        if state is h11.IDLE and self.cycle is not None and not self.cycle.response_complete:
            state = None  # a request is being answered; the next one's headers have not started
        if state is self._waiting_for and self._deadline is not None:
            return
        self._cancel()
        if state is h11.IDLE:
            self._arm(state, self.header_timeout)
        elif state is h11.SEND_BODY:
            self._arm(state, self.body_timeout)

    def _arm(self, state: Any, seconds: float) -> None:
        self._waiting_for = state
        self._deadline = self.loop.call_later(seconds, self._expired)

    def _cancel(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        self._deadline = self._waiting_for = None

    def _expired(self) -> None:
        what = "headers" if self._waiting_for is h11.IDLE else "body"
        self._deadline = self._waiting_for = None
        if not self.transport.is_closing():
            self.logger.warning("closing a connection whose request %s did not arrive in time", what)
            self.transport.close()


def uvicorn_config_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for `uvicorn.Config` besides the app, host and port; sets this process's deadlines."""
    GuardedH11Protocol.configure(settings.http_header_timeout, settings.http_body_timeout)
    return {
        "http": GuardedH11Protocol,
        "timeout_keep_alive": settings.http_keep_alive_timeout,
        "limit_concurrency": settings.http_limit_concurrency,
        "h11_max_incomplete_event_size": settings.http_max_header_bytes,
        "log_level": settings.log_level.lower(),
        "proxy_headers": True,
        "server_header": False,
    }
