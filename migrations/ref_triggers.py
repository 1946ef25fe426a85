"""The triggers that check references once per statement on PostgreSQL (0021, 0023).

A reference is ``(table, referenced table, its key columns, sets of
referencing columns)``.  For each, :func:`statement_triggers` gives an
``AFTER INSERT … FOR EACH STATEMENT`` trigger running ``jz_refs`` over the
statement's new rows, and an ``AFTER UPDATE`` trigger: by statement over the
old and new rows (``jz_refs``) for the tables the services update in bulk,
else a row trigger ``WHEN`` a reference changed (``jz_ref_row``).
:func:`named_triggers` gives the referenced table's ``jz_still_named`` row
triggers on delete and on a change of its key.  The functions are 0021's
(``0021_pg_reference_checks.pg.sql``).  Each revision passes its own,
frozen, list of references.
"""

from __future__ import annotations

Ref = tuple[str, str, tuple[str, ...], tuple[tuple[str, ...], ...]]


def _args(*values: str) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


def statement_triggers(
    refs: tuple[Ref, ...], by_statement: tuple[str, ...]
) -> list[tuple[str, str, str]]:
    """(trigger name, table, CREATE TRIGGER statement) of every check on a referencing table."""
    out = []
    for table, referred, key, sets in refs:
        args = _args(referred, ", ".join(key), *(", ".join(s) for s in sets))
        name = f"jz_{table}_{referred}"
        each = f"FOR EACH STATEMENT EXECUTE FUNCTION jz_refs({args})"
        out.append(
            (
                f"{name}_ins",
                table,
                f"CREATE TRIGGER {name}_ins AFTER INSERT ON {table}"
                f" REFERENCING NEW TABLE AS n {each}",
            )
        )
        if table in by_statement:
            update = f"REFERENCING OLD TABLE AS o NEW TABLE AS n {each}"
        else:
            changed = " OR ".join(
                f"OLD.{c} IS DISTINCT FROM NEW.{c}" for cols in sets for c in cols
            )
            update = f"FOR EACH ROW WHEN ({changed}) EXECUTE FUNCTION jz_ref_row({args})"
        out.append(
            (f"{name}_upd", table, f"CREATE TRIGGER {name}_upd AFTER UPDATE ON {table} {update}")
        )
    return out


def named_triggers(refs: tuple[Ref, ...]) -> list[tuple[str, str, str]]:
    """(trigger name, table, CREATE TRIGGER statement) on each referenced table."""
    users: dict[tuple[str, tuple[str, ...]], list[str]] = {}
    for table, referred, key, sets in refs:
        for cols in sets:
            users.setdefault((referred, key), []).extend((table, ", ".join(cols)))
    out = []
    for (referred, key), pairs in users.items():
        call = f"EXECUTE FUNCTION jz_still_named({_args(', '.join(key), *pairs)})"
        changed = " OR ".join(f"OLD.{k} IS DISTINCT FROM NEW.{k}" for k in key)
        name = f"jz_{referred}_named"
        out.append(
            (
                f"{name}_del",
                referred,
                f"CREATE TRIGGER {name}_del AFTER DELETE ON {referred} FOR EACH ROW {call}",
            )
        )
        out.append(
            (
                f"{name}_upd",
                referred,
                f"CREATE TRIGGER {name}_upd AFTER UPDATE ON {referred}"
                f" FOR EACH ROW WHEN ({changed}) {call}",
            )
        )
    return out
