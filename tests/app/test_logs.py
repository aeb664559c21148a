"""Logs: a whole journey through `python main.py serve` at DEBUG with LOG_FORMAT=json leaks nothing.

The server runs as its own process with real uvicorn, pywa, httpx and arq logging, against a sandbox
Inspector, the fake Graph API and an SMTP sink on loopback. Every stderr line must be one JSON object,
and no full phone number, email, link code or secret may appear in any of them.
"""

from __future__ import annotations

import io
import json
import logging
import os
import signal
import subprocess
import sys
import time
import uuid

import httpx
import pytest

from adapters.inspector.sandbox import create_sandbox_app
from adapters.observability.logs import configure_logging
from engine.context import turn_scope
from tests.adapters.email.smtp_sink import SmtpSink
from tests.adapters.whatsapp import payloads as p
from tests.fakes.graph_api import FakeGraphAPI
from tests.fakes.loopback import LoopbackServer, free_port
from tests.redis_servers import redis_server

from .journey import ROOT

PHONE = "2348066612345"
EMAIL = "seeker@example.com"
WAMID_PREFIX = "logtest"
SECRETS = {
    "WHATSAPP_TOKEN": "EAAGtesttoken0123456789",
    "WHATSAPP_VERIFY_TOKEN": "verify-token-4f8a2b",
    "WHATSAPP_APP_SECRET": "app-secret-9c1d7e3f",
    "SECRET_KEY": "s" * 16 + uuid.uuid4().hex,
    "INSPECTOR_API_KEY": "inspector-key-77aa11",
    "ADMIN_TOKEN": "admin-token-5b5b5b5b",
}


@pytest.fixture
def services():
    """Inspector, Graph and SMTP fakes on loopback, and a Redis of the test's own (serve and worker use the
    production key names, which must not land in the shared test database)."""
    sandbox = LoopbackServer(create_sandbox_app(api_key=SECRETS["INSPECTOR_API_KEY"])).start()
    graph = FakeGraphAPI().start()
    smtp = SmtpSink().start()
    with redis_server() as redis:
        yield sandbox, graph, smtp, redis.url
    smtp.stop()
    graph.stop()
    sandbox.stop()


