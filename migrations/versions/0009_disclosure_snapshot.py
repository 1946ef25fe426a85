"""The published board, frozen: a snapshot of the published figures on each disclosure.

At sign-off (民主理财小组签字) the disclosure's JSON — every section, row and
figure, the title, entity, period and the signatures — is stored with the
configuration it was computed with in ``disclosure.snapshot``, so the
published workbook can be written again at any time and a board checked
against what was published rather than against the books of today.
``disclosure.board_path`` remembers where the closing run wrote the month's
board, so the signed workbook replaces the draft there.

The snapshot is immutable once published: the trigger of 0003 already refuses
any UPDATE or DELETE of a published disclosure row; this revision adds that a
disclosure cannot become published without its snapshot.  The PostgreSQL
function is pinned to the schema's search path like every other (0008).

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_NO_SNAPSHOT = "juzhang: a published disclosure keeps the snapshot of what was published"

SQLITE = (
    "CREATE TRIGGER jz_disclosure_snapshot BEFORE UPDATE ON disclosure"
    " WHEN NEW.status = 'published' AND OLD.status <> 'published' AND NEW.snapshot IS NULL"
    f" BEGIN SELECT RAISE(ABORT, '{_NO_SNAPSHOT}'); END"
)

PG_FUNCTION = f"""DO $do$
BEGIN
  EXECUTE pg_catalog.format($f$CREATE FUNCTION jz_disclosure_snapshot() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, %I, pg_temp AS $fn$
    BEGIN
      IF NEW.status = 'published' AND OLD.status <> 'published' AND NEW.snapshot IS NULL THEN
        RAISE EXCEPTION '{_NO_SNAPSHOT}' USING ERRCODE = 'integrity_constraint_violation';
      END IF;
      RETURN NEW;
    END $fn$$f$, pg_catalog.current_schema());
END $do$"""

PG_TRIGGER = (
    "CREATE TRIGGER jz_disclosure_snapshot BEFORE UPDATE ON disclosure"
    " FOR EACH ROW EXECUTE FUNCTION jz_disclosure_snapshot()"
)


def upgrade() -> None:
    op.add_column("disclosure", sa.Column("snapshot", sa.Text(), nullable=True))
    op.add_column("disclosure", sa.Column("board_path", sa.Text(), nullable=True))
    if op.get_bind().dialect.name == "sqlite":
        op.execute(SQLITE)
        return
    op.execute(PG_FUNCTION)
    op.execute(PG_TRIGGER)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS jz_disclosure_snapshot")
    else:
        op.execute("DROP TRIGGER IF EXISTS jz_disclosure_snapshot ON disclosure")
        op.execute("DROP FUNCTION IF EXISTS jz_disclosure_snapshot()")
    op.drop_column("disclosure", "board_path")
    op.drop_column("disclosure", "snapshot")
