"""Conversation timeouts through the real jobs: a turn in a state with `timeouts:` queues deferred arq jobs
on Redis; run, a job sends the nudge to WhatsApp (inside the window) or does nothing once the user answered."""

from __future__ import annotations

from datetime import timedelta

import pytest
from arq.constants import job_key_prefix, result_key_prefix
from arq.jobs import Job

from adapters.jobs.timeouts import conversation_timeout
from engine.events import InboundEvent
from tests.adapters.jobs.support import PHONES, USERS, build_world, close_world, now
from tests.shipped import SHIPPED_FLOWS, edited, states_of


@pytest.fixture
async def world(tmp_path, graph, namespace):  # type: ignore[no-untyped-def]
    def nudge_in_the_menu(data):  # type: ignore[no-untyped-def]
        states_of(data, "seeker")["menu"]["timeouts"] = [{"after": "10m", "say": "Still there? Type menu."}]

    flows = tmp_path / "timeouts.yaml"
    flows.write_text(edited(nudge_in_the_menu, SHIPPED_FLOWS.read_text(encoding="utf-8")), encoding="utf-8")
    built = await build_world(tmp_path, graph.url, namespace, flows_path=flows)
    yield built
    await close_world(built)


async def queued_timeouts(world):  # type: ignore[no-untyped-def]
    jobs = []
    for job_id in await world.queued():
        info = await Job(job_id, world.scheduler.queue, _queue_name=world.scheduler.queue_name).info()
        if info is not None and info.function == "conversation_timeout":
            jobs.append(info)
    return jobs


async def test_a_nudge_is_queued_deferred_and_sent_when_it_runs(world, graph):  # type: ignore[no-untyped-def]
    phone = PHONES["usr_ada"]
    await world.link("usr_ada", inbound_at=now() - timedelta(minutes=5))
    await world.runtime.engine.start_as(phone, USERS["usr_ada"] | {"role": "seeker"})
    [job] = await queued_timeouts(world)
    assert job.args[:2] == (phone, "seeker") and job.args[2] == "menu"
    assert 9 * 60 < job.score / 1000 - now().timestamp() <= 10 * 60  # deferred by `after`
    assert await conversation_timeout({"jobs": world.jobs}, *job.args) == "sent -> seeker.menu"
    [sent] = graph.messages
    assert phone.lstrip("+") in sent.to and "Still there?" in sent.text


async def test_an_answer_since_means_no_nudge(world, graph):  # type: ignore[no-untyped-def]
    phone = PHONES["usr_ada"]
    await world.link("usr_ada", inbound_at=now() - timedelta(minutes=5))
    await world.runtime.engine.start_as(phone, USERS["usr_ada"] | {"role": "seeker"})
    [job] = await queued_timeouts(world)
    await world.runtime.engine.handle(InboundEvent(phone=phone, text="2"))  # the user answers
    assert await conversation_timeout({"jobs": world.jobs}, *job.args) == "moved on"
    assert graph.messages == []


async def test_a_nudge_is_sent_once_even_after_its_job_is_forgotten(world, graph):  # type: ignore[no-untyped-def]
    phone = PHONES["usr_ada"]
    await world.link("usr_ada", inbound_at=now() - timedelta(minutes=5))
    await world.runtime.engine.start_as(phone, USERS["usr_ada"] | {"role": "seeker"})
    [job] = await queued_timeouts(world)
    for job_id in await world.queued():  # run and forgotten, as arq does after `keep_result`
        await world.redis.delete(job_key_prefix + job_id, result_key_prefix + job_id)
    await world.redis.delete(world.scheduler.queue_name)
    assert await conversation_timeout({"jobs": world.jobs}, *job.args) == "sent -> seeker.menu"
    assert await queued_timeouts(world) == []  # the nudge did not queue itself again