def wait_for(predicate, what: str, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def stop(process: subprocess.Popen, log) -> str:
    """Stop `process` and return what it logged."""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    log.seek(0)
    text = log.read()
    log.close()
    return text


def post(client: httpx.Client, text: str) -> None:
    message = p.text(PHONE, text, id=f"wamid.{WAMID_PREFIX}{uuid.uuid4().hex}")
    raw, headers = p.signed(p.body([message], [p.contact(PHONE, name="Ada Obi")]),
                            SECRETS["WHATSAPP_APP_SECRET"])
    assert client.post("/api/v1/webhook", content=raw, headers=headers).status_code == 200


def test_a_whole_journey_at_debug_logs_json_lines_without_personal_data(tmp_path, services):
    sandbox, graph, smtp, redis_url = services
    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin"), "LOG_FORMAT": "json", "LOG_LEVEL": "DEBUG",
        "FLOWS_PATH": str(ROOT / "flows.yaml"), "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
        "REDIS_URL": redis_url, "INSPECTOR_API_BASE_URL": sandbox.url, "WHATSAPP_PHONE_ID": p.PHONE_ID,
        "WHATSAPP_GRAPH_URL": graph.url, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp.port),
        **SECRETS,
    }
    # Logs go to files: a DEBUG run fills a pipe's buffer long before the journey ends.
    server_log, worker_log = open(tmp_path / "serve.log", "w+"), open(tmp_path / "worker.log", "w+")  # noqa: SIM115
    server = subprocess.Popen([sys.executable, "main.py", "serve", "--host", "127.0.0.1", "--port", str(port)],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=server_log, text=True)
    # The link code goes out as a `deliver_email` job: the worker's arq logs carry job arguments.
    worker = subprocess.Popen([sys.executable, "main.py", "worker"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=worker_log, text=True)
    stderr = ""
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            def healthy() -> bool:
                try:
                    return client.get("/health").status_code == 200
                except httpx.TransportError:
                    assert server.poll() is None, "the server stopped"
                    return False

            wait_for(healthy, "the server to start")
            verify = client.get("/api/v1/webhook", params={
                "hub.mode": "subscribe", "hub.verify_token": SECRETS["WHATSAPP_VERIFY_TOKEN"], "hub.challenge": "7"})
            assert verify.status_code == 200
            for text in ["hi", EMAIL]:
                before = len(graph.messages)
                post(client, text)
                wait_for(lambda before=before: len(graph.messages) > before, f"a reply to {text!r}")
            code = smtp.last_code(EMAIL, timeout=10)
            wrong = f"{(int(code) + 1) % 1_000_000:06d}"
            for text in [wrong, code]:
                before = len(graph.messages)
                post(client, text)
                wait_for(lambda before=before: len(graph.messages) > before, "a reply to a code")
            assert client.get("/metrics").status_code == 200
    except AssertionError as exc:
        stderr = stop(worker, worker_log) + stop(server, server_log)
        raise AssertionError(f"{exc}; the processes said:\n" + stderr[-6000:]) from None
    finally:
        stderr = stderr or (stop(server, server_log) + stop(worker, worker_log))

    lines = [line for line in stderr.splitlines() if line.strip()]
    records = []
    for line in lines:
        try:
            records.append(json.loads(line))
        except ValueError:
            raise AssertionError(f"not a JSON line: {line[:300]}") from None
    loggers = {r["logger"].split(".")[0] for r in records}
    assert {"uvicorn", "httpx", "adapters", "arq"} <= loggers, loggers  # third-party lines were kept, and masked
    assert any(r["logger"] == "uvicorn.access" and "/api/v1/webhook" in r["message"] for r in records)
    forbidden = [PHONE, "+" + PHONE, EMAIL, EMAIL.replace("@", "%40"), code, wrong, *SECRETS.values()]
    for record in records:
        line = json.dumps(record)
        for value in forbidden:
            assert value not in line and value not in record["message"], f"{value!r} leaked: {line[:400]}"
    turns = [r for r in records if r.get("turn_id")]
    assert turns, "no line carried the turn's correlation fields"
    assert all(r.get("phone", "").startswith("+2348") and "*" in r["phone"] for r in turns)
    assert any(r.get("flow") and r.get("state") and r.get("wamid") for r in turns)


def test_third_party_records_are_masked_and_correlated_in_process():
    stream = io.StringIO()
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    try:
        configure_logging("DEBUG", "json", secrets=["the-verify-token"], stream=stream)
        with turn_scope("+2348012345678", "wamid.X1") as scope:
            scope.flow, scope.state = "seeker", "menu"
            logging.getLogger("httpx").info('HTTP Request: GET http://x/users/by-email/a%%40b.com "%s"', "200")
            logging.getLogger("uvicorn.access").info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:1", "GET",
                                                     "/api/v1/webhook?hub.verify_token=the-verify-token", "1.1", 200)
            logging.getLogger("arq.worker").info("deliver_whatsapp(%r)", {"to": "2348012345678", "code": "123456"})
            try:
                raise ValueError("bad phone 2348012345678")
            except ValueError:
                logging.getLogger("adapters.x").exception("failed for %s", "x@example.org")
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    records = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert len(records) == 4
    text = stream.getvalue()
    for leaked in ["2348012345678", "a%40b.com", "the-verify-token", "123456", "x@example.org"]:
        assert leaked not in text, leaked
    assert all(r["turn_id"] == records[0]["turn_id"] and r["flow"] == "seeker" and r["state"] == "menu"
               and r["wamid"] == "wamid.X1" and r["phone"] == "+2348*******78" for r in records)
    assert "ValueError" in records[-1]["exc"] and "+2348*******78" in records[-1]["exc"]


def test_sql_statements_and_their_parameters_stay_out_of_the_log_at_any_level():
    import sqlalchemy

    stream = io.StringIO()
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    try:
        for level in ("INFO", "DEBUG"):
            configure_logging(level, "text", stream=stream)
            engine = sqlalchemy.create_engine("sqlite://")
            with engine.connect() as connection:
                connection.execute(sqlalchemy.text("SELECT :phone"), {"phone": "+2348012345678"})
            engine.dispose()
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    assert "SELECT" not in stream.getvalue() and "2348012345678" not in stream.getvalue()
