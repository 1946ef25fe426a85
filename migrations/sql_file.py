"""SQL kept beside a revision, in ``.sql`` files (迁移脚本旁的 SQL 文件).

A revision whose triggers or functions are long keeps their SQL in files
named after it, one per dialect (django-hordak's habit)::

    versions/0007_pg_statement_checks.py
    versions/0007_pg_statement_checks.pg.sql        # what upgrade() runs
    versions/0006_pg_trigger_plans.downgrade.pg.sql # what downgrade() puts back

Statements are separated by a line of six dashes (``------``).  Comment lines
(``--``) and blank lines before a statement describe it and are not sent; the
rest is sent to the database exactly as written, so a revision that moves its
SQL into a file runs the same statements byte for byte.  The files ship as
package data; the revision reads them when Alembic loads it.
"""

from __future__ import annotations

from pathlib import Path

SEPARATOR = "------"


def read_statements(revision_file: str | Path, name: str) -> list[str]:
    """Return the statements of ``<revision>.<name>.sql`` beside ``revision_file``.

    ``revision_file`` is the revision's ``__file__``; ``name`` is the dialect
    (``"sqlite"``, ``"pg"``), optionally after a part (``"downgrade.pg"``).
    Raises :class:`FileNotFoundError` if the file is missing and
    :class:`ValueError` if it holds an empty statement.
    """
    path = Path(revision_file)
    sql = path.with_name(f"{path.stem}.{name}.sql").read_text(encoding="utf-8")
    chunks: list[list[str]] = [[]]
    for line in sql.split("\n"):
        if line == SEPARATOR:
            chunks.append([])
        elif chunks[-1] or (line.strip() and not line.startswith("--")):
            chunks[-1].append(line)
    statements = ["\n".join(chunk).rstrip("\n") for chunk in chunks]
    if any(not s.strip() for s in statements):
        raise ValueError(f"{path.stem}.{name}.sql: an empty statement")
    return statements


def replaced_function(revision_file: str | Path, function: str) -> str:
    """Return ``function``'s ``CREATE FUNCTION`` from the revision's ``.pg.sql`` as
    ``CREATE OR REPLACE FUNCTION``: what a later revision's downgrade puts back.

    ``function`` is its name with its arguments (``"jz_line_inserted()"``).
    Raises :class:`ValueError` unless the file creates it exactly once.
    """
    (create,) = [
        s
        for s in read_statements(revision_file, "pg")
        if s.startswith(f"CREATE FUNCTION {function}")
    ]
    return create.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1)


def pinned(function: str) -> str:
    """Return the statement that gives ``function`` (``"jz_line_inserted()"``) back the
    settings ``CREATE OR REPLACE`` drops: 0018's ``SECURITY DEFINER`` and 0008's search
    path pinned to the schema it runs in."""
    return (
        "DO $do$\nBEGIN\n"
        f"  EXECUTE pg_catalog.format('ALTER FUNCTION {function} SECURITY DEFINER'\n"
        "    ' SET search_path = pg_catalog, %I, pg_temp', pg_catalog.current_schema());\n"
        "END $do$"
    )
