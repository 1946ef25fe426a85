"""PostgreSQL's table statistics, kept fresh while bulk steps grow the tables (统计信息).

PostgreSQL plans a query from the sizes and value spreads ``ANALYZE`` last
recorded, and caches the plans of foreign-key checks, trigger functions and
prepared statements for the session.  A table filled since its last
``ANALYZE`` (autovacuum is off on many appliance installs, and it never runs
inside a long transaction) is planned as if it were still small: the check
from a voucher line to its custody entry went through the amount index and
read every entry of the account for each line (see ``docs/performance.md``).

:class:`Statistics` is what a bulk step (accepting a statement, drafting,
reviewing, posting) uses: at its start it analyses the tables it reads and
fills whose live rows have outgrown what the statistics say (a step before
it, in another process, filled them), and as it writes it analyses them again
each time its own rows exceed what they held when last analysed
(:data:`GROWTH`).  ``ANALYZE`` sees the transaction's own rows and makes
PostgreSQL plan again.  SQLite plans without statistics: nothing happens there.

An ``ANALYZE`` costs what it samples, up to 30,000 rows a table, and it is
paid inside a command someone waits for.  So it is kept to what plans are
made from (:func:`analyze`): only the columns that an index, a key or a
foreign key holds (the planner chooses an index from those; the text columns
of a summary or an audit detail cost most to analyse and decide nothing),
and, as a step grows, only the tables it has written since their last
``ANALYZE``.  ``audit_log`` is not among them: its only index is its primary
key, nothing refers to it, and the one read a step makes of it (the last
``seq`` of a community) goes through that key whatever the statistics say.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from sqlalchemy import (
    Connection,
    ForeignKeyConstraint,
    PrimaryKeyConstraint,
    Table,
    UniqueConstraint,
    text,
)

from juzhang.storage.engine import is_sqlite
from juzhang.storage.schema import TABLES

GROWTH = 1.0
"""Analyse again once rows written since the last ``ANALYZE`` exceed this share of the table."""

FLOOR = 500
"""Tables smaller than this are planned well enough whatever the statistics say."""

FLOOR_PAGES = 8
"""The same floor on disk: 64 KiB, 500-700 vouchers, voucher lines or custody entries."""

BOOK_TABLES = (
    "voucher",
    "voucher_line",
    "custody_entry",
    "statement_line",
    "account_balance",
)
"""The tables the bulk steps fill and whose plans go wrong without statistics."""

CHART = "account"
"""The chart, which every step reads and none fills: analysed at a step's start whenever it
has grown since its last ``ANALYZE``, however small.  Never analysed, it had the posting
check look a line's account up through ``ix_account_parent`` by community alone, reading
the whole chart for each line (about 50 index tuples a line)."""


_KEYS = (PrimaryKeyConstraint, UniqueConstraint, ForeignKeyConstraint)


def planned_columns(table: Table) -> tuple[str, ...]:
    """Return the columns of ``table`` held by an index, a primary or unique key or a foreign key.

    The planner picks an index and estimates a key's rows from these; a
    foreign-key check is a lookup on the key it refers to.
    """
    held: set[str] = set()
    for index in table.indexes:
        held.update(c.name for c in index.columns)
    for constraint in table.constraints:
        if isinstance(constraint, _KEYS):
            held.update(c.name for c in constraint.columns)
    return tuple(c.name for c in table.columns if c.name in held)


def analyze(session: Connection, tables: Sequence[str]) -> None:
    """``ANALYZE`` ``tables`` (PostgreSQL), each on its :func:`planned_columns` only.

    The other columns keep the statistics they had; the table's size
    (``pg_class.reltuples``), which every plan reads, is updated as by a
    plain ``ANALYZE``.
    """
    if tables:
        session.execute(text("ANALYZE " + ", ".join(_analyzed(t) for t in tables)))


@functools.cache
def _analyzed(name: str) -> str:
    """``name (column, …)`` over its :func:`planned_columns`, made once per table."""
    return f"{name} ({', '.join(planned_columns(TABLES[name]))})"


class Statistics:
    """Keep the statistics of ``tables`` fresh during one bulk step (PostgreSQL only).

    ``grows`` names the table the step fills (``custody_entry`` when the
    cashier accepts a statement, ``voucher`` when drafting or posting): the
    step's rows are counted against its size, so a table filled from empty
    is analysed at 2,000 rows, 4,000, 8,000 … and its checks never run on
    plans made for an empty table.
    """

    def __init__(
        self, session: Connection, grows: str = "voucher", tables: Sequence[str] = BOOK_TABLES
    ) -> None:
        self.session = session
        self.grows = grows  # the table the step fills: its growth paces the analyses
        self.tables = tuple(tables)
        self.active = not is_sqlite(session)
        self.known = 0  # rows of ``grows`` when last analysed
        self.written = 0  # rows written since
        if self.active:
            self._start()

    def _start(self) -> None:
        """Analyse the tables that have doubled since their last ``ANALYZE``, and the chart.

        The chart (:data:`CHART`) is analysed whenever it has grown at all.

        Two measures, because either alone can miss:

        * the live rows the statistics collector counts (``n_live_tup``).  A
          backend reports its counts at most once a second and never those
          of its open transaction, so one that runs many short steps in a
          row sees its own last ones late: the posting benchmark's
          voucher-line checks ran on the empty table's plan for up to ten
          steps, millions of index tuples read;
        * the table's pages on disk against the pages its last ``ANALYZE``
          recorded: current, uncommitted rows included, and rows updated
          count too, as their new versions do.
        """
        sizes = self._sizes([*self.tables, CHART])
        stale = [
            name
            for name, planned, live, analysed_pages, pages in sizes
            if (live >= FLOOR and live > planned * (1 + GROWTH))
            or (pages >= FLOOR_PAGES and pages > analysed_pages * (1 + GROWTH))
            or (name == CHART and pages > analysed_pages)
        ]
        self.known = max((max(p, lv) for n, p, lv, _a, _pg in sizes if n == self.grows), default=0)
        if stale:
            analyze(self.session, stale)

    def grew(self, rows: int) -> None:
        """Count ``rows`` written; analyse when they exceed the share :data:`GROWTH` allows."""
        if not self.active:
            return
        self.written += rows
        if self.written >= FLOOR and self.written > self.known * GROWTH:
            self.known += self.written
            self.written = 0
            analyze(self.session, self._written())

    def _written(self) -> list[str]:
        """Return the tables that have grown on disk since their last ``ANALYZE``.

        ``ANALYZE`` records a table's pages (``relpages``); every row a step
        inserts or updates is a new row version, so the tables it wrote are
        the ones larger now, its own uncommitted rows included.  A table it
        only read keeps statistics that still hold.
        """
        return [
            name for name, _p, _l, analysed, pages in self._sizes(self.tables) if pages > analysed
        ]

    def _sizes(self, names: Sequence[str]) -> list[tuple[str, int, int, int, int]]:
        """Each table's rows and pages at its last ``ANALYZE``, live rows, and pages on disk now.

        ``(name, planned rows, live rows, analysed pages, pages)``; the pages on
        disk include the transaction's own rows.
        """
        rows = self.session.execute(
            text(
                # pg_stat_get_live_tuples is pg_stat_user_tables.n_live_tup
                # without the view, which reads every table's counters (1-4
                # ms, against 0.2-0.7 ms for this query, in each step)
                "SELECT c.relname, greatest(c.reltuples, 0)::bigint,"
                " pg_catalog.pg_stat_get_live_tuples(c.oid), c.relpages::bigint,"
                " pg_catalog.pg_relation_size(c.oid)"
                " / current_setting('block_size')::bigint"
                " FROM pg_catalog.pg_class c"
                " WHERE c.oid = ANY(CAST(:names AS pg_catalog.regclass[]))"
            ),
            {"names": list(names)},
        )
        return [(str(n), int(p), int(lv), int(a), int(pg)) for n, p, lv, a, pg in rows]
