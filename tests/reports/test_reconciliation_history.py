"""The bank reconciliation reads the month, not the history, and answers as before (issue 18).

:func:`juzhang.reports.reconciliation.bank_reconciliation` reads a month's
statement lines and journal entries, the earlier ones still open at its end,
and aggregates for the rest.  On a book of six months built from a seeded
generator — entries linked by the importer, entries recorded after the
statement (paired by the fallback), cheques presented in a later month, bank
fees never booked, entries never at the bank, repeated amounts, a day whose
lines net to zero, lines before the books start — its answer for every month
and three windows must equal, field for field, the reference that reads the
whole history (:mod:`tests.reports.reconciliation_reference`, the code before
the change).
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal as D
from pathlib import Path

import pytest

from juzhang.core.period import next_period
from juzhang.reports.reconciliation import bank_reconciliation
from tests.conftest import World
from tests.reports.reconciliation_reference import reference_reconciliation
from tests.reports.test_reconciliation import BANK, bank, import_lines, record

__all__ = ["bank"]  # the fixture, re-used

MONTHS = (202609, 202610, 202611, 202612, 202701, 202702)
BANK_OPENING_FEN = 5_000_000  # 50,000.00, as the ``bank`` fixture sets it


def _day(period: int, d: int) -> dt.date:
    return dt.date(period // 100, period % 100, d)


def _yuan(fen: int) -> str:
    return f"{abs(fen) / 100:.2f}" if fen else ""


def _build(world: World, folder: Path, seed: int) -> int:
    """Record and import six months of a busy bank account; return the lines imported."""
    rng = random.Random(seed)
    amounts = [10_000, 25_000, 120_000, 300_000, 480_000]  # repeated: the fallback must choose
    # the bank's side: (date, signed fen, serial); the journal's: per month, early and late
    lines: list[tuple[dt.date, int, str]] = [
        (dt.date(2026, 8, 28), 10_000, "P1"),  # before the books start: in the opening balance
    ]
    early: dict[int, list[tuple[dt.date, int]]] = {m: [] for m in MONTHS}
    late: dict[int, list[tuple[dt.date, int]]] = {m: [] for m in MONTHS}
    serial = 0
    for m in MONTHS:
        for _ in range(12):
            date = _day(m, rng.randint(1, 28))
            fen = rng.choice(amounts) * rng.choice((1, -1))
            kind = rng.random()
            if kind < 0.85:  # the bank moves it 0–6 days later (perhaps next month)
                serial += 1
                lines.append((date + dt.timedelta(days=rng.randint(0, 6)), fen, f"S{serial}"))
            # else: never at the bank (a cheque not presented)
            (late if rng.random() < 0.3 else early)[m].append((date, fen))
        for _ in range(2):  # bank fees and interest, never booked
            serial += 1
            fee = rng.choice((-1_200, -3_500, 864))
            lines.append((_day(m, rng.randint(1, 28)), fee, f"S{serial}"))
        serial += 2  # a day that comes back to where it started
        lines += [(_day(m, 15), 77_700, f"S{serial - 1}"), (_day(m, 15), -77_700, f"S{serial}")]
    lines.sort(key=lambda t: (t[0], t[2]))
    balance = BANK_OPENING_FEN - 10_000  # P1 ends at the opening balance
    rows: list[tuple[dt.date, int, str, int]] = []
    for date, fen, ser in lines:
        balance += fen
        rows.append((date, fen, ser, balance))
    imported = 0
    for m in (202608, *MONTHS, next_period(MONTHS[-1])):
        for date, fen in early.get(m, []):
            record(world, date, str(D(fen) / 100), f"收付 {fen}")
        mine = [r for r in rows if r[0].year * 100 + r[0].month == m]
        if mine:
            csv_rows = [
                (ser, date, "", "转账", _yuan(-fen if fen < 0 else 0), _yuan(max(fen, 0)), "")
                for date, fen, ser, _b in mine
            ]
            # balances on every line but the month's last two (movements after the anchor)
            csv_rows = [
                (*r[:6], _yuan(b) if i < len(mine) - 2 else "")
                for i, (r, (_d, _f, _s, b)) in enumerate(zip(csv_rows, mine, strict=True))
            ]
            imported += import_lines(world, folder, f"{m}.csv", csv_rows).new_lines
        for date, fen in late.get(m, []):
            record(world, date, str(D(fen) / 100), f"后记 {fen}")
    return imported


@pytest.mark.parametrize("seed", [1, 2])
def test_month_reading_answers_as_the_whole_history(bank: World, tmp_path: Path, seed: int) -> None:
    imported = _build(bank, tmp_path, seed)
    assert imported > 80
    for period in MONTHS:
        for window in (None, 0, 3):
            new = bank.run(bank_reconciliation, bank.entity, period, window_days=window)
            old = bank.run(reference_reconciliation, bank.entity, period, window_days=window)
            assert new.to_json() == old.to_json(), (period, window)
    # the book is varied enough for the comparison to mean something
    last = bank.run(bank_reconciliation, bank.entity, MONTHS[-2]).account(BANK)
    assert last.linked_matches > 20 and last.fallback_matches
    assert last.statement_basis == "balance"
    assert any(g.items for g in last.groups)
    assert any(i.date < _day(MONTHS[-2], 1) for g in last.groups for i in g.items)
