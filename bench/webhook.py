"""Webhook benchmark: N simulated users, several turns each, through signed webhooks.

The app runs under uvicorn on loopback with real Redis and the fake Graph API; a bare Starlette
endpoint on the same machine gives the floor. Printed: acknowledgement latency (p50/p99), end-to-end
latency (webhook in -> Graph API call out), turns per second, and the ratio to the bare endpoint.

    .venv/bin/python -m bench.webhook --users 50 --turns 5
    .venv/bin/python -m bench.webhook --engine mypkg.wiring:build_engine   # a function returning an engine
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import inspect
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402
from redis.asyncio import Redis  # noqa: E402
from starlette.applications import Starlette  # noqa: E402
from starlette.responses import PlainTextResponse  # noqa: E402
from starlette.routing import Route  # noqa: E402

from adapters.settings import Settings  # noqa: E402
from adapters.whatsapp import create_webhook_app  # noqa: E402
from adapters.whatsapp.signature import sign  # noqa: E402
from engine.events import InboundEvent  # noqa: E402
from engine.messages import OutboundMessage  # noqa: E402
from engine.turn import Turn  # noqa: E402
from tests.fakes.graph_api import FakeGraphAPI  # noqa: E402

SECRET = "bench-secret"


class EchoEngine:
    async def handle(self, event: InboundEvent) -> Turn:
        return Turn(messages=[OutboundMessage(to=event.phone, text=f"echo:{event.text}")])

    def notice(self, phone: str, key: str, **values: object) -> OutboundMessage:
        return OutboundMessage(to=phone, text=key)


def echo_engine(settings: Settings) -> EchoEngine:
    """The default engine factory; any `module:function(settings) -> engine` can replace it."""
    return EchoEngine()


def load_factory(spec: str):
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)


def webhook_body(phone: str, text: str) -> bytes:
    import json

    msg = {"from": phone, "id": f"wamid.bench.{uuid.uuid4().hex}", "timestamp": str(int(time.time())),
           "type": "text", "text": {"body": text}}
    value = {"messaging_product": "whatsapp", "metadata": {"phone_number_id": "1"},
             "contacts": [{"profile": {"name": "Bench"}, "wa_id": phone}], "messages": [msg]}
    return json.dumps({"object": "whatsapp_business_account",
                       "entry": [{"id": "1", "changes": [{"field": "messages", "value": value}]}]}).encode()


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))] * 1000


class ReplyWatch:
    """One poller over the fake Graph API's record; each user awaits the future of its reply."""

    def __init__(self, graph: FakeGraphAPI) -> None:
        self.graph = graph
        self._waiting: dict[str, asyncio.Future[float]] = {}
        self._arrived: dict[str, float] = {}
        self._seen = 0
        self._task: asyncio.Task[None] | None = None

    def expect(self, text: str) -> asyncio.Future[float]:
        fut = asyncio.get_running_loop().create_future()
        if text in self._arrived:
            fut.set_result(self._arrived.pop(text))
        else:
            self._waiting[text] = fut
        if self._task is None:
            self._task = asyncio.create_task(self._poll())
        return fut

    async def _poll(self) -> None:
        while True:
            calls = self.graph.calls
            for call in calls[self._seen:]:
                if not call.is_read_receipt and call.status == 200:
                    tag = (call.text or "").partition("\n")[0]  # engines tag the first line `echo:<input>`
                    fut = self._waiting.pop(tag, None)
                    if fut is None:
                        self._arrived[tag] = call.at
                    elif not fut.done():
                        fut.set_result(call.at)
            self._seen = len(calls)
            await asyncio.sleep(0.0005)

    def close(self) -> None:
        if self._task is not None:
            self._task.cancel()


async def drive(url: str, users: int, turns: int, watch: ReplyWatch | None, path: str):
    ack: list[float] = []
    e2e: list[float] = []
    limits = httpx.Limits(max_connections=users, max_keepalive_connections=users)
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as client:

        async def user(i: int) -> None:
            phone = f"23480{i:08d}"
            for t in range(turns):
                text = f"u{i}t{t}"
                raw = webhook_body(phone, text)
                headers = {"X-Hub-Signature-256": sign(raw, SECRET), "Content-Type": "application/json"}
                reply = watch.expect(f"echo:{text}") if watch is not None else None
                start_wall, start = time.time(), time.perf_counter()
                r = await client.post(path, content=raw, headers=headers)
                ack.append(time.perf_counter() - start)
                r.raise_for_status()
                if reply is not None:
                    arrived = await asyncio.wait_for(reply, 30)
                    e2e.append(arrived - start_wall)

        began = time.perf_counter()
        await asyncio.gather(*(user(i) for i in range(users)))
        wall = time.perf_counter() - began
    return ack, e2e, wall


