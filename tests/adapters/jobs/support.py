"""A jobs world for tests: real Redis under a unique namespace, the embedded Inspector sandbox, a
SQLite accounts database, a real WhatsAppSender talking to the fake Graph API, and arq workers in
burst mode."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from arq.connections import ArqRedis
from arq.worker import Worker
from redis.asyncio import Redis

from adapters.inspector.sandbox_store import SandboxStore
from adapters.jobs.burst import run_until_idle
from adapters.jobs.context import JobContext
from adapters.jobs.delivery import whatsapp_retry_hook
from adapters.jobs.scheduler import JobScheduler
from adapters.jobs.worker import worker_options
from adapters.settings import Settings
from adapters.whatsapp.outbound import WhatsAppSender
from app.jobs import build_job_context
from app.runtime import Runtime, build_runtime
from engine.store import ConversationStore
from tests.services import TEST_REDIS_URL
from tests.shipped import SHIPPED_FLOWS

REDIS_URL = TEST_REDIS_URL
ROOT = Path(__file__).resolve().parents[3]

USERS = {
    "usr_ada": {"id": "usr_ada", "role": "seeker", "name": "Ada Seeker", "email": "seeker@example.com"},
    "usr_bola": {"id": "usr_bola", "role": "seeker", "name": "Bola Adeyemi", "email": "bola@example.com"},
    "usr_chidi": {"id": "usr_chidi", "role": "seeker", "name": "Chidi Okafor", "email": "chidi@example.com"},
    "usr_tunde": {"id": "usr_tunde", "role": "agent", "name": "Tunde Agent", "email": "agent@example.com"},
    "usr_amaka": {"id": "usr_amaka", "role": "agent", "name": "Amaka Eze", "email": "amaka.agent@example.com"},
    "usr_ngozi": {"id": "usr_ngozi", "role": "inspector", "name": "Ngozi", "email": "inspector@example.com"},
    "usr_emeka": {"id": "usr_emeka", "role": "inspector", "name": "Emeka", "email": "emeka.inspector@example.com"},
}
PHONES = {user_id: f"+23481{index:08d}" for index, user_id in enumerate(USERS, start=1)}


def patched_flows(tmp_path: Path) -> Path:
    """The shipped flows (they schedule and cancel reminders), copied so a test may edit its own."""
    path = tmp_path / "flows.yaml"
    path.write_text(SHIPPED_FLOWS.read_text(encoding="utf-8"), encoding="utf-8")
    return path


def make_settings(tmp_path: Path, graph_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = dict(
        flows_path=patched_flows(tmp_path), database_url=f"sqlite:///{tmp_path / 'accounts.db'}",
        whatsapp_token="test-token", whatsapp_phone_id="1234567890", whatsapp_graph_url=graph_url,
        job_max_tries=3, rate_limit_per_minute=1000,
    )
    values.update(overrides)
    return Settings(**values)


@dataclass
class World:
    settings: Settings
    namespace: str
    runtime: Runtime
    redis: Redis
    sender: WhatsAppSender
    jobs: JobContext

    @property
    def scheduler(self) -> JobScheduler:
        return self.jobs.scheduler

    @property
    def sandbox(self) -> SandboxStore:
        return self.runtime.inspector.sandbox_app.state.store

    async def link(self, *user_ids: str, inbound_at: datetime | None = None) -> None:
        for user_id in user_ids:
            await self.runtime.linking.link_demo_user(PHONES[user_id], USERS[user_id])
            if inbound_at is not None:
                await self.runtime.linking.record_inbound(PHONES[user_id], None, inbound_at)

    async def run_jobs(self, **options: Any) -> Worker:
        """An arq worker run until no job is due within seconds (retries included); jobs deferred further, such
        as a reminder days ahead, stay queued (arq's own burst mode would wait for them for ever)."""
        kwargs = worker_options(self.settings, namespace=self.namespace, ctx={"jobs": self.jobs}, with_cron=False)
        kwargs.update(options)
        worker = Worker(redis_pool=ArqRedis.from_url(REDIS_URL), burst=False, handle_signals=False, poll_delay=0.05,
                        **kwargs)
        try:
            await run_until_idle(worker)
        finally:
            await worker.close()
        return worker

    async def queued(self) -> list[str]:
        return [j.decode() for j in await self.redis.zrange(self.scheduler.queue_name, 0, -1)]


async def build_world(tmp_path: Path, graph_url: str, namespace: str, **overrides: Any) -> World:
    settings = make_settings(tmp_path, graph_url, **overrides)
    redis = Redis.from_url(REDIS_URL)
    runtime = build_runtime(settings, redis=redis, jobs_namespace=namespace)
    # Conversations under this test's namespace too, so `close_world` deletes them with the job keys.
    runtime.engine.store = ConversationStore(redis, prefix=f"{namespace}:conv", ttl=settings.conversation_ttl)
    scheduler = runtime.extras["jobs.scheduler"]
    sender = WhatsAppSender(settings, retry=whatsapp_retry_hook(scheduler))
    jobs = build_job_context(runtime, sender=sender, scheduler=scheduler, namespace=namespace, retry_base=0.05)
    return World(settings=settings, namespace=namespace, runtime=runtime, redis=redis, sender=sender, jobs=jobs)


async def close_world(world: World) -> None:
    keys = [k async for k in world.redis.scan_iter(match=f"{world.namespace}*", count=500)]
    for pattern in ("arq:job:", "arq:result:", "arq:retry:", "arq:in-progress:"):
        keys += [k async for k in world.redis.scan_iter(match=f"{pattern}{world.namespace}*", count=500)]
    if keys:
        await world.redis.delete(*keys)
    await world.sender.aclose()
    await world.scheduler.queue.aclose()
    await world.runtime.aclose()


def now() -> datetime:
    return datetime.now(UTC)
