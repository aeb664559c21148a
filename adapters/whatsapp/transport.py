"""An httpx transport that sends through aiohttp, for pywa's Graph session.

pywa builds and parses messages with an httpx client; httpx's default transport (httpcore) cost
3.9-5.9 ms of CPU per Graph request under the webhook benchmark, against 0.21 ms for aiohttp (issue 10:
a pool scanned on every request, a failing `import sniffio` retried on every request). This transport
keeps httpx's interface, so pywa and our error handling stay as they are, and hands the wire to an
aiohttp `ClientSession` with a connection pool.

aiohttp's failures are raised as the httpx exceptions httpcore would raise (`ConnectError`,
`ConnectTimeout`, `ReadTimeout`, `RemoteProtocolError`, ...), and each request's timeout extension
(`connect`, `read`, `pool`) is honoured, so callers catching `httpx.TimeoutException` or
`httpx.TransportError` see no difference.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator, Iterator

import aiohttp
import certifi
import httpx
from yarl import URL

# Hop-by-hop headers aiohttp sets itself once the body is read into memory.
_SKIP_HEADERS = frozenset({b"transfer-encoding"})
_CHUNK = 64 * 1024


@contextlib.contextmanager
def map_aiohttp_errors(request: httpx.Request, phase: str = "read") -> Iterator[None]:
    """Re-raise aiohttp's exceptions as the httpx exceptions httpcore raises in the same situation."""
    try:
        yield
    except aiohttp.ConnectionTimeoutError as exc:  # no pooled connection, or no new one, in time
        raise httpx.ConnectTimeout(str(exc) or "connect timed out", request=request) from exc
    except aiohttp.ServerTimeoutError as exc:  # headers or body slower than `read`
        raise httpx.ReadTimeout(str(exc) or "read timed out", request=request) from exc
    except TimeoutError as exc:
        error = httpx.ConnectTimeout if phase == "connect" else httpx.ReadTimeout
        raise error(f"{phase} timed out", request=request) from exc
    except aiohttp.ClientConnectorError as exc:  # refused, unreachable, DNS, TLS handshake
        raise httpx.ConnectError(str(exc), request=request) from exc
    except (aiohttp.ServerDisconnectedError, aiohttp.ClientPayloadError, aiohttp.ClientResponseError) as exc:
        raise httpx.RemoteProtocolError(str(exc) or type(exc).__name__, request=request) from exc
    except aiohttp.InvalidURL as exc:
        raise httpx.UnsupportedProtocol(str(exc), request=request) from exc
    except (aiohttp.ClientOSError, aiohttp.ClientConnectionError) as exc:  # reset or broken pipe mid-exchange
        raise httpx.ReadError(str(exc) or type(exc).__name__, request=request) from exc
    except aiohttp.ClientError as exc:
        raise httpx.NetworkError(str(exc) or type(exc).__name__, request=request) from exc


def client_timeout(request: httpx.Request) -> aiohttp.ClientTimeout:
    """aiohttp's timeouts from httpx's per-request `timeout` extension (None means no limit).

    httpx's `write` has no aiohttp counterpart; a Graph request body is a few hundred bytes.
    """
    timeout = request.extensions.get("timeout") or {}
    connect, read, pool = timeout.get("connect"), timeout.get("read"), timeout.get("pool")
    # aiohttp's `connect` covers waiting for a pooled connection plus opening one; `sock_connect` the latter.
    acquire = None if connect is None or pool is None else connect + pool
    return aiohttp.ClientTimeout(total=None, connect=acquire, sock_connect=connect, sock_read=read)


def new_aiohttp_session(max_connections: int, max_per_host: int, keepalive_expiry: float, *,
                        decompress: bool = False, tls: ssl.SSLContext | None = None) -> aiohttp.ClientSession:
    """A pooled aiohttp session that trusts certifi's CA bundle (as httpx did) unless given `tls`, and keeps no
    cookies (the Graph API sets none). Under httpx, Content-Encoding is left to httpx (`decompress` False)."""
    tls = tls or ssl.create_default_context(cafile=certifi.where())
    connector = aiohttp.TCPConnector(limit=max_connections, limit_per_host=max_per_host,
                                     keepalive_timeout=keepalive_expiry, ttl_dns_cache=300, ssl=tls)
    return aiohttp.ClientSession(connector=connector, auto_decompress=decompress, cookie_jar=aiohttp.DummyCookieJar(),
                                 trust_env=False)


class SharedPool:
    """One pooled aiohttp session per event loop (aiohttp binds a session to the loop that opened it): opened
    on first use, and anew from another loop. `tls` replaces the default trust (certifi's bundle), e.g. for a
    private CA; `decompress` is off under httpx, which decodes Content-Encoding itself."""

    def __init__(self, max_connections: int = 100, keepalive_expiry: float = 15.0, *, max_per_host: int = 0,
                 decompress: bool = True, tls: ssl.SSLContext | None = None) -> None:
        self.max_connections = max_connections
        self.keepalive_expiry = keepalive_expiry
        self._max_per_host = max_per_host
        self._decompress = decompress
        self._tls = tls
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def get(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._loop is not loop:
            self._session = new_aiohttp_session(self.max_connections, self._max_per_host, self.keepalive_expiry,
                                                decompress=self._decompress, tls=self._tls)
            self._loop = loop
        return self._session

    async def aclose(self) -> None:
        if self._session is not None and not self._session.closed and self._loop is asyncio.get_running_loop():
            await self._session.close()
        self._session = None


class AiohttpResponseStream(httpx.AsyncByteStream):
    """The response body, read from aiohttp as httpx asks for it; closing returns the connection."""

    def __init__(self, response: aiohttp.ClientResponse, request: httpx.Request) -> None:
        self._response = response
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with map_aiohttp_errors(self._request):
            async for chunk in self._response.content.iter_chunked(_CHUNK):
                yield chunk

    async def aclose(self) -> None:
        self._response.release()


class AiohttpTransport(httpx.AsyncBaseTransport):
    """`httpx.AsyncClient(transport=AiohttpTransport())`: httpx's API over aiohttp's pooled connections.

    The `ClientSession` is opened on the first request, in the event loop that sends it (aiohttp binds a
    session to one loop); a request from another loop gets a fresh session.
    """

    def __init__(self, *, max_connections: int = 100, max_per_host: int = 0,
                 keepalive_expiry: float = 15.0) -> None:
        self._pool = SharedPool(max_connections, keepalive_expiry, max_per_host=max_per_host, decompress=False)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        session = self._pool.get()
        body = await request.aread()
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw
                   if k.lower() not in _SKIP_HEADERS]
        with map_aiohttp_errors(request, "connect"):
            response = await session.request(
                request.method, URL(str(request.url), encoded=True), headers=headers, data=body or None,
                allow_redirects=False, timeout=client_timeout(request), skip_auto_headers=("Content-Type",),
            )
        version = response.version
        http_version = f"HTTP/{version.major}.{version.minor}" if version is not None else "HTTP/1.1"
        return httpx.Response(
            status_code=response.status,
            headers=list(response.raw_headers),
            stream=AiohttpResponseStream(response, request),
            extensions={"http_version": http_version.encode(),
                        "reason_phrase": (response.reason or "").encode("latin-1")},
        )

    async def aclose(self) -> None:
        await self._pool.aclose()
