"""Helpers of the Inspector adapter tests (a module name no other test folder uses, unlike conftest)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from zoneinfo import ZoneInfo

import uvicorn
from starlette.applications import Starlette

LAGOS = ZoneInfo("Africa/Lagos")
# A Wednesday morning: today's demo inspections (11:00, 17:00) are still ahead.
NOW = datetime(2025, 12, 3, 8, 0, tzinfo=LAGOS)

ADA = {"id": "usr_ada", "role": "seeker", "name": "Ada Seeker"}
BOLA = {"id": "usr_bola", "role": "seeker", "name": "Bola Adeyemi"}
CHIDI = {"id": "usr_chidi", "role": "seeker", "name": "Chidi Okafor"}
TUNDE = {"id": "usr_tunde", "role": "agent", "name": "Tunde Agent"}
AMAKA = {"id": "usr_amaka", "role": "agent", "name": "Amaka Eze"}
NGOZI = {"id": "usr_ngozi", "role": "inspector", "name": "Ngozi Inspector"}
EMEKA = {"id": "usr_emeka", "role": "inspector", "name": "Emeka Bello"}


async def no_sleep(seconds: float) -> None:
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serve(app: Starlette) -> Iterator[str]:
    """Run `app` with uvicorn on a free loopback port in a thread; yield its base URL."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    config.timeout_graceful_shutdown = 1
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("loopback server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(5)
