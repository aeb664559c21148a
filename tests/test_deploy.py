"""The Dockerfile and docker-compose.yml cannot be built here (no Docker engine), so their commands are
checked against the real entrypoints: every command parses, every setting is read, migrations run."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import yaml

from main import build_parser
from tests.services import TEST_POSTGRES_URL

ROOT = Path(__file__).resolve().parents[1]


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def dockerfile_cmd() -> list[str]:
    line = next(row for row in (ROOT / "Dockerfile").read_text().splitlines() if row.startswith("CMD "))
    return json.loads(line[4:])


def test_every_container_command_is_a_valid_main_py_invocation():
    commands = [dockerfile_cmd()] + [s["command"] for s in compose()["services"].values()
                                     if s.get("command") and s["command"][:2] == ["python", "main.py"]]
    assert len(commands) == 4  # image default (serve), migrate, web, worker
    for command in commands:
        args = build_parser().parse_args(command[2:])
        assert callable(args.func)


def test_every_compose_setting_is_read_by_settings():
    source = (ROOT / "adapters" / "settings.py").read_text()
    environment = compose()["x-bot"]["environment"]
    for name in environment:
        assert f'"{name}"' in source, f"{name} is set in docker-compose.yml but Settings.from_env never reads it"


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
