"""PostgreSQL: posting's statement checks read the posted vouchers' lines once.

0007's ``jz_voucher_updated`` checks each ``UPDATE`` that posts vouchers
with one query per rule, and four of them read every posted voucher's lines
again (balance, custody backing, custody agreement, running balances).  Its
numbering check counted all posted vouchers of the month for each
statement: posting a month in chunks of 2,000 read the month's vouchers once
per chunk, a cost that grows with the square of the month (0.59 s of
posting 100,000 vouchers, issue 15).  In all, the function took 2.5 s of
that posting's 4.5 s of ``UPDATE``.  Measured on copies of one staged book
at 0023, alternating (``juzhang voucher post --all``, 100,000 vouchers):
8.05 / 8.16 / 8.73 s before, 6.93 / 7.25 / 7.30 s after.

The function is replaced (:file:`0024_pg_posting_one_pass.pg.sql`): the
posted vouchers' lines are read once into a materialized CTE that every
check and the running balances' ``INSERT … ON CONFLICT`` read; the custody
totals are summed once per entry, not twice per line (``x NOT IN (0, a)``
evaluated its subquery ``x`` for each value); the numbering is
checked for the numbers the statement posts (each above 1 has its
predecessor posted in the month), which with the month's numbers unique and
gapless before the statement is the same rule.  What is refused, with which
message and in which order, is unchanged; ``tests/books/test_backstop.py``
refuses each on both databases.  The downgrade puts 0007's function back.

Revision ID: 0024
Revises: 0023
"""

from __future__ import annotations

from pathlib import Path

from alembic import op

from juzhang.migrations.sql_file import pinned, read_statements, replaced_function

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

PG = read_statements(__file__, "pg")


def _before() -> str:
    """0007's function, as 0007 created it."""
    function: str = replaced_function(
        Path(__file__).with_name("0007_pg_statement_checks.py"), "jz_voucher_updated()"
    )
    return function


# CREATE OR REPLACE keeps only the settings it names: the search path 0008
# pinned on every function, and the SECURITY DEFINER 0018 gave every trigger
# function (a person's login posts), are set again.
PIN = pinned("jz_voucher_updated()")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    for ddl in PG:
        op.execute(ddl)
    op.execute(PIN)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    op.execute(_before())
    op.execute(PIN)
