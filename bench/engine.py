"""Engine benchmark: events per second stepping many users through the shipped flows.

Three stores: a plain dict (the interpreter step alone), the embedded store (fakeredis) and the real
Redis (REDIS_URL or 127.0.0.1:6379). Actions are canned in memory so Inspector's latency is not measured.
Also prints the bytes one stored conversation takes in Redis (MEMORY USAGE).

    python bench/engine.py [--users 200] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import fakeredis  # noqa: E402
import redis.asyncio as aioredis  # noqa: E402

from engine.actions import ActionRegistry  # noqa: E402
from engine.compiler import CompiledFlows  # noqa: E402
from engine.conversation import Conversation  # noqa: E402
from engine.events import InboundEvent  # noqa: E402
from engine.interpreter import Engine  # noqa: E402
from engine.store import ConversationStore  # noqa: E402
from flows.loader import load_flows  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PROPERTY = {"id": "p1", "title": "3-bed flat, Lekki", "row_title": "3-bed flat, Lekki", "location": "Lekki",
            "address": "12 Admiralty Way", "price": 45_000_000, "price_text": "₦45,000,000", "bedrooms": 3,
            "bathrooms": 2, "property_type": "flat", "description": "Bright flat near the beach.",
            "summary": "₦45,000,000 · 3 bed · Lekki"}
SLOT = {"id": "s1", "when": "Tue 1 Dec, 10:00", "row_title": "Tue 1 Dec, 10:00", "summary": "1 place left", "free": 1,
        "booked": 0, "capacity": 1}
USER = {"id": "usr_ada", "name": "Ada Seeker", "role": "seeker"}

# One round of a seeker's session: menu, browse, open a property, back, next page, slots, back to menu.
SCRIPT = [("text", "menu", None), ("list", "Browse properties", "browse"), ("list", "x", "prop:p1"),
          ("button", "Back to list", "back_to_list"), ("list", "Next page ▶", "next_page"),
          ("list", "x", "prop:p1"), ("button", "Book inspection", "book"), ("text", "menu", None),
          ("text", "what?", None), ("text", "menu", None)]


def canned_registry() -> ActionRegistry:
    registry = ActionRegistry()

    async def identify(ctx: Any) -> Any:
        return USER

    async def available_properties(ctx: Any, **kw: Any) -> Any:
        return {"items": [dict(PROPERTY, id=f"p{i}") for i in range(1, 6)], "page": 0, "has_next": True,
                "has_prev": False, "total": 12}

    async def prop(ctx: Any, property_id: str) -> Any:
        return PROPERTY

    async def slots(ctx: Any, property_id: str) -> Any:
        return [dict(SLOT, id=f"s{i}") for i in range(5)]

    async def anything(ctx: Any, **kw: Any) -> Any:
        return {"ok": True}

    registry.register("accounts.identify", identify)
    registry.register("inspector.available_properties", available_properties)
    registry.register("inspector.property", prop)
    registry.register("inspector.inspection_slots", slots)
    return _fill(registry, anything)


def _fill(registry: ActionRegistry, fn: Any) -> ActionRegistry:
    from flows.loader import check_text

    spec, _ = check_text((ROOT / "flows.yaml").read_text())
    assert spec is not None
    names = {spec.session.identify, spec.session.remember_language}
    names |= {c.action for f in spec.flows.values() for s in f.states.values() for c in s.calls}
    for name in sorted(n for n in names if n and n not in registry):
        registry.register(name, fn)
    return registry


class DictStore(ConversationStore):
    """No I/O at all: what is left is the interpreter step itself (plus JSON encoding)."""

    def __init__(self) -> None:
        self.data: dict[str, str] = {}
        self.ttl = 0

    async def load(self, phone: str) -> Conversation | None:
        raw = self.data.get(phone)
        return Conversation.loads(raw) if raw else None

    async def save(self, conversation: Conversation) -> None:
        conversation.version += 1
        self.data[conversation.phone] = conversation.dumps()

    @asynccontextmanager
    async def checkout(self, phone: str):  # type: ignore[override]
        yield _Held(self, await self.load(phone))


class _Held:
    def __init__(self, store: DictStore, conversation: Conversation | None) -> None:
        self.store = store
        self.conversation = conversation

    async def commit(self, conversation: Conversation) -> None:
        await self.store.save(conversation)


async def run(store: ConversationStore, users: int, rounds: int) -> tuple[float, int, list[float]]:
    loaded = load_flows(ROOT / "flows.yaml")
    engine = Engine(CompiledFlows(loaded), canned_registry(), store)
    phones = [f"+23480{n:08d}" for n in range(users)]
    for phone in phones:
        await engine.handle(InboundEvent(phone=phone, text="hi"))
    latencies: list[float] = []
    events = 0
    started = time.perf_counter()
    for _ in range(rounds):
        for kind, text, reply in SCRIPT:
            for phone in phones:
                t0 = time.perf_counter()
                await engine.handle(InboundEvent(phone=phone, kind=kind, text=text, reply_id=reply))  # type: ignore[arg-type]
                latencies.append(time.perf_counter() - t0)
                events += 1
    return time.perf_counter() - started, events, latencies


def report(name: str, elapsed: float, events: int, latencies: list[float]) -> None:
    latencies.sort()
    p50 = statistics.median(latencies) * 1e6
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1e6
    print(f"{name:<28} {events / elapsed:>9,.0f} events/s   p50 {p50:>7,.0f} µs   p99 {p99:>7,.0f} µs")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()
    print(f"{args.users} users x {args.rounds} rounds x {len(SCRIPT)} events, shipped flows.yaml, canned actions")


    store = DictStore()
    elapsed, events, lat = await run(store, args.users, args.rounds)
    report("interpreter only (dict)", elapsed, events, lat)
    size = sum(len(v) for v in store.data.values()) / len(store.data)
    print(f"{'':28} stored JSON per conversation: {size:,.0f} bytes")


    elapsed, events, lat = await run(ConversationStore(fakeredis.FakeAsyncRedis()), args.users, args.rounds)
    report("embedded store (fakeredis)", elapsed, events, lat)

    client = aioredis.Redis.from_url(args.redis)
    try:
        await client.ping()
    except Exception as exc:  # the benchmark still prints the rest
        print(f"real Redis at {args.redis} unavailable: {exc}")
        return
    prefix = "bench-conv"
    store = ConversationStore(client, prefix=prefix)
    elapsed, events, lat = await run(store, args.users, args.rounds)
    report("real Redis (loopback)", elapsed, events, lat)
    sizes = [await client.memory_usage(store.key(f"+23480{n:08d}")) or 0 for n in range(args.users)]
    print(f"{'':28} MEMORY USAGE per conversation: mean {statistics.mean(sizes):,.0f} B, max {max(sizes):,} B")
    keys = [k async for k in client.scan_iter(f"{prefix}:*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


if __name__ == "__main__":
    asyncio.run(main())
