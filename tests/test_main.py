"""The command line as a newcomer and the Dockerfile use it: real processes, real HTTP on loopback."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.fakes.loopback import free_port
from tests.shipped import ROOT, SHIPPED_FLOWS, pieces, say_text, shows, state, title


def env(tmp_path: Path, **extra: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("WHATSAPP_", "REDIS_URL", "SMTP_", "DATABASE_"))}
    return {**base, "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}", "PYTHONUNBUFFERED": "1",
            "FLOWS_PATH": str(SHIPPED_FLOWS), **extra}


def test_serve_passes_metas_verification_handshake(tmp_path):
    port = free_port()
    process = subprocess.Popen([sys.executable, "main.py", "serve", "--host", "127.0.0.1", "--port", str(port)],
                               cwd=ROOT, env=env(tmp_path, WHATSAPP_VERIFY_TOKEN="verify-me"),
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                health = httpx.get(f"{url}/health", timeout=1)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    # Its output only once it has stopped: reading the pipe of a live server would wait forever.
                    process.kill()
                    pytest.fail(f"serve did not answer /health within 30 s:\n{process.communicate(timeout=20)[0]}")
                time.sleep(0.2)
        assert health.json() == {"status": "ok", "checks": {"redis": "ok", "database": "ok"}}
        ok = httpx.get(f"{url}/api/v1/webhook", params={"hub.mode": "subscribe", "hub.verify_token": "verify-me",
                                                        "hub.challenge": "1158201444"})
        assert ok.status_code == 200 and ok.text == "1158201444"
        bad = httpx.get(f"{url}/api/v1/webhook", params={"hub.mode": "subscribe", "hub.verify_token": "guess",
                                                         "hub.challenge": "1"})
        assert bad.status_code == 403
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            output, _ = process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            output = process.communicate(timeout=20)[0]
            pytest.fail(f"serve did not stop within 20 s of SIGTERM:\n{output}")
    assert "development mode" in output
    assert "event loop: uvloop" in output
    # uvicorn shuts down gracefully, then re-raises SIGTERM so the exit status says what stopped it.
    assert "Application shutdown complete" in output
    assert process.returncode in (0, -signal.SIGTERM)


def webhook_text(phone: str, wamid: str, text: str = "hi") -> dict:
    value = {"messaging_product": "whatsapp", "metadata": {"phone_number_id": "1"},
             "contacts": [{"wa_id": phone, "profile": {"name": "A"}}],
             "messages": [{"from": phone, "id": wamid, "type": "text", "timestamp": str(int(time.time())),
                           "text": {"body": text}}]}
    return {"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages",
                                                                                       "value": value}]}]}


def test_serve_with_two_workers_splits_the_partitions_and_answers(tmp_path):
    """`serve --workers 2`: two uvicorn worker processes join the pipeline and share the partitions."""
    from tests.redis_servers import redis_server

    port = free_port()
    with redis_server() as redis:
        process = subprocess.Popen(
            [sys.executable, "main.py", "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"],
            cwd=ROOT, env=env(tmp_path, REDIS_URL=redis.url, PIPELINE_PARTITIONS="4"),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            owners: dict[str, list[int]] = {}
            while len(owners) < 2 or sorted(sum(owners.values(), [])) != [0, 1, 2, 3]:
                assert process.poll() is None and time.monotonic() < deadline, "workers never split the partitions"
                try:
                    pipeline = httpx.get(f"{url}/api/v1/status", timeout=2).json()["pipeline"]
                    owners[pipeline["member"]] = pipeline["partitions"]
                except (httpx.TransportError, KeyError, ValueError):
                    pass
                time.sleep(0.2)
            bodies = [webhook_text(f"23480500000{i}", f"wamid.workers.{i}") for i in range(6)]
            for b in bodies:
                assert httpx.post(f"{url}/api/v1/webhook", json=b, timeout=5).status_code == 200
            deadline = time.monotonic() + 30
            while httpx.get(f"{url}/api/v1/status", timeout=2).json()["pipeline"]["backlog"] != 0:
                assert time.monotonic() < deadline, "the workers did not finish the messages"
                time.sleep(0.2)
        finally:
            process.send_signal(signal.SIGTERM)
            output, _ = process.communicate(timeout=30)
    assert output.count("would send") >= 6  # development mode logs each reply instead of sending it
    assert output.count("Application startup complete") == 2


def run_chat(tmp_path: Path, script: str, *args: str) -> str:
    done = subprocess.run([sys.executable, "main.py", "chat", *args], cwd=ROOT, env=env(tmp_path), input=script,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_chat_books_as_the_seeker_and_the_agent_sees_it(tmp_path):
    typed = [  # what a person types: the titles staff gave the choices (or a row's number)
        "menu", title("seeker", "menu", "browse"), "1", title("seeker", "property_detail", "book"), "1",
        title("seeker", "confirm_booking", "confirm_booking"), "/as agent", "menu", title("agent", "menu", "agent_inquiries"),
    ]
    out = run_chat(tmp_path, "\n".join(typed) + "\n", "--as", "seeker")
    reference = re.search(r"INS-\w+", out)
    assert reference and shows(say_text("seeker", "booked"), out), out
    inquiries = out[out.index(pieces(say_text("agent", "inquiries"))[0]):]
    assert reference.group() in inquiries


@pytest.mark.parametrize("role,email", [
    ("seeker", "seeker@example.com"), ("agent", "agent@example.com"), ("inspector", "inspector@example.com"),
])
def test_chat_links_each_demo_account_with_the_printed_code(tmp_path, role, email):
    greeting = next(b.say for b in state("unlinked", "verify_code").branch if b.goto == f"{role}.menu")
    process = subprocess.Popen([sys.executable, "main.py", "chat", "--phone", "+2348099990001"], cwd=ROOT,
                               env=env(tmp_path), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True, bufsize=1)
    assert process.stdin and process.stdout
    process.stdin.write(f"hi\n{email}\n")
    process.stdin.flush()
    code = None
    seen = []
    deadline = time.monotonic() + 30
    while code is None and time.monotonic() < deadline:
        line = process.stdout.readline()
        seen.append(line)
        found = re.fullmatch(r"\s+(\d{6})\s*", line)
        code = found.group(1) if found else None
    assert code, "".join(seen)
    out, _ = process.communicate(f"{code}\n", timeout=30)
    assert shows(greeting, out), out
    assert process.returncode == 0


def test_serve_refuses_live_traffic_with_the_development_secret_key(tmp_path):
    done = subprocess.run([sys.executable, "main.py", "serve"], cwd=ROOT, capture_output=True, text=True, timeout=30,
                          env=env(tmp_path, WHATSAPP_TOKEN="t", WHATSAPP_PHONE_ID="1", SECRET_KEY=""))
    assert done.returncode == 1 and "SECRET_KEY is the development default" in done.stderr


@pytest.mark.parametrize("command", ["serve", "worker"])
def test_live_mode_names_every_missing_or_weak_setting_and_starts_nothing(tmp_path, command):
    live = env(tmp_path, WHATSAPP_TOKEN="t", WHATSAPP_PHONE_ID="1", SECRET_KEY="x", INSPECTOR_API_BASE_URL="",
               WHATSAPP_APP_SECRET="", WHATSAPP_VERIFY_TOKEN="")
    done = subprocess.run([sys.executable, "main.py", command, "--port", str(free_port())] if command == "serve"
                          else [sys.executable, "main.py", command], cwd=ROOT, capture_output=True, text=True,
                          timeout=30, env=live)
    assert done.returncode == 1, done.stderr
    for name in ["WHATSAPP_APP_SECRET", "WHATSAPP_VERIFY_TOKEN", "REDIS_URL", "INSPECTOR_API_BASE_URL", "SMTP_HOST",
                 "SECRET_KEY is 1 characters"]:
        assert f"  - {name}" in done.stderr, done.stderr
    assert "Uvicorn running" not in done.stderr and "flows" not in done.stdout


def test_explore_says_how_to_install_hypothesis_when_it_is_missing(tmp_path):
    """The Docker image installs the `staff` extra; anywhere else a missing hypothesis is explained."""
    blocked = ("import runpy, sys\n"
               "sys.modules['hypothesis'] = None  # as if not installed\n"
               "sys.argv = ['main.py', 'explore', '--examples', '1']\n"
               "runpy.run_path('main.py', run_name='__main__')\n")
    done = subprocess.run([sys.executable, "-c", blocked], cwd=ROOT, env=env(tmp_path), capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2, done.stderr[-2000:]
    assert "hypothesis, which is not installed" in done.stderr and "inspector-whatsapp[staff]" in done.stderr
    assert "Traceback" not in done.stderr
