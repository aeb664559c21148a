"""Two real webhook processes on one Redis: one is SIGKILLed under load, the survivor finishes its work."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.adapters.whatsapp import payloads as p
from tests.adapters.whatsapp.conftest import REDIS_URL, SECRET
from tests.redis_servers import free_port

ROOT = Path(__file__).resolve().parents[3]
USERS = [f"23480400000{i:02d}" for i in range(10)]
TURNS = 20


def start_server(port: int, prefix: str, graph_url: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.adapters.whatsapp.echo_server", "--port", str(port), "--redis", REDIS_URL,
         "--prefix", prefix, "--graph", graph_url],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True)


async def wait_healthy(url: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            try:
                if (await client.get(f"{url}/health")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError(f"{url} never became healthy")


async def test_sigkill_of_one_of_two_processes_under_load_the_survivor_finishes_everything(fake_graph, redis, prefix):
    ports = [free_port(), free_port()]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    processes = [start_server(port, prefix, fake_graph.url) for port in ports]
    try:
        await asyncio.gather(*(wait_healthy(url) for url in urls))
        await asyncio.sleep(1.0)  # let the two members split the partitions
        alive = [True, True]
        sent = 0

        async def deliver(client: httpx.AsyncClient, body: dict, prefer: int) -> None:
            raw, headers = p.signed(body, SECRET)
            for _attempt in range(400):  # Meta (or the load balancer) tries again, on whichever is up
                target = prefer if alive[prefer] else 1 - prefer
                try:
                    r = await client.post(f"{urls[target]}/api/v1/webhook", content=raw, headers=headers)
                    if r.status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                prefer = 1 - prefer
                await asyncio.sleep(0.05)
            raise AssertionError("delivery never accepted")

        async def user(client: httpx.AsyncClient, index: int, u: str) -> None:
            nonlocal sent
            for n in range(TURNS):
                await deliver(client, p.body([p.text(u, f"{u}-{n}")]), (index + n) % 2)
                sent += 1
                await asyncio.sleep(0.01)

        async def killer() -> None:
            while sent < len(USERS) * TURNS * 0.4:
                await asyncio.sleep(0.01)
            processes[0].send_signal(signal.SIGKILL)
            alive[0] = False

        async with httpx.AsyncClient(timeout=5) as client:
            await asyncio.gather(*(user(client, i, u) for i, u in enumerate(USERS)), killer())
        start = time.monotonic()
        expected = {u: [f"echo:{u}-{n}" for n in range(TURNS)] for u in USERS}
        while time.monotonic() - start < 60:
            got = {u: _distinct([c.text for c in fake_graph.messages_to(u)]) for u in USERS}
            if got == expected:
                break
            await asyncio.sleep(0.2)
        finished_in = time.monotonic() - start
        assert got == expected, "the survivor did not finish every accepted message in order within 60 s"
        duplicates = len(fake_graph.messages) - len(USERS) * TURNS
        assert duplicates <= len(USERS)  # only replies in flight at the kill may go out twice
        print(f"survivor finished {finished_in:.1f} s after the load ended; {duplicates} duplicate(s)")
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


def _distinct(texts: list[str]) -> list[str]:
    """A reply resent after a takeover shows up twice in a row; order is judged on first copies."""
    seen: set[str] = set()
    return [t for t in texts if not (t in seen or seen.add(t))]
