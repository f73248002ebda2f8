"""session reviews: stars, what was covered and a comment from each participant

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "session_review",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("author_role", sa.String(length=8), nullable=False),
        sa.Column("stars", sa.SmallInteger(), nullable=False),
        sa.Column("covered", sa.String(length=500), nullable=True),
        sa.Column("comment", sa.String(length=1000), nullable=True),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("stars BETWEEN 1 AND 5", name=op.f("ck_session_review_stars_range")),
        sa.CheckConstraint("author_id <> subject_id", name=op.f("ck_session_review_not_self")),
        sa.ForeignKeyConstraint(["booking_id"], ["booking.id"],
                                name=op.f("fk_session_review_booking_id_booking"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["author_id"], ["user_account.id"],
                                name=op.f("fk_session_review_author_id_user_account")),
        sa.ForeignKeyConstraint(["subject_id"], ["user_account.id"],
                                name=op.f("fk_session_review_subject_id_user_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_session_review")),
        sa.UniqueConstraint("booking_id", "author_id",
                            name=op.f("uq_session_review_booking_id_author_id")),
    )
    op.create_index("ix_session_review_subject", "session_review",
                    ["subject_id", "author_role"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_session_review_subject", table_name="session_review")
    op.drop_table("session_review")
