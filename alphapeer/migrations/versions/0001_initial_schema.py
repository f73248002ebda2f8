"""initial schema: accounts, catalogue, availability, bookings, flow state

Bookings get a database-level guard against overlaps for a teacher and for a student:
an exclusion constraint on PostgreSQL and BEFORE INSERT/UPDATE triggers on SQLite.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


_ACTIVE = "status IN ('held', 'confirmed')"
_PARTIES = ("teacher", "student")


def _create_overlap_guards() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        for party in _PARTIES:
            op.execute(
                f"ALTER TABLE booking ADD CONSTRAINT ex_booking_{party}_overlap "
                f"EXCLUDE USING gist ({party}_id WITH =, "
                f"tstzrange(starts_at, ends_at, '[)') WITH &&) WHERE ({_ACTIVE})"
            )
        return
    # SQLite stores UTC as fixed-format text, so text comparison orders correctly.
    for party in _PARTIES:
        clash = (
            f"SELECT RAISE(ABORT, 'booking_{party}_overlap') WHERE EXISTS ("
            f"SELECT 1 FROM booking b WHERE b.{party}_id = NEW.{party}_id "
            f"AND b.id IS NOT NEW.id AND b.{_ACTIVE} "
            f"AND b.starts_at < NEW.ends_at AND b.ends_at > NEW.starts_at);"
        )
        op.execute(
            f"CREATE TRIGGER booking_{party}_overlap_insert BEFORE INSERT ON booking "
            f"WHEN NEW.{_ACTIVE} BEGIN {clash} END"
        )
        op.execute(
            f"CREATE TRIGGER booking_{party}_overlap_update "
            f"BEFORE UPDATE OF status, starts_at, ends_at, {party}_id ON booking "
            f"WHEN NEW.{_ACTIVE} BEGIN {clash} END"
        )


def _drop_overlap_guards() -> None:
    bind = op.get_bind()
    for party in _PARTIES:
        if bind.dialect.name == "postgresql":
            op.execute(f"ALTER TABLE booking DROP CONSTRAINT IF EXISTS ex_booking_{party}_overlap")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS booking_{party}_overlap_insert")
            op.execute(f"DROP TRIGGER IF EXISTS booking_{party}_overlap_update")


def upgrade() -> None:
    op.create_table(
        "conversation",
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("chat_key", sa.String(length=64), nullable=False),
        sa.Column("user_key", sa.String(length=64), nullable=False),
        sa.Column("flow", sa.String(length=32), nullable=False),
        sa.Column("step", sa.String(length=32), nullable=False),
        sa.Column("nonce", sa.String(length=8), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("choices", sa.JSON(), nullable=False),
        sa.Column("updated_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("platform", "chat_key", "user_key", name=op.f("pk_conversation")),
    )
    op.create_table(
        "user_account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("display_name", sa.String(length=64), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("origin", sa.String(length=64), nullable=True),
        sa.Column("bio", sa.String(length=500), nullable=True),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("onboarded_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_account")),
    )
    op.create_table(
        "availability_rule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("teacher_id", sa.Integer(), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("start_minute", sa.Integer(), nullable=False),
        sa.Column("end_minute", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "start_minute >= 0 AND end_minute <= 1440 AND start_minute < end_minute",
            name=op.f("ck_availability_rule_minute_range"),
        ),
        sa.CheckConstraint(
            "weekday BETWEEN 0 AND 6", name=op.f("ck_availability_rule_weekday_range")
        ),
        sa.ForeignKeyConstraint(
            ["teacher_id"],
            ["user_account.id"],
            name=op.f("fk_availability_rule_teacher_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_availability_rule")),
    )
    with op.batch_alter_table("availability_rule", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_availability_rule_teacher_id"), ["teacher_id"], unique=False
        )

    op.create_table(
        "course",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=48), nullable=False),
        sa.Column("title", sa.String(length=80), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("price_minor", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("session_minutes", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("creator_id", sa.Integer(), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "level IN ('beginner', 'intermediate', 'advanced')", name=op.f("ck_course_known_level")
        ),
        sa.CheckConstraint(
            "status IN ('draft', 'published', 'retired')", name=op.f("ck_course_known_status")
        ),
        sa.CheckConstraint("price_minor >= 0", name=op.f("ck_course_price_not_negative")),
        sa.CheckConstraint(
            "session_minutes BETWEEN 15 AND 240", name=op.f("ck_course_session_length")
        ),
        sa.ForeignKeyConstraint(
            ["creator_id"], ["user_account.id"], name=op.f("fk_course_creator_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_course")),
        sa.UniqueConstraint("slug", name=op.f("uq_course_slug")),
    )
    with op.batch_alter_table("course", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_course_creator_id"), ["creator_id"], unique=False)

    op.create_table(
        "identity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("external_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_identity_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity")),
        sa.UniqueConstraint(
            "platform", "external_id", name=op.f("uq_identity_platform_external_id")
        ),
    )
    with op.batch_alter_table("identity", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_identity_user_id"), ["user_id"], unique=False)

    op.create_table(
        "user_role",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("granted_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "role IN ('student', 'teacher', 'creator', 'funder', 'admin')",
            name=op.f("ck_user_role_known_role"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_user_role_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_role")),
        sa.UniqueConstraint("user_id", "role", name=op.f("uq_user_role_user_id_role")),
    )
    op.create_table(
        "booking",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("teacher_id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("starts_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("price_minor", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("hold_expires_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("cancelled_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cancelled_by", sa.Integer(), nullable=True),
        sa.Column("cancel_reason", sa.String(length=300), nullable=True),
        sa.Column("late_cancel", sa.Boolean(), nullable=False),
        sa.CheckConstraint("kind IN ('lesson', 'intro')", name=op.f("ck_booking_known_kind")),
        sa.CheckConstraint(
            "status IN ('held', 'confirmed', 'cancelled', 'expired', 'completed')",
            name=op.f("ck_booking_known_status"),
        ),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_booking_positive_length")),
        sa.CheckConstraint("teacher_id <> student_id", name=op.f("ck_booking_not_self")),
        sa.ForeignKeyConstraint(
            ["cancelled_by"],
            ["user_account.id"],
            name=op.f("fk_booking_cancelled_by_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["course_id"], ["course.id"], name=op.f("fk_booking_course_id_course")
        ),
        sa.ForeignKeyConstraint(
            ["student_id"], ["user_account.id"], name=op.f("fk_booking_student_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["teacher_id"], ["user_account.id"], name=op.f("fk_booking_teacher_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_booking")),
    )
    with op.batch_alter_table("booking", schema=None) as batch_op:
        batch_op.create_index(
            "ix_booking_status_hold", ["status", "hold_expires_at"], unique=False
        )
        batch_op.create_index("ix_booking_student_time", ["student_id", "starts_at"], unique=False)
        batch_op.create_index("ix_booking_teacher_time", ["teacher_id", "starts_at"], unique=False)
        batch_op.create_index(
            "uq_booking_student_active_start",
            ["student_id", "starts_at"],
            unique=True,
            sqlite_where=sa.text("status IN ('held', 'confirmed')"),
            postgresql_where=sa.text("status IN ('held', 'confirmed')"),
        )
        batch_op.create_index(
            "uq_booking_teacher_active_start",
            ["teacher_id", "starts_at"],
            unique=True,
            sqlite_where=sa.text("status IN ('held', 'confirmed')"),
            postgresql_where=sa.text("status IN ('held', 'confirmed')"),
        )

    op.create_table(
        "course_module",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=80), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["course.id"],
            name=op.f("fk_course_module_course_id_course"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_course_module")),
        sa.UniqueConstraint(
            "course_id", "position", name=op.f("uq_course_module_course_id_position")
        ),
    )
    op.create_table(
        "course_teacher",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("teacher_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("approved_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('active', 'suspended')", name=op.f("ck_course_teacher_known_status")
        ),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["course.id"],
            name=op.f("fk_course_teacher_course_id_course"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["teacher_id"],
            ["user_account.id"],
            name=op.f("fk_course_teacher_teacher_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_course_teacher")),
        sa.UniqueConstraint(
            "course_id", "teacher_id", name=op.f("uq_course_teacher_course_id_teacher_id")
        ),
    )
    with op.batch_alter_table("course_teacher", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_course_teacher_teacher_id"), ["teacher_id"], unique=False
        )

    _create_overlap_guards()


def downgrade() -> None:
    _drop_overlap_guards()
    with op.batch_alter_table("course_teacher", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_course_teacher_teacher_id"))

    op.drop_table("course_teacher")
    op.drop_table("course_module")
    with op.batch_alter_table("booking", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_booking_teacher_active_start",
            sqlite_where=sa.text("status IN ('held', 'confirmed')"),
            postgresql_where=sa.text("status IN ('held', 'confirmed')"),
        )
        batch_op.drop_index(
            "uq_booking_student_active_start",
            sqlite_where=sa.text("status IN ('held', 'confirmed')"),
            postgresql_where=sa.text("status IN ('held', 'confirmed')"),
        )
        batch_op.drop_index("ix_booking_teacher_time")
        batch_op.drop_index("ix_booking_student_time")
        batch_op.drop_index("ix_booking_status_hold")

    op.drop_table("booking")
    op.drop_table("user_role")
    with op.batch_alter_table("identity", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_identity_user_id"))

    op.drop_table("identity")
    with op.batch_alter_table("course", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_course_creator_id"))

    op.drop_table("course")
    with op.batch_alter_table("availability_rule", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_availability_rule_teacher_id"))

    op.drop_table("availability_rule")
    op.drop_table("user_account")
    op.drop_table("conversation")
