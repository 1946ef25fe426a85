"""PostgreSQL: the book tables' references to the reference tables are checked once per statement.

A foreign key is checked by PostgreSQL row by row: each row written runs one
look-up per reference (about 5 µs each on the benchmark's machine).  The hot
book tables write thousands of rows per statement, all naming the same
community, the same two or three accounts, people and import batch, so the
same handful of reference rows was looked up and locked about 1.3 million
times on a 100,000-row statement's way through import, acceptance, drafting,
review and posting: 6–7 of the path's 27 seconds of server time (issue 15).

The references of ``statement_line``, ``custody_entry``, ``voucher`` and
``voucher_line`` to ``entity``, ``account``, ``app_user`` and
``import_batch`` (:data:`REFS`; the names in
:data:`juzhang.storage.schema.PG_STATEMENT_REFERENCES`) are now checked by
``AFTER INSERT … FOR EACH STATEMENT`` triggers over the statement's
transition table (``jz_refs``): each distinct key the statement brings in is
looked up once, and the rows it finds are locked ``FOR KEY SHARE`` as the
foreign key locks them, so that a concurrent delete waits for the writer.
An ``UPDATE`` of vouchers (review and posting name people) is checked the
same way for the keys it brings in (those not already named by the rows it
replaces), as a foreign key checks an update only when its key changed; an
``UPDATE`` that changes a reference of the other three tables, which the
services never do, is checked row by row (``jz_ref_row``, a row trigger
``WHEN`` a reference changed), so that their updates keep no transition
tables.
Deleting a reference row, or changing its key, while a book row names it is
refused by a row trigger on the reference table (``jz_still_named``), as
``NO ACTION`` refused it; that trigger refuses outside ``READ COMMITTED``,
where its look-up would not see a writer that committed after the
transaction's snapshot (PostgreSQL's own check uses a fresh snapshot; a
trigger cannot).  juzhang's services run in ``READ COMMITTED``, and only the
operator's unused-account removal deletes any of these rows.

A refusal is a ``foreign_key_violation`` (SQLSTATE 23503, an
``IntegrityError``) whose message starts ``juzhang: foreign key:``; the
statement is refused whole.  References between the book tables themselves
(a line's voucher, custody entry; a statement line's entry and voucher)
stay declared foreign keys: their keys differ row by row, so a statement
check would look each up anyway.  SQLite checks foreign keys inside the
process, cheaply: its foreign keys stay.  The models keep every reference
(SQLAlchemy reads them for joins); the comparison of models and migrations
leaves these out on PostgreSQL (:func:`juzhang.storage.schema.include_object`).

Revision ID: 0021
Revises: 0020
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from juzhang.migrations.ref_triggers import Ref, named_triggers, statement_triggers
from juzhang.migrations.sql_file import read_statements

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

PG = read_statements(__file__, "pg")

#: (book table, referenced table, its key columns, the sets of referencing columns).
REFS: tuple[Ref, ...] = (
    ("statement_line", "entity", ("id",), (("entity_id",),)),
    ("statement_line", "account", ("entity_id", "code"), (("entity_id", "account_code"),)),
    ("statement_line", "import_batch", ("entity_id", "id"), (("entity_id", "batch_id"),)),
    ("custody_entry", "entity", ("id",), (("entity_id",),)),
    ("custody_entry", "account", ("entity_id", "code"), (("entity_id", "account_code"),)),
    ("custody_entry", "app_user", ("id",), (("recorded_by",),)),
    ("voucher", "entity", ("id",), (("entity_id",),)),
    (
        "voucher",
        "app_user",
        ("id",),
        (("prepared_by",), ("reviewed_by",), ("posted_by",), ("cashier_id",)),
    ),
    ("voucher_line", "account", ("entity_id", "code"), (("entity_id", "account_code"),)),
)


def fk_name(table: str, columns: tuple[str, ...], referred: str) -> str:
    """The foreign key's name under juzhang's naming convention."""
    return f"fk_{table}_{'_'.join(columns)}_{referred}"


#: Tables whose updates are checked by statement: review and posting name the
#: voucher's people.  The other tables' references are never changed by the
#: services; a row trigger checks an update that changes them.
BY_STATEMENT = ("voucher",)


def _statement_triggers() -> list[tuple[str, str, str]]:
    """(trigger name, table, CREATE TRIGGER statement) of every check on a book table."""
    out: list[tuple[str, str, str]] = statement_triggers(REFS, BY_STATEMENT)
    return out


def _named_triggers() -> list[tuple[str, str, str]]:
    """(trigger name, table, CREATE TRIGGER statement) on each reference table."""
    out: list[tuple[str, str, str]] = named_triggers(REFS)
    return out


def _schema() -> str:
    bind = op.get_bind()
    schema = bind.execute(sa.text("SELECT current_schema()")).scalar_one()
    return str(bind.dialect.identifier_preparer.quote(schema))


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    for table, referred, _key, sets in REFS:
        for cols in sets:
            op.drop_constraint(fk_name(table, cols, referred), table, type_="foreignkey")
    schema = _schema()
    for ddl in PG:
        op.execute(ddl.replace("@SCHEMA@", schema))
    for _name, _table, ddl in _statement_triggers() + _named_triggers():
        op.execute(ddl)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    for name, table, _ddl in _statement_triggers() + _named_triggers():
        op.execute(f"DROP TRIGGER {name} ON {table}")
    op.execute("DROP FUNCTION jz_refs()")
    op.execute("DROP FUNCTION jz_ref_row()")
    op.execute("DROP FUNCTION jz_still_named()")
    for table, referred, key, sets in REFS:
        for cols in sets:
            op.create_foreign_key(
                fk_name(table, cols, referred), table, referred, list(cols), list(key)
            )
