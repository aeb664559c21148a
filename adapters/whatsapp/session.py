"""The session pywa sends through in production: pywa's request calls, straight onto aiohttp.

pywa builds each message's JSON and parses the answer; all it asks of its `httpx.AsyncClient` is
`headers`, `base_url` and `request(method, url, json=..., params=...)` returning something with
`status_code`, `text` and `json()`. Through httpx (even on the aiohttp transport, `transport.py`) one
send cost ~290 µs of CPU, against ~75 µs for aiohttp alone: httpx builds a Request, merges URLs, copies
headers, wraps the body in streams and builds a Response, for each of the 2.7 Graph calls an inbound
message needs. `GraphSession` does only what pywa uses:

- the same requests on the wire (method, URL under `whatsapp_graph_url`, `Authorization`, JSON body);
- the same failures: aiohttp's errors are raised as the httpx exceptions httpcore raises
  (`map_aiohttp_errors`), and an answer of 400 or more is a real `httpx.Response`, so `WhatsAppError`
  and its `raw_response` are what they were;
- a request it does not know (a file upload, a streamed download) goes through a real httpx client on
  the aiohttp transport.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import httpx
import orjson
from yarl import URL

from adapters.whatsapp.transport import AiohttpTransport, map_aiohttp_errors, new_aiohttp_session

JSON_HEADERS = {"Content-Type": "application/json"}


class GraphResponse:
    """A successful Graph answer: what pywa reads of it (status, body, JSON)."""

    __slots__ = ("status_code", "content", "headers")

    def __init__(self, status_code: int, content: bytes, headers: Any) -> None:
        self.status_code = status_code
        self.content = content
        self.headers = headers

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def json(self) -> Any:
        return orjson.loads(self.content)


class SharedPool:
    """One aiohttp session (connection pool) for the sessions of one sender, per event loop."""

    def __init__(self, max_connections: int = 100, keepalive_expiry: float = 15.0) -> None:
        self.max_connections = max_connections
        self.keepalive_expiry = keepalive_expiry
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def get(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._loop is not loop:
            self._session = new_aiohttp_session(self.max_connections, 0, self.keepalive_expiry, decompress=True)
            self._loop = loop
        return self._session

    async def aclose(self) -> None:
        if self._session is not None and not self._session.closed and self._loop is asyncio.get_running_loop():
            await self._session.close()
        self._session = None


class GraphSession:
    """Stands in for pywa's `httpx.AsyncClient`: `WhatsApp(session=GraphSession(...))`.

    `graph_url` replaces the origin pywa sets (https://graph.facebook.com) and keeps its API-version path.
    """

    def __init__(self, graph_url: str, *, timeout: float = 10.0, connect_timeout: float = 5.0,
                 pool: SharedPool | None = None) -> None:
        self._graph = httpx.URL(graph_url.rstrip("/") or "https://graph.facebook.com")
        self.headers = httpx.Headers()
        self._base = ""
        self._timeout_config = httpx.Timeout(timeout, connect=connect_timeout)
        # aiohttp's `connect` covers waiting for a pooled connection plus opening one (httpx: pool + connect).
        self._timeout = aiohttp.ClientTimeout(total=None, connect=connect_timeout + timeout,
                                              sock_connect=connect_timeout, sock_read=timeout)
        self._pool = pool or SharedPool()
        self._fallback: httpx.AsyncClient | None = None
        self._urls: dict[str, URL] = {}
        self._wire_headers: dict[str, str] = {}
        self._wire_from: list[tuple[bytes, bytes]] = []

    @property
    def base_url(self) -> httpx.URL:
        return httpx.URL(self._base)

    @base_url.setter
    def base_url(self, value: str | httpx.URL) -> None:
        url = httpx.URL(str(value))
        prefix = self._graph.path.rstrip("/")
        self._base = str(url.copy_with(scheme=self._graph.scheme, host=self._graph.host, port=self._graph.port,
                                       path=prefix + url.path.rstrip("/")))
        self._urls.clear()

    @property
    def timeout(self) -> httpx.Timeout:
        return self._timeout_config

    def _url(self, url: str) -> URL:
        found = self._urls.get(url)
        if found is None:
            found = URL(url if url.startswith(("http://", "https://")) else self._base + url)
            if len(self._urls) < 1024:  # pywa's endpoints are a handful of paths per phone id
                self._urls[url] = found
        return found

    def _headers(self) -> dict[str, str]:
        raw = self.headers.raw
        if raw != self._wire_from:  # pywa sets them once; the token may be replaced
            self._wire_from = list(raw)
            self._wire_headers = {**dict(self.headers.items()), **JSON_HEADERS}
        return self._wire_headers

    async def request(self, method: str, url: str, *, json: Any = None, params: Any = None,
                      **other: Any) -> GraphResponse | httpx.Response:
        if other:  # files, data, content, per-request headers: not a send, take the general road
            forwarded = {**dict(self.headers.items()), **dict(other.pop("headers", None) or {})}
            return await self._general().request(method, url, json=json, params=params, headers=forwarded, **other)
        target = self._url(url)
        if params:
            target = target.update_query({k: str(v) for k, v in params.items() if v is not None})
        body = orjson.dumps(json) if json is not None else None
        phase = "connect"
        try:
            async with self._pool.get().request(method, target, data=body, headers=self._headers(),
                                                allow_redirects=False, timeout=self._timeout) as response:
                phase = "read"
                content = await response.read()
                status, headers = response.status, response.headers
        except (aiohttp.ClientError, TimeoutError):
            with map_aiohttp_errors(self._request_for(method, target), phase):
                raise
        if status >= 400:  # pywa reads Meta's error from it and keeps it as `raw_response`
            return httpx.Response(status, headers=list(headers.items()), content=content,
                                  request=self._request_for(method, target))
        return GraphResponse(status, content, headers)

    def _request_for(self, method: str, url: URL) -> httpx.Request:
        return httpx.Request(method, str(url))

    def _general(self) -> httpx.AsyncClient:
        if self._fallback is None:
            self._fallback = httpx.AsyncClient(base_url=self._base, timeout=self._timeout_config,
                                               transport=AiohttpTransport())
        return self._fallback

    def stream(self, method: str, url: str, **kwargs: Any) -> Any:
        """A streamed download (pywa passes its headers along)."""
        return self._general().stream(method, url, **kwargs)

    async def aclose(self) -> None:
        await self._pool.aclose()
        if self._fallback is not None:
            await self._fallback.aclose()
