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

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_RAISE = "RAISE EXCEPTION 'juzhang: {}' USING ERRCODE = 'integrity_constraint_violation';"

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


def _check(condition: str, message: str) -> str:
    # EXECUTE plans the query on each call: a plan PL/pgSQL cached on the first,
    # nearly empty month would scan whole tables once the books have grown
    # (no statistics here: nothing runs ANALYZE inside a bulk load).
    return (
        f"  EXECUTE $q$SELECT {condition}$q$ INTO bad;\n"
        f"  IF bad THEN\n    {_RAISE.format(message)}\n  END IF;\n"
    )


# Every look-up below is a scalar subquery or a LATERAL subquery behind OFFSET 0,
# by a table's key: the planner cannot turn it into a join that reads a whole
# table, which it chose on tables without statistics (nothing runs ANALYZE
# inside a bulk load), and each statement costs a few key look-ups per row.
_CLOSED = """EXISTS (SELECT 1 FROM (SELECT DISTINCT entity_id, period FROM {rows}) k
      WHERE (SELECT p.status FROM period p
             WHERE p.entity_id = k.entity_id AND p.period = k.period) = 'closed')"""
_NOT_LEAF = """EXISTS (SELECT 1 FROM (SELECT DISTINCT entity_id, account_code FROM n) k
      WHERE (SELECT 1 FROM account a WHERE a.entity_id = k.entity_id
             AND a.parent_code = k.account_code LIMIT 1) IS NOT NULL)"""
_SIGNED = "(CASE {l}.side WHEN 'D' THEN {l}.amount_fen ELSE -{l}.amount_fen END)"
_POSTED = "(SELECT v.status FROM voucher v WHERE v.entity_id = {r}.entity_id AND v.id = {r}.{id})"
_LINES_OF_N = """n, LATERAL (SELECT l.account_code, l.side, l.amount_fen, l.custody_entry_id
        FROM voucher_line l WHERE l.entity_id = n.entity_id AND l.voucher_id = n.id
        AND l.line_no > 0 OFFSET 0) l"""

VOUCHER_INSERTED = _check(_CLOSED.format(rows="n"), "the period is closed")

LINE_INSERTED = (
    _check(
        f"""EXISTS (SELECT 1 FROM (SELECT DISTINCT entity_id, voucher_id FROM n) k
      WHERE {_POSTED.format(r="k", id="voucher_id")} = 'posted')""",
        "a posted voucher is never changed",
    )
    + _check(
        """EXISTS (SELECT 1 FROM (SELECT DISTINCT entity_id, voucher_id FROM n) k
      WHERE (SELECT p.status FROM voucher v
             JOIN period p ON p.entity_id = v.entity_id AND p.period = v.period
             WHERE v.entity_id = k.entity_id AND v.id = k.voucher_id) = 'closed')""",
        "the period is closed",
    )
    + _check(_NOT_LEAF, "postings go to leaf accounts only")
)

CUSTODY_INSERTED = (
    _check(
        """EXISTS (SELECT 1 FROM (SELECT DISTINCT entity_id, account_code FROM n) k
      WHERE (SELECT a.custody FROM account a
             WHERE a.entity_id = k.entity_id AND a.code = k.account_code) IS NULL)""",
        "custody entries go to cash or bank accounts only",
    )
    + _check(_NOT_LEAF, "custody entries go to leaf accounts only")
    + _check(_CLOSED.format(rows="n"), "the period is closed")
)

