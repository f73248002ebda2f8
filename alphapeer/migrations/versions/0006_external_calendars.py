"""external calendars: a teacher's ICS URL and the busy times read from it

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "external_calendar",
        sa.Column("teacher_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("refreshed_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(["teacher_id"], ["user_account.id"],
                                name=op.f("fk_external_calendar_teacher_id_user_account"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("teacher_id", name=op.f("pk_external_calendar")),
    )
    op.create_table(
        "external_busy",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("teacher_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["teacher_id"], ["user_account.id"],
                                name=op.f("fk_external_busy_teacher_id_user_account"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_external_busy")),
    )
    op.create_index("ix_external_busy_teacher_time", "external_busy",
                    ["teacher_id", "starts_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_external_busy_teacher_time", table_name="external_busy")
    op.drop_table("external_busy")
    op.drop_table("external_calendar")
