"""How uvicorn serves the app: timeouts and limits, so idle or trickling connections cannot pile up.

Uvicorn closes idle keep-alive connections, but has no timeout for a request's headers or body: a client
sending one byte a minute held a connection (and a file descriptor) forever. The guarded protocols add
both: the headers of a request must arrive within `HTTP_HEADER_TIMEOUT` seconds of its first byte (or of
the connection), and its body within `HTTP_BODY_TIMEOUT` after the headers; otherwise the connection is
closed. `HTTP_LIMIT_CONCURRENCY` makes uvicorn answer 503 beyond that many connections and tasks.

httptools (uvicorn[standard]) is used when installed, as uvicorn's "auto" would; h11 otherwise.
"""

from __future__ import annotations

import asyncio
import importlib.util
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from adapters.settings import Settings


class RequestDeadlines:
    """The deadline bookkeeping both protocols share: one timer, for the headers or for the body.

    uvicorn takes a protocol *class* (pickled by name into `--workers` processes), so the deadlines are
    class attributes, set by `uvicorn_config_options` in each process that serves."""

    header_timeout: float = 10.0
    body_timeout: float = 30.0
    loop: asyncio.AbstractEventLoop
    transport: asyncio.Transport
    logger: Any
    _deadline: asyncio.TimerHandle | None = None
    _waiting_for: str = ""

    @classmethod
    def configure(cls, header_timeout: float, body_timeout: float) -> None:
        cls.header_timeout, cls.body_timeout = header_timeout, body_timeout

    def _arm(self, what: str) -> None:
        self._cancel()
        self._waiting_for = what
        seconds = self.header_timeout if what == "headers" else self.body_timeout
        self._deadline = self.loop.call_later(seconds, self._expired)

    def _cancel(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        self._deadline, self._waiting_for = None, ""

    def _expired(self) -> None:
        what = self._waiting_for
        self._deadline, self._waiting_for = None, ""
        if not self.transport.is_closing():
            self.logger.warning("closing a connection whose request %s did not arrive in time", what)
            self.transport.close()


class GuardedH11Protocol(RequestDeadlines, H11Protocol):
    """uvicorn's h11 protocol with a deadline for each request's headers and another for its body."""

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
        """Arm, keep or drop the deadline for what the connection waits for from the client."""
        state = self.conn.their_state
        what = "headers" if state is h11.IDLE else "body" if state is h11.SEND_BODY else ""
        if what == "headers" and self.cycle is not None and not self.cycle.response_complete:
            what = ""  # a request is being answered; the next one's headers have not started
        if what and what == self._waiting_for:
            return
        if what:
            self._arm(what)
        else:
            self._cancel()


def _httptools_protocol() -> type | None:
    if importlib.util.find_spec("httptools") is None:
        return None
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    class GuardedHttpToolsProtocol(RequestDeadlines, HttpToolsProtocol):
        """uvicorn's httptools protocol with the same deadlines, driven by the parser's callbacks."""

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm("headers")

        def on_message_begin(self) -> None:
            super().on_message_begin()
            if self._waiting_for != "headers":
                self._arm("headers")

        def on_headers_complete(self) -> None:
            super().on_headers_complete()
            self._arm("body")

        def on_message_complete(self) -> None:
            super().on_message_complete()
            self._cancel()

        def connection_lost(self, exc: Exception | None) -> None:
            self._cancel()
            super().connection_lost(exc)

    GuardedHttpToolsProtocol.__module__ = __name__
    GuardedHttpToolsProtocol.__qualname__ = "GuardedHttpToolsProtocol"
    return GuardedHttpToolsProtocol


#: None without httptools installed.
GuardedHttpToolsProtocol = _httptools_protocol()


def uvicorn_config_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for `uvicorn.Config` besides the app, host and port; sets this process's deadlines."""
    RequestDeadlines.configure(settings.http_header_timeout, settings.http_body_timeout)
    return {
        "http": GuardedHttpToolsProtocol or GuardedH11Protocol,
        "timeout_keep_alive": settings.http_keep_alive_timeout,
        "limit_concurrency": settings.http_limit_concurrency,
        "h11_max_incomplete_event_size": settings.http_max_header_bytes,
        "log_level": settings.log_level.lower(),
        "proxy_headers": True,
        "server_header": False,
    }
