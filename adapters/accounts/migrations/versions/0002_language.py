"""The language each WhatsApp user reads the bot in.

Revision ID: 0002_language
Revises: 0001_accounts
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_language"
down_revision = "0001_accounts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("whatsapp_users") as table:  # batch: SQLite cannot alter a table in place
        table.add_column(sa.Column("language", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("whatsapp_users") as table:
        table.drop_column("language")
