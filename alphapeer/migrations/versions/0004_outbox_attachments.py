"""outbox attachments: a small text file (a calendar invite) travels with a message

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN on both backends: no table rebuild.
    op.add_column("outbox_message", sa.Column("file_name", sa.String(length=100), nullable=True))
    op.add_column("outbox_message", sa.Column("file_body", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_column("file_body")
        batch_op.drop_column("file_name")
