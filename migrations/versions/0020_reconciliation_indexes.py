"""Statement lines by entry, entries with their id: the bank reconciliation reads less history.

The monthly close's bank reconciliation read every earlier statement line and
custody entry of the account.  ``ix_statement_line_entry`` (``(entity,
custody_entry_id, txn_date)``) serves it twice: the earlier entries not
matched by a line at the month end are an anti-join that now probes this
index alone (covering: no line row read per earlier entry), and the earlier
lines linked to nothing are its ``custody_entry_id IS NULL`` range by date
(only the open lines, not every earlier line).  ``ix_custody_entry_account``
gains ``id`` as its last column, so that the anti-join walks the account's
earlier entries in the index alone (the same prefix serves every query it
served before).  Issue 18.  Indexes only: no table, column or privilege
changes.

Revision ID: 0020
Revises: 0019
"""

from __future__ import annotations

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

INDEXES = (
    ("statement_line", "ix_statement_line_entry", ["entity_id", "custody_entry_id", "txn_date"]),
)


ENTRY = ("custody_entry", "ix_custody_entry_account")


def upgrade() -> None:
    # Plain index statements (no batch mode): SQLite must not rebuild the table
    # and lose its triggers.
    for table, name, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)
    table, name = ENTRY
    op.drop_index(name, table_name=table)
    op.create_index(name, table, ["entity_id", "account_code", "entry_date", "id"], unique=False)


def downgrade() -> None:
    table, name = ENTRY
    op.drop_index(name, table_name=table)
    op.create_index(name, table, ["entity_id", "account_code", "entry_date"], unique=False)
    for table, name, _columns in INDEXES:
        op.drop_index(name, table_name=table)
