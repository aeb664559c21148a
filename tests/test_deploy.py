"""The Dockerfile and docker-compose.yml cannot be built here (no Docker engine), so their commands are
checked against the real entrypoints: every command parses, every setting is read, migrations run."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest
import yaml

from main import build_parser
from tests.services import TEST_POSTGRES_URL

ROOT = Path(__file__).resolve().parents[1]


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def dockerfile_cmd() -> list[str]:
    line = next(row for row in (ROOT / "Dockerfile").read_text().splitlines() if row.startswith("CMD "))
    return json.loads(line[4:])


def container_commands() -> list[list[str]]:
    return [dockerfile_cmd()] + [s["command"] for s in compose()["services"].values()
                                 if s.get("command") and s["command"][:2] == ["python", "main.py"]]


def test_every_container_command_is_a_valid_main_py_invocation():
    commands = container_commands()
    assert len(commands) == 5  # image default (serve), migrate, metrics-reset, web, worker
    for command in commands:
        args = build_parser().parse_args(command[2:])
        assert callable(args.func)


@pytest.mark.parametrize("command", sorted({c[2] for c in container_commands()} | {"doctor", "check", "test", "broadcast"}))
def test_each_service_command_exists_as_a_subcommand(command):
    """`python main.py <cmd> --help` for every command a container or a deployer runs."""
    done = subprocess.run([sys.executable, "main.py", command, "--help"], cwd=ROOT, capture_output=True, text=True,
                          timeout=60, env={"PATH": os.environ.get("PATH", "/usr/bin")})
    assert done.returncode == 0, done.stderr
    assert f"usage: python main.py {command}" in done.stdout


def test_version():
    done = subprocess.run([sys.executable, "main.py", "--version"], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0 and re.fullmatch(r"inspector-whatsapp \d+\.\d+\.\d+\n", done.stdout)


def test_every_compose_setting_is_read_by_settings():
    from adapters.settings import Settings

    read = set(Settings.env_names().values())
    environment = compose()["x-bot"]["environment"]
    for name in environment:
        assert name in read, f"{name} is set in docker-compose.yml but Settings.from_env never reads it"


def test_compose_requires_every_live_mode_setting_instead_of_defaulting_it_to_empty():
    environment = compose()["x-bot"]["environment"]
    for name in ["SECRET_KEY", "WHATSAPP_TOKEN", "WHATSAPP_PHONE_ID", "WHATSAPP_APP_SECRET", "WHATSAPP_VERIFY_TOKEN",
                 "INSPECTOR_API_BASE_URL", "SMTP_HOST"]:
        assert str(environment[name]).startswith(f"${{{name}:?"), f"{name}: {environment[name]}"
    assert environment["REDIS_URL"].startswith("redis://")


def test_dockerfile_copies_only_what_exists_and_everything_the_package_needs():
    copied = re.findall(r"^COPY (.+) \./?\S*$", (ROOT / "Dockerfile").read_text(), re.M)
    sources = [s for line in copied for s in line.split()]
    for source in sources:
        assert (ROOT / source).exists(), source
    import tomllib

    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    for pattern in packages["include"]:
        assert pattern.rstrip("*") in sources, f"package {pattern} is not copied into the image"
    # What the runtime reads beside the flows file (FLOWS_PATH=/app/flows.yaml) is in the image too.
    from flows.translations import FOLDER

    assert "flows.yaml" in sources and FOLDER in sources, "the flows file and its translations are not copied"


def test_the_migrate_service_command_upgrades_postgresql():
    schema = f"deploy_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(TEST_POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        url = f"{TEST_POSTGRES_URL}?options=-csearch_path%3D{schema}"
        command = compose()["services"]["migrate"]["command"]
        done = subprocess.run([sys.executable, *command[1:]], cwd=ROOT, env={"DATABASE_URL": url, "PATH": "/usr/bin"},
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        with psycopg.connect(TEST_POSTGRES_URL) as conn:
            tables = {r[0] for r in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (schema,))}
        assert {"whatsapp_users", "link_codes", "alembic_version_accounts"} <= tables, tables
    finally:
        with psycopg.connect(TEST_POSTGRES_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


# --- docker compose, .env.example, Dockerfile and the lock file ------------------------------------------

SECRETS = {"SECRET_KEY", "ADMIN_TOKEN", "API_KEY", "POSTGRES_PASSWORD", "WHATSAPP_TOKEN", "WHATSAPP_VERIFY_TOKEN",
           "WHATSAPP_APP_SECRET", "INSPECTOR_API_KEY", "SMTP_PASSWORD", "GRAFANA_ADMIN_PASSWORD"}


def compose_command() -> list[str] | None:
    """`docker compose` (the plugin) or Debian's `docker-compose`; .ci/run installs the latter."""
    if shutil.which("docker") and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


def env_example() -> dict[str, str]:
    values = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        match = re.match(r"^#?\s?([A-Z][A-Z0-9_]+)=(.*)$", line)
        if match:
            values[match.group(1)] = match.group(2)
    return values


