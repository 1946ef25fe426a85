"""Bank reconciliation (银行存款余额调节表) on a worked story, on SQLite and PostgreSQL.

幸福社区 (C001) keeps its money in 10201 农商行基本户, opening balance 50,000.00.
The statement lines go in through the bank statement importer
(:func:`juzhang.statements.import_statement`), exactly as in use;
every expected figure is computed by hand in the comments.

September (the cashier's journal, the bank's statement):

=========  ===========================  =========  ===============================
 date       journal (10201)              bank       note
=========  ===========================  =========  ===============================
 09-03      +20,000.00 e1 街道拨款         S1 +20,000  linked by the importer
 09-10      −3,000.00 e2 保洁费            S2 −3,000   linked by the importer
 09-15      −1,200.00 e5 水电费            S3 −1,200 (09-16)  e5 recorded after the
                                                      import: matched by amount+date
 09-21                                  S4 −35.00   bank fee, not yet booked
 09-21                                  S5 +86.40   interest, not yet booked
 09-25      −4,800.00 e3 支票 No.123      (10-03)     outstanding cheque
 09-30      +2,500.00 e4 存入现金          (10-01)     deposit in transit
=========  ===========================  =========  ===============================

October: the cashier records the fee and the interest (10-01), writes cheque
No.124 for 500.00 (10-20, not presented by 10-31); the bank credits the
deposit (10-01), pays cheque No.123 (10-03) and takes a 12.00 SMS fee (10-25).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from juzhang import books, custody
from juzhang.cli.disclosure import render_reconciliation, write_reconciliation
from juzhang.core.voucher import Line, VoucherDraft
from juzhang.errors import NotFoundError, ValidationError
from juzhang.reports.reconciliation import (
    AccountReconciliation,
    bank_reconciliation,
    end_of_day_balance,
)
from juzhang.statements import ImportResult, import_statement, set_bank_account
from tests.conftest import World

SEP, OCT = 202609, 202610
BANK = "10201"
NUMBER = "6222000011112222"
HEADER = "交易流水号,交易日期,交易账号,对方账户名,对方账号,摘要,用途,支出金额,收入金额,余额"


def day(month: int, d: int) -> dt.date:
    return dt.date(2026, month, d)


def record(
    world: World, date: dt.date, amount: str, summary: str, account: str = BANK, party: str = ""
) -> int:
    """The cashier records one journal entry; return its id."""
    return world.run(
        custody.record_entry,
        world.entity,
        "cash",
        date,
        account,
        D(amount),
        summary,
        counterparty=party,
    )


def post(
    world: World, date: dt.date, summary: str, *lines: tuple[str, str, str, int | None]
) -> None:
    """Draft (bk), review (rv) and post (bk) one voucher of ``(account, D|C, amount, entry)``."""
    draft = VoucherDraft(
        date,
        tuple(
            Line(acc, summary, debit=D(amt), custody_entry=entry)
            if side == "D"
            else Line(acc, summary, credit=D(amt), custody_entry=entry)
            for acc, side, amt, entry in lines
        ),
        1,
    )
    ids = world.run(books.draft_vouchers, world.entity, "bk", [draft])
    world.run(books.review_vouchers, world.entity, "rv", ids)
    world.run(books.post_vouchers, world.entity, "bk", ids)


def import_lines(
    world: World, folder: Path, name: str, rows: list[tuple[str, dt.date, str, str, str, str, str]]
) -> ImportResult:
    """Write a rural-commercial-bank statement CSV and import it (bookkeeper bk).

    ``rows``: (serial, date, counterparty, summary, out, in, balance).
    """
    path = folder / name
    lines = [HEADER]
    for serial, date, party, summary, out, inflow, balance in rows:
        lines.append(
            f"{serial},{date.isoformat()},{NUMBER},{party},,{summary},,{out},{inflow},{balance}"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return world.run(import_statement, world.entity, "bk", path, account=BANK)


@pytest.fixture
def bank(world: World) -> World:
    """C001 with 10201 农商行基本户 (50,000.00), cash 3,000.00 and the bank's account number."""
    world.run(books.add_account, world.entity, BANK, "农商行基本户")
    world.run(
        books.set_opening,
        world.entity,
        "bk",
        {BANK: D("50000"), "101": D("3000"), "301": D("-53000")},
    )
    world.run(set_bank_account, world.entity, BANK, NUMBER)
    return world


