"""Metrics after a scripted journey move by exactly what happened; several processes add up."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.multiprocess import MultiProcessCollector

from adapters.observability.metrics import Metrics
from tests.adapters.email.smtp_sink import SmtpSink
from tests.app.journey import ROOT, journey_settings, run_journey, running_app
from tests.fakes.graph_api import FakeGraphAPI


@pytest.fixture
def smtp():
    sink = SmtpSink().start()
    yield sink
    sink.stop()


@pytest.fixture(scope="module")
def graph():
    with FakeGraphAPI() as server:
        yield server


async def test_counters_move_by_the_journey(tmp_path, smtp, graph):
    graph.reset()
    metrics = Metrics()
    async with running_app(journey_settings(tmp_path, graph.url, smtp.port), metrics=metrics) as (runtime, app, client):
        await run_journey(app, client, smtp)
        scrape = await client.get("/metrics")
        summary = (await client.get("/api/v1/metrics")).json()["metrics"]
    value = metrics.registry.get_sample_value
    assert value("inspector_bot_webhooks_received_total") == 5  # hi twice, email, wrong code, code
    assert value("inspector_bot_webhooks_duplicates_total") == 1
    assert value("inspector_bot_webhooks_rejected_total", {"reason": "missing_signature"}) == 1
    assert value("inspector_bot_ack_seconds_count") == 5
    processed = {s.labels["flow"]: 0 for s in metrics.messages_processed.collect()[0].samples}
    for sample in metrics.messages_processed.collect()[0].samples:
        if sample.name.endswith("_total"):
            processed[sample.labels["flow"]] += sample.value
    assert sum(processed.values()) == 4
    spec = runtime.engine.flows.spec
    assert set(processed) <= set(spec.flows) and processed.get("seeker") == 1  # the last turn: linked
    assert value("inspector_bot_engine_turns_total", {"outcome": "ok"}) == 4
    assert value("inspector_bot_turn_seconds_count") == 4
    sent = sum(s.value for s in metrics.replies_sent.collect()[0].samples if s.name.endswith("_total"))
    assert sent == len(graph.messages) >= 4
    assert value("inspector_bot_inspector_calls_total",
                 {"operation": "GET /users/by-email/{email}", "outcome": "ok"}) == 1
    assert value("inspector_bot_inspector_call_seconds_count", {"operation": "GET /users/by-email/{email}"}) == 1
    assert value("inspector_bot_inspector_breaker_state") == 0
    for event, count in {"started": 1, "failed": 1, "succeeded": 1, "rate_limited": 0}.items():
        assert value("inspector_bot_linking_total", {"event": event}) == count, event
    assert value("inspector_bot_queue_depth") == 0 and value("inspector_bot_oldest_pending_seconds") == 0
    assert value("inspector_bot_dead_letters", {"queue": "webhook"}) == 0
    # The text format and the JSON summary say the same.
    assert scrape.headers["content-type"].startswith("text/plain")
    assert "inspector_bot_webhooks_received_total 5.0" in scrape.text
    assert summary["inspector_bot_webhooks_received_total"]["values"]["_"] == 5
    assert summary["inspector_bot_linking_total"]["values"]["event=succeeded"] == 1
    assert summary["inspector_bot_turn_seconds"]["values"]["_"]["count"] == 4


async def test_send_errors_are_counted_by_meta_code(tmp_path, smtp, graph):
    graph.reset()
    metrics = Metrics()
    settings = journey_settings(tmp_path, graph.url, smtp.port)
    async with running_app(settings, metrics=metrics) as (runtime, app, client):
        from tests.app.journey import say

        graph.fail_next(1, code=131026)  # undeliverable: permanent, not retried
        await say(app, client, "hi")
    assert metrics.registry.get_sample_value("inspector_bot_send_errors_total", {"code": "131026"}) == 1


async def test_an_inspector_outage_counts_failures_and_opens_the_breaker(tmp_path, smtp):
    from adapters.inspector.client import InspectorClient
    from adapters.inspector.errors import InspectorUnavailable
    from adapters.inspector.resilience import CircuitBreaker

    metrics = Metrics()
    client = InspectorClient("http://127.0.0.1:9", retries=0, breaker=CircuitBreaker(threshold=2))
    client.observe(metrics.observe_inspector)
    try:
        for _ in range(3):
            with pytest.raises(InspectorUnavailable):
                await client.get_user_by_email("a@example.com")
    finally:
        await client.aclose()
    value = metrics.registry.get_sample_value
    operation = {"operation": "GET /users/by-email/{email}"}
    assert value("inspector_bot_inspector_calls_total", {**operation, "outcome": "unavailable"}) == 2
    assert value("inspector_bot_inspector_calls_total", {**operation, "outcome": "circuit_open"}) == 1
    assert value("inspector_bot_inspector_breaker_state") == 2


def test_jobs_are_counted_by_name_and_outcome():
    import asyncio

    from arq.worker import Retry

    from adapters.observability.instrument import metered_job

    metrics = Metrics()

    async def deliver_thing(ctx, outcome):
        if outcome == "retry":
            raise Retry(defer=1)
        if outcome == "boom":
            raise RuntimeError("boom")
        return outcome

    job = metered_job(deliver_thing, metrics)
    assert job.__qualname__ == deliver_thing.__qualname__  # arq names the job from it
    for outcome in ["sent", "dead-lettered", "retry", "boom", "sent"]:
        try:
            asyncio.run(job({}, outcome))
        except (Retry, RuntimeError):
            pass
    value = metrics.registry.get_sample_value
    assert value("inspector_bot_jobs_total", {"job": "deliver_thing", "outcome": "ok"}) == 2
    assert value("inspector_bot_jobs_total", {"job": "deliver_thing", "outcome": "dead_lettered"}) == 1
    assert value("inspector_bot_jobs_total", {"job": "deliver_thing", "outcome": "retry"}) == 1
    assert value("inspector_bot_jobs_total", {"job": "deliver_thing", "outcome": "error"}) == 1


PROCESS = textwrap.dedent("""
    import sys
    sys.path.insert(0, {root!r})
    from adapters.observability.multiprocess import enable_multiprocess
    enable_multiprocess({path!r})
    from adapters.observability.metrics import Metrics
    m = Metrics()
    for _ in range({n}):
        m.webhook_received()
        m.turn_finished(0.2)
    m.breaker_state({state!r})
