"""Session rooms (private Discord threads) and files forwarded by reference: outbox messages
carry a platform file id or a room to post in; thread messages keep their file's kind

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from core.db import UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

# Plain ADD/DROP COLUMN (no table rebuild on SQLite, which would drop hand-made triggers).
NEW_COLUMNS = (
    ("outbox_message", sa.Column("file_ref", sa.String(length=500), nullable=True)),
    ("outbox_message", sa.Column("file_kind", sa.String(length=16), nullable=True)),
    ("outbox_message", sa.Column("room", sa.String(length=32), nullable=True)),
    ("session_message", sa.Column("file_kind", sa.String(length=16), nullable=True)),
)


def upgrade() -> None:
    op.create_table(
        "session_room",
        sa.Column("booking_id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("room_key", sa.String(length=32), nullable=False),
        sa.Column("student_in", sa.Boolean(), nullable=False),
        sa.Column("teacher_in", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["booking_id"], ["booking.id"],
                                name=op.f("fk_session_room_booking_id_booking"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("booking_id", "platform", name=op.f("pk_session_room")),
        sa.UniqueConstraint("platform", "room_key",
                            name=op.f("uq_session_room_platform_room_key")),
    )
    for table, column in NEW_COLUMNS:
        op.add_column(table, column)


def downgrade() -> None:
    for table, column in reversed(NEW_COLUMNS):
        op.drop_column(table, column.name)
    op.drop_table("session_room")
