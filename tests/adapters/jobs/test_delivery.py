"""Retryable WhatsApp failures and the OTP email go through jobs: retried with backoff, then dead-lettered."""

from __future__ import annotations

import logging

from adapters.email.smtp import SmtpConfig, SmtpEmailSender, smtp_deliver
from adapters.jobs.delivery import email_deliver
from engine.messages import OutboundMessage
from tests.adapters.email.smtp_sink import SmtpSink, free_port
from tests.adapters.jobs.support import PHONES


async def test_a_429_is_queued_and_sent_by_a_job(world, graph):
    graph.fail_next(1, status=429)
    result = await world.sender.send(OutboundMessage(to=PHONES["usr_ada"], text="hello"))
    assert result.queued and not result.ok
    graph.fail_next(1, status=500)  # the job's first try fails too; its second succeeds
    await world.run_jobs()
    assert [c.text for c in graph.messages] == ["hello"]
    assert [c.status for c in graph.calls] == [429, 500, 200]
    assert await world.jobs.store.dead_letters() == []


async def test_repeated_500s_end_in_the_dead_letter_list(world, graph, caplog):
    graph.fail_next(10, status=500)
    result = await world.sender.send(OutboundMessage(to=PHONES["usr_ada"], text="hello"))
    assert result.queued
    await world.run_jobs()
    assert graph.messages == []
    assert len(graph.calls) == 1 + world.settings.job_max_tries  # the send, then one per job try
    [dead] = await world.jobs.store.dead_letters()
    assert dead["kind"] == "whatsapp:text" and dead["tries"] == 3 and dead["job_id"].startswith(world.namespace)
    assert dead["recipient"] != PHONES["usr_ada"] and dead["recipient"].endswith(PHONES["usr_ada"][-2:])
    assert "131000" in dead["error"]
    assert any(dead["job_id"] in r.getMessage() and "dead-lettered" in r.getMessage() for r in caplog.records)


async def test_the_otp_email_is_delivered_by_a_job(world):
    sink = SmtpSink().start()
    try:
        config = SmtpConfig(host="127.0.0.1", port=sink.port, sender="Inspector <no-reply@inspector.example>")
        world.jobs.deliver_email = smtp_deliver(config)
        web_sender = SmtpEmailSender(config, deliver=email_deliver(world.scheduler), attempts=1)
        await web_sender.send(to="ada@example.com", subject="Your Inspector linking code", text="code 123456")
        assert sink.to("ada@example.com") == []  # queued, not sent by the web process
        await world.run_jobs()
        [message] = sink.to("ada@example.com")
        assert "123456" in message.get_content()
    finally:
        sink.stop()


async def test_an_undeliverable_otp_email_is_retried_then_dead_lettered(world, caplog):
    caplog.set_level(logging.INFO, logger="adapters.jobs")
    config = SmtpConfig(host="127.0.0.1", port=free_port(), sender="Inspector <no-reply@inspector.example>")
    world.jobs.deliver_email = smtp_deliver(config)  # nothing listens there: connection refused
    web_sender = SmtpEmailSender(config, deliver=email_deliver(world.scheduler), attempts=1)
    await web_sender.send(to="ada@example.com", subject="Your Inspector linking code", text="code 654321")
    await world.run_jobs()
    [dead] = await world.jobs.store.dead_letters()
    assert dead["kind"] == "email" and dead["tries"] == 3 and dead["recipient"] == "a***@example.com"
    assert dead["error"] == "ConnectionRefusedError"
    assert not any("654321" in r.getMessage() for r in caplog.records)
    retries = [r for r in caplog.records if "try" in r.getMessage() and dead["job_id"] in r.getMessage()]
    assert len(retries) == 2  # tries 1 and 2 retried, try 3 dead-lettered
