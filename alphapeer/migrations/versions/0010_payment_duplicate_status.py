"""payment: a "duplicate" status for a second checkout paid for an already paid booking
(recorded, then refunded in full)

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

NEW = "status IN ('pending', 'paid', 'declined', 'duplicate')"
OLD = "status IN ('pending', 'paid', 'declined')"


def _replace(check: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(op.f("ck_payment_known_status"), "payment", type_="check")
        op.create_check_constraint("known_status", "payment", check)
        return
    # SQLite can't alter a CHECK constraint: the table is rebuilt (indexes kept).
    with op.batch_alter_table("payment", recreate="always") as batch:
        batch.drop_constraint(op.f("ck_payment_known_status"), type_="check")
        batch.create_check_constraint("known_status", sa.text(check))


def upgrade() -> None:
    _replace(NEW)


def downgrade() -> None:
    op.execute("UPDATE payment SET status = 'declined' WHERE status = 'duplicate'")
    _replace(OLD)
