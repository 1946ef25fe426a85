"""Claims by date, by voucher and by journal entry: the risk checks read the month (issue 18).

The risk signals (``juzhang.risk``) ran over every claim of the history for
each month; they now read the claims of a window of dates
(``(entity, claim_date)``), and look up the claims behind given vouchers
(``(entity, voucher_id)``: a month's vouchers drafted from claims, 白条) and
given journal entries (``(entity, custody_entry_id)``: payments covered by a
decision).  Indexes only: no table, column or privilege changes.

Revision ID: 0019
Revises: 0018
"""

from __future__ import annotations

from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_claim_date", ["entity_id", "claim_date"]),
    ("ix_claim_voucher", ["entity_id", "voucher_id"]),
    ("ix_claim_entry", ["entity_id", "custody_entry_id"]),
)


def upgrade() -> None:
    # Plain index statements (no batch mode): SQLite must not rebuild the table
    # and lose its triggers.
    for name, columns in INDEXES:
        op.create_index(name, "claim", columns, unique=False)


def downgrade() -> None:
    for name, _columns in INDEXES:
        op.drop_index(name, table_name="claim")
