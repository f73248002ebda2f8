"""schedule: teacher booking settings, date overrides, reminders, buffers in the guard

Adds per-teacher buffer / notice / horizon, availability overrides for single dates,
reminder rows, ICS sequence numbers, reschedule links and one free intro per visitor and
teacher. The teacher's overlap guard now covers the buffer after each session
(``teacher_until``); SQLite's table rebuild drops triggers, so the guards are recreated.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_ACTIVE = "status IN ('held', 'confirmed')"
_INTRO = "kind = 'intro' AND status IN ('held', 'confirmed', 'completed')"


def _guard_sql(party: str, until: str) -> list[str]:
    """Overlap guard for one party; ``until`` is the column that ends its busy time."""
    if op.get_bind().dialect.name == "postgresql":
        return [
            f"ALTER TABLE booking ADD CONSTRAINT ex_booking_{party}_overlap "
            f"EXCLUDE USING gist ({party}_id WITH =, "
            f"tstzrange(starts_at, {until}, '[)') WITH &&) WHERE ({_ACTIVE})"
        ]
    clash = (
        f"SELECT RAISE(ABORT, 'booking_{party}_overlap') WHERE EXISTS ("
        f"SELECT 1 FROM booking b WHERE b.{party}_id = NEW.{party}_id "
        f"AND b.id IS NOT NEW.id AND b.{_ACTIVE} "
        f"AND b.starts_at < NEW.{until} AND b.{until} > NEW.starts_at);"
    )
    return [
        f"CREATE TRIGGER booking_{party}_overlap_insert BEFORE INSERT ON booking "
        f"WHEN NEW.{_ACTIVE} BEGIN {clash} END",
        f"CREATE TRIGGER booking_{party}_overlap_update "
        f"BEFORE UPDATE OF status, starts_at, ends_at, {until}, {party}_id ON booking "
        f"WHEN NEW.{_ACTIVE} BEGIN {clash} END",
    ]


def _drop_guard(party: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE booking DROP CONSTRAINT IF EXISTS ex_booking_{party}_overlap")
    else:
        op.execute(f"DROP TRIGGER IF EXISTS booking_{party}_overlap_insert")
        op.execute(f"DROP TRIGGER IF EXISTS booking_{party}_overlap_update")


def _parties_to_rebuild() -> tuple[str, ...]:
    # PostgreSQL keeps the student constraint through ALTER TABLE; SQLite rebuilds the table.
    return ("teacher",) if op.get_bind().dialect.name == "postgresql" else ("teacher", "student")


def upgrade() -> None:
    for party in _parties_to_rebuild():
        _drop_guard(party)
    op.create_table(
        "availability_override",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("teacher_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("start_minute", sa.Integer(), nullable=True),
        sa.Column("end_minute", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "kind = 'blocked' OR start_minute IS NOT NULL",
            name=op.f("ck_availability_override_extra_has_hours"),
        ),
        sa.CheckConstraint(
            "kind IN ('blocked', 'extra')", name=op.f("ck_availability_override_known_kind")
        ),
        sa.CheckConstraint(
            "(start_minute IS NULL AND end_minute IS NULL) OR (start_minute >= 0 AND end_minute <= 1440 AND start_minute < end_minute)",
            name=op.f("ck_availability_override_minute_range"),
        ),
        sa.ForeignKeyConstraint(
            ["teacher_id"],
            ["user_account.id"],
            name=op.f("fk_availability_override_teacher_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_availability_override")),
    )
    op.create_index(
        "ix_availability_override_teacher_day",
        "availability_override",
        ["teacher_id", "day"],
        unique=False,
    )
    op.create_table(
        "teacher_settings",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("buffer_minutes", sa.Integer(), nullable=False),
        sa.Column("min_notice_minutes", sa.Integer(), nullable=True),
        sa.Column("horizon_days", sa.Integer(), nullable=True),
        sa.Column("offers_intro", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "buffer_minutes BETWEEN 0 AND 120", name=op.f("ck_teacher_settings_buffer_range")
        ),
        sa.CheckConstraint(
            "horizon_days IS NULL OR horizon_days BETWEEN 1 AND 365",
            name=op.f("ck_teacher_settings_horizon_range"),
        ),
        sa.CheckConstraint(
            "min_notice_minutes IS NULL OR min_notice_minutes BETWEEN 0 AND 10080",
            name=op.f("ck_teacher_settings_notice_range"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_teacher_settings_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_teacher_settings")),
    )
    with op.batch_alter_table("booking", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("teacher_until", core.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("sequence", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("rescheduled_from", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_booking_rescheduled_from_booking"),
            "booking",
            ["rescheduled_from"],
            ["id"],
        )
    op.execute("UPDATE booking SET teacher_until = ends_at")
    with op.batch_alter_table("booking", schema=None) as batch_op:
        batch_op.alter_column(
            "teacher_until", existing_type=core.db.UTCDateTime(timezone=True), nullable=False
        )
        batch_op.create_check_constraint(
            op.f("ck_booking_buffer_after_end"), "teacher_until >= ends_at"
        )
        batch_op.create_index(
            "uq_booking_one_intro",
            ["student_id", "teacher_id"],
            unique=True,
            sqlite_where=sa.text(_INTRO),
            postgresql_where=sa.text(_INTRO),
        )
    op.create_table(
        "reminder",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=4), nullable=False),
        sa.Column("due_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("kind IN ('24h', '1h', '15m')", name=op.f("ck_reminder_known_kind")),
        sa.ForeignKeyConstraint(
            ["booking_id"],
            ["booking.id"],
            name=op.f("fk_reminder_booking_id_booking"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_reminder_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminder")),
        sa.UniqueConstraint(
            "booking_id", "user_id", "kind", name=op.f("uq_reminder_booking_id_user_id_kind")
        ),
    )
    with op.batch_alter_table("reminder", schema=None) as batch_op:
        batch_op.create_index("ix_reminder_due", ["sent_at", "due_at"], unique=False)
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("reminders_off", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )
    for party in _parties_to_rebuild():
        until = "teacher_until" if party == "teacher" else "ends_at"
        for statement in _guard_sql(party, until):
            op.execute(statement)


def downgrade() -> None:
    for party in _parties_to_rebuild():
        _drop_guard(party)
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_column("reminders_off")
    op.drop_table("reminder")
    with op.batch_alter_table("booking", schema=None) as batch_op:
        batch_op.drop_index("uq_booking_one_intro")
        batch_op.drop_constraint(op.f("ck_booking_buffer_after_end"), type_="check")
        batch_op.drop_constraint(op.f("fk_booking_rescheduled_from_booking"), type_="foreignkey")
        batch_op.drop_column("rescheduled_from")
        batch_op.drop_column("sequence")
        batch_op.drop_column("teacher_until")
    op.drop_table("teacher_settings")
    op.drop_table("availability_override")
    for party in _parties_to_rebuild():
        for statement in _guard_sql(party, "ends_at"):
            op.execute(statement)
