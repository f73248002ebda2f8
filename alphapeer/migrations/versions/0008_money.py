"""money: ledger (append-only), payments, provider events, refunds and payouts

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

LEDGER_TABLES = ("ledger_txn", "ledger_entry")


def _append_only_up() -> None:
    """Corrections are new reversing entries: the database refuses edits and deletions."""
    if op.get_bind().dialect.name == "sqlite":
        for table in LEDGER_TABLES:
            for action in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                    "BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END"
                )
        return
    op.execute(
        "CREATE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'the ledger is append-only'; END $$"
    )
    for table in LEDGER_TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION ledger_append_only()"
        )


def _append_only_down() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table in LEDGER_TABLES:
            for action in ("update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{action}")
        return
    for table in LEDGER_TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
    op.execute("DROP FUNCTION IF EXISTS ledger_append_only()")


def upgrade() -> None:
    op.create_table(
        "provider_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("event_id", sa.String(length=120), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("received_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provider_event")),
        sa.UniqueConstraint(
            "provider", "event_id", name=op.f("uq_provider_event_provider_event_id")
        ),
    )
    op.create_table(
        "payout_account",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("account_ref", sa.String(length=120), nullable=False),
        sa.Column("ready", sa.Boolean(), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_payout_account_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_payout_account")),
        sa.UniqueConstraint(
            "provider", "account_ref", name=op.f("uq_payout_account_provider_account_ref")
        ),
    )
    op.create_table(
        "ledger_txn",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=True),
        sa.Column("memo", sa.String(length=200), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["booking_id"], ["booking.id"], name=op.f("fk_ledger_txn_booking_id_booking")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_txn")),
        sa.UniqueConstraint("key", name=op.f("uq_ledger_txn_key")),
    )
    op.create_index(op.f("ix_ledger_txn_booking_id"), "ledger_txn", ["booking_id"], unique=False)
    op.create_table(
        "payment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("checkout_ref", sa.String(length=120), nullable=False),
        sa.Column("checkout_url", sa.String(length=500), nullable=True),
        sa.Column("charge_ref", sa.String(length=120), nullable=True),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("paid_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'paid', 'declined')", name=op.f("ck_payment_known_status")
        ),
        sa.CheckConstraint("amount_minor > 0", name=op.f("ck_payment_positive")),
        sa.ForeignKeyConstraint(
            ["booking_id"], ["booking.id"], name=op.f("fk_payment_booking_id_booking")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment")),
        sa.UniqueConstraint(
            "provider", "checkout_ref", name=op.f("uq_payment_provider_checkout_ref")
        ),
    )
    op.create_index(op.f("ix_payment_booking_id"), "payment", ["booking_id"], unique=False)
    op.create_index(
        "uq_payment_one_paid",
        "payment",
        ["booking_id"],
        unique=True,
        sqlite_where=sa.text("status = 'paid'"),
        postgresql_where=sa.text("status = 'paid'"),
    )
    op.create_table(
        "ledger_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("txn_id", sa.Integer(), nullable=False),
        sa.Column("account", sa.String(length=64), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.CheckConstraint("amount_minor <> 0", name=op.f("ck_ledger_entry_non_zero")),
        sa.ForeignKeyConstraint(
            ["txn_id"], ["ledger_txn.id"], name=op.f("fk_ledger_entry_txn_id_ledger_txn")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_entry")),
    )
    op.create_index(
        "ix_ledger_entry_account", "ledger_entry", ["account", "currency"], unique=False
    )
    op.create_index(op.f("ix_ledger_entry_txn_id"), "ledger_entry", ["txn_id"], unique=False)
    op.create_table(
        "money_out",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("payment_id", sa.Integer(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("provider_ref", sa.String(length=120), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("claimed_until", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("kind IN ('refund', 'payout')", name=op.f("ck_money_out_known_kind")),
        sa.CheckConstraint(
            "status IN ('pending', 'sent', 'failed')", name=op.f("ck_money_out_known_status")
        ),
        sa.CheckConstraint("amount_minor > 0", name=op.f("ck_money_out_positive")),
        sa.ForeignKeyConstraint(
            ["booking_id"], ["booking.id"], name=op.f("fk_money_out_booking_id_booking")
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payment.id"], name=op.f("fk_money_out_payment_id_payment")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_money_out_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_money_out")),
        sa.UniqueConstraint("key", name=op.f("uq_money_out_key")),
    )
    op.create_index(op.f("ix_money_out_booking_id"), "money_out", ["booking_id"], unique=False)
    op.create_index("ix_money_out_due", "money_out", ["status", "next_attempt_at"], unique=False)
    op.create_index(op.f("ix_money_out_user_id"), "money_out", ["user_id"], unique=False)
    _append_only_up()


def downgrade() -> None:
    _append_only_down()
    op.drop_index("ix_money_out_user_id", table_name="money_out")
    op.drop_index("ix_money_out_due", table_name="money_out")
    op.drop_index("ix_money_out_booking_id", table_name="money_out")
    op.drop_index("ix_ledger_entry_txn_id", table_name="ledger_entry")
    op.drop_index("ix_ledger_entry_account", table_name="ledger_entry")
    op.drop_index("uq_payment_one_paid", table_name="payment")
    op.drop_index("ix_payment_booking_id", table_name="payment")
    op.drop_index("ix_ledger_txn_booking_id", table_name="ledger_txn")
    op.drop_table("money_out")
    op.drop_table("ledger_entry")
    op.drop_table("payment")
    op.drop_table("ledger_txn")
    op.drop_table("payout_account")
    op.drop_table("provider_event")
