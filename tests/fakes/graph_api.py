"""A fake WhatsApp Graph API on loopback: records every send, answers like Meta, fails on demand.

    with FakeGraphAPI() as graph:
        settings = Settings(whatsapp_graph_url=graph.url, whatsapp_token="t", whatsapp_phone_id="123")
        ...
        graph.fail_next(2, status=429)            # the next two sends are throttled
        graph.fail_next(1, code=131047)           # then one permanent error (outside 24 h window)
        graph.wait_for_messages(3)
        graph.messages                            # JSON bodies of every message sent (not read receipts)

Every POST to /{version}/{phone_id}/messages is recorded as a `GraphCall`. Read receipts
(`{"status": "read"}`) are recorded too but kept out of `messages`.
"""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.fakes.loopback import LoopbackServer

# Meta's answers for the codes tests usually need.
ERROR_TITLES = {
    130429: ("Rate limit hit", "OAuthException"),
    131000: ("Something went wrong", "OAuthException"),
    131026: ("Message undeliverable", "OAuthException"),
    131047: ("Re-engagement message", "OAuthException"),
    131056: ("Pair rate limit hit", "OAuthException"),
    100: ("Invalid parameter", "OAuthException"),
}


@dataclass(slots=True)
class GraphCall:
    version: str
    phone_id: str
    json: dict[str, Any]
    authorization: str
    at: float
    status: int
    wamid: str | None = None

    @property
    def is_read_receipt(self) -> bool:
        return self.json.get("status") == "read"

    @property
    def to(self) -> str:
        return str(self.json.get("to", ""))

    @property
    def text(self) -> str:
        """The visible text: text body, interactive body, or template name."""
        kind = self.json.get("type")
        if kind == "text":
            return self.json["text"]["body"]
        if kind == "interactive":
            return self.json["interactive"]["body"]["text"]
        if kind == "template":
            return self.json["template"]["name"]
        return ""


@dataclass(slots=True)
class _Failure:
    status: int
    code: int
    body: dict[str, Any] | None = None
    to: str | None = None  # only sends to this recipient fail


@dataclass
class FakeGraphAPI:
    """The fake server; `start()`/`stop()` or use it as a context manager."""

    delay: float = 0.0
    calls: list[GraphCall] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Condition()
        self._failures: list[_Failure] = []
        self._ids = itertools.count(1)
        self.app = Starlette(routes=[
            Route("/{version}/{phone_id}/messages", self._messages, methods=["POST"]),
        ])
        self._server = LoopbackServer(self.app)
        self.url = self._server.url

    # --- programming -----------------------------------------------------------------------------
    def fail_next(self, n: int = 1, *, status: int | None = None, code: int | None = None,
                  body: dict[str, Any] | None = None, to: str | None = None) -> None:
        """The next `n` message sends (to `to` only, if given) fail: `status` 429/500/... or Meta `code`."""
        if code is None:
            code = {429: 130429}.get(status or 0, 131000 if (status or 0) >= 500 else 100)
        if status is None:
            status = 429 if code in (130429, 131056) else 400
        with self._lock:
            self._failures.extend(_Failure(status, code, body, to) for _ in range(n))

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self._failures.clear()

    # --- reading ---------------------------------------------------------------------------------
    @property
    def messages(self) -> list[GraphCall]:
        """Successful message sends (read receipts and failed attempts left out)."""
        with self._lock:
            return [c for c in self.calls if not c.is_read_receipt and c.status == 200]

    def messages_to(self, to: str) -> list[GraphCall]:
        return [c for c in self.messages if c.to == to]

    @property
    def read_receipts(self) -> list[GraphCall]:
        with self._lock:
            return [c for c in self.calls if c.is_read_receipt]

    def wait_for_messages(self, n: int, timeout: float = 5.0) -> list[GraphCall]:
        """Block until at least `n` messages were sent; raise AssertionError after `timeout`."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                sent = [c for c in self.calls if not c.is_read_receipt and c.status == 200]
                if len(sent) >= n:
                    return sent
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"expected {n} messages, got {len(sent)}")
                self._lock.wait(left)

    # --- server ----------------------------------------------------------------------------------
    async def _messages(self, request: Request) -> JSONResponse:
        try:
            payload = await request.json()
        except ValueError:
            payload = {}
        if self.delay:  # Meta has the request by now: a client that gives up cannot take it back
            import asyncio

            await asyncio.sleep(self.delay)
        call = GraphCall(
            version=request.path_params["version"], phone_id=request.path_params["phone_id"],
            json=payload, authorization=request.headers.get("authorization", ""), at=time.time(),
            status=200,
        )
        with self._lock:
            failure = None
            if not call.is_read_receipt:
                for index, candidate in enumerate(self._failures):
                    if candidate.to in (None, call.to):
                        failure = self._failures.pop(index)
                        break
            if failure is None:
                call.wamid = f"wamid.fake.{next(self._ids)}"
            else:
                call.status = failure.status
            self.calls.append(call)
            self._lock.notify_all()
        if failure is not None:
            title, etype = ERROR_TITLES.get(failure.code, ("Error", "OAuthException"))
            body = failure.body or {"error": {
                "message": f"({failure.code}) {title}", "type": etype, "code": failure.code,
                "error_data": {"messaging_product": "whatsapp", "details": title},
                "fbtrace_id": "AFakeTrace",
            }}
            return JSONResponse(body, status_code=failure.status)
        if call.is_read_receipt:
            return JSONResponse({"success": True})
        return JSONResponse({
            "messaging_product": "whatsapp",
            "contacts": [{"input": call.to, "wa_id": call.to}],
            "messages": [{"id": call.wamid}],
        })

    def start(self) -> FakeGraphAPI:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> FakeGraphAPI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
