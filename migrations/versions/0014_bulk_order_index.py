"""Vouchers by status in posting order: ``ix_voucher_status`` gains the date and the id.

The command line reviews and posts vouchers of any number a chunk at a time
(``books.review_bulk``, ``books.post_reviewed``): each chunk is the first few
thousand vouchers in a status, in (month, date, id) order — the order numbers
are given in.  With the index on (entity, status, month) alone every chunk
sorted all the vouchers still waiting; on (entity, status, month, date, id) it
reads the chunk off the index.  Queries by (entity, status) or (entity,
status, month) use it as before.

Revision ID: 0014
Revises: 0008
"""

from __future__ import annotations

from alembic import op

revision = "0014"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain index statements (no batch mode): SQLite must not rebuild the table
    # and lose its triggers.
    op.drop_index("ix_voucher_status", table_name="voucher")
    op.create_index(
        "ix_voucher_status",
        "voucher",
        ["entity_id", "status", "period", "voucher_date", "id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_voucher_status", table_name="voucher")
    op.create_index("ix_voucher_status", "voucher", ["entity_id", "status", "period"], unique=False)
