"""Claims by date, voucher and entry; journal entries by month: the risk checks read the month.

The risk signals (``juzhang.risk``) ran over every claim of the history for
each month; they now read the claims of a window of dates
(``(entity, claim_date)``), and look up the claims behind given vouchers
(``(entity, voucher_id)``: a month's vouchers drafted from claims, 白条) and
given journal entries (``(entity, custody_entry_id)``: payments covered by a
decision).  The cash-on-hand check reads the cash accounts' entries of the
month and the sum of the earlier ones: ``(entity, account, period,
amount_fen)`` finds the first and covers the second (the index on the date
cannot serve a month, and the sum read every row of the history).
Issue 18.  Indexes only: no table, column or privilege changes.

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
    ("claim", "ix_claim_date", ["entity_id", "claim_date"]),
    ("claim", "ix_claim_voucher", ["entity_id", "voucher_id"]),
    ("claim", "ix_claim_entry", ["entity_id", "custody_entry_id"]),
    (
        "custody_entry",
        "ix_custody_entry_period",
        ["entity_id", "account_code", "period", "amount_fen"],
    ),
)


def upgrade() -> None:
    # Plain index statements (no batch mode): SQLite must not rebuild the table
    # and lose its triggers.
    for table, name, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for table, name, _columns in INDEXES:
        op.drop_index(name, table_name=table)
