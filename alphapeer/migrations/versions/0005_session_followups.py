"""session follow-ups: when both sides were asked whether it happened, and their answers

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMNs: no table rebuild, the overlap triggers stay untouched.
    op.add_column("booking", sa.Column("followup_at", core.db.UTCDateTime(timezone=True),
                                       nullable=True))
    op.add_column("booking", sa.Column("student_report", sa.String(length=16), nullable=True))
    op.add_column("booking", sa.Column("teacher_report", sa.String(length=16), nullable=True))


def downgrade() -> None:
    # Dropping columns rebuilds the table on SQLite, which drops its triggers: restore them.
    with op.batch_alter_table("booking", schema=None) as batch_op:
        batch_op.drop_column("teacher_report")
        batch_op.drop_column("student_report")
        batch_op.drop_column("followup_at")
    if op.get_bind().dialect.name == "sqlite":
        active = "status IN ('held', 'confirmed')"
        for party, until in (("teacher", "teacher_until"), ("student", "ends_at")):
            clash = (
                f"SELECT RAISE(ABORT, 'booking_{party}_overlap') WHERE EXISTS ("
                f"SELECT 1 FROM booking b WHERE b.{party}_id = NEW.{party}_id "
                f"AND b.id IS NOT NEW.id AND b.{active} "
                f"AND b.starts_at < NEW.{until} AND b.{until} > NEW.starts_at);"
            )
            op.execute(f"DROP TRIGGER IF EXISTS booking_{party}_overlap_insert")
            op.execute(f"DROP TRIGGER IF EXISTS booking_{party}_overlap_update")
            op.execute(f"CREATE TRIGGER booking_{party}_overlap_insert BEFORE INSERT ON booking "
                       f"WHEN NEW.{active} BEGIN {clash} END")
            op.execute(f"CREATE TRIGGER booking_{party}_overlap_update BEFORE UPDATE OF status, "
                       f"starts_at, ends_at, {until}, {party}_id ON booking "
                       f"WHEN NEW.{active} BEGIN {clash} END")
