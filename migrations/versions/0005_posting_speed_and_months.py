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

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_OLD = "AND a.custody IS NOT NULL AND l.custody_entry_id IS NULL"
_NEW = "AND a.custody IS NOT NULL AND COALESCE(l.custody_entry_id, 0) = 0"

SQLITE_POST = "CREATE TRIGGER jz_voucher_post AFTER UPDATE OF status ON voucher\n    WHEN NEW.status = 'posted'\n    BEGIN\n      SELECT RAISE(ABORT, 'juzhang: the voucher does not balance')\n        WHERE (SELECT COALESCE(SUM(CASE side WHEN 'D' THEN amount_fen ELSE -amount_fen END), 0)\n               FROM voucher_line WHERE entity_id = NEW.entity_id AND voucher_id = NEW.id) <> 0\n           OR (SELECT COUNT(*) FROM voucher_line\n               WHERE entity_id = NEW.entity_id AND voucher_id = NEW.id) < 2;\n      SELECT RAISE(ABORT, 'juzhang: voucher numbers must run without gaps')\n        WHERE NEW.number > 1 AND NOT EXISTS (SELECT 1 FROM voucher\n              WHERE entity_id = NEW.entity_id AND period = NEW.period\n              AND number = NEW.number - 1 AND status = 'posted');\n      SELECT RAISE(ABORT, 'juzhang: the opening balances do not balance')\n        WHERE (SELECT COALESCE(SUM(amount_fen), 0) FROM opening_balance\n               WHERE entity_id = NEW.entity_id) <> 0;\n      SELECT RAISE(ABORT, 'juzhang: a custody-account line is not backed by a custody entry')\n        WHERE EXISTS (SELECT 1 FROM voucher_line l JOIN account a\n              ON a.entity_id = l.entity_id AND a.code = l.account_code\n              WHERE l.entity_id = NEW.entity_id AND l.voucher_id = NEW.id\n              AND a.custody IS NOT NULL AND COALESCE(l.custody_entry_id, 0) = 0);\n      SELECT RAISE(ABORT, 'juzhang: custody entry and voucher lines disagree or back twice')\n        WHERE EXISTS (SELECT 1 FROM voucher_line l JOIN custody_entry c\n              ON c.entity_id = l.entity_id AND c.id = l.custody_entry_id\n              WHERE l.entity_id = NEW.entity_id AND l.voucher_id = NEW.id\n              AND ((CASE l.side WHEN 'D' THEN l.amount_fen ELSE -l.amount_fen END)\n                   <> (CASE NEW.kind WHEN 'reversal' THEN -c.amount_fen ELSE c.amount_fen END)\n              OR (SELECT SUM(CASE l2.side WHEN 'D' THEN l2.amount_fen ELSE -l2.amount_fen END)\n                   FROM voucher_line l2 JOIN voucher v2\n                   ON v2.entity_id = l2.entity_id AND v2.id = l2.voucher_id\n                   WHERE l2.entity_id = l.entity_id\n                   AND l2.custody_entry_id = l.custody_entry_id\n                   AND v2.status = 'posted') NOT IN (0, c.amount_fen)));\n      INSERT INTO account_balance (entity_id, account_code, period, debit_fen, credit_fen)\n        SELECT NEW.entity_id, account_code, NEW.period,\n               SUM(CASE side WHEN 'D' THEN amount_fen ELSE 0 END),\n               SUM(CASE side WHEN 'C' THEN amount_fen ELSE 0 END)\n        FROM voucher_line WHERE entity_id = NEW.entity_id AND voucher_id = NEW.id\n        AND line_no > 0 GROUP BY account_code\n        ON CONFLICT (entity_id, account_code, period) DO UPDATE SET\n          debit_fen = debit_fen + excluded.debit_fen,\n          credit_fen = credit_fen + excluded.credit_fen;\n    END"

