"""PostgreSQL: keys over a column that is mostly empty hold only the rows where it is set.

A voucher has a number and a place in the hash chain once it is posted, and
reverses another only when it is a reversal; a statement line names its
custody entry once the cashier has accepted it; a voucher line names an
entry only on a cash or bank account.  The unique keys over those columns
(``uq_voucher_entity_id_period_number``, ``…_chain_seq``,
``…_reverses_id``, ``uq_statement_line_entity_id_custody_entry_id``) and the
index ``ix_voucher_line_custody`` held an entry for every row all the same,
the empty ones included: drafting 100,000 vouchers put 300,000 entries into
the three voucher keys for nothing, and reviewing them, which writes each
voucher again, 300,000 more.

Each becomes a partial index of the same name and columns ``WHERE column IS
NOT NULL``.  NULLs never collide, so a unique key means what it meant, and
its refusal names the same key.  Every query that looks one of them up
compares the column with a value, which a partial index answers
(``number = n``, ``chain_seq > s``, ``max(chain_seq)``, ``custody_entry_id =
any(…)``).  Measured on copies of a staged 100,000-line book (``UPDATE``
of the review, ``COPY`` of the drafts, triggers off): reviewing 1.04 s and
1.46 s before, 0.62 s and 0.85 s after; copying the vouchers 0.80 s and
0.71 s before, 0.51 s after.

SQLite keeps its table constraints (it cannot drop one without rebuilding
the table and its triggers) and its full index.

Revision ID: 0026
Revises: 0025
"""

from __future__ import annotations

from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

UNIQUE = (
    ("voucher", ("entity_id", "period", "number")),
    ("voucher", ("entity_id", "chain_seq")),
    ("voucher", ("entity_id", "reverses_id")),
    ("statement_line", ("entity_id", "custody_entry_id")),
)


def _name(table: str, columns: tuple[str, ...]) -> str:
    return f"uq_{table}_{'_'.join(columns)}"


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    for table, columns in UNIQUE:
        name = _name(table, columns)
        op.drop_constraint(name, table, type_="unique")
        op.create_index(
            name, table, list(columns), unique=True, postgresql_where=f"{columns[-1]} IS NOT NULL"
        )
    op.drop_index("ix_voucher_line_custody", table_name="voucher_line")
    op.create_index(
        "ix_voucher_line_custody",
        "voucher_line",
        ["entity_id", "custody_entry_id"],
        postgresql_where="custody_entry_id IS NOT NULL",
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    op.drop_index("ix_voucher_line_custody", table_name="voucher_line")
    op.create_index("ix_voucher_line_custody", "voucher_line", ["entity_id", "custody_entry_id"])
    for table, columns in UNIQUE:
        name = _name(table, columns)
        op.drop_index(name, table_name=table)
        op.create_unique_constraint(name, table, list(columns))
