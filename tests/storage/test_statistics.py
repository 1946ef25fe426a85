"""PostgreSQL's statistics in the bulk steps (``storage.statistics``): what is analysed, on what.

A bulk step analyses as it grows the tables; each ``ANALYZE`` is paid inside
a command someone waits for, so it covers only the tables the step wrote and
only the columns plans are made from.  What must not be lost: the checks
still find their rows by the key (issue 18).  PostgreSQL only: SQLite plans
without statistics.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal as D
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, event, text

from juzhang import books, custody
from juzhang.core.voucher import Line, VoucherDraft
from juzhang.custody import CustodyInput
from juzhang.storage.engine import transaction
from juzhang.storage.schema import TABLES
from juzhang.storage.statistics import (
    BOOK_TABLES,
    CHART,
    FLOOR,
    Statistics,
    analyze,
    planned_columns,
)
from tests.conftest import PG_ONLY, World, postgresql_only

pytestmark = pytest.mark.pg
db_url = pytest.fixture(name="db_url", params=PG_ONLY)(postgresql_only)


@contextmanager
def analyses() -> Iterator[list[str]]:
    """Collect the ``ANALYZE`` statements every engine sends while the block runs."""
    seen: list[str] = []

    def on(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("ANALYZE"):
            seen.append(statement)

    event.listen(Engine, "before_cursor_execute", on)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", on)


def _entries(n: int) -> list[CustodyInput]:
    return [
        CustodyInput(dt.date(2026, 9, 1 + i % 28), "101", D(i % 7 + 1), f"收款 {i}")
        for i in range(n)
    ]


def _drafts(n: int) -> list[VoucherDraft]:
    return [
        VoucherDraft(
            dt.date(2026, 9, 1 + i % 28),
            (Line("112", f"应收 {i}", debit=D(i + 1)), Line("501", f"应收 {i}", credit=D(i + 1))),
        )
        for i in range(n)
    ]


def _reltuples(s: Connection, table: str) -> float:
    return float(
        s.execute(
            text("SELECT reltuples FROM pg_class WHERE oid = CAST(:t AS regclass)"), {"t": table}
        ).scalar_one()
    )


def test_the_planned_columns_are_the_keys_and_the_indexed_ones() -> None:
    line = planned_columns(TABLES["statement_line"])
    assert {"entity_id", "id", "custody_entry_id", "voucher_id", "txn_date"} <= set(line)
    assert not {"summary", "counterparty", "remark"} & set(line)
    assert "status" in planned_columns(TABLES["voucher"])  # ix_voucher_status
    assert "amount_fen" in planned_columns(TABLES["custody_entry"])  # ix_custody_entry_period
    assert "audit_log" not in BOOK_TABLES


def test_a_growing_step_analyses_the_tables_it_wrote_and_no_other(world: World) -> None:
    world.run(books.draft_vouchers, "C001", "bk", _drafts(FLOOR))
    with transaction(world.engine) as s:
        analyze(s, [*BOOK_TABLES, CHART])  # every table's statistics hold now
    n = 2 * FLOOR
    with transaction(world.engine) as s, analyses() as seen:
        stats = Statistics(s, grows="custody_entry")
        assert seen == []  # nothing had outgrown its statistics
        custody.record_entries(s, "C001", "cash", _entries(n))
        stats.grew(n)
        written = _reltuples(s, "custody_entry")
    columns = ", ".join(planned_columns(TABLES["custody_entry"]))
    # the vouchers' tables were not written since their ANALYZE: not analysed again
    assert seen == [f"ANALYZE custody_entry ({columns})"]
    assert written == n  # the transaction's own rows, seen by the ANALYZE


def test_the_custody_check_keeps_to_its_key_on_planned_columns_statistics(world: World) -> None:
    """The foreign-key check from a voucher line to its custody entry (issue 18).

    Without statistics PostgreSQL took ``ix_custody_entry_amount`` (dropped
    since, migration 0025) and read every entry of the account for each
    line; the key columns' statistics are what make it take the unique key,
    not an index that starts with the account.
    """
    world.run(custody.record_entries, "C001", "cash", _entries(4 * FLOOR))
    with transaction(world.engine) as s:
        analyze(s, ["custody_entry"])
        s.execute(text("SET LOCAL plan_cache_mode = force_generic_plan"))
        s.execute(
            text(
                "PREPARE jz_check (integer, integer, varchar) AS SELECT 1 FROM ONLY custody_entry"
                " WHERE entity_id = $1 AND id = $2 AND account_code = $3 FOR KEY SHARE"
            )
        )
        plan = s.execute(text("EXPLAIN (FORMAT JSON) EXECUTE jz_check (1, 1, '101')")).scalar()
        s.execute(text("DEALLOCATE jz_check"))
    found = json.dumps(plan if not isinstance(plan, str) else json.loads(plan))
    assert '"Index Name": "ix_custody_entry' not in found
    assert '"Index Name": "uq_custody_entry' in found or '"Index Name": "pk_custody_entry' in found


def test_a_step_analyses_at_its_start_a_table_doubled_on_disk(world: World) -> None:
    """Rows the statistics collector has not counted yet still make a table stale.

    A backend reports its counts at most once a second, and never the rows of
    the transaction it is in: here the entries are written in the step's own
    transaction, so only their pages show them.
    """
    world.run(custody.record_entries, "C001", "cash", _entries(FLOOR))
    with transaction(world.engine) as s:
        analyze(s, ["custody_entry", CHART])
    with transaction(world.engine) as s, analyses() as seen:
        custody.record_entries(s, "C001", "cash", _entries(3 * FLOOR))
        Statistics(s, grows="voucher")
        counted = _reltuples(s, "custody_entry")
    columns = ", ".join(planned_columns(TABLES["custody_entry"]))
    assert seen == [f"ANALYZE custody_entry ({columns})"]
    assert counted == 4 * FLOOR


def test_the_chart_is_analysed_once_it_has_grown_however_small(world: World) -> None:
    """Unanalysed, the posting check found a line's account through ``ix_account_parent``.

    By community alone, then filtering on the code: the whole chart read for
    each line.  The chart is far under :data:`FLOOR`, and is analysed anyway.
    """
    with transaction(world.engine) as s, analyses() as seen:
        Statistics(s)
    columns = ", ".join(planned_columns(TABLES["account"]))
    assert seen == [f"ANALYZE account ({columns})"]
    with transaction(world.engine) as s, analyses() as again:
        Statistics(s)
    assert again == []  # not grown since
