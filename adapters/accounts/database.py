"""Database access for the accounts adapter: URL handling, the engine, and migrations.

Driver choice: a synchronous SQLAlchemy engine, with psycopg 3 (`postgresql+psycopg`) for
PostgreSQL and the standard library's `sqlite3` for SQLite. psycopg 3 is already a dependency
(psycopg2 is not installed), and a sync engine lets SQLite work without adding aiosqlite, with one
code path for both databases. Every query is short (a few rows by primary or unique key), so each
unit of work runs in `asyncio.to_thread` and never blocks the event loop; the pool is sized for that.

Deployers write URLs as they know them: `sqlite:///path/to.db`, `postgresql://user:pass@host/db`
or Heroku-style `postgres://...`; `database_url()` maps them onto the drivers above. A URL that
already names a driver (`postgresql+psycopg2://`) is left alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import URL, Engine, make_url
from sqlmodel import Session

log = logging.getLogger(__name__)

T = TypeVar("T")
MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def database_url(raw: str) -> URL:
    """Parse a deployer's DATABASE_URL and choose the driver."""
    raw = raw.strip()
    if raw.startswith("postgres://"):
        raw = "postgresql://" + raw[len("postgres://") :]
    url = make_url(raw)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    elif url.drivername == "sqlite":
        url = url.set(drivername="sqlite+pysqlite")
    return url


def create_db_engine(raw_url: str) -> Engine:
    url = database_url(raw_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 15})
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return sa.create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)


class AccountsDatabase:
    """The session factory the linking service uses: `await db.run(fn)` runs `fn(session)` in a thread.

    `fn` runs inside one transaction, committed when it returns and rolled back if it raises.
    Objects come back detached but loaded (`expire_on_commit=False`).
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def from_url(cls, raw_url: str) -> AccountsDatabase:
        return cls(create_db_engine(raw_url))

    def run_sync(self, fn: Callable[[Session], T]) -> T:
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            return fn(session)

    async def run(self, fn: Callable[[Session], T]) -> T:
        return await asyncio.to_thread(self.run_sync, fn)

    def dispose(self) -> None:
        self.engine.dispose()


def alembic_config(connection: sa.Connection | None = None) -> Config:
    """Alembic configuration built in code, so migrations run from an installed package."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def upgrade_database(database_url: str, revision: str = "head") -> None:
    """Bring the accounts tables up to date (what `python main.py db upgrade` runs)."""
    backend = _migrate(database_url, command.upgrade, revision)
    log.info("accounts database upgraded to %s (%s)", revision, backend)


def downgrade_database(database_url: str, revision: str = "base") -> None:
    _migrate(database_url, command.downgrade, revision)


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    """WAL: readers never wait for the writer, and a write costs one fsync of the log, not of the file."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _migrate(database_url: str, step: Callable[[Config, str], None], revision: str) -> str:
    """Run one alembic command in a transaction; the backend's name, for the log.

    Processes starting together (a web and a worker on one SQLite file) take a file lock first, so one
    migrates and the others find the tables there ("table whatsapp_users already exists" otherwise).
    PostgreSQL takes a transaction-scoped advisory lock for the same reason."""
    engine = create_db_engine(database_url)
    try:
        with _migration_lock(engine.url), engine.begin() as connection:
            if engine.url.get_backend_name() == "postgresql":
                connection.execute(sa.text("SELECT pg_advisory_xact_lock(727274)"))
            step(alembic_config(connection), revision)
    finally:
        engine.dispose()
    return engine.url.get_backend_name()


@contextlib.contextmanager
def _migration_lock(url: URL) -> Iterator[None]:
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        yield
        return
    lock_path = Path(url.database).expanduser().with_suffix(".migrate.lock")
    with open(lock_path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
