"""Entity codes are a strict pattern: letters, digits, ``_`` and ``-`` (both databases).

A community's code names its folder under ``close --out``; codes like
``../../x`` or ``/tmp/x`` were accepted and the closing run then wrote outside
the output folder.  :func:`juzhang.agency.add_entity` checks
:data:`juzhang.core.text.ENTITY_CODE_PATTERN` first; the database refuses the
same codes as a backstop (``^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$``), written with
``ltrim``/``substr`` so that one expression holds on SQLite and PostgreSQL:

* PostgreSQL: a CHECK constraint ``ck_entity_code_pattern``;
* SQLite: a CHECK cannot be added without rebuilding the table (which other
  tables reference), so two triggers refuse an insert or an update of the
  code that breaks it, with the same expression.

An existing database holding such a code fails this upgrade: rename the
community first.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

#: The same text as the model's CheckConstraint (juzhang.storage.schema.ENTITY_CODE_CHECK).
CHECK = (
    "length(code) BETWEEN 1 AND 32"
    " AND ltrim(code, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-') = ''"
    " AND substr(code, 1, 1) NOT IN ('_', '-')"
)

_MESSAGE = "juzhang: entity code must be letters, digits, _ and - (first a letter or digit, 1-32)"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.create_check_constraint(op.f("ck_entity_code_pattern"), "entity", CHECK)
        return
    for name, event in (
        ("jz_entity_code_insert", "INSERT"),
        ("jz_entity_code_update", "UPDATE OF code"),
    ):
        op.execute(
            f"CREATE TRIGGER {name} BEFORE {event} ON entity"
            f" WHEN NOT ({CHECK.replace('code', 'NEW.code')})"
            f" BEGIN SELECT RAISE(ABORT, '{_MESSAGE}'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(op.f("ck_entity_code_pattern"), "entity", type_="check")
        return
    op.execute("DROP TRIGGER IF EXISTS jz_entity_code_insert")
    op.execute("DROP TRIGGER IF EXISTS jz_entity_code_update")
