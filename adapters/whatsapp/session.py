"""The session pywa sends through in production: pywa's request calls, straight onto a small HTTP/1.1 client.

pywa builds each message's JSON and parses the answer; all it asks of its `httpx.AsyncClient` is
`headers`, `base_url` and `request(method, url, json=..., params=...)` returning something with
`status_code`, `text` and `json()`. Through httpx (even on the aiohttp transport, `transport.py`) one
send cost ~290 µs of CPU; httpx builds a Request, merges URLs, copies headers, wraps the body in
streams and builds a Response, for each of the 2.7 Graph calls an inbound message needs, and aiohttp
underneath cost ~80 µs more than `wire.Wire` (~35 µs). `GraphSession` does only what pywa uses:

- the same requests on the wire (method, URL under `whatsapp_graph_url` with httpx's query encoding,
  `Authorization`, `User-Agent`, the JSON body);
- the same failures: the httpx exceptions httpcore raises (`ConnectError`, `ReadTimeout`, ...), and an
  answer of 400 or more is a real `httpx.Response`, so `WhatsAppError` and its `raw_response` are what
  they were;
- a request it does not know (a file upload, a streamed download) goes through a real httpx client on
  the aiohttp transport.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

import httpx
import orjson

from adapters.whatsapp.transport import AiohttpTransport
from adapters.whatsapp.wire import Wire

JSON_HEADERS = {"Content-Type": "application/json"}
_http_log = logging.getLogger("httpx")


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


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
                 wire: Wire | None = None) -> None:
        self._graph = httpx.URL(graph_url.rstrip("/") or "https://graph.facebook.com")
        self.headers = httpx.Headers()
        self._base = ""
        self._timeout_config = httpx.Timeout(timeout, connect=connect_timeout)
        self._connect_timeout, self._read_timeout = connect_timeout, timeout
        self._wire = wire or Wire()
        self._fallback: httpx.AsyncClient | None = None
        self._urls: dict[str, httpx.URL] = {}
        self._head = b""
        self._head_from: list[tuple[bytes, bytes]] | None = None

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

    def _url(self, url: str) -> httpx.URL:
        found = self._urls.get(url)
        if found is None:
            found = httpx.URL(url if url.startswith(("http://", "https://")) else self._base + url)
            if len(self._urls) < 1024:  # pywa's endpoints are a handful of paths per phone id
                self._urls[url] = found
        return found

    def _header_lines(self) -> bytes:
        raw = self.headers.raw
        if raw != self._head_from:  # pywa sets them once; the token may be replaced
            lines = [(k, v) for k, v in raw if k.lower() not in (b"host", b"content-length", b"content-type")]
            lines += [(k.encode(), v.encode()) for k, v in JSON_HEADERS.items()]
            if any(b"\r" in k + v or b"\n" in k + v for k, v in lines):
                raise httpx.LocalProtocolError("a header holds a line break")
            self._head = b"".join(k + b": " + v + b"\r\n" for k, v in lines)
            self._head_from = list(raw)
        return self._head

    async def request(self, method: str, url: str, *, json: Any = None, params: Any = None,
                      **other: Any) -> GraphResponse | httpx.Response:
        if other:  # files, data, content, per-request headers: not a send, take the general road
            forwarded = {**dict(self.headers.items()), **dict(other.pop("headers", None) or {})}
            return await self._general().request(method, url, json=json, params=params, headers=forwarded, **other)
        target = self._url(url)
        if params:
            target = target.copy_merge_params(params)  # httpx's own encoding of the values
        body = orjson.dumps(json) if json is not None else b""
        try:
            answer = await self._wire.request(method, target, self._header_lines(), body,
                                              connect_timeout=self._connect_timeout, read_timeout=self._read_timeout)
        except httpx.TransportError as exc:
            exc.request = httpx.Request(method, target)
            raise
        if _http_log.isEnabledFor(logging.INFO):  # the line httpx logged for each request, kept for operators
            _http_log.info('HTTP Request: %s %s "HTTP/1.1 %d %s"', method, target, answer.status,
                           _reason(answer.status))
        if answer.status >= 400:  # pywa reads Meta's error from it and keeps it as `raw_response`
            return httpx.Response(answer.status, headers=answer.headers, content=answer.content,
                                  request=httpx.Request(method, target))
        return GraphResponse(answer.status, answer.content, answer.headers)

    def _general(self) -> httpx.AsyncClient:
        if self._fallback is None:
            self._fallback = httpx.AsyncClient(base_url=self._base, timeout=self._timeout_config,
                                               transport=AiohttpTransport())
        return self._fallback

    def stream(self, method: str, url: str, **kwargs: Any) -> Any:
        """A streamed download (pywa passes its headers along)."""
        return self._general().stream(method, url, **kwargs)

    async def aclose(self) -> None:
        await self._wire.aclose()
        if self._fallback is not None:
            await self._fallback.aclose()
