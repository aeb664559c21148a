"""WhatsApp users and link codes.

Revision ID: 0001_accounts
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_accounts"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "whatsapp_users",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("phone", sa.String(length=16), nullable=False),
        sa.Column("profile_name", sa.String(length=200), nullable=True),
        sa.Column("inspector_user_id", sa.String(length=64), nullable=True),
        sa.Column("role", sa.String(length=32), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("linked", sa.Boolean(), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_inbound_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("phone"),
    )
    op.create_index("ix_whatsapp_users_email", "whatsapp_users", ["email"])
    op.create_index(
        "uq_whatsapp_users_linked_inspector_user",
        "whatsapp_users",
        ["inspector_user_id"],
        unique=True,
        postgresql_where=sa.text("linked"),
        sqlite_where=sa.text("linked"),
    )
    op.create_table(
        "link_codes",
        sa.Column("id", sa.String(length=32), primary_key=True),
        sa.Column("phone", sa.String(length=16), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("inspector_user_id", sa.String(length=64), nullable=True),
        sa.Column("role", sa.String(length=32), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("used", sa.Boolean(), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_link_codes_phone", "link_codes", ["phone"])


def downgrade() -> None:
    op.drop_index("ix_link_codes_phone", table_name="link_codes")
    op.drop_table("link_codes")
    op.drop_index("uq_whatsapp_users_linked_inspector_user", table_name="whatsapp_users")
    op.drop_index("ix_whatsapp_users_email", table_name="whatsapp_users")
    op.drop_table("whatsapp_users")
