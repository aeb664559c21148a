"""Tables of the accounts adapter: which WhatsApp number is linked to which Inspector account.

Timestamps are always timezone-aware UTC in Python. PostgreSQL stores them as `timestamptz`;
SQLite has no time zones, so `UtcDateTime` stores naive UTC there and re-attaches UTC on load.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel


class UtcDateTime(sa.types.TypeDecorator):
    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; pass an aware datetime (UTC)")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class WhatsAppUser(SQLModel, table=True):
    """One WhatsApp number. Rows exist for unlinked numbers too (for `last_inbound_at`)."""

    __tablename__ = "whatsapp_users"
    __table_args__ = (
        # At most one linked phone per Inspector account.
        sa.Index(
            "uq_whatsapp_users_linked_inspector_user",
            "inspector_user_id",
            unique=True,
            postgresql_where=sa.text("linked"),
            sqlite_where=sa.text("linked"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    phone: str = Field(max_length=16, unique=True, nullable=False)
    profile_name: str | None = Field(default=None, max_length=200)
    inspector_user_id: str | None = Field(default=None, max_length=64)
    role: str | None = Field(default=None, max_length=32)
    name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320, index=True)
    linked: bool = Field(default=False, nullable=False)
    linked_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    #: The language the user reads the bot in (a code of flows.yaml's languages); None until they pick one.
    language: str | None = Field(default=None, max_length=16)
    last_inbound_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    created_at: datetime = Field(default_factory=_utc_now, sa_type=UtcDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=_utc_now, sa_type=UtcDateTime, nullable=False)


class LinkCode(SQLModel, table=True):
    """One emailed code. Only an HMAC of the code is kept (see `adapters.accounts.codes`).

    `inspector_user_id` is NULL for a decoy: the row written when the email is unknown, so that
    verifying behaves exactly as for a real code (wrong code, tries left) and nothing is revealed.
    `revoked` marks a code that can never be used: too many wrong attempts, a newer code for the
    same phone, or an email that was never delivered.
    """

    __tablename__ = "link_codes"

    id: str = Field(primary_key=True, max_length=32)
    phone: str = Field(max_length=16, index=True, nullable=False)
    email: str = Field(max_length=320, nullable=False)
    inspector_user_id: str | None = Field(default=None, max_length=64)
    role: str | None = Field(default=None, max_length=32)
    name: str | None = Field(default=None, max_length=200)
    code_hash: str = Field(max_length=64, nullable=False)
    expires_at: datetime = Field(sa_type=UtcDateTime, nullable=False)
    attempts: int = Field(default=0, nullable=False)
    used: bool = Field(default=False, nullable=False)
    revoked: bool = Field(default=False, nullable=False)
    created_at: datetime = Field(default_factory=_utc_now, sa_type=UtcDateTime, nullable=False)
    #: `whatsapp` (emailed, typed in the chat) or `web` (sent to the phone for the website): one latest code each.
    road: str = Field(default="whatsapp", max_length=16, nullable=False,
                      sa_column_kwargs={"server_default": "whatsapp"})