def filled_env(**drop: bool) -> str:
    """.env.example with every empty value filled in, as a deployer would; `drop` names lines to leave out."""
    lines = []
    for line in (ROOT / ".env.example").read_text().splitlines():
        match = re.match(r"^([A-Z][A-Z0-9_]+)=(.*)$", line)
        if match and match.group(1) in drop:
            continue
        if match and not match.group(2):
            line = f"{match.group(1)}=filled-{match.group(1).lower()}"
        lines.append(line)
    return "\n".join(lines) + "\n"


def run_compose(tmp_path: Path, env_text: str) -> subprocess.CompletedProcess:
    command = compose_command()
    if command is None:
        pytest.skip("neither `docker compose` nor `docker-compose` is installed (.ci/run installs docker-compose)")
    shutil.copy(ROOT / "docker-compose.yml", tmp_path / "docker-compose.yml")
    shutil.copytree(ROOT / "deploy", tmp_path / "deploy")
    (tmp_path / ".env").write_text(env_text)
    return subprocess.run([*command, "config", "-q"], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          env={"PATH": os.environ.get("PATH", "/usr/bin"), "HOME": str(tmp_path)})


def test_docker_compose_config_accepts_a_filled_env(tmp_path):
    done = run_compose(tmp_path, filled_env())
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("missing", ["SECRET_KEY", "WHATSAPP_APP_SECRET", "POSTGRES_PASSWORD", "API_KEY"])
def test_docker_compose_refuses_a_missing_secret_and_names_it(tmp_path, missing):
    done = run_compose(tmp_path, filled_env(**{missing: True}))
    assert done.returncode != 0 and missing in done.stderr, done.stderr


def test_no_secret_has_an_empty_or_default_value_in_compose():
    text = (ROOT / "docker-compose.yml").read_text()
    for name in SECRETS:
        uses = re.findall(r"\$\{" + name + r"(:?[-?][^}]*)?\}", text)
        assert uses, f"{name} is not taken from .env"
        assert all(use.startswith(":?") for use in uses), f"{name} must be required (${{{name}:?...}})"


def test_env_example_documents_every_setting_and_compose_variable():
    documented = env_example()
    from adapters.settings import Settings

    settings = set(Settings.env_names().values())
    used = set(re.findall(r"\$\{([A-Z_]+)", (ROOT / "docker-compose.yml").read_text()))
    assert settings and used
    assert not (settings | used) - documented.keys(), sorted((settings | used) - documented.keys())
    for name in SECRETS:
        assert documented[name] == "", f"{name} has a value in .env.example: secrets are filled in by the deployer"


def test_redis_runs_with_append_only_persistence():
    command = compose()["services"]["redis"]["command"]
    assert command[command.index("--appendonly") + 1] == "yes"


def test_web_and_worker_share_the_metrics_directory_reset_before_they_start():
    services = compose()["services"]
    env = compose()["x-bot"]["environment"]
    assert env["PROMETHEUS_MULTIPROC_DIR"] == "/metrics"
    for name in ["web", "worker"]:
        assert "metrics:/metrics" in services[name]["volumes"]
        assert services[name]["depends_on"]["metrics-reset"]["condition"] == "service_completed_successfully"
    assert set(services["prometheus"]["profiles"]) == set(services["grafana"]["profiles"]) == {"monitoring"}


def test_dockerfile_is_multi_stage_non_root_with_a_healthcheck_and_the_lock():
    text = (ROOT / "Dockerfile").read_text()
    assert len(re.findall(r"^FROM ", text, re.M)) >= 2
    user = re.findall(r"^USER (\S+)", text, re.M)
    assert user and user[-1] not in ("root", "0")
    assert re.search(r"^HEALTHCHECK .*", text, re.M) and "/health" in text
    assert "pip install --require-hashes -r requirements.lock" in text
    assert re.search(r"^COPY .*flows\.yaml", text, re.M) and "tests/conversations" in text
    assert "!tests/conversations" in (ROOT / ".dockerignore").read_text()


def test_the_lock_pins_every_dependency_with_hashes():
    import tomllib

    lock = (ROOT / "requirements.lock").read_text()
    pinned = {m.group(1).lower().replace("_", "-") for m in re.finditer(r"^([A-Za-z0-9_.-]+)==\S+ \\$", lock, re.M)}
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    wanted = [*project["dependencies"], *extras["sentry"], *extras["staff"]]
    for requirement in wanted:
        name = re.match(r"[A-Za-z0-9_.-]+", requirement).group(0).lower().replace("_", "-")
        assert name in pinned, f"{name} is not pinned in requirements.lock (pip-compile, see DEPLOYMENT.md)"
    blocks = re.split(r"\n(?=[A-Za-z0-9_.-]+==)", lock.split("\n", 7)[-1])
    assert all("--hash=sha256:" in block for block in blocks if "==" in block)
