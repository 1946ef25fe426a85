"""PostgreSQL: every function resolves names in juzhang's schema only.

PostgreSQL searches a session's temporary schema ``pg_temp`` first for an
unqualified table name, unless the search path names it, and any connection
may create TEMP tables.  The trigger functions read unqualified names
(``period``, ``voucher``, ``role_grant`` …), so a connection that created
``TEMP TABLE period`` before writing made the closed-period check read its own
table: an entry went into a closed, published month; a voucher was inserted
and posted there; a custody entry backing a posted line was changed; a
cashier was granted the bookkeeper role.  A data-only ``pg_dump`` restore,
which sets the search path to empty, failed inside the triggers for the same
reason (``relation "voucher_line" does not exist``).

Every function of the schema the migration runs in now runs with
``search_path = pg_catalog, <schema>, pg_temp``: ``pg_temp`` last, named, so
it is searched after the schema (and never for functions or operators).  The
statement checks of 0007 run their queries through ``EXECUTE`` of constant
strings; those resolve with the function's search path too.  No function is
``SECURITY DEFINER``.  Functions that belong to an extension installed in the
schema are left alone.  A later migration that replaces a function must pin
it again (``CREATE OR REPLACE FUNCTION`` keeps only the settings it names):
``tests/test_pg_hardening.py`` fails on any function of the schema without it.
SQLite has no search path; nothing changes there.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# Each function of the current schema that is not an extension's, with its signature.
_FUNCTIONS = """SELECT p.oid::regprocedure AS signature FROM pg_catalog.pg_proc p
    WHERE p.pronamespace = pg_catalog.current_schema()::regnamespace
    AND p.prokind IN ('f', 'p')
    AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
        WHERE d.classid = 'pg_catalog.pg_proc'::regclass AND d.objid = p.oid
        AND d.deptype = 'e')"""


def _for_each_function(action: str) -> str:
    """A DO block that runs ``ALTER ROUTINE <signature> <action>`` for each function.

    ``action`` may use ``%I`` for the schema's name (quoted by ``format``).
    """
    return f"""DO $do$
DECLARE
  f record;
BEGIN
  IF pg_catalog.current_schema() IS NULL THEN
    RAISE EXCEPTION 'juzhang: no current schema to pin the functions to';
  END IF;
  FOR f IN {_FUNCTIONS} LOOP
    EXECUTE pg_catalog.format('ALTER ROUTINE %s {action}', f.signature,
                              pg_catalog.current_schema());
  END LOOP;
END $do$"""


PIN = _for_each_function("SET search_path = pg_catalog, %I, pg_temp")
UNPIN = _for_each_function("RESET search_path")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    op.execute(PIN)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    op.execute(UNPIN)
