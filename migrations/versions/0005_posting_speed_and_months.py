"""Posting speed and two more backstops.

* The posting trigger's "custody line not backed" check looked lines up by
  ``custody_entry_id IS NULL``, which SQLite answered from the custody index:
  a scan of every unlinked line in the entity for each voucher posted, so
  posting slowed down as the books grew (2,000 vouchers: 256/s; 4,000: 139/s).
  It now reads the voucher's own lines by primary key; so does the update of
  the running balances, which SQLite answered from the account index (to
  serve its GROUP BY) by scanning every line of the entity.
* The ledger index on voucher lines also carries the voucher id, so a
  subsidiary ledger joins lines to vouchers without a quadratic scan.
* A voucher's, custody entry's or cash count's month must be the month of its
  date; before, raw SQL could file a 9月30日 voucher under October and slip past
  the closed-period rule.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from alembic import op

from juzhang.migrations.sql_file import read_statements

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# The new posting triggers, in 0005_posting_speed_and_months.<dialect>.sql; a
# downgrade puts back 0001's by undoing their two changes (_NEW and _FAST).
SQLITE_POST = read_statements(__file__, "sqlite")[0]
PG_POST = read_statements(__file__, "pg")[0]

_OLD = "AND a.custody IS NOT NULL AND l.custody_entry_id IS NULL"
_NEW = "AND a.custody IS NOT NULL AND COALESCE(l.custody_entry_id, 0) = 0"
_FAST = "AND line_no > 0 "  # steers the planner to the primary key (line_no >= 1 always)

_MONTH_MSG = "juzhang: the period must be the month of the date"
_DATED = (
    ("voucher", "voucher_date"),
    ("custody_entry", "entry_date"),
    ("cash_count", "count_date"),
)


def _sqlite_month(column: str) -> str:
    return f"CAST(strftime('%Y%m', NEW.{column}) AS INTEGER) <> NEW.period"


def _pg_month(column: str) -> str:
    return (
        f"(EXTRACT(YEAR FROM NEW.{column}) * 100 + EXTRACT(MONTH FROM NEW.{column}))::int"
        " <> NEW.period"
    )


def upgrade() -> None:
    with op.batch_alter_table("voucher_line") as batch:
        batch.drop_index("ix_voucher_line_account")
        batch.create_index(
            "ix_voucher_line_account", ["entity_id", "account_code", "voucher_id"], unique=False
        )
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER jz_voucher_post")
        op.execute(SQLITE_POST)
        for table, column in _DATED:
            for event in ("INSERT", "UPDATE"):
                op.execute(
                    f"CREATE TRIGGER jz_{table}_month_{event.lower()} BEFORE {event} ON {table}"
                    f" WHEN {_sqlite_month(column)}"
                    f" BEGIN SELECT RAISE(ABORT, '{_MONTH_MSG}'); END"
                )
        return
    op.execute(PG_POST)
    for table, column in _DATED:
        op.execute(
            f"CREATE FUNCTION jz_{table}_month() RETURNS trigger LANGUAGE plpgsql AS $fn$"
            f" BEGIN IF {_pg_month(column)} THEN RAISE EXCEPTION '{_MONTH_MSG}'"
            " USING ERRCODE = 'integrity_constraint_violation'; END IF; RETURN NEW; END $fn$"
        )
        op.execute(
            f"CREATE TRIGGER jz_{table}_month BEFORE INSERT OR UPDATE ON {table}"
            f" FOR EACH ROW EXECUTE FUNCTION jz_{table}_month()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table, _column in _DATED:
            for event in ("insert", "update"):
                op.execute(f"DROP TRIGGER IF EXISTS jz_{table}_month_{event}")
        op.execute("DROP TRIGGER jz_voucher_post")
        op.execute(SQLITE_POST.replace(_NEW, _OLD).replace(_FAST, ""))
    else:
        for table, _column in _DATED:
            op.execute(f"DROP TRIGGER IF EXISTS jz_{table}_month ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS jz_{table}_month()")
        op.execute(PG_POST.replace(_NEW, _OLD).replace(_FAST, ""))
    with op.batch_alter_table("voucher_line") as batch:
        batch.drop_index("ix_voucher_line_account")
        batch.create_index("ix_voucher_line_account", ["entity_id", "account_code"], unique=False)
