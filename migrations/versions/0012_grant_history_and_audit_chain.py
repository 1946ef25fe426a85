"""Grants as a history, the audit log chained, cash counts of closed months frozen, posting's people.

Issue 17: raw SQL the backstop let through.

* ``role_grant`` becomes the history of grants: its primary key takes
  ``granted_at``, and ``revoked_at`` / ``revoked_by`` end a grant.  A grant is
  never deleted (``jz_grant_no_delete``); the only update ends an open grant
  once (``jz_grant_no_update``); a grant is inserted open, after the earlier
  grants of the same role ended (``jz_grant_open``).  钱账分离
  (``jz_grant_separation``) reads every row, so it now holds over the whole
  history: deleting a cashier grant and inserting a bookkeeper grant is
  refused (the delete itself is refused too).
* ``audit_log.hash``: each row's SHA-256 over the previous row's hash and its
  content (:func:`juzhang.core.audit.audit_hash`); the rows already there are
  chained here, in ``(entity_id, seq)`` order.  The database cannot compute
  SHA-256 on SQLite; ``juzhang verify`` checks the chain.
* The cash counts of a closed month are never updated or deleted
  (``jz_cash_count_update`` / ``_delete`` on SQLite, ``jz_cash_count_closed``
  on PostgreSQL); inserting one was refused by 0003 already.
* Posting a voucher (``jz_voucher_people``) checks its people: the reviewer
  held ``reviewer`` at ``reviewed_at``, the preparer and the poster held
  ``bookkeeper`` at ``prepared_at`` and ``posted_at`` (the month-end machine
  vouchers, kind ``closing`` and their reversals, are prepared and posted by
  the ``system`` user), and none of the three ever held the entity's
  ``cashier`` role.  On PostgreSQL one statement trigger over the new rows
  (0007's pattern); on SQLite a row trigger whose look-ups go by
  ``role_grant``'s primary key.

SQLite rebuilds ``role_grant`` and ``audit_log`` (a new primary key, a new
NOT NULL column) and makes their triggers again.  PostgreSQL alters them in
place; each new function is created with ``search_path = pg_catalog,
<schema>, pg_temp`` (see 0008).  The downgrade keeps only the open grants and
drops the hashes.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import sqlalchemy as sa
from alembic import op

from juzhang.core.audit import GENESIS_HASH, audit_hash
from juzhang.migrations.sql_file import read_statements

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

SQLITE = read_statements(__file__, "sqlite")
PG = read_statements(__file__, "pg")

# SQLite: the triggers of role_grant and audit_log 0001 made, which the rebuild drops.
_SQLITE_0001 = (
    "jz_grant_separation",
    "jz_grant_no_update",
    "jz_audit_no_update",
    "jz_audit_no_delete",
)

_GRANT_CHANGED = (
    "OLD.revoked_at IS NOT NULL OR NEW.revoked_at IS NULL OR NEW.revoked_by IS NULL"
    " OR NEW.entity_id <> OLD.entity_id OR NEW.user_id <> OLD.user_id OR NEW.role <> OLD.role"
    " OR NEW.granted_at <> OLD.granted_at OR NEW.revoked_at < OLD.granted_at"
)
PG_ROW_CHECKS = (
    (
        "jz_grant_no_update",
        "BEFORE UPDATE ON role_grant",
        _GRANT_CHANGED,
        "role grants are never updated (a revocation only ends an open grant)",
    ),
    (
        "jz_grant_no_delete",
        "BEFORE DELETE ON role_grant",
        "true",
        "role grants are never deleted (a revocation ends a grant)",
    ),
)


def _grant_table(name: str, *, history: bool) -> None:
    key = ["entity_id", "user_id", "role", *(["granted_at"] if history else [])]
    extra: list[sa.Column[object]] = (
        [
            sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
            sa.Column("revoked_by", sa.String(length=64), nullable=True),
        ]
        if history
        else []
    )
    op.create_table(
        name,
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        *extra,
        sa.CheckConstraint(
            "role IN ('cashier', 'bookkeeper', 'reviewer', 'supervisor', 'admin')",
            name=op.f("ck_role_grant_role"),
        ),
        sa.ForeignKeyConstraint(
            ["entity_id"], ["entity.id"], name=op.f("fk_role_grant_entity_id_entity")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_role_grant_user_id_app_user")
        ),
        sa.PrimaryKeyConstraint(*key, name=op.f("pk_role_grant")),
    )


def _audit_table(name: str, *, chained: bool) -> None:
    extra: list[sa.Column[object]] = (
        [sa.Column("hash", sa.String(length=64), nullable=False)] if chained else []
    )
    op.create_table(
        name,
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        *extra,
        sa.PrimaryKeyConstraint("entity_id", "seq", name=op.f("pk_audit_log")),
    )


_AUDIT = sa.table(
    "audit_log",
    sa.column("entity_id", sa.Integer()),
    sa.column("seq", sa.Integer()),
    sa.column("at", sa.DateTime(timezone=True)),
    sa.column("actor", sa.String()),
    sa.column("action", sa.String()),
    sa.column("subject", sa.Text()),
    sa.column("detail", sa.Text()),
)


def _chained_rows() -> list[dict[str, object]]:
    """Every audit row with its chain hash, in (entity_id, seq) order."""
    rows = op.get_bind().execute(sa.select(_AUDIT).order_by(_AUDIT.c.entity_id, _AUDIT.c.seq))
    out: list[dict[str, object]] = []
    prev: dict[int, str] = {}
    for r in rows:
        at = r.at if isinstance(r.at, dt.datetime) else dt.datetime.fromisoformat(str(r.at))
        digest = audit_hash(
            prev.get(r.entity_id, GENESIS_HASH),
            entity_id=r.entity_id,
            seq=r.seq,
            at=at,
            actor=r.actor,
            action=r.action,
            subject=r.subject,
            detail=r.detail,
        )
        prev[r.entity_id] = digest
        out.append({**r._asdict(), "hash": digest})
    return out


def _schema() -> str:
    bind = op.get_bind()
    name = bind.execute(sa.text("SELECT pg_catalog.current_schema()")).scalar_one()
    return str(bind.dialect.identifier_preparer.quote(name))


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _upgrade_sqlite()
        return
    op.execute("ALTER TABLE role_grant DROP CONSTRAINT pk_role_grant")
    op.add_column("role_grant", sa.Column("revoked_at", sa.DateTime(timezone=True)))
    op.add_column("role_grant", sa.Column("revoked_by", sa.String(length=64)))
    op.create_primary_key(
        "pk_role_grant", "role_grant", ["entity_id", "user_id", "role", "granted_at"]
    )
    op.add_column("audit_log", sa.Column("hash", sa.String(length=64)))
    rows = _chained_rows()
    if rows:
        op.execute("ALTER TABLE audit_log DISABLE TRIGGER jz_audit_append_only")
        op.get_bind().execute(
            sa.text(
                "UPDATE audit_log SET hash = :hash WHERE entity_id = :entity_id AND seq = :seq"
            ),
            [{"hash": r["hash"], "entity_id": r["entity_id"], "seq": r["seq"]} for r in rows],
        )
        op.execute("ALTER TABLE audit_log ENABLE TRIGGER jz_audit_append_only")
    op.alter_column("audit_log", "hash", nullable=False)
    op.execute("DROP TRIGGER jz_grant_no_update ON role_grant")
    for name, when, condition, message in PG_ROW_CHECKS:
        op.execute(
            f"CREATE TRIGGER {name} {when} FOR EACH ROW WHEN ({condition})"
            f" EXECUTE FUNCTION jz_refuse('{message}')"
        )
    schema = _schema()
    for ddl in PG:
        op.execute(ddl.replace("@SCHEMA@", schema))


def _upgrade_sqlite() -> None:
    _grant_table("_jz_role_grant", history=True)
    op.execute(
        "INSERT INTO _jz_role_grant (entity_id, user_id, role, granted_at)"
        " SELECT entity_id, user_id, role, granted_at FROM role_grant"
    )
    op.drop_table("role_grant")
    op.rename_table("_jz_role_grant", "role_grant")
    rows = _chained_rows()
    _audit_table("_jz_audit_log", chained=True)
    if rows:
        new = sa.table("_jz_audit_log", *[sa.column(c.name, c.type) for c in _AUDIT.c])
        new.append_column(sa.column("hash", sa.String()))
        op.get_bind().execute(sa.insert(new), rows)
    op.drop_table("audit_log")
    op.rename_table("_jz_audit_log", "audit_log")
    for ddl in SQLITE:
        op.execute(ddl)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _downgrade_sqlite()
        return
    for ddl in PG[1::2]:  # the CREATE TRIGGERs
        name, table = ddl.split()[2], ddl.split(" ON ")[1].split()[0]
        op.execute(f"DROP TRIGGER {name} ON {table}")
        op.execute(f"DROP FUNCTION {name}()")
    for name, when, _condition, _message in PG_ROW_CHECKS:
        op.execute(f"DROP TRIGGER {name} ON {when.split(' ON ')[1]}")
    op.execute(
        "CREATE TRIGGER jz_grant_no_update BEFORE UPDATE ON role_grant"
        " FOR EACH ROW EXECUTE FUNCTION jz_grant_no_update()"
    )
    op.drop_column("audit_log", "hash")
    op.execute("ALTER TABLE role_grant DISABLE TRIGGER USER")
    op.execute("DELETE FROM role_grant WHERE revoked_at IS NOT NULL")
    op.execute("ALTER TABLE role_grant ENABLE TRIGGER USER")
    op.execute("ALTER TABLE role_grant DROP CONSTRAINT pk_role_grant")
    op.drop_column("role_grant", "revoked_by")
    op.drop_column("role_grant", "revoked_at")
    op.create_primary_key("pk_role_grant", "role_grant", ["entity_id", "user_id", "role"])


def _downgrade_sqlite() -> None:
    for ddl in SQLITE:
        if ddl.split()[2] not in _SQLITE_0001:  # those go with their tables
            op.execute(f"DROP TRIGGER {ddl.split()[2]}")
    _grant_table("_jz_role_grant", history=False)
    op.execute(
        "INSERT INTO _jz_role_grant (entity_id, user_id, role, granted_at)"
        " SELECT entity_id, user_id, role, granted_at FROM role_grant WHERE revoked_at IS NULL"
    )
    op.drop_table("role_grant")
    op.rename_table("_jz_role_grant", "role_grant")
    _audit_table("_jz_audit_log", chained=False)
    op.execute(
        "INSERT INTO _jz_audit_log (entity_id, seq, at, actor, action, subject, detail)"
        " SELECT entity_id, seq, at, actor, action, subject, detail FROM audit_log"
    )
    op.drop_table("audit_log")
    op.rename_table("_jz_audit_log", "audit_log")
    for ddl in read_statements(Path(__file__).with_name("0001_initial_schema.py"), "sqlite"):
        if ddl.split()[2] in _SQLITE_0001:
            op.execute(ddl)
