"""PostgreSQL: references between the book tables are checked once per statement too.

0021 moved the book tables' references to the reference tables (community,
account, person, import batch) from row-by-row foreign keys to statement
triggers.  It kept the references between the book tables themselves as
foreign keys, on the reasoning that their keys differ row by row, so a
statement check would look each one up anyway.  Measured, that reasoning
does not hold: PostgreSQL's foreign key runs one query per row, and a
statement trigger probes the same index for all of the statement's keys in
one query.  On a copy of issue 15's book (200,000 voucher lines), checking
each line's voucher took 0.21–0.25 s as one query with the same
``FOR KEY SHARE`` locks; the same 200,000 lines written with their two
foreign keys took 2.9 s instead of 1.1 s without them.

So the four references the bulk steps write by the hundred thousand are
checked by 0021's functions from here on (:data:`REFS`):

* a voucher line's voucher and its custody entry (drafting writes 200,000
  lines per 100,000 statement lines);
* a statement line's custody entry and its voucher (acceptance and drafting
  link them, by ``UPDATE``: these updates are checked by statement, for the
  keys they bring in; a voucher line's references never change, and a row
  trigger checks an update that would change them).

Deleting a voucher or a custody entry, or changing its key, while a line
names it is refused by ``jz_still_named`` as ``NO ACTION`` refused it, and
only under ``READ COMMITTED`` (0021 says why); the services delete drafts and
entries in ``READ COMMITTED``.  A refusal is still SQLSTATE 23503,
``juzhang: foreign key: …``.  The other references between book tables (a
reversal's voucher, a claim's voucher and entry) are written a few at a
time and stay foreign keys.  SQLite keeps all of them; the models keep
them, and ``schema.include_object`` leaves these four out of the comparison
on PostgreSQL (their names are in ``schema.PG_STATEMENT_REFERENCES``).

Revision ID: 0023
Revises: 0022
"""

from __future__ import annotations

from alembic import op

from juzhang.migrations.ref_triggers import Ref, named_triggers, statement_triggers

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

ENTRY_KEY = ("entity_id", "id", "account_code")
LINKED_ENTRY = ("entity_id", "custody_entry_id", "account_code")
VOUCHER_KEY = ("entity_id", "id")
LINKED_VOUCHER = ("entity_id", "voucher_id")

#: (referencing table, referenced table, its key, the sets of referencing columns).
REFS: tuple[Ref, ...] = (
    ("statement_line", "custody_entry", ENTRY_KEY, (LINKED_ENTRY,)),
    ("statement_line", "voucher", VOUCHER_KEY, (LINKED_VOUCHER,)),
    ("voucher_line", "voucher", VOUCHER_KEY, (LINKED_VOUCHER,)),
    ("voucher_line", "custody_entry", ENTRY_KEY, (LINKED_ENTRY,)),
)

#: The foreign keys they replace, by (table, referenced table): the naming
#: convention shortened the two longest names.
FOREIGN_KEYS = {
    (
        "statement_line",
        "custody_entry",
    ): "fk_statement_line_entity_id_custody_entry_id_account_co_2158",
    ("statement_line", "voucher"): "fk_statement_line_entity_id_voucher_id_voucher",
    ("voucher_line", "voucher"): "fk_voucher_line_entity_id_voucher_id_voucher",
    (
        "voucher_line",
        "custody_entry",
    ): "fk_voucher_line_entity_id_custody_entry_id_account_code_104e",
}

#: Acceptance and drafting link statement lines in bulk: checked by statement.
BY_STATEMENT = ("statement_line",)


def triggers() -> list[tuple[str, str, str]]:
    """(trigger name, table, CREATE TRIGGER statement) of this revision."""
    made: list[tuple[str, str, str]] = statement_triggers(REFS, BY_STATEMENT)
    named: list[tuple[str, str, str]] = named_triggers(REFS)
    return made + named


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    for table, referred, _key, _sets in REFS:
        op.drop_constraint(FOREIGN_KEYS[table, referred], table, type_="foreignkey")
    for _name, _table, ddl in triggers():
        op.execute(ddl)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    for name, table, _ddl in triggers():
        op.execute(f"DROP TRIGGER {name} ON {table}")
    for table, referred, key, sets in REFS:
        (cols,) = sets
        op.create_foreign_key(FOREIGN_KEYS[table, referred], table, referred, list(cols), list(key))