@pytest.fixture
def september(bank: World, tmp_path: Path) -> dict[str, int]:
    """The September story; return the ids of the entries and statement lines."""
    w = bank
    ids: dict[str, int] = {}
    ids["e1"] = record(w, day(9, 3), "20000", "收街道拨款", party="幸福街道办")
    post(w, day(9, 3), "收街道拨款", (BANK, "D", "20000", ids["e1"]), ("503", "C", "20000", None))
    ids["e2"] = record(w, day(9, 10), "-3000", "支付保洁费", party="洁美公司")
    post(w, day(9, 10), "支付保洁费", ("513", "D", "3000", None), (BANK, "C", "3000", ids["e2"]))
    ids["e3"] = record(w, day(9, 25), "-4800", "转账支票No.123 支付维修款", party="建民维修部")
    post(w, day(9, 25), "支付维修款", ("513", "D", "4800", None), (BANK, "C", "4800", ids["e3"]))
    ids["e4"] = record(w, day(9, 30), "2500", "存入现金")
    ids["e4c"] = record(w, day(9, 30), "-2500", "存入现金", account="101")
    post(
        w, day(9, 30), "存入现金", (BANK, "D", "2500", ids["e4"]), ("101", "C", "2500", ids["e4c"])
    )
    result = import_lines(
        w,
        tmp_path,
        "sep.csv",
        [
            ("S1", day(9, 3), "幸福街道办", "转账", "", "20000.00", "70000.00"),
            ("S2", day(9, 10), "洁美公司", "转账", "3000.00", "", "67000.00"),
            ("S3", day(9, 16), "市供电公司", "代扣水电费", "1200.00", "", "65800.00"),
            ("S4", day(9, 21), "", "手续费", "35.00", "", "65765.00"),
            ("S5", day(9, 21), "", "利息", "", "86.40", "65851.40"),
        ],
    )
    assert result.new_lines == 5
    ids["e5"] = record(w, day(9, 15), "-1200", "缴纳水电费", party="市供电公司")  # no voucher yet
    return ids


def amounts(items: Any) -> list[tuple[dt.date, D]]:
    return [(i.date, i.amount) for i in items]


def sep_account(world: World, **kwargs: Any) -> AccountReconciliation:
    return world.run(bank_reconciliation, world.entity, SEP, **kwargs).account(BANK)


def test_september_outstanding_items_and_adjusted_balances(
    bank: World, september: dict[str, int]
) -> None:
    a = sep_account(bank)
    # journal: 50,000 + 20,000 − 3,000 − 1,200 − 4,800 + 2,500 = 63,500.00
    assert a.journal_balance == D("63500.00")
    # ledger: e5 has no voucher yet: 63,500 + 1,200 = 64,700.00; journal − ledger = −1,200.00
    assert a.ledger_balance == D("64700.00")
    assert a.journal_ledger_difference == D("-1200.00")
    # statement: the last line on or before 09-30 ends 09-21 at 65,851.40
    assert (a.statement_balance, a.statement_basis) == (D("65851.40"), "balance")
    assert a.statement_date == day(9, 21)
    assert amounts(a.bank_in_not_booked.items) == [(day(9, 21), D("86.40"))]  # interest
    assert "利息" in a.bank_in_not_booked.items[0].summary
    assert amounts(a.bank_out_not_booked.items) == [(day(9, 21), D("35.00"))]  # bank fee
    assert amounts(a.booked_in_not_bank.items) == [(day(9, 30), D("2500.00"))]  # in transit
    assert a.booked_in_not_bank.items[0].id == september["e4"]
    assert amounts(a.booked_out_not_bank.items) == [(day(9, 25), D("4800.00"))]  # cheque
    assert a.booked_out_not_bank.items[0].summary == "转账支票No.123 支付维修款"
    # 63,500.00 + 86.40 − 35.00 = 63,551.40 = 65,851.40 + 2,500.00 − 4,800.00
    assert a.adjusted_journal_balance == D("63551.40")
    assert a.adjusted_statement_balance == D("63551.40")
    assert a.agrees and a.difference == 0
    # S1, S2 linked by the importer; S3 ↔ e5 by amount, direction and dates (one day apart)
    assert a.linked_matches == 2
    assert [(m.custody_entry, m.statement_date, m.amount) for m in a.fallback_matches] == [
        (september["e5"], day(9, 16), D("1200.00"))
    ]


