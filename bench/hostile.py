"""Hostile-text benchmark: does one user's huge message delay another user's acknowledgement?

The real composed app (flows.yaml, engine, embedded store, sandbox Inspector, a logging sender) under
uvicorn on loopback. User A, unlinked, sends one text of `--kb` KB (no `@`: the worst case of the old
quadratic email regex, 19 s at 100 KB); meanwhile user B sends a small message every 50 ms. Printed: the
slowest and median acknowledgement of B while A's message is processed, and how long A's turn took.

    .venv/bin/python -m bench.hostile --kb 100
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402

from adapters.settings import Settings  # noqa: E402
from adapters.whatsapp.outbound import LogSender  # noqa: E402
from adapters.whatsapp.signature import sign  # noqa: E402
from app.runtime import build_runtime  # noqa: E402
from app.web import create_app  # noqa: E402
from tests.fakes.loopback import LoopbackServer  # noqa: E402

SECRET = "bench-secret"
ROOT = Path(__file__).resolve().parent.parent


def body(sender: str, text: str, n: int) -> bytes:
    message = {"from": sender, "id": f"wamid.bench.{sender}.{n}", "timestamp": str(int(time.time())),
               "type": "text", "text": {"body": text}}
    return json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages",
                       "value": {"messaging_product": "whatsapp", "messages": [message],
                                 "contacts": [{"wa_id": sender, "profile": {"name": "Bench"}}]}}]}]}).encode()


async def post(client: httpx.AsyncClient, raw: bytes) -> float:
    started = time.perf_counter()
    response = await client.post("/api/v1/webhook", content=raw,
                                 headers={"X-Hub-Signature-256": sign(raw, SECRET), "Content-Type": "application/json"})
    response.raise_for_status()
    return time.perf_counter() - started


async def run(kb: int, seconds: float) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = replace(Settings(), flows_path=ROOT / "flows.yaml", database_url=f"sqlite:///{tmp}/db.sqlite",
                           whatsapp_app_secret=SECRET, rate_limit_per_minute=10_000)
        runtime = build_runtime(settings)
        app = create_app(runtime, sender=LogSender())
        with LoopbackServer(app) as server:
            async with httpx.AsyncClient(base_url=server.url, timeout=120) as client:
                await post(client, body("2348000000001", "hi", 0))  # A: now waiting for an email
                await asyncio.sleep(0.5)
                acks: list[float] = []
                done_at: list[float] = []
                started = time.perf_counter()
                huge = asyncio.create_task(post(client, body("2348000000001", "a" * (kb * 1024), 1)))
                n = 0
                while time.perf_counter() - started < seconds:
                    n += 1
                    acks.append(await post(client, body("2348000000002", f"hello {n}", n)))
                    done_at.append(time.perf_counter())
                    await asyncio.sleep(0.05)
                huge_ack = await huge
                drained = await app.state.dispatcher.drain(120)
        await runtime.aclose()
    # The server runs in a thread of this process: a stall freezes this client too, so the longest gap
    # between two of B's acks (one 50 ms pause apart) is what B waited, whichever side noticed.
    gaps = [b - a - 0.05 for a, b in zip([started, *done_at], done_at, strict=False)]
    print(f"{kb} KB text from A (acked in {huge_ack * 1000:.0f} ms): B's {len(acks)} acks in {seconds:.0f} s, "
          f"median {statistics.median(acks) * 1000:.1f} ms, longest wait {max(gaps) * 1000:.0f} ms; "
          f"all processed: {drained}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kb", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    asyncio.run(run(args.kb, args.seconds))


if __name__ == "__main__":
    main()
