"""stripe: transfer reversals before refunds of released money, dispute state per payment,
a fresh idempotency key for a refund or payout after the provider refused it, and webhook
events recorded first and applied right after (applied_at)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "transfer_reversal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("refund_id", sa.Integer(), nullable=False),
        sa.Column("payout_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("provider_ref", sa.String(length=120), nullable=True),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('pending', 'done', 'failed')",
                           name=op.f("ck_transfer_reversal_known_status")),
        sa.CheckConstraint("amount_minor > 0", name=op.f("ck_transfer_reversal_positive")),
        sa.ForeignKeyConstraint(["payout_id"], ["money_out.id"],
                                name=op.f("fk_transfer_reversal_payout_id_money_out")),
        sa.ForeignKeyConstraint(["refund_id"], ["money_out.id"],
                                name=op.f("fk_transfer_reversal_refund_id_money_out")),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"],
                                name=op.f("fk_transfer_reversal_user_id_user_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transfer_reversal")),
        sa.UniqueConstraint("key", name=op.f("uq_transfer_reversal_key")),
    )
    op.create_index(op.f("ix_transfer_reversal_payout_id"), "transfer_reversal",
                    ["payout_id"], unique=False)
    op.create_index(op.f("ix_transfer_reversal_refund_id"), "transfer_reversal",
                    ["refund_id"], unique=False)
    op.add_column("payment", sa.Column("dispute_status", sa.String(length=8), nullable=True))
    op.add_column("money_out", sa.Column("key_round", sa.Integer(), nullable=False,
                                         server_default=sa.text("0")))
    op.add_column("provider_event", sa.Column("applied_at", core.db.UTCDateTime(timezone=True),
                                              nullable=True))
    op.create_index("ix_provider_event_pending", "provider_event", ["applied_at"],
                    unique=False)
    # Events recorded before this revision were applied when they were recorded.
    op.execute("UPDATE provider_event SET applied_at = received_at")


def downgrade() -> None:
    op.drop_index("ix_provider_event_pending", table_name="provider_event")
    op.drop_column("provider_event", "applied_at")
    op.drop_column("money_out", "key_round")
    op.drop_column("payment", "dispute_status")
    op.drop_index(op.f("ix_transfer_reversal_refund_id"), table_name="transfer_reversal")
    op.drop_index(op.f("ix_transfer_reversal_payout_id"), table_name="transfer_reversal")
    op.drop_table("transfer_reversal")