def test_october_clears_september_items_and_keeps_september_as_it_was(
    bank: World, september: dict[str, int], tmp_path: Path
) -> None:
    before = bank.run(bank_reconciliation, bank.entity, SEP).to_json()
    fee = record(bank, day(10, 1), "-35", "银行手续费")
    interest = record(bank, day(10, 1), "86.40", "利息收入")
    record(bank, day(10, 20), "-500", "转账支票No.124 绿化款", party="绿源园林")
    import_lines(
        bank,
        tmp_path,
        "oct.csv",
        [
            ("S6", day(10, 1), "", "现金存入", "", "2500.00", "68351.40"),
            ("S7", day(10, 3), "建民维修部", "支票 No.123", "4800.00", "", "63551.40"),
            ("S8", day(10, 25), "", "短信服务费", "12.00", "", "63539.40"),
        ],
    )
    a = bank.run(bank_reconciliation, bank.entity, OCT).account(BANK)
    # journal: 63,500.00 − 35.00 + 86.40 − 500.00 = 63,051.40
    assert a.journal_balance == D("63051.40")
    assert a.statement_balance == D("63539.40")
    assert amounts(a.bank_in_not_booked.items) == []
    assert amounts(a.bank_out_not_booked.items) == [(day(10, 25), D("12.00"))]
    assert amounts(a.booked_in_not_bank.items) == []
    assert amounts(a.booked_out_not_bank.items) == [(day(10, 20), D("500.00"))]
    # 63,051.40 − 12.00 = 63,039.40 = 63,539.40 − 500.00
    assert a.adjusted_journal_balance == a.adjusted_statement_balance == D("63039.40")
    assert a.linked_matches == 4  # S1, S2 and, by the October import, S6 ↔ e4, S7 ↔ e3
    assert {m.custody_entry for m in a.fallback_matches} == {september["e5"], fee, interest}
    # a later month does not change September's statement
    assert bank.run(bank_reconciliation, bank.entity, SEP).to_json() == before


def test_window_zero_leaves_the_pair_outstanding_on_both_sides(
    bank: World, september: dict[str, int]
) -> None:
    a = sep_account(bank, window_days=0)
    assert a.fallback_matches == ()
    assert (day(9, 16), D("1200.00")) in amounts(a.bank_out_not_booked.items)
    assert (day(9, 15), D("1200.00")) in amounts(a.booked_out_not_bank.items)
    # both sides move by 1,200.00: they still agree
    assert a.adjusted_journal_balance == a.adjusted_statement_balance == D("62351.40")


def test_a_disagreement_is_reported_with_the_difference(bank: World, tmp_path: Path) -> None:
    e1 = record(bank, day(9, 3), "20000", "收街道拨款")
    post(bank, day(9, 3), "收街道拨款", (BANK, "D", "20000", e1), ("503", "C", "20000", None))
    # the bank held 50,100.00 when the books started: the statement runs 100.00 higher
    import_lines(
        bank, tmp_path, "s.csv", [("S1", day(9, 3), "", "转账", "", "20000.00", "70100.00")]
    )
    rec = bank.run(bank_reconciliation, bank.entity, SEP)
    a = rec.account(BANK)
    assert a.adjusted_journal_balance == D("70000.00")
    assert a.adjusted_statement_balance == D("70100.00")
    assert not a.agrees and a.difference == D("-100.00")
    assert not rec.agrees
    data = rec.to_json()
    assert data["agrees"] is False
    assert data["accounts"][0]["difference"] == "-100.00"


