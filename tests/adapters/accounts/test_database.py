"""URLs as deployers write them, and the migrations on SQLite and real PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid

import psycopg
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from adapters.accounts import AccountsDatabase, LinkingError, LinkingService, database_url, upgrade_database
from adapters.accounts.database import create_db_engine, downgrade_database
from adapters.email import ConsoleEmailSender
from tests.adapters.accounts.conftest import ACCOUNTS, lookup_user_by_email
from tests.services import TEST_POSTGRES_URL

PG_ADMIN = TEST_POSTGRES_URL
TABLES = {"whatsapp_users", "link_codes"}


@pytest.mark.parametrize(
    ("raw", "driver"),
    [
        ("sqlite:///data/bot.db", "sqlite+pysqlite"),
        ("postgresql://u:p@db/app", "postgresql+psycopg"),
        ("postgres://u:p@db:5433/app", "postgresql+psycopg"),
        ("postgresql+psycopg2://u:p@db/app", "postgresql+psycopg2"),
    ],
)
def test_database_url_picks_the_driver(raw, driver):
    url = database_url(raw)
    assert url.drivername == driver
    assert url.database in {"data/bot.db", "app"}


def test_sqlite_file_in_a_missing_directory_is_created(tmp_path):
    engine = create_db_engine(f"sqlite:///{tmp_path / 'new' / 'dir' / 'bot.db'}")
    with engine.connect() as conn:
        conn.execute(sa.text("select 1"))
    engine.dispose()
    assert (tmp_path / "new" / "dir" / "bot.db").exists()


def assert_schema_matches_models(engine: sa.Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={
                "compare_type": True,
                "include_object": lambda obj, name, type_, *_: (obj if type_ == "table" else obj.table).name in TABLES,
            },
        )
        diffs = compare_metadata(context, SQLModel.metadata)
    assert diffs == []


def test_migrations_on_sqlite(sqlite_url):
    upgrade_database(sqlite_url)
    upgrade_database(sqlite_url)  # idempotent
    engine = create_db_engine(sqlite_url)
    try:
        assert TABLES <= set(sa.inspect(engine).get_table_names())
        assert_schema_matches_models(engine)
        assert "language" in {c["name"] for c in sa.inspect(engine).get_columns("whatsapp_users")}
        assert "road" in {c["name"] for c in sa.inspect(engine).get_columns("link_codes")}
        downgrade_database(sqlite_url, "0002_language")  # codes keep their rows, without a road
        assert "road" not in {c["name"] for c in sa.inspect(engine).get_columns("link_codes")}
        downgrade_database(sqlite_url, "0001_accounts")  # back one step: the column goes, the rows stay
        assert "language" not in {c["name"] for c in sa.inspect(engine).get_columns("whatsapp_users")}
        upgrade_database(sqlite_url)
        downgrade_database(sqlite_url)
        assert not TABLES & set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


@pytest.fixture
def pg_url():
    """A throwaway schema in the shared `test` database, dropped afterwards."""
    schema = f"accounts_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{PG_ADMIN}?options=-csearch_path%3D{schema}", schema
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def test_migrations_on_postgresql(pg_url):
    url, schema = pg_url
    upgrade_database(url)
    upgrade_database(url)
    engine = create_db_engine(url)
    try:
        assert TABLES <= set(sa.inspect(engine).get_table_names(schema=schema))
        assert "alembic_version_accounts" in sa.inspect(engine).get_table_names(schema=schema)
        assert_schema_matches_models(engine)
        columns = {c["name"]: c for c in sa.inspect(engine).get_columns("whatsapp_users", schema=schema)}
        assert columns["language"]["nullable"] and columns["language"]["type"].length == 16
        road = {c["name"]: c for c in sa.inspect(engine).get_columns("link_codes", schema=schema)}["road"]
        assert not road["nullable"] and road["type"].length == 16
        downgrade_database(url, "0002_language")
        assert "road" not in {c["name"] for c in sa.inspect(engine).get_columns("link_codes", schema=schema)}
        downgrade_database(url, "0001_accounts")
        assert "language" not in {c["name"] for c in sa.inspect(engine).get_columns("whatsapp_users", schema=schema)}
        upgrade_database(url)
        downgrade_database(url)
        assert not TABLES & set(sa.inspect(engine).get_table_names(schema=schema))
    finally:
        engine.dispose()


async def test_linking_on_postgresql(pg_url, redis_client, clock, sleeps, capsys):
    url, _ = pg_url
    upgrade_database(url)
    db = AccountsDatabase.from_url(url)
    try:
        service = LinkingService(
            database=db,
            redis=redis_client,
            lookup_user_by_email=lookup_user_by_email,
            email_sender=ConsoleEmailSender(),
            secret_key="pg-secret",
            clock=clock,
            key_prefix=redis_client.test_prefix,
            sleep=sleeps,
        )
        # Ten wrong guesses at once: the conditional UPDATE lets exactly five count.
        await service.start_link("+2348012345621", "agent@example.com")
        guesses = [service.verify_code("+2348012345621", "000000") for _ in range(10)]
        results = await asyncio.gather(*guesses, return_exceptions=True)
        kinds = sorted(r.kind for r in results if isinstance(r, LinkingError))
        assert kinds == ["too_many_attempts"] * 6 + ["wrong_code"] * 4
        capsys.readouterr()

        await service.start_link("+2348012345621", "inspector@example.com")
        code = capsys.readouterr().out.split("is:")[1].split()[0]
        user = await service.verify_code("+2348012345621", code)
        assert user["id"] == str(ACCOUNTS["inspector@example.com"]["id"])
        await service.record_inbound("+2348012345621", "Ife", clock())
        assert await service.last_inbound("+2348012345621") == clock()
        # Re-link from another phone: the partial unique index allows one linked phone per account.
        await service.link_demo_user("+2348099998877", ACCOUNTS["inspector@example.com"])
        assert [u.phone for u in await service.linked_users("inspector")] == ["+2348099998877"]
    finally:
        db.dispose()


def test_processes_starting_together_on_one_sqlite_file_migrate_once_without_crashing(tmp_path):
    """Two processes auto-migrating one SQLite file crashed with "table whatsapp_users already exists"."""
    import subprocess
    import sys

    url = f"sqlite:///{tmp_path / 'bot.db'}"
    code = f"from adapters.accounts.database import upgrade_database; upgrade_database({url!r})"
    processes = [subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE, text=True) for _ in range(4)]
    errors = [p.communicate(timeout=60)[1] for p in processes]
    assert [p.returncode for p in processes] == [0, 0, 0, 0], errors
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.connect() as connection:
        assert connection.execute(sa.text("PRAGMA journal_mode")).scalar() == "wal"
        assert "whatsapp_users" in sa.inspect(connection).get_table_names()
    engine.dispose()
