"""Broadcasts to 200 linked users on the fake Graph API: the window decides text or template, the pace
holds the rate, and a stop mid-broadcast followed by a resume sends everyone exactly once."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from redis.asyncio import Redis

from adapters.broadcast.pacer import Pacer
from adapters.broadcast.runner import BroadcastRunner
from adapters.broadcast.service import Audience, BroadcastRequest, BroadcastService, Template
from adapters.broadcast.store import BroadcastStore
from adapters.jobs.broadcasts import send_broadcast
from adapters.settings import Settings
from adapters.whatsapp.outbound import build_sender
from app.jobs import build_job_context
from app.reload import FlowsReloader
from app.runtime import action_signatures, build_runtime
from app.web import create_app, staff_routes
from tests.fakes.graph_api import FakeGraphAPI
from tests.services import TEST_REDIS_URL

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
USERS = 200


class FakeTime:
    """A clock the pacer's sleeps advance: the schedule is checked without waiting for it."""

    def __init__(self) -> None:
        self.now = 0.0
        self.starts: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)


@pytest.fixture(scope="module")
def graph():
    with FakeGraphAPI() as server:
        yield server


@pytest.fixture
async def world(tmp_path, graph):
    graph.reset()
    settings = Settings().model_copy(update=dict(flows_path=ROOT / "flows.yaml", database_url=f"sqlite:///{tmp_path / 'db.sqlite'}",
                       whatsapp_token="t", whatsapp_phone_id="1065", whatsapp_graph_url=graph.url, admin_token="adm",
                       broadcast_rate=2000.0))
    runtime = build_runtime(settings, clock=lambda: NOW)
    for n in range(USERS):
        phone = f"+23480{n:08d}"
        role = "seeker" if n % 4 else "agent"
        await runtime.linking.link_demo_user(phone, {"id": f"u{n}", "role": role, "name": f"User {n}"})
        # Every other user wrote in the last 24 h (text); the rest get the template.
        await runtime.linking.record_inbound(phone, None, NOW - timedelta(hours=2 if n % 2 else 30))
    redis = Redis.from_url(TEST_REDIS_URL)
    prefix = f"test:broadcast:{uuid.uuid4().hex[:8]}"
    store = BroadcastStore(redis, prefix=prefix)
    sender = build_sender(settings)
    yield runtime, store, sender, graph
    await sender.aclose()
    keys = [k async for k in redis.scan_iter(match=f"{prefix}*")]
    if keys:
        await redis.delete(*keys)
    await redis.aclose()
    await runtime.aclose()


def runner(runtime, store, sender, fake: FakeTime, rate: float = 80.0) -> BroadcastRunner:
    pacer = Pacer(rate, clock=fake.clock, sleep=fake.sleep)
    original = pacer.wait

    async def recorded() -> float:
        start = await original()
        fake.starts.append(start)
        return start

    pacer.wait = recorded
    return BroadcastRunner(store, sender, runtime.linking.last_inbound, rate=rate, clock=lambda: NOW, pacer=pacer)


REQUEST = BroadcastRequest(audience=Audience(), text="New listings this week!",
                           template=Template(name="new_property_alert", params=["Lekki"]))


async def test_200_users_each_get_one_message_text_inside_the_window_template_outside(world):
    runtime, store, sender, graph = world
    service = BroadcastService(store, runtime.linking, clock=lambda: NOW)
    counts = await service.count(REQUEST)
    assert counts == {"dry_run": True, "audience": 200, "inside_window": 100, "outside_window": 100, "unreachable": 0}
    broadcast_id = (await service.start(REQUEST))["id"]
    fake = FakeTime()
    outcome = await runner(runtime, store, sender, fake).run(broadcast_id)
    assert outcome.finished and outcome.attempted == 200
    sent = graph.messages
    assert Counter(c.to for c in sent) == Counter({f"+23480{n:08d}": 1 for n in range(USERS)})
    kinds = Counter(c.json["type"] for c in sent)
    assert kinds == {"text": 100, "template": 100}
    assert all(c.json["template"]["name"] == "new_property_alert" for c in sent if c.json["type"] == "template")
    progress = await store.progress(broadcast_id)
    assert (progress["status"], progress["sent"], progress["failed"], progress["queued"]) == ("done", 200, 0, 0)
    # The throttle: sends start 1/80 s apart, so no second holds more than 80 of them.
    gaps = [b - a for a, b in zip(fake.starts, fake.starts[1:], strict=False)]
    assert min(gaps) >= 1 / 80 - 1e-9
    assert max(sum(1 for s in fake.starts if t <= s < t + 1) for t in fake.starts) <= 80


