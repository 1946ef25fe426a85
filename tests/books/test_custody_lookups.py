"""The look-ups of a custody entry by amount go through the month-and-amount index.

Migration 0025 dropped ``ix_custody_entry_amount``: matching a statement
line to the cashier's entry and linking a voucher's bank line to its entry
name the months of their window and find the amount through
``ix_custody_entry_period (entity, account, month, amount)``.  SQLite plans
without statistics, so its plan is the same on every machine: the queries
the services send are captured and explained here.  (Without the months,
or with the date index allowed, SQLite walks every entry of the window.)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event

from juzhang import books, custody
from juzhang.core.voucher import Line, VoucherDraft
from juzhang.statements.matching import match_movements
from juzhang.storage.engine import make_engine, transaction, upgrade
from tests.conftest import World, build_world


@pytest.fixture
def sqlite_world(tmp_path: Path) -> Iterator[World]:
    engine = make_engine(f"sqlite:///{tmp_path / 'lookups.db'}")
    upgrade(engine)
    yield build_world(engine)
    engine.dispose()


def _by_amount(engine: Engine, run: Any) -> list[tuple[str, Any]]:
    """Run ``run()``; return the statements it sent that look entries up by amount."""
    sent: list[tuple[str, Any]] = []

    def seen(_conn: Any, _cursor: Any, sql: str, params: Any, *_rest: Any) -> None:
        if "FROM custody_entry" in sql and "amount_fen" in sql and "IN (" in sql.upper():
            sent.append((sql, params))

    event.listen(engine, "before_cursor_execute", seen)
    try:
        run()
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    return sent


def _plans(engine: Engine, sent: list[tuple[str, Any]]) -> list[str]:
    with engine.connect() as conn:
        return [
            " / ".join(str(r[3]) for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params))
            for sql, params in sent
        ]


def test_matching_finds_the_amount_through_the_month_index(sqlite_world: World) -> None:
    world = sqlite_world
    day = dt.date(2026, 9, 30)  # the window reaches into October: two months
    world.run(custody.record_entry, "C001", "cash", day, "101", Decimal("12.00"), "收款")

    def run() -> None:
        with transaction(world.engine) as s:
            (ent_id,) = s.exec_driver_sql("SELECT id FROM entity WHERE code = 'C001'").one()
            found = match_movements(s, ent_id, "101", 10, [(1200, day, "")])
            assert found[0] is not None

    sent = _by_amount(world.engine, run)
    assert sent
    for plan in _plans(world.engine, sent):
        assert (
            "ix_custody_entry_period (entity_id=? AND account_code=? AND period=? AND amount_fen=?)"
            in plan
        ), plan


def test_a_bank_line_is_linked_through_the_month_index(sqlite_world: World) -> None:
    world = sqlite_world
    day = dt.date(2026, 9, 8)
    amount = Decimal("45.00")
    world.run(custody.record_entry, "C001", "cash", day, "101", -amount, "购墨盒")
    draft = VoucherDraft(
        day, (Line("501", "购墨盒", debit=amount), Line("101", "购墨盒", credit=amount)), 1
    )
    sent = _by_amount(world.engine, lambda: world.run(books.draft_voucher, "C001", "bk", draft))
    assert sent
    for plan in _plans(world.engine, sent):
        assert (
            "ix_custody_entry_period (entity_id=? AND account_code=? AND period=? AND amount_fen=?)"
            in plan
        ), plan
