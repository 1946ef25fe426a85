"""PostgreSQL knows the person: a login role per person, privileges per duty, rows per community.

Issue 16.  钱账分离 held only for the *claimed* actor (``--as``, the API's
``actor``); on PostgreSQL the database now knows who is connected.

* ``app_user.db_role`` (both dialects; SQLite never fills it) names the
  PostgreSQL role of a person who has a database login
  (``agency.add_db_login``, ``juzhang user add … --db-login``).
* Roles, namespaced by this store (``<ns>`` = the schema's name, or the
  database's for ``public``), so that two stores on one server, and the
  tests' schemas, never share a role: NOLOGIN ``<ns>.person`` (what every
  person may do), one per duty ``<ns>.cashier`` … ``<ns>.admin``,
  ``<ns>.operator`` (set-up) and ``<ns>.service`` (a pooled service login's
  way to ``SET ROLE`` to each person).  A person's LOGIN role
  ``<ns>.<login>`` is a member of a duty role while they hold that duty for
  some community (trigger ``jz_grant_sync``, same transaction as the grant).
* Table privileges per duty (:data:`WRITES`) and row-level security on every
  table: a person reads the rows of the communities where they hold an open
  grant, and writes a table only for the communities where they hold a duty
  that writes it.  The owner (the role that ran this migration) bypasses
  row-level security as before: the existing suite connects as the owner.
* Every trigger function becomes ``SECURITY DEFINER`` (they are owned by the
  owner and pinned to ``search_path = pg_catalog, <schema>, pg_temp`` since
  0008; a trigger function cannot be called except as a trigger), so the
  backstops see every row whatever the person may read, and the running
  balances are written for the person who posts.
* ``jz_identity`` refuses a row that names anyone but the person connected
  as its actor (``audit_log.actor``, ``custody_entry.recorded_by``,
  ``voucher.prepared_by`` …), so the audit log records the database identity.

The owner needs ``CREATEROLE`` (or to be a superuser): the migration creates
the group roles and ``jz_create_login`` creates the persons' roles.  The
downgrade drops the policies, privileges, functions and the group roles; the
persons' login roles are dropped first by whoever made them (``DROP ROLE``).

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from juzhang.migrations.sql_file import read_statements

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

PG = read_statements(__file__, "pg")

DUTIES = ("cashier", "bookkeeper", "reviewer", "supervisor", "admin")
GROUPS = ("person", *DUTIES, "operator", "service")

MACHINE = "kind IN ('closing', 'reversal')"
MACHINE_LINE = (
    "EXISTS (SELECT 1 FROM voucher v WHERE v.entity_id = voucher_line.entity_id"
    " AND v.id = voucher_line.voucher_id AND v.kind IN ('closing', 'reversal'))"
)

_CHAIN = ("cashier_id", "chain_seq", "prev_hash", "hash")  # posting a machine voucher
_POSTING = ("fingerprint", "posted_on", "posted_until", "snapshot", "board_path")  # publishing

#: (table, duty, commands, columns of UPDATE or None for all, extra condition on the
#: rows written: INSERT's and UPDATE's new rows).
#: What each duty's services write; everything else a person may only read.
WRITES: tuple[tuple[str, str, tuple[str, ...], tuple[str, ...] | None, str | None], ...] = (
    ("custody_entry", "cashier", ("INSERT", "UPDATE", "DELETE"), None, None),
    ("claim", "cashier", ("INSERT", "UPDATE"), None, None),
    ("claim", "bookkeeper", ("UPDATE",), ("status", "voucher_id"), None),
    ("cash_count", "cashier", ("INSERT",), None, None),
    ("import_batch", "cashier", ("INSERT", "UPDATE"), None, None),
    ("import_batch", "bookkeeper", ("INSERT", "UPDATE"), None, None),
    # the agency imports the bank's lines and links them to the cashier's entries it matches
    (
        "statement_line",
        "bookkeeper",
        ("INSERT", "UPDATE"),
        ("custody_entry_id", "voucher_id"),
        None,
    ),
    ("statement_line", "cashier", ("UPDATE",), ("custody_entry_id",), None),
    ("voucher", "bookkeeper", ("INSERT", "UPDATE", "DELETE"), None, None),
    ("voucher_line", "bookkeeper", ("INSERT", "UPDATE", "DELETE"), None, None),
    (
        "voucher",
        "reviewer",
        ("UPDATE",),
        ("status", "reviewed_by", "reviewed_at", "posted_by", "posted_at", "number", *_CHAIN),
        None,
    ),
    ("voucher", "reviewer", ("INSERT",), None, MACHINE),
    ("voucher_line", "reviewer", ("INSERT",), None, MACHINE_LINE),
    ("opening_balance", "bookkeeper", ("INSERT", "UPDATE", "DELETE"), None, None),
    ("budget_version", "bookkeeper", ("INSERT",), None, None),
    ("budget_line", "bookkeeper", ("INSERT",), None, None),
    # a reviewer closes a month, only an admin opens one again (反结账)
    ("period", "reviewer", ("INSERT", "UPDATE"), None, "status = 'closed'"),
    ("period", "admin", ("UPDATE",), ("status", "closed_by", "closed_at"), "status = 'open'"),
    ("disclosure", "reviewer", ("INSERT", "UPDATE"), None, None),
    (
        "disclosure",
        "supervisor",
        ("UPDATE",),
        ("status", "signed_by", "signer_name", "opinion", "signed_on", *_POSTING),
        None,
    ),
    ("disclosure", "admin", ("DELETE",), None, None),
    ("disclosure_setting", "reviewer", ("INSERT", "UPDATE"), None, None),
    # what a community's statements are imported with (0016): the bookkeeper's
    ("import_setting", "bookkeeper", ("INSERT", "UPDATE", "DELETE"), None, None),
    # residents' questions (0017): recorded by the cashier or the finance group, answered
    # by the supervisor or an admin; append-only (the 0017 triggers refuse the rest)
    ("question", "cashier", ("INSERT",), None, None),
    ("question", "supervisor", ("INSERT",), None, None),
    ("question_answer", "supervisor", ("INSERT",), None, None),
    ("question_answer", "admin", ("INSERT",), None, None),
    ("risk_setting", "reviewer", ("INSERT", "UPDATE"), None, None),
)

#: Tables only an operator writes (set-up), besides reading everything.
OPERATOR_WRITES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("entity", ("INSERT", "UPDATE")),
    ("app_user", ("INSERT", "UPDATE")),
    ("role_grant", ("INSERT", "UPDATE")),
    ("account", ("INSERT", "UPDATE", "DELETE")),
    ("bank_account", ("INSERT", "UPDATE")),
)

#: Columns that name who acted, checked against the person connected (jz_identity).
IDENTITY_COLUMNS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("audit_log", ("actor",)),
    ("custody_entry", ("recorded_by",)),
    ("voucher", ("prepared_by", "reviewed_by", "posted_by")),
    ("cash_count", ("counted_by",)),
    ("claim", ("submitted_by",)),
    ("period", ("closed_by",)),
    ("disclosure", ("signed_by",)),
    ("import_batch", ("imported_by",)),
    ("role_grant", ("revoked_by",)),
    ("budget_version", ("actor",)),
    ("disclosure_setting", ("set_by",)),
    ("import_setting", ("set_by",)),
    ("question", ("asked_by",)),
    ("question_answer", ("answered_by",)),
    ("risk_setting", ("set_by",)),
)

TABLES = (
    "entity",
    "app_user",
    "role_grant",
    "account",
    "opening_balance",
    "period",
    "custody_entry",
    "voucher",
    "voucher_line",
    "account_balance",
    "audit_log",
    "import_batch",
    "statement_line",
    "claim",
    "cash_count",
    "budget_version",
    "budget_line",
    "disclosure",
    "disclosure_setting",
    "bank_account",
    "import_setting",
    "question",
    "question_answer",
    "risk_setting",
)


def _names() -> tuple[str, str, str]:
    """Return (quoted schema, namespace, owner) of the store being migrated."""
    bind = op.get_bind()
    schema, database, owner = bind.execute(
        sa.text("SELECT current_schema(), current_database(), current_user")
    ).one()
    ns = str(database if schema == "public" else schema)
    quoted = str(bind.dialect.identifier_preparer.quote(schema))
    return quoted, ns, str(owner)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(text: str) -> str:
    return text.replace("'", "''")


def _policy_statements(ns: str) -> list[str]:
    out: list[str] = []
    person, operator = _q(f"{ns}.person"), _q(f"{ns}.operator")
    for t in TABLES:
        out.append(f"ALTER TABLE {t} ENABLE ROW LEVEL SECURITY")
        out.append(f"GRANT SELECT ON {t} TO {person}")
        if t == "app_user":
            seen = "true"
        elif t == "entity":
            seen = "id IN (SELECT jz_entities(NULL))"
        else:
            seen = "entity_id IN (SELECT jz_entities(NULL))"
        out.append(f"CREATE POLICY jz_read ON {t} FOR SELECT TO {person} USING ({seen})")
    out.append(f"GRANT INSERT ON audit_log TO {person}")
    out.append(
        f"CREATE POLICY jz_audit ON audit_log FOR INSERT TO {person}"
        " WITH CHECK (entity_id IN (SELECT jz_entities(NULL)))"
    )
    for n, (t, duty, commands, columns, extra) in enumerate(WRITES):
        role = _q(f"{ns}.{duty}")
        for command in commands:
            cols = f" ({', '.join(columns)})" if command == "UPDATE" and columns else ""
            out.append(f"GRANT {command}{cols} ON {t} TO {role}")
            cond = f"entity_id IN (SELECT jz_entities(ARRAY['{duty}']))"
            check = f"{cond} AND {extra}" if extra else cond
            clause = {
                "INSERT": f"WITH CHECK ({check})",
                "UPDATE": f"USING ({cond}) WITH CHECK ({check})",
                "DELETE": f"USING ({cond})",
            }[command]
            name = f"jz_{duty}_{command.lower()}_{n}"
            out.append(f"CREATE POLICY {name} ON {t} FOR {command} TO {role} {clause}")
    for t, commands in OPERATOR_WRITES:
        out.append(f"GRANT {', '.join(commands)} ON {t} TO {operator}")
        out.append(
            f"CREATE POLICY jz_operator ON {t} FOR ALL TO {operator} USING (jz_is_operator())"
        )
    out.append(f"GRANT INSERT ON audit_log TO {operator}")
    out.append(f"GRANT USAGE ON SEQUENCE entity_id_seq, app_user_id_seq TO {operator}")
    return out


def upgrade() -> None:
    op.add_column("app_user", sa.Column("db_role", sa.String(length=63), nullable=True))
    op.create_index("uq_app_user_db_role", "app_user", ["db_role"], unique=True)
    if op.get_bind().dialect.name == "sqlite":
        return
    schema, ns, owner = _names()
    for g in GROUPS:
        # roles outlive a schema: one dropped and made again (a restore) finds them
        inherit = "NOINHERIT" if g == "service" else "INHERIT"
        role = f"{ns}.{g}"
        op.execute(
            f"DO $do$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{_lit(role)}')"
            f" THEN CREATE ROLE {_q(role)} NOLOGIN {inherit}; END IF; END $do$"
        )
    op.execute(f"GRANT USAGE ON SCHEMA {schema} TO {_q(f'{ns}.person')}")
    op.execute(f"GRANT {_q(f'{ns}.person')} TO {_q(f'{ns}.operator')}")
    # every existing trigger function sees every row (the backstops) and writes
    # what the trigger writes (running balances) whoever fired it
    op.execute(
        "DO $do$ DECLARE f regprocedure; BEGIN FOR f IN SELECT p.oid::regprocedure FROM pg_proc p"
        " WHERE p.pronamespace = current_schema()::regnamespace"
        " AND p.prorettype = 'trigger'::regtype LOOP"
        " EXECUTE format('ALTER FUNCTION %s SECURITY DEFINER', f); END LOOP; END $do$"
    )
    for ddl in PG:
        op.execute(
            ddl.replace("@SCHEMA@", schema)
            .replace("@NS_LITERAL@", _lit(ns))
            .replace("@OWNER_LITERAL@", _lit(owner))
        )
    for fn in ("jz_create_login(text, boolean)", "jz_sync_login(text)"):
        op.execute(f"REVOKE EXECUTE ON FUNCTION {fn} FROM PUBLIC")
    op.execute(
        f"GRANT EXECUTE ON FUNCTION jz_create_login(text, boolean) TO {_q(f'{ns}.operator')}"
    )
    for t, columns in IDENTITY_COLUMNS:
        args = ", ".join(f"'{c}'" for c in columns)
        op.execute(
            f"CREATE TRIGGER jz_identity BEFORE INSERT OR UPDATE ON {t} FOR EACH ROW"
            f" WHEN (pg_catalog.current_setting('role') <> 'none'"
            f" OR session_user <> '{_lit(owner)}')"
            f" EXECUTE FUNCTION jz_identity({args})"
        )
    for ddl in _policy_statements(ns):
        op.execute(ddl)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        _, ns, _ = _names()
        for t in TABLES:
            policies = op.get_bind().execute(
                sa.text(
                    "SELECT policyname FROM pg_policies"
                    " WHERE schemaname = current_schema() AND tablename = :t"
                ),
                {"t": t},
            )
            for (name,) in policies:
                op.execute(f"DROP POLICY {name} ON {t}")
            op.execute(f"ALTER TABLE {t} DISABLE ROW LEVEL SECURITY")
        for t, _columns in IDENTITY_COLUMNS:
            op.execute(f"DROP TRIGGER jz_identity ON {t}")
        op.execute("DROP TRIGGER jz_grant_sync ON role_grant")
        for fn in (
            "jz_identity()",
            "jz_create_login(text, boolean)",
            "jz_grant_sync()",
            "jz_sync_login(text)",
            "jz_entities(text[])",
            "jz_is_operator()",
            "jz_actor()",
            "jz_namespace()",
            "jz_db_role()",
        ):
            op.execute(f"DROP FUNCTION {fn}")
        op.execute(
            "DO $do$ DECLARE f regprocedure; BEGIN FOR f IN SELECT p.oid::regprocedure"
            " FROM pg_proc p WHERE p.pronamespace = current_schema()::regnamespace"
            " AND p.prorettype = 'trigger'::regtype LOOP"
            " EXECUTE format('ALTER FUNCTION %s SECURITY INVOKER', f); END LOOP; END $do$"
        )
        for g in GROUPS:
            role = _q(f"{ns}.{g}")
            op.execute(f"DROP OWNED BY {role}")
            op.execute(f"DROP ROLE {role}")
    op.drop_index("uq_app_user_db_role", table_name="app_user")
    op.drop_column("app_user", "db_role")
