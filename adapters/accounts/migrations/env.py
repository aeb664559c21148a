"""Alembic environment for the accounts tables; the connection comes from `upgrade_database`."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

from adapters.accounts import models  # noqa: F401  (registers the tables on the metadata)
from adapters.accounts.database import create_db_engine

config = context.config
target_metadata = SQLModel.metadata
# Our own version table, so other components may keep their own migrations in the same database.
VERSION_TABLE = "alembic_version_accounts"
TABLES = {"whatsapp_users", "link_codes"}


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    table = obj if type_ == "table" else getattr(obj, "table", None)
    return table is None or table.name in TABLES


def run_migrations(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        version_table=VERSION_TABLE,
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run_migrations(connection)
else:
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database: call adapters.accounts.database.upgrade_database(url)")
    engine = create_db_engine(url)
    with engine.begin() as conn:
        run_migrations(conn)
    engine.dispose()
