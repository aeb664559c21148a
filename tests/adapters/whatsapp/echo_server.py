"""A webhook process with the echo engine, for tests that start and kill real processes.

    python -m tests.adapters.whatsapp.echo_server --port P --redis URL --prefix X --graph URL
"""

from __future__ import annotations

import argparse

import uvicorn
from redis.asyncio import Redis

from tests.adapters.whatsapp.conftest import EchoEngine, make_app, make_settings


def main() -> None:
    parser = argparse.ArgumentParser()
    for name in ("--port", "--redis", "--prefix", "--graph", "--label"):
        parser.add_argument(name, required=name != "--label")
    args = parser.parse_args()
    app = make_app(make_settings(args.graph), EchoEngine(), Redis.from_url(args.redis), args.prefix,
                   label=args.label or f"echo-{args.port}")
    uvicorn.run(app, host="127.0.0.1", port=int(args.port), log_level="warning", loop="uvloop")


if __name__ == "__main__":
    main()
