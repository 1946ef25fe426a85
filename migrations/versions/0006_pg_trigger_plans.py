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

import importlib.util
from pathlib import Path

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_RAISE = "RAISE EXCEPTION 'juzhang: {}' USING ERRCODE = 'integrity_constraint_violation';"

_POSTED_BY_KEY = (
    "(SELECT status FROM voucher WHERE entity_id = {r}.entity_id AND id = {r}.voucher_id)"
    " = 'posted'"
)
_POSTED_BY_STATUS = (
    "EXISTS (SELECT 1 FROM voucher WHERE entity_id = {r}.entity_id"
    " AND id = {r}.voucher_id AND status = 'posted')"
)
_BACKS_BY_KEY = """EXISTS (SELECT 1 FROM voucher_line l
      WHERE l.entity_id = OLD.entity_id AND l.custody_entry_id = OLD.id
      AND (SELECT v.status FROM voucher v
           WHERE v.entity_id = l.entity_id AND v.id = l.voucher_id) = 'posted')"""
_BACKS_BY_STATUS = """EXISTS (SELECT 1 FROM voucher_line l JOIN voucher v
      ON v.entity_id = l.entity_id AND v.id = l.voucher_id
      WHERE l.entity_id = OLD.entity_id AND l.custody_entry_id = OLD.id
      AND v.status = 'posted')"""
_VOUCHER_CLOSED = """EXISTS (SELECT 1 FROM voucher v JOIN period p
      ON p.entity_id = v.entity_id AND p.period = v.period
      WHERE v.entity_id = {r}.entity_id AND v.id = {r}.voucher_id AND p.status = 'closed')"""
_NOT_LEAF = (
    "EXISTS (SELECT 1 FROM account WHERE entity_id = NEW.entity_id"
    " AND parent_code = NEW.account_code)"
)
_CLOSED = (
    "EXISTS (SELECT 1 FROM period WHERE entity_id = {r}.entity_id"
    " AND period = {r}.period AND status = 'closed')"
)
_NOT_CUSTODY = (
    "NOT EXISTS (SELECT 1 FROM account WHERE entity_id = NEW.entity_id"
    " AND code = NEW.account_code AND custody IS NOT NULL)"
)


def _check(condition: str, message: str) -> str:
    return f"  IF {condition} THEN\n    {_RAISE.format(message)}\n  END IF;\n"


def _function(name: str, body: str, returns: str) -> str:
    return (
        f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $fn$\n"
        f"BEGIN\n{body}  RETURN {returns};\nEND $fn$"
    )


def _line_and_custody_functions(posted: str, backs: str) -> list[str]:
    """The line and custody-entry trigger functions, with the given look-ups."""
    never = "a posted voucher is never changed"
    return [
        _function(
            "jz_line_insert",
            _check(posted.format(r="NEW"), never)
            + _check(_VOUCHER_CLOSED.format(r="NEW"), "the period is closed")
            + _check(_NOT_LEAF, "postings go to leaf accounts only"),
            "NEW",
        ),
        _function(
            "jz_line_update",
            _check(f"{posted.format(r='OLD')} OR {posted.format(r='NEW')}", never)
            + _check(_VOUCHER_CLOSED.format(r="OLD"), "the period is closed")
            + _check(_NOT_LEAF, "postings go to leaf accounts only"),
            "NEW",
        ),
        _function(
            "jz_line_delete",
            _check(posted.format(r="OLD"), never)
            + _check(_VOUCHER_CLOSED.format(r="OLD"), "the period is closed"),
            "OLD",
        ),
        _function(
            "jz_custody_update",
            _check(backs, "the custody entry backs a posted voucher")
            + _check(
                f"{_CLOSED.format(r='OLD')} OR {_CLOSED.format(r='NEW')}", "the period is closed"
            )
            + _check(_NOT_CUSTODY, "custody entries go to cash or bank accounts only"),
            "NEW",
        ),
        _function(
            "jz_custody_delete",
            _check(backs, "the custody entry backs a posted voucher")
            + _check(_CLOSED.format(r="OLD"), "the period is closed"),
            "OLD",
        ),
    ]


