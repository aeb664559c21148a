"""The road a link code was asked on: `whatsapp` (emailed, verified in the chat) or `web` (sent to the phone
by WhatsApp for the Inspector website, verified there). Each road has its own latest code, so a code asked
on one never revokes the code a user is about to type on the other.

Revision ID: 0003_code_road
Revises: 0002_language
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_code_road"
down_revision = "0002_language"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("link_codes") as table:  # batch: SQLite cannot alter a table in place
        table.add_column(sa.Column("road", sa.String(length=16), nullable=False, server_default="whatsapp"))


def downgrade() -> None:
    with op.batch_alter_table("link_codes") as table:
        table.drop_column("road")