async def test_a_stop_mid_broadcast_then_a_resume_sends_nobody_twice_and_skips_nobody(world):
    runtime, store, sender, graph = world
    service = BroadcastService(store, runtime.linking, clock=lambda: NOW)
    broadcast_id = (await service.start(REQUEST))["id"]
    graph.delay = 0.01
    try:
        first = asyncio.create_task(runner(runtime, store, sender, FakeTime()).run(broadcast_id))
        for _ in range(2000):
            if len(graph.messages) >= 60:
                break
            await asyncio.sleep(0.005)
        first.cancel()  # the worker stops (deploy, crash of the job): sends in flight finish
        with pytest.raises(asyncio.CancelledError):
            await first
    finally:
        graph.delay = 0.0
    middle = await store.progress(broadcast_id)
    assert middle["status"] == "interrupted" and 60 <= middle["sent"] < 200
    assert middle["sent"] == len(graph.messages) and middle["queued"] == 200 - middle["claimed"]
    outcome = await runner(runtime, store, sender, FakeTime()).run(broadcast_id)  # a new process resumes
    assert outcome.finished and outcome.attempted == 200 - middle["claimed"]
    assert Counter(c.to for c in graph.messages) == Counter({f"+23480{n:08d}": 1 for n in range(USERS)})
    done = await store.progress(broadcast_id)
    assert (done["sent"], done["failed"], done["status"]) == (200, 0, "done")


async def test_a_hard_kill_mid_send_is_reported_not_resent(world):
    runtime, store, sender, graph = world
    broadcast_id = await store.create(REQUEST.message(), ["+2348000000001", "+2348000000002"], audience={})
    assert await store.next_recipient(broadcast_id) == "+2348000000001"  # claimed, then the process died
    outcome = await runner(runtime, store, sender, FakeTime()).run(broadcast_id)
    assert outcome.attempted == 1 and [c.to for c in graph.messages] == ["+2348000000002"]
    progress = await store.progress(broadcast_id)
    assert progress["failures_by_code"] == {"interrupted": 1} and progress["sent"] == 1


async def test_text_only_outside_the_window_is_counted_as_unreachable_not_sent(world):
    runtime, store, sender, graph = world
    service = BroadcastService(store, runtime.linking, clock=lambda: NOW)
    text_only = BroadcastRequest(audience=Audience(role="seeker"), text="Hello seekers")
    assert (await service.count(text_only))["unreachable"] == 50  # seekers who did not write in 24 h
    broadcast_id = (await service.start(text_only))["id"]
    await runner(runtime, store, sender, FakeTime()).run(broadcast_id)
    progress = await store.progress(broadcast_id)
    assert (progress["sent"], progress["failures_by_code"]) == (100, {"outside_window": 50})
    assert all(c.json["type"] == "text" for c in graph.messages) and len(graph.messages) == 100


