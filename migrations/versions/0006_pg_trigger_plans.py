"""PostgreSQL: posting triggers that look vouchers up by primary key.

PL/pgSQL caches a generic plan for each query of a trigger function.  While
the books fill up inside one transaction the tables have no statistics, and
for ``voucher WHERE entity_id = $1 AND id = $2 AND status = 'posted'`` the
planner chose the status index (entity, status, period), which holds every
posted voucher of the entity: each voucher line inserted and each voucher
posted scanned all posted vouchers before it, and bulk posting slowed down
as the books grew (1,200 vouchers at 411/s, 6,000 at 202/s).  The checks now
read a voucher's status by its key (``(SELECT status … WHERE entity_id = …
AND id = …) = 'posted'``), the number-gap check reads the previous number
through the unique (entity, period, number) key, and the custody check of
the posting trigger walks the voucher's own custody lines one by one, each by
key.  What each trigger refuses is unchanged.  SQLite's planner already used
the keys, so its triggers stay as they are.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from pathlib import Path

from alembic import op

from juzhang.migrations.sql_file import read_statements

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# The new posting function and the line and custody-entry functions that look
# vouchers up by key, in 0006_pg_trigger_plans.pg.sql; a downgrade puts back
# 0005's posting function and 0001's look-ups by status (all CREATE OR REPLACE).
PG_FUNCTIONS = read_statements(__file__, "pg")
_PREVIOUS = [
    read_statements(Path(__file__).with_name("0005_posting_speed_and_months.py"), "pg")[0],
    *read_statements(__file__, "downgrade.pg"),
]


# Trigger functions whose every query is a look-up by key: planned without
# sequential scans, so a plan cached while a table was nearly empty stays good.
KEYED = (
    "jz_voucher_post",
    "jz_voucher_insert",
    "jz_voucher_update",
    "jz_voucher_delete",
    "jz_line_insert",
    "jz_line_update",
    "jz_line_delete",
    "jz_custody_insert",
    "jz_custody_update",
    "jz_custody_delete",
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    for ddl in PG_FUNCTIONS:
        op.execute(ddl)
    for name in KEYED:
        op.execute(f"ALTER FUNCTION {name}() SET enable_seqscan = off")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    for name in KEYED:
        op.execute(f"ALTER FUNCTION {name}() RESET enable_seqscan")
    for ddl in _PREVIOUS:
        op.execute(ddl)
