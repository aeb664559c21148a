"""CPU per Graph call of the sender, by road: pywa over httpx on the aiohttp transport, pywa over
`GraphSession` straight onto aiohttp (the default), and bare aiohttp posting the same JSON (no pywa) for scale.

The fake Graph API runs in its own process, so the figure is the sending process's CPU alone
(time.process_time over N calls, 20 in flight), which the load on a shared box moves far less than
throughput.

    .venv/bin/python bench/graph_send.py            # 3000 calls per road, twice
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp  # noqa: E402
import uvloop  # noqa: E402

from adapters.settings import Settings  # noqa: E402
from adapters.whatsapp.outbound import WhatsAppSender  # noqa: E402
from adapters.whatsapp.transport import AiohttpTransport  # noqa: E402
from engine.messages import OutboundMessage  # noqa: E402
from tests.redis_servers import free_port  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
IN_FLIGHT = 20


def _message(i: int) -> OutboundMessage:
    return OutboundMessage(to=f"+2348000000{i % 50:03d}", text="hello there " * 5, reply_to=f"wamid.{i}")


async def _measure(road: str, url: str, calls: int) -> tuple[float, float]:
    closers: list[Callable[[], Awaitable[None]]] = []
    settings = Settings(whatsapp_token="t", whatsapp_phone_id="123", whatsapp_graph_url=url)
    one: Callable[[int], Awaitable[None]]
    if road in ("httpx+aiohttp", "default", "default read receipt"):
        sender = WhatsAppSender(settings, transport=AiohttpTransport() if road == "httpx+aiohttp" else None)
        closers.append(sender.aclose)

        async def send(i: int) -> None:
            result = await sender.send_once(_message(i))
            assert result.ok, result

        async def read(i: int) -> None:
            await sender.mark_read(f"wamid.{i}")

        one = read if road == "default read receipt" else send
    else:
        session = aiohttp.ClientSession()
        closers.append(session.close)

        async def one(i: int) -> None:
            body = json.dumps({"messaging_product": "whatsapp", "to": f"2348000000{i % 50:03d}", "type": "text",
                               "text": {"body": "hello there " * 5}, "context": {"message_id": f"wamid.{i}"}})
            async with session.post(f"{url}/v22.0/123/messages", data=body.encode(),
                                    headers={"Authorization": "Bearer t", "Content-Type": "application/json"}) as r:
                await r.read()

    async def lane(start: int) -> None:
        for i in range(start, calls, IN_FLIGHT):
            await one(i)

    await asyncio.gather(*(lane(k) for k in range(IN_FLIGHT)))  # warm-up: connections, imports
    wall, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(lane(k) for k in range(IN_FLIGHT)))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    for close in closers:
        await close()
    return 1e6 * cpu / calls, calls / wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    port, events = free_port(), free_port()
    fake = subprocess.Popen([sys.executable, "-m", "bench.graph_fake", "--port", str(port), "--events-port",
                             str(events)], cwd=ROOT)
    try:
        time.sleep(1.5)
        url = f"http://127.0.0.1:{port}"
        for _ in range(args.repeat):
            for road in ("httpx+aiohttp", "default", "default read receipt", "bare aiohttp (no pywa)"):
                cpu, rate = uvloop.run(_measure(road, url, args.calls))
                print(f"{road:24s} {cpu:7.1f} µs CPU per call   {rate:7.0f} calls/s", flush=True)
    finally:
        fake.terminate()
        fake.wait(10)


if __name__ == "__main__":
    main()
