"""The webhook benchmark counts what it claims: a lost reply is reported lost, a doubled one doubled.

A small server on loopback answers the load generator's signed webhooks through the benchmark's fake
Graph API (both real processes, as in a benchmark run) and misbehaves on purpose.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from adapters.whatsapp.signature import signature_valid
from bench.procs import Service, tree_cpu_seconds
from tests.fakes.loopback import LoopbackServer
from tests.redis_servers import free_port

ROOT = Path(__file__).resolve().parents[1]
SECRET = "bench-test-secret"


def misbehaving_bot(graph: str) -> Starlette:
    """Turn 0: two replies. Turn 1: none. Turn 2: one. A bad signature: 401."""

    async def webhook(request: Request) -> Response:
        body = await request.body()
        if not signature_valid(body, request.headers.get("x-hub-signature-256", ""), SECRET):
            return Response(status_code=401)
        message = json.loads(body)["entry"][0]["changes"][0]["value"]["messages"][0]
        turn = int(message["text"]["body"].rsplit(" ", 1)[1])
        reply = {"messaging_product": "whatsapp", "to": message["from"], "type": "text",
                 "text": {"body": "hi"}, "context": {"message_id": message["id"]}}
        async with httpx.AsyncClient(base_url=graph) as client:
            for _ in range({0: 2, 1: 0}.get(turn, 1)):
                await client.post("/v22.0/1/messages", json=reply)
            if turn == 2:  # a turn's further message, quoting nothing
                await client.post("/v22.0/1/messages", json={**reply, "context": {}})
        return Response(b"OK")

    return Starlette(routes=[Route("/api/v1/webhook", webhook, methods=["POST"])])


def load(url: str, events: str, secret: str, tag: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "bench.loadgen", "--url", url, "--events", events, "--secret", secret,
         "--phone-id", "1", "--tag", tag, "--phone-base", "2340000000100", "--users", "3", "--turns", "3",
         "--reply-timeout", "1", "--settle", "0.3"],
        cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_lost_doubled_and_further_replies_are_counted_per_user_and_turn(tmp_path):
    graph_port, events_port = free_port(), free_port()
    fake = Service("graph-fake", [sys.executable, "-m", "bench.graph_fake", "--port", str(graph_port),
                                  "--events-port", str(events_port)], graph_port, tmp_path, cwd=ROOT).start()
    try:
        with LoopbackServer(misbehaving_bot(fake.url)) as bot:
            url, events = bot.url + "/api/v1/webhook", f"127.0.0.1:{events_port}"
            result = load(url, events, SECRET, "t1")
            refused = load(url, events, "not-the-secret", "t2")
        stats = httpx.get(fake.url + "/stats").json()
        assert tree_cpu_seconds(fake.pid) > 0
    finally:
        fake.stop()
    assert (result["sent"], result["messages"], result["errors"]) == (9, 9, {})
    assert (result["lost"], result["duplicated"], result["further_messages"]) == (3, 3, 3)
    assert result["ack_p50"] is not None and result["e2e_p50"] is not None
    assert refused["messages"] == 0 and refused["errors"] == {"http 401": 9} and refused["lost"] == 0
    assert stats.pop("cpu_s") > 0  # its own CPU, part of the box's cost per message
    assert stats == {"messages": 12, "read_receipts": 0, "untagged": 3}
