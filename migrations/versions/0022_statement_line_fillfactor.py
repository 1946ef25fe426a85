"""PostgreSQL: statement lines keep half of each page free, so that drafting updates them in place.

A statement line is written once by the import and updated twice: the
cashier's acceptance links its custody entry, the bookkeeper's draft links
its voucher.  PostgreSQL writes every update as a new version of the row;
when no indexed column changes and the row's page has room, the new version
stays on the page and no index is touched (a "HOT" update).  Drafting
changes only ``voucher_id``, which no index holds, but the import's ``COPY``
filled every page, so each of the 100,000 updates of issue 15's statement
went to a new page and added an entry to each of the table's five indexes.

``fillfactor = 50`` leaves half of each page free.  The acceptance (it
changes ``custody_entry_id``, which two indexes hold) puts its new versions
beside the old ones; the draft finds the page pruned of them and updates in
place.  Measured on a copy of one staged 100,000-line book, alternating:
``statement draft`` 10.35 / 10.16 s before, 8.96 / 9.18 s after.  The table
takes twice the pages (about 40 MiB per 100,000 lines instead of 20).

Only new pages follow the setting; a book upgraded with lines keeps its
full pages until they are rewritten.  SQLite has no such setting.

Revision ID: 0022
Revises: 0021
"""

from __future__ import annotations

from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

FILLFACTOR = 50
"""Also in the model (``StatementLine.__table_args__``, ``postgresql_with``)."""


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    op.execute(f"ALTER TABLE statement_line SET (fillfactor = {FILLFACTOR})")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    op.execute("ALTER TABLE statement_line RESET (fillfactor)")