PG_POST = "CREATE OR REPLACE FUNCTION jz_voucher_post() RETURNS trigger LANGUAGE plpgsql AS $fn$\nBEGIN\n  IF NEW.status = 'posted' THEN\n  IF (SELECT COALESCE(SUM(CASE side WHEN 'D' THEN amount_fen ELSE -amount_fen END), 0)\n          FROM voucher_line WHERE entity_id = NEW.entity_id AND voucher_id = NEW.id) <> 0\n        OR (SELECT COUNT(*) FROM voucher_line\n          WHERE entity_id = NEW.entity_id AND voucher_id = NEW.id) < 2 THEN\n    RAISE EXCEPTION 'juzhang: the voucher does not balance' USING ERRCODE = 'integrity_constraint_violation';\n  END IF;\n  IF NEW.number > 1 AND NOT EXISTS (SELECT 1 FROM voucher\n          WHERE entity_id = NEW.entity_id AND period = NEW.period\n          AND number = NEW.number - 1 AND status = 'posted') THEN\n    RAISE EXCEPTION 'juzhang: voucher numbers must run without gaps' USING ERRCODE = 'integrity_constraint_violation';\n  END IF;\n  IF (SELECT COALESCE(SUM(amount_fen), 0) FROM opening_balance\n          WHERE entity_id = NEW.entity_id) <> 0 THEN\n    RAISE EXCEPTION 'juzhang: the opening balances do not balance' USING ERRCODE = 'integrity_constraint_violation';\n  END IF;\n  IF EXISTS (SELECT 1 FROM voucher_line l JOIN account a\n          ON a.entity_id = l.entity_id AND a.code = l.account_code\n          WHERE l.entity_id = NEW.entity_id AND l.voucher_id = NEW.id\n          AND a.custody IS NOT NULL AND COALESCE(l.custody_entry_id, 0) = 0) THEN\n    RAISE EXCEPTION 'juzhang: a custody-account line is not backed by a custody entry' USING ERRCODE = 'integrity_constraint_violation';\n  END IF;\n  IF EXISTS (SELECT 1 FROM voucher_line l JOIN custody_entry c\n          ON c.entity_id = l.entity_id AND c.id = l.custody_entry_id\n          WHERE l.entity_id = NEW.entity_id AND l.voucher_id = NEW.id\n          AND ((CASE l.side WHEN 'D' THEN l.amount_fen ELSE -l.amount_fen END)\n               <> (CASE NEW.kind WHEN 'reversal' THEN -c.amount_fen ELSE c.amount_fen END)\n          OR (SELECT SUM(CASE l2.side WHEN 'D' THEN l2.amount_fen ELSE -l2.amount_fen END)\n               FROM voucher_line l2 JOIN voucher v2\n               ON v2.entity_id = l2.entity_id AND v2.id = l2.voucher_id\n               WHERE l2.entity_id = l.entity_id\n               AND l2.custody_entry_id = l.custody_entry_id\n               AND v2.status = 'posted') NOT IN (0, c.amount_fen))) THEN\n    RAISE EXCEPTION 'juzhang: custody entry and voucher lines disagree or back twice' USING ERRCODE = 'integrity_constraint_violation';\n  END IF;\n    INSERT INTO account_balance (entity_id, account_code, period, debit_fen, credit_fen)\n      SELECT NEW.entity_id, account_code, NEW.period,\n             SUM(CASE side WHEN 'D' THEN amount_fen ELSE 0 END),\n             SUM(CASE side WHEN 'C' THEN amount_fen ELSE 0 END)\n      FROM voucher_line WHERE entity_id = NEW.entity_id AND voucher_id = NEW.id\n      AND line_no > 0 GROUP BY account_code\n      ON CONFLICT (entity_id, account_code, period) DO UPDATE SET\n        debit_fen = account_balance.debit_fen + EXCLUDED.debit_fen,\n        credit_fen = account_balance.credit_fen + EXCLUDED.credit_fen;\n  END IF;\n  RETURN NULL;\nEND $fn$"

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