async def test_the_admin_api_counts_queues_and_reports_progress(world):
    runtime, store, sender, graph = world
    reloader = FlowsReloader(runtime.settings.flows_path, action_signatures(runtime.actions), runtime.engine)
    app = create_app(runtime, sender=sender, routes=staff_routes(runtime, reloader))
    auth = {"Authorization": "Bearer adm"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://app") as client:
        body = {"audience": {"role": "seeker"}, "text": "Hi", "dry_run": True}
        assert (await client.post("/api/v1/admin/broadcast", json=body)).status_code == 401
        dry = await client.post("/api/v1/admin/broadcast", json=body, headers=auth)
        assert dry.status_code == 200 and dry.json()["audience"] == 150
        assert (await client.post("/api/v1/admin/broadcast", json={"audience": {}}, headers=auth)).status_code == 422
        started = await client.post("/api/v1/admin/broadcast", json={**body, "dry_run": False}, headers=auth)
        assert started.status_code == 202 and started.json()["total"] == 150
        broadcast_id = started.json()["id"]
        scheduler = runtime.extras["jobs.scheduler"]
        assert await runtime.redis.zscore(scheduler.queue_name, f"broadcast:{broadcast_id}:0") is not None
        progress = await client.get(f"/api/v1/admin/broadcast/{broadcast_id}", headers=auth)
        assert progress.status_code == 200 and progress.json()["queued"] == 150
        # What the worker runs for that queued job:
        jobs = build_job_context(runtime, sender=sender)
        assert await send_broadcast({"jobs": jobs, "job_id": f"broadcast:{broadcast_id}:0"}, broadcast_id) == "done"
        progress = await client.get(f"/api/v1/admin/broadcast/{broadcast_id}", headers=auth)
        assert (progress.json()["status"], progress.json()["sent"]) == ("done", 100)  # 50 seekers outside the window
        assert progress.json()["failures_by_code"] == {"outside_window": 50} and len(graph.messages) == 100
        assert (await client.get("/api/v1/admin/broadcast/nope", headers=auth)).status_code == 404
        assert (await client.get(f"/api/v1/admin/broadcast/{broadcast_id}")).status_code == 401


async def test_the_command_line_sends_with_a_progress_bar_and_resumes_by_id(world):
    import io

    from main import build_parser
    from tooling.broadcast_cli import run_broadcast_command

    runtime, store, sender, graph = world
    out = io.StringIO()
    dry = build_parser().parse_args(["broadcast", "--role", "agent", "--text", "Hi", "--dry-run"])
    assert await run_broadcast_command(dry, runtime, sender, out) == 0
    assert "audience 50: 0 inside the 24-hour window, 50 outside (50 unreachable without a template)" in out.getvalue()
    assert graph.messages == []
    args = build_parser().parse_args(["broadcast", "--role", "agent", "--template", "new_property_alert",
                                      "--param", "Lekki", "--rate", "2000"])
    out = io.StringIO()
    assert await run_broadcast_command(args, runtime, sender, out) == 0
    assert "[" + "#" * 30 + "] 50/50 sent 50 failed 0" in out.getvalue()
    assert len(graph.messages) == 50 and all(c.json["type"] == "template" for c in graph.messages)
    broadcast_id = out.getvalue().split("broadcast ", 1)[1].split()[0]
    again = build_parser().parse_args(["broadcast", "--resume", broadcast_id])
    assert await run_broadcast_command(again, runtime, sender, io.StringIO()) == 0
    assert len(graph.messages) == 50  # a finished broadcast resumed sends nobody again


async def test_the_job_waits_for_a_runner_holding_the_lease_then_takes_over(world):
    runtime, _, sender, graph = world
    store = BroadcastStore(runtime.redis)  # where the admin API and the worker's job both find it
    service = BroadcastService(store, runtime.linking, clock=lambda: NOW)
    broadcast_id = (await service.start(REQUEST))["id"]
    assert await store.lease(broadcast_id, "a-cli-run-that-died", 60_000)
    ctx = {"jobs": build_job_context(runtime, sender=sender)}
    assert await send_broadcast(ctx, broadcast_id) == "busy"
    scheduler = runtime.extras["jobs.scheduler"]
    assert await runtime.redis.zscore(scheduler.queue_name, f"broadcast:{broadcast_id}:1") is not None
    await runtime.redis.delete(store.key(broadcast_id, "lease"))  # the dead runner's lease expires
    assert await send_broadcast(ctx, broadcast_id, 1) == "done"
    assert await send_broadcast(ctx, broadcast_id, 2) == "done"  # a stray rerun sends nothing
    assert len(graph.messages) == 200 and (await store.progress(broadcast_id))["sent"] == 200