def build_app(graph_url: str, redis_url: str, namespace: str, engine_spec: str):
    settings = Settings(whatsapp_token="bench", whatsapp_phone_id="1", whatsapp_app_secret=SECRET,
                        whatsapp_verify_token="v", whatsapp_graph_url=graph_url,
                        rate_limit_per_minute=10_000, redis_url=redis_url)
    engine = load_factory(engine_spec)(settings)
    if inspect.isawaitable(engine):
        engine = asyncio.run(engine)  # only for factories that need set-up; no loop runs yet
    return create_webhook_app(settings, engine, Redis.from_url(redis_url), namespace=namespace,
                              instance="bench")


def build_bare():
    async def ok(request):
        await request.body()
        return PlainTextResponse("OK")

    return Starlette(routes=[Route("/api/v1/webhook", ok, methods=["POST"])])


def _serve(port: int, builder: str, args: tuple) -> None:
    import logging

    import uvicorn

    logging.basicConfig(level=logging.WARNING)
    app = globals()[builder](*args)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


class ServerProcess:
    """An app served by uvicorn in its own process (spawned), so the load generator does not share its GIL."""

    def __init__(self, builder: str, *args: object) -> None:
        import multiprocessing

        from tests.fakes.loopback import free_port

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        ctx = multiprocessing.get_context("spawn")
        self.proc = ctx.Process(target=_serve, args=(self.port, builder, args), daemon=True)

    def __enter__(self) -> ServerProcess:
        self.proc.start()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                httpx.get(self.url + "/", timeout=0.5)
                return self
            except httpx.TransportError:
                time.sleep(0.05)
        raise RuntimeError(f"server {self.url} did not start")

    def __exit__(self, *exc: object) -> None:
        self.proc.terminate()  # SIGTERM: uvicorn shuts down gracefully
        self.proc.join(10)


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--users", type=int, default=50)
    ap.add_argument("--turns", type=int, default=5)
    ap.add_argument("--engine", default="bench.webhook:echo_engine", help="module:function(settings) -> engine")
    ap.add_argument("--redis", default=os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0")
    args = ap.parse_args()

    namespace = f"bench:wa:{uuid.uuid4().hex[:8]}"
    with FakeGraphAPI() as graph:
        with ServerProcess("build_app", graph.url, args.redis, namespace, args.engine) as served, \
                ServerProcess("build_bare") as floor:
            watch = ReplyWatch(graph)
            ack, e2e, wall = await drive(served.url, args.users, args.turns, watch, "/api/v1/webhook")
            watch.close()
            bare_ack, _, bare_wall = await drive(floor.url, args.users, args.turns, None, "/api/v1/webhook")
            async with httpx.AsyncClient(base_url=served.url) as c:
                counters = (await c.get("/api/v1/status")).json()["counters"]

    cleanup = Redis.from_url(args.redis)
    keys = [k async for k in cleanup.scan_iter(match=f"{namespace}*", count=1000)]
    if keys:
        await cleanup.delete(*keys)
    await cleanup.aclose()

    n = args.users * args.turns
    print(f"users={args.users} turns={args.turns} messages={n} engine={args.engine}")
    print(f"app   ack      p50={pct(ack, 50):7.2f} ms  p99={pct(ack, 99):7.2f} ms")
    print(f"app   end2end  p50={pct(e2e, 50):7.2f} ms  p99={pct(e2e, 99):7.2f} ms  "
          f"(webhook in -> Graph API call out)")
    print(f"app   throughput {n / wall:8.1f} msg/s (each user waits for its reply)")
    print(f"bare  ack      p50={pct(bare_ack, 50):7.2f} ms  p99={pct(bare_ack, 99):7.2f} ms  "
          f"throughput {n / bare_wall:8.1f} req/s")
    print(f"ratio ack p50 app/bare = {statistics.median(ack) / statistics.median(bare_ack):.2f}x")
    print(f"counters {counters}")


if __name__ == "__main__":
    asyncio.run(main())