# Posting: every voucher of the statement whose status is now 'posted' was posted
# by it (a posted voucher is never updated), and is checked as the row trigger did.
# Numbers: the posted numbers of each month touched are 1..count (they are unique
# and positive), which is what "n is posted only after n - 1" kept row by row.
VOUCHER_UPDATED = (
    _check(
        _CLOSED.format(
            rows="(SELECT entity_id, period FROM o UNION ALL SELECT entity_id, period FROM n) b"
        ),
        "the period is closed",
    )
    + "  IF NOT EXISTS (SELECT 1 FROM n WHERE status = 'posted') THEN\n    RETURN NULL;\n  END IF;\n"
    + _check(
        f"""EXISTS (SELECT 1 FROM n, LATERAL (
          SELECT COALESCE(SUM({_SIGNED.format(l="l")}), 0) AS total, COUNT(*) AS lines
          FROM voucher_line l
          WHERE l.entity_id = n.entity_id AND l.voucher_id = n.id AND l.line_no > 0) x
      WHERE n.status = 'posted' AND (x.total <> 0 OR x.lines < 2))""",
        "the voucher does not balance",
    )
    + _check(
        """EXISTS (SELECT 1
      FROM (SELECT DISTINCT entity_id, period FROM n WHERE status = 'posted') k,
      LATERAL (SELECT COUNT(*) AS posted, MAX(v.number) AS last FROM voucher v
               WHERE v.entity_id = k.entity_id AND v.status = 'posted'
               AND v.period = k.period) x
      WHERE x.last <> x.posted)""",
        "voucher numbers must run without gaps",
    )
    + _check(
        """EXISTS (SELECT 1 FROM (SELECT DISTINCT entity_id FROM n WHERE status = 'posted') e
      WHERE (SELECT COALESCE(SUM(b.amount_fen), 0) FROM opening_balance b
             WHERE b.entity_id = e.entity_id) <> 0)""",
        "the opening balances do not balance",
    )
    + _check(
        f"""EXISTS (SELECT 1 FROM {_LINES_OF_N}
      WHERE n.status = 'posted' AND COALESCE(l.custody_entry_id, 0) = 0
      AND (SELECT a.custody FROM account a
           WHERE a.entity_id = n.entity_id AND a.code = l.account_code) IS NOT NULL)""",
        "a custody-account line is not backed by a custody entry",
    )
    + _check(
        f"""EXISTS (SELECT 1 FROM {_LINES_OF_N},
      LATERAL (SELECT c.amount_fen FROM custody_entry c
               WHERE c.entity_id = n.entity_id AND c.id = l.custody_entry_id OFFSET 0) c
      WHERE n.status = 'posted' AND l.custody_entry_id IS NOT NULL
      AND ({_SIGNED.format(l="l")}
           <> (CASE n.kind WHEN 'reversal' THEN -c.amount_fen ELSE c.amount_fen END)
        OR (SELECT COALESCE(SUM({_SIGNED.format(l="l2")}), 0) FROM voucher_line l2
            WHERE l2.entity_id = n.entity_id AND l2.custody_entry_id = l.custody_entry_id
            AND {_POSTED.format(r="l2", id="voucher_id")} = 'posted')
           NOT IN (0, c.amount_fen)))""",
        "custody entry and voucher lines disagree or back twice",
    )
    + f"""  EXECUTE $q$INSERT INTO account_balance
      (entity_id, account_code, period, debit_fen, credit_fen)
    SELECT n.entity_id, l.account_code, n.period,
           SUM(CASE l.side WHEN 'D' THEN l.amount_fen ELSE 0 END),
           SUM(CASE l.side WHEN 'C' THEN l.amount_fen ELSE 0 END)
    FROM {_LINES_OF_N}
    WHERE n.status = 'posted' GROUP BY n.entity_id, l.account_code, n.period
    ON CONFLICT (entity_id, account_code, period) DO UPDATE SET
      debit_fen = account_balance.debit_fen + EXCLUDED.debit_fen,
      credit_fen = account_balance.credit_fen + EXCLUDED.credit_fen$q$;
"""
)

# (trigger and function, table, event, transition tables, body)
STATEMENT_CHECKS = (
    ("jz_voucher_inserted", "voucher", "INSERT", "NEW TABLE AS n", VOUCHER_INSERTED),
    ("jz_voucher_updated", "voucher", "UPDATE", "OLD TABLE AS o NEW TABLE AS n", VOUCHER_UPDATED),
    ("jz_line_inserted", "voucher_line", "INSERT", "NEW TABLE AS n", LINE_INSERTED),
    ("jz_custody_inserted", "custody_entry", "INSERT", "NEW TABLE AS n", CUSTODY_INSERTED),
)

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
    for name, table, event, transition, body in STATEMENT_CHECKS:
        op.execute(
            f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $fn$\n"
            f"DECLARE\n  bad boolean;\nBEGIN\n{body}  RETURN NULL;\nEND $fn$"
        )
        op.execute(
            f"CREATE TRIGGER {name} AFTER {event} ON {table} REFERENCING {transition}"
            f" FOR EACH STATEMENT EXECUTE FUNCTION {name}()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    for name, table, _event, _transition, _body in STATEMENT_CHECKS:
        op.execute(f"DROP TRIGGER {name} ON {table}")
        op.execute(f"DROP FUNCTION {name}()")
    for name, table, *_rest in ROW_CHECKS:
        op.execute(f"DROP TRIGGER {name} ON {table}")
    op.execute("DROP FUNCTION jz_refuse()")
    for name, table, when in REPLACED:
        op.execute(
            f"CREATE TRIGGER {name} {when} ON {table} FOR EACH ROW EXECUTE FUNCTION {name}()"
        )
