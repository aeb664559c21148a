"""The session pywa sends through in production: pywa's request calls, straight onto aiohttp.

pywa builds each message's JSON and parses the answer; all it asks of its `httpx.AsyncClient` is
`headers`, `base_url` and `request(method, url, json=..., params=...)` returning something with
`status_code`, `text` and `json()`. Through httpx (even on the aiohttp transport, `transport.py`) one
send cost ~290 µs of CPU, against ~75 µs for aiohttp alone: httpx builds a Request, merges URLs, copies
headers, wraps the body in streams and builds a Response, for each of the 2.7 Graph calls an inbound
message needs. `GraphSession` does only what pywa uses:

- the same requests on the wire (method, URL under `whatsapp_graph_url` with httpx's query encoding,
  `Authorization`, `User-Agent`, the JSON body);
- the same failures: aiohttp's errors are raised as the httpx exceptions httpcore raises
  (`map_aiohttp_errors`), and an answer of 400 or more is a real `httpx.Response`, so `WhatsAppError`
  and its `raw_response` are what they were;
- a request it does not know (a file upload, a streamed download) goes through a real httpx client on
  the aiohttp transport.
"""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
import httpx
import orjson
from yarl import URL

from adapters.whatsapp.transport import AiohttpTransport, SharedPool, map_aiohttp_errors

JSON_HEADERS = {"Content-Type": "application/json"}
# Set by aiohttp from the request itself; a copy from pywa's headers would contradict it.
_OWN_HEADERS = frozenset({b"host", b"content-length", b"content-type"})
_http_log = logging.getLogger("httpx")


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
        self._wire_headers: list[tuple[str, str]] = []
        self._wire_from: list[tuple[bytes, bytes]] | None = None

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

    def _url(self, url: str, params: Any) -> URL:
        if params:  # httpx's own encoding of the values (True as "true", None as "")
            return URL(str(httpx.URL(self._absolute(url), params=params)), encoded=True)
        found = self._urls.get(url)
        if found is None:
            found = URL(str(httpx.URL(self._absolute(url))), encoded=True)
            if len(self._urls) < 1024:  # pywa's endpoints are a handful of paths per phone id
                self._urls[url] = found
        return found

    def _absolute(self, url: str) -> str:
        return url if url.startswith(("http://", "https://")) else self._base + url

    def _headers(self) -> list[tuple[str, str]]:
        raw = self.headers.raw
        if raw != self._wire_from:  # pywa sets them once; the token may be replaced
            lines = [(k, v) for k, v in raw if k.lower() not in _OWN_HEADERS]
            if any(b"\r" in k + v or b"\n" in k + v for k, v in lines):  # what h11 refused under httpx
                raise httpx.LocalProtocolError("a header holds a line break")
            self._wire_headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in lines]
            self._wire_headers += JSON_HEADERS.items()
            self._wire_from = list(raw)
        return self._wire_headers

    async def request(self, method: str, url: str, *, json: Any = None, params: Any = None,
                      **other: Any) -> GraphResponse | httpx.Response:
        if other:  # files, data, content, per-request headers: not a send, take the general road
            forwarded = {**dict(self.headers.items()), **dict(other.pop("headers", None) or {})}
            return await self._general().request(method, url, json=json, params=params, headers=forwarded, **other)
        target = self._url(url, params)
        body = orjson.dumps(json) if json is not None else None
        phase = "connect"
        try:
            async with self._pool.get().request(method, target, data=body, headers=self._headers(),
                                                allow_redirects=False, timeout=self._timeout) as response:
                phase = "read"
                content = await response.read()
                status, headers = response.status, response.headers
        except (aiohttp.ClientError, TimeoutError):
            with map_aiohttp_errors(httpx.Request(method, str(target)), phase):
                raise
        if _http_log.isEnabledFor(logging.INFO):  # the line httpx logged for each request, kept for operators
            version = response.version
            _http_log.info('HTTP Request: %s %s "HTTP/%d.%d %d %s"', method, target, version.major if version else 1,
                           version.minor if version else 1, status, response.reason or "")
        if status >= 400:  # pywa reads Meta's error from it and keeps it as `raw_response`
            # aiohttp already decoded the body: a Content-Encoding left in would have httpx decode it again.
            return httpx.Response(status, content=content, request=httpx.Request(method, str(target)),
                                  headers=[(k, v) for k, v in headers.items() if k.lower() != "content-encoding"])
        return GraphResponse(status, content, headers)

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
