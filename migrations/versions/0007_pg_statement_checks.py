"""PostgreSQL: the hot-path backstops check whole statements, not rows.

Each PL/pgSQL row trigger ran its look-ups once per row, at about 40 µs a
query on this machine: the line-insert trigger cost 133 µs a line and the
posting trigger 307 µs a voucher, so bulk posting took 11× a ``COPY`` of the
same rows.  The checks of inserting vouchers, voucher lines and custody
entries, and of updating vouchers (which is how a voucher is posted), now run
once per statement over its transition tables (``REFERENCING NEW TABLE``),
each as one set query that looks rows up by key; the service writes many
rows in one statement (``COPY``, one ``UPDATE`` to post a batch).  What is
refused is unchanged, and the statement that broke a rule is refused whole:

* a voucher inserted other than as a draft, into a closed month, or in a
  month not of its date; a posted voucher updated, or a voucher's key
  changed; a voucher updated in or into a closed month;
* posting a voucher whose lines do not balance or are fewer than two, whose
  number is not one past a posted voucher's (checked after the statement, so
  a batch may post its vouchers in any order), while the opening balances do
  not balance, with a cash or bank line not backed by a custody entry, or
  whose custody lines disagree with their entries or back one twice; the
  running balances are updated for all vouchers of the statement at once;
* a line inserted into a posted voucher, into a closed month, or on a parent
  account; a custody entry on an account that is not a cash or bank leaf
  account, or into a closed month.

Checks that need no look-up (draft on insert, the month of the date, a posted
voucher never changed, the key kept) stay row triggers with a ``WHEN``
condition: PostgreSQL evaluates it without calling a function, which runs
only to raise.  The row trigger functions of 0001–0006 are kept for a
downgrade.  SQLite has no statement triggers; its triggers stay as they are.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import re

from alembic import op

from juzhang.migrations.sql_file import read_statements

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

REFUSE = (
    "CREATE OR REPLACE FUNCTION jz_refuse() RETURNS trigger LANGUAGE plpgsql AS $fn$\n"
    "BEGIN\n  RAISE EXCEPTION 'juzhang: %', TG_ARGV[0]"
    " USING ERRCODE = 'integrity_constraint_violation';\nEND $fn$"
)


def _month(column: str) -> str:
    return (
        f"(EXTRACT(YEAR FROM NEW.{column}) * 100 + EXTRACT(MONTH FROM NEW.{column}))::int"
        " <> NEW.period"
    )


# (trigger, table, timing and events, WHEN condition, message): row checks without look-ups.
ROW_CHECKS = (
    (
        "jz_voucher_draft",
        "voucher",
        "BEFORE INSERT",
        "NEW.status <> 'draft'",
        "a voucher is inserted as a draft",
    ),
    (
        "jz_voucher_month",
        "voucher",
        "BEFORE INSERT OR UPDATE",
        _month("voucher_date"),
        "the period must be the month of the date",
    ),
    (
        "jz_voucher_never_changed",
        "voucher",
        "BEFORE UPDATE",
        "OLD.status = 'posted'",
        "a posted voucher is never changed",
    ),
    (
        "jz_voucher_same_key",
        "voucher",
        "BEFORE UPDATE",
        "NEW.entity_id <> OLD.entity_id OR NEW.id <> OLD.id",
        "a voucher keeps its entity and id",
    ),
    (
        "jz_custody_entry_month",
        "custody_entry",
        "BEFORE INSERT OR UPDATE",
        _month("entry_date"),
        "the period must be the month of the date",
    ),
)


# The statement checks, in 0007_pg_statement_checks.pg.sql: each a CREATE FUNCTION
# followed by its CREATE TRIGGER.  Every query of a function runs through
# EXECUTE, which plans it on each call: a plan PL/pgSQL cached on the first,
# nearly empty month would scan whole tables once the books have grown (no
# statistics here: nothing runs ANALYZE inside a bulk load).  Every look-up is a
# scalar subquery or a LATERAL subquery behind OFFSET 0, by a table's key, so the
# planner cannot turn it into a join that reads a whole table; each statement
# costs a few key look-ups per row.
#
# Posting: every voucher of the statement whose status is now 'posted' was posted
# by it (a posted voucher is never updated), and is checked as the row trigger did.
# Numbers: the posted numbers of each month touched are 1..count (they are unique
# and positive), which is what "n is posted only after n - 1" kept row by row.
_STATEMENT_TRIGGER = re.compile(
    r"CREATE TRIGGER (\w+) AFTER (\w+) ON (\w+) REFERENCING (.+)"
    r" FOR EACH STATEMENT EXECUTE FUNCTION \1\(\)"
)


def _statement_checks(statements: list[str]) -> tuple[tuple[str, str, str, str, str], ...]:
    """Pair each CREATE FUNCTION with the CREATE TRIGGER after it."""
    checks = []
    for function, trigger in zip(statements[::2], statements[1::2], strict=True):
        match = _STATEMENT_TRIGGER.fullmatch(trigger)
        assert match is not None, trigger
        name, event, table, transition = match.groups()
        checks.append((name, table, event, transition, function))
    return tuple(checks)


_STATEMENT_SQL = read_statements(__file__, "pg")

# (trigger and function, table, event, transition tables, CREATE FUNCTION)
STATEMENT_CHECKS = _statement_checks(_STATEMENT_SQL)

# The row triggers of 0001–0006 these replace: (trigger = function, table, timing and events).
REPLACED = (
    ("jz_voucher_insert", "voucher", "BEFORE INSERT"),
    ("jz_voucher_month", "voucher", "BEFORE INSERT OR UPDATE"),
    ("jz_voucher_update", "voucher", "BEFORE UPDATE"),
    ("jz_voucher_post", "voucher", "AFTER UPDATE OF status"),
    ("jz_line_insert", "voucher_line", "BEFORE INSERT"),
    ("jz_custody_insert", "custody_entry", "BEFORE INSERT"),
    ("jz_custody_entry_month", "custody_entry", "BEFORE INSERT OR UPDATE"),
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    for name, table, _when in REPLACED:
        op.execute(f"DROP TRIGGER {name} ON {table}")
    op.execute(REFUSE)
    for name, table, when, condition, message in ROW_CHECKS:
        op.execute(
            f"CREATE TRIGGER {name} {when} ON {table} FOR EACH ROW WHEN ({condition})"
            f" EXECUTE FUNCTION jz_refuse('{message}')"
        )
    for ddl in _STATEMENT_SQL:
        op.execute(ddl)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    for name, table, _event, _transition, _function in STATEMENT_CHECKS:
        op.execute(f"DROP TRIGGER {name} ON {table}")
        op.execute(f"DROP FUNCTION {name}()")
    for name, table, *_rest in ROW_CHECKS:
        op.execute(f"DROP TRIGGER {name} ON {table}")
    op.execute("DROP FUNCTION jz_refuse()")
    for name, table, when in REPLACED:
        op.execute(
            f"CREATE TRIGGER {name} {when} ON {table} FOR EACH ROW EXECUTE FUNCTION {name}()"
        )