_POST_BODY = """  IF NEW.status = 'posted' THEN
  IF (SELECT COALESCE(SUM(CASE side WHEN 'D' THEN amount_fen ELSE -amount_fen END), 0)
          FROM voucher_line WHERE entity_id = NEW.entity_id AND voucher_id = NEW.id
          AND line_no > 0) <> 0
        OR (SELECT COUNT(*) FROM voucher_line
          WHERE entity_id = NEW.entity_id AND voucher_id = NEW.id AND line_no > 0) < 2 THEN
    {unbalanced}
  END IF;
  IF NEW.number > 1 AND (SELECT status FROM voucher
          WHERE entity_id = NEW.entity_id AND period = NEW.period
          AND number = NEW.number - 1) IS DISTINCT FROM 'posted' THEN
    {gap}
  END IF;
  IF (SELECT COALESCE(SUM(amount_fen), 0) FROM opening_balance
          WHERE entity_id = NEW.entity_id) <> 0 THEN
    {opening}
  END IF;
  IF EXISTS (SELECT 1 FROM voucher_line l JOIN account a
          ON a.entity_id = l.entity_id AND a.code = l.account_code
          WHERE l.entity_id = NEW.entity_id AND l.voucher_id = NEW.id AND l.line_no > 0
          AND a.custody IS NOT NULL AND COALESCE(l.custody_entry_id, 0) = 0) THEN
    {unbacked}
  END IF;
  FOR line IN SELECT l.custody_entry_id AS entry,
          CASE l.side WHEN 'D' THEN l.amount_fen ELSE -l.amount_fen END AS signed
          FROM voucher_line l
          WHERE l.entity_id = NEW.entity_id AND l.voucher_id = NEW.id AND l.line_no > 0
          AND l.custody_entry_id IS NOT NULL LOOP
    SELECT c.amount_fen INTO entry_fen FROM custody_entry c
      WHERE c.entity_id = NEW.entity_id AND c.id = line.entry;
    SELECT SUM(CASE l2.side WHEN 'D' THEN l2.amount_fen ELSE -l2.amount_fen END) INTO backed
      FROM voucher_line l2
      WHERE l2.entity_id = NEW.entity_id AND l2.custody_entry_id = line.entry
      AND (SELECT v2.status FROM voucher v2
           WHERE v2.entity_id = l2.entity_id AND v2.id = l2.voucher_id) = 'posted';
    IF line.signed <> (CASE NEW.kind WHEN 'reversal' THEN -entry_fen ELSE entry_fen END)
        OR backed NOT IN (0, entry_fen) THEN
      {disagree}
    END IF;
  END LOOP;
    INSERT INTO account_balance (entity_id, account_code, period, debit_fen, credit_fen)
      SELECT NEW.entity_id, account_code, NEW.period,
             SUM(CASE side WHEN 'D' THEN amount_fen ELSE 0 END),
             SUM(CASE side WHEN 'C' THEN amount_fen ELSE 0 END)
      FROM voucher_line WHERE entity_id = NEW.entity_id AND voucher_id = NEW.id
      AND line_no > 0 GROUP BY account_code
      ON CONFLICT (entity_id, account_code, period) DO UPDATE SET
        debit_fen = account_balance.debit_fen + EXCLUDED.debit_fen,
        credit_fen = account_balance.credit_fen + EXCLUDED.credit_fen;
  END IF;
"""

PG_POST = (
    "CREATE OR REPLACE FUNCTION jz_voucher_post() RETURNS trigger LANGUAGE plpgsql AS $fn$\n"
    "DECLARE\n  line record;\n  entry_fen bigint;\n  backed numeric;\nBEGIN\n"
    + _POST_BODY.format(
        unbalanced=_RAISE.format("the voucher does not balance"),
        gap=_RAISE.format("voucher numbers must run without gaps"),
        opening=_RAISE.format("the opening balances do not balance"),
        unbacked=_RAISE.format("a custody-account line is not backed by a custody entry"),
        disagree=_RAISE.format("custody entry and voucher lines disagree or back twice"),
    )
    + "  RETURN NULL;\nEND $fn$"
)


def _previous_post() -> str:
    """Return 0005's posting function (what a downgrade puts back)."""
    path = Path(__file__).with_name("0005_posting_speed_and_months.py")
    spec = importlib.util.spec_from_file_location("juzhang_migration_0005", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return str(module.PG_POST)


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
    op.execute(PG_POST)
    for ddl in _line_and_custody_functions(_POSTED_BY_KEY, _BACKS_BY_KEY):
        op.execute(ddl)
    for name in KEYED:
        op.execute(f"ALTER FUNCTION {name}() SET enable_seqscan = off")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    for name in KEYED:
        op.execute(f"ALTER FUNCTION {name}() RESET enable_seqscan")
    op.execute(_previous_post())
    for ddl in _line_and_custody_functions(_POSTED_BY_STATUS, _BACKS_BY_STATUS):
        op.execute(ddl)
