"""The httpx session pywa sends through, pointed at `settings.whatsapp_graph_url`.

pywa hard-codes https://graph.facebook.com as its base URL; this transport rewrites scheme, host,
port and path prefix of every request, so a fake Graph API on loopback (or a proxy) receives the
exact requests production would send. Underneath, requests go out through aiohttp
(`adapters.whatsapp.transport`), not httpcore: a fifth of the CPU per Graph request.
"""

from __future__ import annotations

import httpx

from adapters.settings import Settings
from adapters.whatsapp.transport import AiohttpTransport

DEFAULT_GRAPH_URL = "https://graph.facebook.com"


class GraphURLTransport(httpx.AsyncBaseTransport):
    """Sends each request to `base_url` instead of the host pywa chose, keeping path and query."""

    def __init__(self, base_url: str, inner: httpx.AsyncBaseTransport | None = None) -> None:
        self._base = httpx.URL(base_url)
        self._prefix = self._base.path.rstrip("/")
        self._inner = inner or AiohttpTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.host == self._base.host and request.url.port == self._base.port:
            return await self._inner.handle_async_request(request)  # already pointed there (`point_at`)
        request.url = request.url.copy_with(
            scheme=self._base.scheme,
            host=self._base.host,
            port=self._base.port,
            path=self._prefix + request.url.path,
        )
        request.headers["Host"] = self._base.netloc.decode("ascii")
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


def graph_session(settings: Settings, *, timeout: float = 10.0,
                  transport: httpx.AsyncBaseTransport | None = None) -> httpx.AsyncClient:
    """A fresh AsyncClient for one pywa client (pywa refuses to share one between clients).

    `transport` is what carries the requests (default: aiohttp with a pool of 100 connections); the
    URL rewriting to `settings.whatsapp_graph_url` wraps it.
    """
    base = settings.whatsapp_graph_url.rstrip("/") or DEFAULT_GRAPH_URL
    inner = transport or AiohttpTransport(max_connections=100)
    outer = inner if base == DEFAULT_GRAPH_URL else GraphURLTransport(base, inner)
    return httpx.AsyncClient(timeout=httpx.Timeout(timeout, connect=5.0), transport=outer)


class _NoCookies(httpx.Cookies):
    """The Graph API sets no cookies; httpx would still parse every response for them."""

    def extract_cookies(self, response: httpx.Response) -> None:
        return None


def point_at(session: httpx.AsyncClient, graph_url: str) -> None:
    """Point a session pywa configured at `graph_url`, keeping pywa's API-version path.

    pywa sets `session.base_url` to https://graph.facebook.com/vNN in its constructor; replacing the origin
    there costs nothing per request, where rewriting every request's URL in the transport cost ~5% CPU."""
    base = httpx.URL(graph_url.rstrip("/") or DEFAULT_GRAPH_URL)
    current = session.base_url
    session.base_url = current.copy_with(scheme=base.scheme, host=base.host, port=base.port,
                                         path=base.path.rstrip("/") + current.path)
    if hasattr(session, "_cookies"):
        session._cookies = _NoCookies()
