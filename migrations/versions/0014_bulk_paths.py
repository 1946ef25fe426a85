"""Bulk paths: vouchers by status in posting order, and where the last close verified to.

The command line reviews and posts vouchers of any number a chunk at a time
(``books.review_bulk``, ``books.post_reviewed``): each chunk is the first few
thousand vouchers in a status, in (month, date, id) order — the order numbers
are given in.  With the index on (entity, status, month) alone every chunk
sorted all the vouchers still waiting; on (entity, status, month, date, id) it
reads the chunk off the index.  Queries by (entity, status) or (entity,
status, month) use it as before.

The close remembers how far it verified: ``period.verified_seq`` and
``period.verified_hash`` hold the hash-chain position (sequence, hash) the
month's close verified up to, so the next close verifies only the vouchers
posted after it (``verify.verify_since``) instead of the whole history.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("period", sa.Column("verified_seq", sa.Integer(), nullable=True))
    op.add_column("period", sa.Column("verified_hash", sa.String(length=64), nullable=True))
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
    # Plain ALTER TABLE (SQLite 3.35+): a batch rebuild of ``period`` breaks the
    # triggers that name it.
    op.execute("ALTER TABLE period DROP COLUMN verified_hash")
    op.execute("ALTER TABLE period DROP COLUMN verified_seq")
    op.drop_index("ix_voucher_status", table_name="voucher")
    op.create_index("ix_voucher_status", "voucher", ["entity_id", "status", "period"], unique=False)