""")


def test_several_processes_add_up_in_multiprocess_mode(tmp_path):
    """Two processes (as web and worker would) write to one directory; a third reads the sum."""
    for n, state in [(3, "closed"), (4, "open")]:
        done = subprocess.run([sys.executable, "-c", PROCESS.format(root=str(ROOT), path=str(tmp_path), n=n,
                                                                     state=state)],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(tmp_path))
    assert registry.get_sample_value("inspector_bot_webhooks_received_total") == 7
    assert registry.get_sample_value("inspector_bot_turn_seconds_count") == 7
    assert json.dumps(sorted(p.name for p in tmp_path.iterdir()))  # files named per host and pid
    assert len(list(tmp_path.glob("counter_*.db"))) == 2


def test_a_stopped_process_breaker_state_no_longer_counts(tmp_path):
    """`livemax`: the breaker gauge is the worst of the processes still running."""
    script = PROCESS.replace("m.breaker_state({state!r})", "m.breaker_state({state!r})\n"
                             "from adapters.observability.multiprocess import process_exited\n"
                             "if {state!r} == 'open': process_exited({path!r})")
    for state in ["half_open", "open"]:
        done = subprocess.run([sys.executable, "-c", script.format(root=str(ROOT), path=str(tmp_path), n=1,
                                                                    state=state)],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(tmp_path))
    assert registry.get_sample_value("inspector_bot_inspector_breaker_state") == 1  # the open one has exited


async def test_with_metrics_token_set_both_metrics_routes_ask_for_it(tmp_path, smtp, graph):
    settings = journey_settings(tmp_path, graph.url, smtp.port, metrics_token="scrape-token-0123456789")
    async with running_app(settings) as (_runtime, _app, client):
        for path in ("/metrics", "/api/v1/metrics"):
            missing = await client.get(path)
            wrong = await client.get(path, headers={"Authorization": "Bearer scrape-token-wrong"})
            right = await client.get(path, headers={"Authorization": "Bearer scrape-token-0123456789"})
            assert missing.status_code == wrong.status_code == 401, path
            assert missing.headers["www-authenticate"] == "Bearer" and "inspector_bot" not in missing.text
            assert right.status_code == 200 and "inspector_bot_webhooks_received" in right.text, path


async def test_without_metrics_token_the_metrics_stay_open(tmp_path, smtp, graph):
    async with running_app(journey_settings(tmp_path, graph.url, smtp.port)) as (_runtime, _app, client):
        assert (await client.get("/metrics")).status_code == 200
        assert (await client.get("/api/v1/metrics")).status_code == 200
