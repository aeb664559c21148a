"""What a Redis crash (SIGKILL) loses of events the webhook already acknowledged, per persistence mode.

    python -m bench.persistence [--seconds 2] [--writers 20]

Writers accept events through the real inbox (`StreamInbox.accept`, what happens before the 200) as fast as
they can; Redis is killed mid-run and restarted on the same data directory; every event whose accept
returned is an event Meta will never send again, so `lost = acknowledged - found after the restart`.
A killed redis-server has already handed its AOF writes to the kernel, so `everysec` loses nothing here;
it loses up to a second of writes only when the machine itself goes down (`always` loses none then).
"""

from __future__ import annotations

import argparse
import asyncio
import time

from redis.asyncio import Redis

from adapters.whatsapp.inbox import StreamInbox
from adapters.whatsapp.keys import PipelineKeys
from engine.events import InboundEvent
from tests.redis_servers import redis_server

MODES = [("no persistence", False, "everysec"), ("AOF everysec", True, "everysec"), ("AOF always", True, "always")]


async def run_mode(label: str, aof: bool, fsync: str, seconds: float, writers: int) -> None:
    with redis_server(aof=aof, appendfsync=fsync) as server:
        redis = Redis.from_url(server.url, socket_timeout=1)
        keys = PipelineKeys(namespace="bench", partitions=16)
        inbox = StreamInbox(redis, keys)
        acknowledged = 0
        stop = time.monotonic() + seconds

        async def writer(w: int) -> None:
            nonlocal acknowledged
            n = 0
            while time.monotonic() < stop:
                event = InboundEvent(phone=f"+23480{w:08d}", text="x", wamid=f"wamid.{w}.{n}")
                try:
                    await inbox.accept([event])
                except Exception:
                    return  # Redis is gone: this delivery got a 503 and Meta will retry it
                acknowledged += 1
                n += 1

        async def crash() -> None:
            await asyncio.sleep(seconds / 2)
            server.kill()

        await asyncio.gather(*(writer(w) for w in range(writers)), crash())
        await redis.aclose()
        server.start()
        redis = Redis.from_url(server.url)
        found = sum([int(await redis.xlen(keys.stream(p))) for p in range(keys.partitions)])
        await redis.aclose()
        lost = max(0, acknowledged - found)  # found > acknowledged: written, but the 200 never went out
        print(f"{label:<16} acknowledged {acknowledged:>6}   found after restart {found:>6}   "
              f"lost {lost:>6} ({100 * lost / max(1, acknowledged):.1f}%)")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--writers", type=int, default=20)
    args = parser.parse_args()
    for label, aof, fsync in MODES:
        await run_mode(label, aof, fsync, args.seconds, args.writers)


if __name__ == "__main__":
    asyncio.run(main())
