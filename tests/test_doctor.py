"""`python main.py doctor`: one line per dependency, green against working services, and it names what is wrong."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from adapters.accounts.database import upgrade_database
from adapters.inspector.sandbox import create_sandbox_app
from adapters.settings import Settings
from tests.adapters.email.smtp_sink import SmtpSink
from tests.fakes.graph_api import FakeGraphAPI
from tests.fakes.loopback import LoopbackServer, free_port
from tests.services import TEST_REDIS_URL
from tooling.doctor import diagnose, report

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def aof_redis(tmp_path_factory):
    """Our own redis-server with AOF on (the shared test Redis runs without it)."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    port, folder = free_port(), tmp_path_factory.mktemp("redis")
    process = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--appendonly", "yes",
                                "--dir", str(folder), "--save", ""], stdout=subprocess.DEVNULL)
    from redis import Redis

    client = Redis(port=port)
    for _ in range(100):
        try:
            client.ping()
            break
        except Exception:
            import time

            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    process.terminate()
    process.wait(10)


@pytest.fixture
def healthy(tmp_path, aof_redis):
    sandbox = LoopbackServer(create_sandbox_app(api_key="inspector-key")).start()
    graph = FakeGraphAPI(valid_token="wa-token").start()
    smtp = SmtpSink().start()
    database = f"sqlite:///{tmp_path / 'db.sqlite'}"
    upgrade_database(database)
    settings = Settings().model_copy(update=dict(flows_path=ROOT / "flows.yaml", database_url=database, redis_url=aof_redis,
                       secret_key="k" * 40, admin_token="admin", whatsapp_token="wa-token", whatsapp_phone_id="1065",
                       whatsapp_verify_token="v", whatsapp_app_secret="s", whatsapp_graph_url=graph.url,
                       inspector_api_base_url=sandbox.url, inspector_api_key="inspector-key",
                       smtp_host="127.0.0.1", smtp_port=smtp.port))
    yield settings
    smtp.stop()
    graph.stop()
    sandbox.stop()


async def test_every_check_passes_against_working_services(healthy):
    findings = await diagnose(healthy, timeout=5)
    assert [f.name for f in findings] == ["settings", "redis", "database", "inspector", "smtp", "whatsapp"]
    assert all(f.ok and not f.skipped for f in findings), findings
    out = io.StringIO()
    assert report(findings, out) == 0 and out.getvalue().endswith("all checks passed\n")


async def test_each_problem_is_named_with_what_to_do(healthy, tmp_path):
    broken = healthy.model_copy(update=dict(secret_key="short", whatsapp_token="expired", inspector_api_key="wrong",
                     database_url=f"sqlite:///{tmp_path / 'empty.sqlite'}", smtp_port=free_port(),
                     redis_url=TEST_REDIS_URL))
    found = {f.name: f for f in await diagnose(broken, timeout=5)}
    assert not any(f.ok for f in found.values())
    assert "SECRET_KEY" in found["settings"].detail
    assert "AOF is off" in found["redis"].detail
    assert "python main.py db upgrade" in found["database"].detail
    assert "INSPECTOR_API_KEY" in found["inspector"].detail
    assert "Connection" in found["smtp"].detail
    assert "expired" in found["whatsapp"].detail
    out = io.StringIO()
    assert report(list(found.values()), out) == 1
    assert len(out.getvalue().splitlines()) <= 24  # one screen


def test_the_command_exits_non_zero_and_prints_one_line_per_check():
    env = {"PATH": os.environ.get("PATH", "/usr/bin"), "DATABASE_URL": "sqlite://", "SECRET_KEY": "x"}
    done = subprocess.run([sys.executable, "main.py", "doctor", "--timeout", "3"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert any(line.startswith("[FAIL] settings") and "SECRET_KEY" in line for line in lines)
    assert sum(line.startswith("[") for line in lines) == 6
