"""A small HTTP/1.1 client for the Graph API: keep-alive connections, one request at a time on each.

The Graph sends are small JSON POSTs to one host. aiohttp spent ~75 µs of CPU on each (a request and a
response object, a payload registry, a writer task, timers, cookie and redirect handling); this client
writes the request in one call and parses the answer with httptools (uvicorn's parser), ~20 µs.
Failures are raised as the httpx exceptions httpcore raises in the same situation (`ConnectError`,
`ConnectTimeout`, `ReadTimeout`, `RemoteProtocolError`, `ReadError`), so pywa and the sender see no
difference. No proxies, no redirects, no cookies: the Graph API needs none of them.
"""

from __future__ import annotations

import asyncio
import ssl
import time
import zlib
from collections import deque
from dataclasses import dataclass

import certifi
import httptools
import httpx

_DECODERS = {b"gzip": 16 + zlib.MAX_WBITS, b"deflate": zlib.MAX_WBITS}


@dataclass(slots=True)
class WireResponse:
    status: int
    headers: list[tuple[bytes, bytes]]
    content: bytes


class WireError(Exception):
    """Raised inside this module; `Wire.request` turns it into the matching httpx exception."""

    def __init__(self, kind: type[httpx.TransportError], message: str) -> None:
        super().__init__(message)
        self.kind = kind