def test_lines_before_the_books_start_are_in_the_opening_balance(
    bank: World, tmp_path: Path
) -> None:
    e1 = record(bank, day(9, 3), "20000", "收街道拨款")
    post(bank, day(9, 3), "收街道拨款", (BANK, "D", "20000", e1), ("503", "C", "20000", None))
    import_lines(
        bank,
        tmp_path,
        "s.csv",
        [
            ("S0", dt.date(2026, 8, 28), "", "利息", "", "100.00", "50000.00"),  # before 2026-09
            ("S1", day(9, 3), "", "转账", "", "20000.00", "70000.00"),
        ],
    )
    a = sep_account(bank)
    assert all(g.items == () for g in a.groups)  # the August interest is not outstanding
    assert a.statement_balance == a.journal_balance == D("70000.00") and a.agrees


def test_no_statement_yet(bank: World) -> None:
    record(bank, day(9, 3), "1000", "收款")
    a = sep_account(bank)
    assert not a.has_statement and a.statement_basis == "opening" and a.statement_date is None
    assert a.statement_balance == D("50000.00")
    assert amounts(a.booked_in_not_bank.items) == [(day(9, 3), D("1000.00"))]
    assert a.agrees


def test_refusals(bank: World) -> None:
    with pytest.raises(NotFoundError):
        bank.run(bank_reconciliation, bank.entity, SEP, account="101")
    with pytest.raises(NotFoundError):
        bank.run(bank_reconciliation, "NOPE", SEP)
    with pytest.raises(ValidationError):
        bank.run(bank_reconciliation, bank.entity, SEP, window_days=-1)


@pytest.mark.parametrize("newest_first", [False, True])
def test_end_of_day_balance_does_not_trust_the_file_order(newest_first: bool) -> None:
    # 100.00 → −30 → 70.00 → +50 → 120.00 → −20 → 100.00 → +5 → 105.00: ends at 105.00
    day_lines = [(-3000, 7000), (5000, 12000), (-2000, 10000), (500, 10500)]
    ordered = list(reversed(day_lines)) if newest_first else day_lines
    assert end_of_day_balance(ordered) == 10500
    # a day that comes back to where it started ends at its start
    cycle = day_lines[:3]
    assert end_of_day_balance(list(reversed(cycle)) if newest_first else cycle, 10000) == 10000


def test_end_of_day_balance_falls_back_to_the_last_line_on_a_broken_chain() -> None:
    assert end_of_day_balance([(100, 500), (100, 900)]) == 900
    with pytest.raises(ValueError):
        end_of_day_balance([])


def test_json_csv_and_xlsx_outputs(bank: World, september: dict[str, int], tmp_path: Path) -> None:
    data = json.loads(bank.run(render_reconciliation, bank.entity, SEP, "json"))
    acc = data["accounts"][0]
    assert acc["adjusted_journal_balance"] == acc["adjusted_statement_balance"] == "63551.40"
    assert acc["booked_out_not_bank"]["items"][0]["amount"] == "4800.00"
    assert acc["bank_in_not_booked"]["label"] == "银行已收、企业未收"
    path = bank.run(write_reconciliation, bank.entity, SEP, "csv", tmp_path / "r.csv")
    with path.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    sections = [r["section"] for r in rows]
    assert sections[:4] == [
        "journal_balance",
        "ledger_balance",
        "journal_ledger_difference",
        "statement_balance",
    ]
    assert sections[-1] == "difference" and rows[-1]["amount"] == "0.00"
    assert [r["amount"] for r in rows if r["section"] == "bank_out_not_booked"] == ["35.00"]
    path = bank.run(write_reconciliation, bank.entity, SEP, "xlsx", tmp_path / "r.xlsx")
    ws = load_workbook(path).worksheets[0]
    assert ws["A1"].value == "银行存款余额调节表"
    assert any(str(r).startswith("A1:") for r in ws.merged_cells.ranges)
    cells = {c.value: c for row in ws.iter_rows() for c in row if c.value is not None}
    assert "调节后余额" in cells and "加：银行已收、企业未收" in cells
    adjusted = [
        ws.cell(row=c.row, column=c.column + 2).value for c in ws["A"] if c.value == "调节后余额"
    ]
    assert adjusted == [63551.40]
    assert int(ws.page_setup.paperSize) == 9  # A4
    with pytest.raises(ValidationError):
        bank.run(write_reconciliation, bank.entity, SEP, "pdf", tmp_path / "r.pdf")
