"""The bulk steps' writes cost less: one index fewer on custody entries, two cheaper checks.

Issue 15's statement (100,000 lines, one community) through the command
line on PostgreSQL spends most of its server time writing, and three costs
of those writes were not rules but the way they were kept:

* ``ix_custody_entry_amount (entity, account, amount)``.  Each entry the
  cashier's acceptance records goes into it at the place of its amount,
  which is anywhere: a random page of a large index for every row.  On a
  copy of the staged book, ``COPY`` of the 100,000 entries took 1.77 s with
  the index and 1.25 s without it.  The lookups by amount (matching a
  statement line to the cashier's own entry, linking a voucher's bank line
  to its entry) now name the months of their date window, and
  ``ix_custody_entry_period (entity, account, month, amount)``, which the
  reconciliation already reads, finds the same entries with one descent per
  month and amount.  The index is dropped on both databases.
* ``jz_statement_change``, PostgreSQL's guard that a statement line stays as
  the bank sent it, was a PL/pgSQL function called for every updated line:
  the acceptance and the draft each update every line (linking its entry,
  then its voucher), and the call cost 2.5-5 µs a line.  The same
  comparison now sits in the trigger's ``WHEN``, evaluated without a call,
  and refuses through ``jz_refuse`` with the same message (SQLite's
  ``jz_statement_update`` was written that way from the start).  Deleting a
  line is refused by the same function as before.
* ``jz_line_inserted`` looked each new line's voucher up twice, once for its
  status and once for its month; it now reads each voucher once, with its
  month's status beside it.  The refusals, their messages and their order
  are unchanged.

``tests/books/test_backstop.py`` refuses each rule on both databases; the
downgrade puts the index, the trigger and 0007's function back.

Revision ID: 0025
Revises: 0024
"""

from __future__ import annotations

from pathlib import Path

from alembic import op

from juzhang.migrations.sql_file import pinned, replaced_function

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

# 0002's list of what a statement line keeps as the bank sent it
_FROZEN = (
    "entity_id",
    "id",
    "account_code",
    "batch_id",
    "row_no",
    "dedup_key",
    "txn_date",
    "txn_time",
    "out_fen",
    "in_fen",
    "balance_fen",
    "counterparty",
    "counterparty_account",
    "counterparty_bank",
    "summary",
    "purpose",
    "remark",
    "serial",
)
_CHANGED = " OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in _FROZEN)

LINE_INSERTED = """CREATE OR REPLACE FUNCTION jz_line_inserted() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
  posted boolean;
  closed boolean;
  bad boolean;
BEGIN
  EXECUTE $q$SELECT COALESCE(bool_or(v.status = 'posted'), false),
                    COALESCE(bool_or(p.status = 'closed'), false)
      FROM (SELECT DISTINCT entity_id, voucher_id FROM n) k
      JOIN voucher v ON v.entity_id = k.entity_id AND v.id = k.voucher_id
      LEFT JOIN period p ON p.entity_id = v.entity_id AND p.period = v.period$q$
    INTO posted, closed;
  IF posted THEN
    RAISE EXCEPTION 'juzhang: a posted voucher is never changed' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  IF closed THEN
    RAISE EXCEPTION 'juzhang: the period is closed' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  EXECUTE $q$SELECT EXISTS (SELECT 1 FROM (SELECT DISTINCT entity_id, account_code FROM n) k
      WHERE (SELECT 1 FROM account a WHERE a.entity_id = k.entity_id
             AND a.parent_code = k.account_code LIMIT 1) IS NOT NULL)$q$ INTO bad;
  IF bad THEN
    RAISE EXCEPTION 'juzhang: postings go to leaf accounts only' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NULL;
END $fn$"""

# CREATE OR REPLACE keeps only the settings it names: 0018's SECURITY DEFINER
# and 0008's pinned search path are set again (as 0024 does)
PIN = pinned("jz_line_inserted()")


def _line_inserted_0007() -> str:
    """0007's function, as 0007 created it."""
    function: str = replaced_function(
        Path(__file__).with_name("0007_pg_statement_checks.py"), "jz_line_inserted()"
    )
    return function


def upgrade() -> None:
    op.drop_index("ix_custody_entry_amount", table_name="custody_entry")
    if op.get_bind().dialect.name == "sqlite":
        return
    op.execute("DROP TRIGGER jz_statement_change ON statement_line")
    op.execute(
        "CREATE TRIGGER jz_statement_change BEFORE DELETE ON statement_line"
        " FOR EACH ROW EXECUTE FUNCTION jz_statement_change()"
    )
    op.execute(
        f"CREATE TRIGGER jz_statement_update BEFORE UPDATE ON statement_line FOR EACH ROW"
        f" WHEN ({_CHANGED})"
        " EXECUTE FUNCTION jz_refuse('a bank statement line is kept as the bank sent it')"
    )
    op.execute(LINE_INSERTED)
    op.execute(PIN)


def downgrade() -> None:
    op.create_index(
        "ix_custody_entry_amount",
        "custody_entry",
        ["entity_id", "account_code", "amount_fen"],
        unique=False,
    )
    if op.get_bind().dialect.name == "sqlite":
        return
    op.execute("DROP TRIGGER jz_statement_update ON statement_line")
    op.execute("DROP TRIGGER jz_statement_change ON statement_line")
    op.execute(
        "CREATE TRIGGER jz_statement_change BEFORE UPDATE OR DELETE ON statement_line"
        " FOR EACH ROW EXECUTE FUNCTION jz_statement_change()"
    )
    op.execute(_line_inserted_0007())
    op.execute(PIN)