class _Connection(asyncio.Protocol):
    """One keep-alive connection; httptools calls the `on_*` methods while `data_received` feeds it."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.waiter: asyncio.Future[WireResponse] | None = None
        self.closed = False
        self.idle_since = 0.0
        self.timer: asyncio.TimerHandle | None = None
        self._reset()

    def _reset(self) -> None:
        self.headers: list[tuple[bytes, bytes]] = []
        self.body: list[bytes] = []
        self.status = 0
        self.started = False
        self.keep_alive = True

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.started = True
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail(WireError(httpx.RemoteProtocolError, "unexpected protocol upgrade"))
        except httptools.HttpParserError as exc:
            self._fail(WireError(httpx.RemoteProtocolError, f"malformed response: {exc}"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.waiter is not None and not self.waiter.done():
            if self.status and not _framed(self.headers):  # a body that ends with the connection
                self.keep_alive = False
                self.on_message_complete()
            elif self.started:
                self._fail(WireError(httpx.RemoteProtocolError, "server disconnected during the response"))
            else:
                self._fail(WireError(httpx.RemoteProtocolError, "server disconnected without sending a response"))

    # httptools callbacks
    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        self.status = self.parser.get_status_code()

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        self.stop_timer()
        if self.closed is False:
            self.keep_alive = self.parser.should_keep_alive()
        if self.waiter is not None and not self.waiter.done():
            content = b"".join(self.body)
            try:
                content = _decode(self.headers, content)
            except zlib.error as exc:
                self._fail(WireError(httpx.DecodingError, f"cannot decode the body: {exc}"))  # type: ignore[arg-type]
                return
            self.waiter.set_result(WireResponse(self.status, self.headers, content))

    def _fail(self, error: WireError) -> None:
        self.stop_timer()
        self.keep_alive = False
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(error)
        if self.transport is not None:
            self.transport.close()

    # used by Wire
    def send(self, request: bytes, read_timeout: float | None) -> asyncio.Future[WireResponse]:
        """Write the request; the answer resolves the future, or ReadTimeout after `read_timeout` seconds
        (a timer on the loop: cheaper than an `asyncio.timeout` scope per request)."""
        assert self.transport is not None
        self._reset()
        self.parser = httptools.HttpResponseParser(self)
        loop = asyncio.get_running_loop()
        waiter = self.waiter = loop.create_future()
        if read_timeout is not None:
            self.timer = loop.call_later(read_timeout, self._time_out)
        self.transport.write(request)
        return waiter

    def _time_out(self) -> None:
        self._fail(WireError(httpx.ReadTimeout, "read timed out"))

    def stop_timer(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None


def _framed(headers: list[tuple[bytes, bytes]]) -> bool:
    return any(name.lower() in (b"content-length", b"transfer-encoding") for name, _ in headers)


def _decode(headers: list[tuple[bytes, bytes]], content: bytes) -> bytes:
    for name, value in headers:
        if name.lower() == b"content-encoding":
            wbits = _DECODERS.get(value.strip().lower())
            if wbits is not None and content:
                return zlib.decompress(content, wbits)
    return content


class Wire:
    """A pool of keep-alive connections per origin, for one event loop (made on first use in it)."""

    def __init__(self, *, max_connections: int = 100, keepalive_expiry: float = 15.0,
                 tls: ssl.SSLContext | None = None) -> None:
        self.max_connections = max_connections
        self.keepalive_expiry = keepalive_expiry
        self._tls = tls
        self._idle: dict[tuple[str, str, int], deque[_Connection]] = {}
        self._slots: asyncio.Semaphore | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._open: set[_Connection] = set()

    def _tls_context(self) -> ssl.SSLContext:
        if self._tls is None:
            self._tls = ssl.create_default_context(cafile=certifi.where())  # what httpx trusted
        return self._tls

    def _ready(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if self._slots is None or self._loop is not loop:  # a new loop: the old one's connections are gone
            self._idle, self._open = {}, set()
            self._slots = asyncio.Semaphore(self.max_connections)
            self._loop = loop
        return self._slots

    async def request(self, method: str, url: httpx.URL, head: bytes, body: bytes, *, connect_timeout: float | None,
                      read_timeout: float | None) -> WireResponse:
        """Send `method url` with `head` (header lines, each ending in CRLF) and `body`; the whole answer."""
        slots = self._ready()
        origin = (url.scheme, url.host, url.port or (443 if url.scheme == "https" else 80))
        target = url.raw_path.decode("ascii")
        host = origin[1] if url.port is None else f"{origin[1]}:{origin[2]}"
        message = (f"{method} {target} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {len(body)}\r\n".encode("ascii")
                   + head + b"\r\n" + body)
        if slots.locked():  # every connection busy: wait for one, at most the connect timeout
            try:
                async with asyncio.timeout(connect_timeout):
                    await slots.acquire()
            except TimeoutError:
                raise httpx.PoolTimeout("no connection free in time") from None
        else:
            await slots.acquire()
        connection = None
        try:
            connection = self._reuse(origin)
            if connection is None:
                try:
                    async with asyncio.timeout(connect_timeout):
                        connection = await self._connect(origin)
                except TimeoutError:
                    raise httpx.ConnectTimeout("connect timed out") from None
            try:
                return await connection.send(message, read_timeout)
            except WireError as exc:
                raise exc.kind(str(exc)) from None
        finally:
            if connection is not None:
                self._release(origin, connection)
            slots.release()

    def _reuse(self, origin: tuple[str, str, int]) -> _Connection | None:
        idle = self._idle.get(origin)
        now = time.monotonic()
        while idle:
            connection = idle.pop()
            if not connection.closed and now - connection.idle_since < self.keepalive_expiry:
                return connection
            self._close(connection)
        return None

    async def _connect(self, origin: tuple[str, str, int]) -> _Connection:
        scheme, host, port = origin
        tls = self._tls_context() if scheme == "https" else None
        try:
            _, connection = await asyncio.get_running_loop().create_connection(
                _Connection, host, port, ssl=tls, server_hostname=host if tls else None)
        except (OSError, ssl.SSLError) as exc:
            raise httpx.ConnectError(str(exc) or type(exc).__name__) from exc
        self._open.add(connection)
        return connection

    def _release(self, origin: tuple[str, str, int], connection: _Connection) -> None:
        waiter = connection.waiter
        done = waiter is not None and waiter.done() and not waiter.cancelled() and waiter.exception() is None
        if done and connection.keep_alive and not connection.closed:
            connection.waiter = None
            connection.idle_since = time.monotonic()
            self._idle.setdefault(origin, deque()).append(connection)
        else:
            self._close(connection)

    def _close(self, connection: _Connection) -> None:
        connection.stop_timer()
        self._open.discard(connection)
        if connection.transport is not None and not connection.closed:
            connection.transport.close()

    async def aclose(self) -> None:
        if self._loop is asyncio.get_running_loop():
            for connection in list(self._open):
                self._close(connection)
        self._idle, self._open, self._slots = {}, set(), None
