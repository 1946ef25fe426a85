"""Ledgers on a worked story: two months of a community, a reversal and a correction.

幸福社区 (C001, rural-2023) starts its books in 2026-09.  Every expected figure
below is computed by hand from the story in :func:`build_scenario` (the sums
are written out in comments), never read back from the code under test.
The JSON snapshots in ``tests/snapshots`` were written once from a run checked
against these figures; set ``JUZHANG_UPDATE_SNAPSHOTS=1`` to rewrite them.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest

from juzhang import books, custody
from juzhang.core.voucher import Line, VoucherDraft
from juzhang.errors import NotFoundError, ValidationError
from juzhang.reports.ledger import (
    bank_journal,
    cash_journal,
    custody_journal,
    direction,
    general_ledger,
    subsidiary_ledger,
)
from juzhang.reports.trial_balance import trial_balance
from tests.conftest import World

SNAPSHOTS = Path(__file__).parent.parent / "snapshots"
SEP, OCT = 202609, 202610


def check_snapshot(name: str, data: dict[str, Any]) -> None:
    """Compare ``data`` with ``tests/snapshots/<name>.json`` (rewrite it when asked to)."""
    path = SNAPSHOTS / f"{name}.json"
    text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    if os.environ.get("JUZHANG_UPDATE_SNAPSHOTS") == "1":
        SNAPSHOTS.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no snapshot {path}: run once with JUZHANG_UPDATE_SNAPSHOTS=1"
    assert json.loads(path.read_text(encoding="utf-8")) == data


def post(world: World, *drafts: VoucherDraft) -> list[int]:
    """Draft (bk), review (rv) and post (bk) vouchers; return their numbers."""
    ids = world.run(books.draft_vouchers, world.entity, "bk", list(drafts))
    world.run(books.review_vouchers, world.entity, "rv", ids)
    return world.run(books.post_vouchers, world.entity, "bk", ids)


def voucher(day: dt.date, summary: str, *lines: tuple[str, str, str, int | None]) -> VoucherDraft:
    """A draft from ``(account, "D"|"C", amount, custody entry)`` tuples."""
    return VoucherDraft(
        day,
        tuple(
            Line(acc, summary, debit=D(amt), custody_entry=entry)
            if side == "D"
            else Line(acc, summary, credit=D(amt), custody_entry=entry)
            for acc, side, amt, entry in lines
        ),
        1,
    )


def entries(world: World, *items: tuple[dt.date, str, str, str]) -> list[int]:
    """The cashier records ``(date, account, signed amount, summary)`` entries."""
    return world.run(
        custody.record_entries,
        world.entity,
        "cash",
        [custody.CustodyInput(d, acc, D(amt), summary) for d, acc, amt, summary in items],
    )


def build_scenario(world: World) -> None:
    """Two months of 幸福社区 (C001).

    Opening (2026-09): 101 现金 2,000; 102 银行存款 50,000; 11201 应收款—张三 2,000;
    151 固定资产 100,000; 152 累计折旧 20,000 贷; 21101 应付款—王五工程款 3,000 贷;
    301 资本 100,000 贷; 311 公积公益金 31,000 贷.

    September, vouchers 记-0001..0007, each backed by the cashier's entry #n:
      1  9/03 收到发包收入      D 102 12,000 / C 501 12,000   (#1)
      2  9/05 提现备用          D 101  2,000 / C 102  2,000   (#2, #3)
      3  9/10 购办公用品        D 51301  350 / C 101    350   (#4)
      4  9/15 发放干部补贴      D 51302 1,500 / C 101 1,500   (#5)
      5  9/20 收回张三欠款      D 102  1,200 / C 11201 1,200  (#6)
      6  9/25 支付王五工程款    D 21101 3,000 / C 102 3,000   (#7)
      7  9/28 收到镇政府补助    D 102  5,000 / C 503 5,000    (#8)
    and the cashier's #9 9/30 现金 −80 购茶叶, booked only in October.

    October: 记-0001 10/05 购茶叶 D 51301 80 / C 101 80 (#9); 记-0002 10/08 修路
    D 514 8,000 / C 102 8,000 (#10); 记-0003 10/12 购办公用品 D 51301 420 / C 101 420
    (#11); 记-0004 10/15 李四借款 D 11202 600 / C 101 600 (#12); 记-0005 10/20 red
    reversal of 9月 3号 (D 51301 −350 / C 101 −350); 记-0006 10/20 its correction
    D 514 350 / C 101 350 (#4 again).  The cashier's #13 10/30 现金 +200 收卫生费
    is not booked yet.
    """
    e = world.entity
    for code, name in [
        ("11201", "张三"),
        ("11202", "李四"),
        ("21101", "王五工程款"),
        ("51301", "办公费"),
        ("51302", "干部补贴"),
    ]:
        world.run(books.add_account, e, code, name)
    world.run(
        books.set_opening,
        e,
        "bk",
        {
            "101": D("2000"),
            "102": D("50000"),
            "11201": D("2000"),
            "151": D("100000"),
            "152": D("-20000"),
            "21101": D("-3000"),
            "301": D("-100000"),
            "311": D("-31000"),
        },
    )
    sep = [
        (dt.date(2026, 9, 3), "102", "12000", "收到发包收入"),
        (dt.date(2026, 9, 5), "101", "2000", "提现备用"),
        (dt.date(2026, 9, 5), "102", "-2000", "提现备用"),
        (dt.date(2026, 9, 10), "101", "-350", "购办公用品"),
        (dt.date(2026, 9, 15), "101", "-1500", "发放干部补贴"),
        (dt.date(2026, 9, 20), "102", "1200", "收回张三欠款"),
        (dt.date(2026, 9, 25), "102", "-3000", "支付王五工程款"),
        (dt.date(2026, 9, 28), "102", "5000", "收到镇政府补助"),
        (dt.date(2026, 9, 30), "101", "-80", "购茶叶"),
    ]
    assert entries(world, *sep) == list(range(1, 10))
    numbers = post(
        world,
        voucher(sep[0][0], "收到发包收入", ("102", "D", "12000", 1), ("501", "C", "12000", None)),
        voucher(sep[1][0], "提现备用", ("101", "D", "2000", 2), ("102", "C", "2000", 3)),
        voucher(sep[3][0], "购办公用品", ("51301", "D", "350", None), ("101", "C", "350", 4)),
        voucher(sep[4][0], "发放干部补贴", ("51302", "D", "1500", None), ("101", "C", "1500", 5)),
        voucher(sep[5][0], "收回张三欠款", ("102", "D", "1200", 6), ("11201", "C", "1200", None)),
        voucher(sep[6][0], "支付王五工程款", ("21101", "D", "3000", None), ("102", "C", "3000", 7)),
        voucher(sep[7][0], "收到镇政府补助", ("102", "D", "5000", 8), ("503", "C", "5000", None)),
    )
    assert numbers == [1, 2, 3, 4, 5, 6, 7]
    oct_ = [
        (dt.date(2026, 10, 8), "102", "-8000", "修路"),
        (dt.date(2026, 10, 12), "101", "-420", "购办公用品"),
        (dt.date(2026, 10, 15), "101", "-600", "李四借款"),
        (dt.date(2026, 10, 30), "101", "200", "收卫生费"),
    ]
    assert entries(world, *oct_) == [10, 11, 12, 13]
    numbers = post(
        world,
        voucher(dt.date(2026, 10, 5), "购茶叶", ("51301", "D", "80", None), ("101", "C", "80", 9)),
        voucher(oct_[0][0], "修路", ("514", "D", "8000", None), ("102", "C", "8000", 10)),
        voucher(oct_[1][0], "购办公用品", ("51301", "D", "420", None), ("101", "C", "420", 11)),
        voucher(oct_[2][0], "李四借款", ("11202", "D", "600", None), ("101", "C", "600", 12)),
    )
    assert numbers == [1, 2, 3, 4]
    red = world.run(books.reverse_voucher, e, "bk", SEP, 3, date=dt.date(2026, 10, 20))
    world.run(books.review_vouchers, e, "rv", [red])
    assert world.run(books.post_vouchers, e, "bk", [red]) == [5]
    blue = world.run(
        books.draft_correction,
        e,
        "bk",
        SEP,
        3,
        voucher(
            dt.date(2026, 10, 20), "修路用材料", ("514", "D", "350", None), ("101", "C", "350", 4)
        ),
    )
    world.run(books.review_vouchers, e, "rv", [blue])
    assert world.run(books.post_vouchers, e, "bk", [blue]) == [6]


@pytest.fixture
def scenario(world: World) -> World:
    """The world after :func:`build_scenario`."""
    build_scenario(world)
    return world


def test_direction() -> None:
    assert (direction(D("1.00")), direction(D("-0.01")), direction(D("0.00"))) == ("借", "贷", "平")


def test_trial_balance_of_the_story(scenario: World) -> None:
    tb = scenario.run(trial_balance, "C001", SEP, OCT)
    assert tb.balanced
    # 1050 + 55200 + 1400 + 100000 − 20000 − 100000 − 31000 − 12000 − 5000 + 2000 + 8350 = 0
    assert tb.row("101").closing_balance == D("1050.00")
    assert tb.row("514").closing_balance == D("8350.00")


def test_general_ledger(scenario: World) -> None:
    gl = scenario.run(general_ledger, "C001", SEP, OCT)
    codes = [a.code for a in gl.accounts]
    # accounts with an opening balance or a movement only
    assert codes == [
        "101",
        "102",
        "112",
        "151",
        "152",
        "211",
        "301",
        "311",
        "501",
        "503",
        "513",
        "514",
    ]
    cash = gl.account("101")
    assert (cash.opening_label, cash.opening_balance) == ("期初余额", D("2000.00"))
    sep, oct_ = cash.months
    # Sept: D 2000 (提现); C 350 + 1500 = 1850; 2000 + 2000 − 1850 = 2150
    assert (sep.opening_balance, sep.debit, sep.credit) == (
        D("2000.00"),
        D("2000.00"),
        D("1850.00"),
    )
    assert (sep.ytd_debit, sep.ytd_credit, sep.closing_balance) == (D("2000"), D("1850"), D("2150"))
    # Oct: C 80 + 420 + 600 − 350 (red) + 350 = 1100; 2150 − 1100 = 1050
    assert (oct_.opening_balance, oct_.debit, oct_.credit) == (D("2150"), D("0"), D("1100"))
    assert (oct_.ytd_debit, oct_.ytd_credit, oct_.closing_balance) == (
        D("2000"),
        D("2950"),
        D("1050"),
    )
    assert oct_.direction == "借"
    bank = gl.account("102").months
    # Sept D 12000 + 1200 + 5000 = 18200, C 2000 + 3000 = 5000; Oct C 8000
    assert [(m.debit, m.credit, m.closing_balance) for m in bank] == [
        (D("18200"), D("5000"), D("63200")),
        (D("0"), D("8000"), D("55200")),
    ]
    assert bank[1].ytd_credit == D("13000")
    # a parent sums its details: 112 = 11201 + 11202
    receivable = gl.account("112").months
    assert [(m.debit, m.credit, m.closing_balance) for m in receivable] == [
        (D("0"), D("1200"), D("800")),
        (D("600"), D("0"), D("1400")),
    ]
    payable = gl.account("211")
    assert payable.opening_balance == D("-3000")
    assert [(m.closing_balance, m.direction) for m in payable.months] == [
        (D("0"), "平"),
        (D("0"), "平"),
    ]
    assert [m.closing_balance for m in gl.account("501").months] == [D("-12000"), D("-12000")]
    assert gl.account("501").months[0].direction == "贷"
    # 513: Sept 350 + 1500; Oct 80 + 420 − 350 = 150
    assert [(m.debit, m.ytd_debit, m.closing_balance) for m in gl.account("513").months] == [
        (D("1850"), D("1850"), D("1850")),
        (D("150"), D("2000"), D("2000")),
    ]
    # 514: 8000 + 350 in October
    assert gl.account("514").months[1].debit == D("8350")
    assert gl.account("514").opening_balance == D("0")
    check_snapshot("general_ledger", gl.to_json())


def test_general_ledger_include_empty_and_single_month(scenario: World) -> None:
    gl = scenario.run(general_ledger, "C001", OCT, include_empty=True)
    assert len(gl.accounts) == 42  # every first-level account of rural-2023
    assert gl.period_label == "2026-10"
    assert gl.account("101").opening_balance == D("2150.00")
    assert gl.account("101").months[0].ytd_credit == D("2950.00")
    assert gl.account("131").months[0].closing_balance == D("0.00")


def _rows(ledger: Any) -> list[tuple[str, str | None, str, D | None, D | None, str, D]]:
    return [
        (r.kind, r.voucher, r.summary, r.debit, r.credit, r.direction, r.balance)
        for r in ledger.rows
    ]


def test_subsidiary_ledger_of_a_parent(scenario: World) -> None:
    ledger = scenario.run(subsidiary_ledger, "C001", "513", SEP, OCT)
    assert (ledger.code, ledger.name, ledger.level) == ("513", "管理费用", 1)
    red = "注销 9月10日 3号凭证"
    assert _rows(ledger) == [
        ("opening", None, "期初余额", None, None, "平", D("0")),
        ("line", "记-0003", "购办公用品", D("350"), None, "借", D("350")),
        ("line", "记-0004", "发放干部补贴", D("1500"), None, "借", D("1850")),
        ("month_total", None, "本月合计", D("1850"), D("0"), "借", D("1850")),
        ("year_total", None, "本年累计", D("1850"), D("0"), "借", D("1850")),
        ("line", "记-0001", "购茶叶", D("80"), None, "借", D("1930")),
        ("line", "记-0003", "购办公用品", D("420"), None, "借", D("2350")),
        ("line", "记-0005", red, D("-350"), None, "借", D("2000")),
        ("month_total", None, "本月合计", D("150"), D("0"), "借", D("2000")),
        ("year_total", None, "本年累计", D("2000"), D("0"), "借", D("2000")),
    ]
    lines = ledger.lines()
    assert [r.account for r in lines] == ["51301", "51302", "51301", "51301", "51301"]
    assert [r.date for r in lines][:2] == [dt.date(2026, 9, 10), dt.date(2026, 9, 15)]
    # the lines of each month add up to the running balances' month total
    for period, total in ledger.totals().items():
        month = [r for r in lines if r.period == period]
        assert sum((r.debit or D(0) for r in month), D(0)) == total.debit
    check_snapshot("subsidiary_ledger_513", ledger.to_json())


def test_subsidiary_ledger_of_cash(scenario: World) -> None:
    ledger = scenario.run(subsidiary_ledger, "C001", "101", SEP, OCT)
    assert _rows(ledger) == [
        ("opening", None, "期初余额", None, None, "借", D("2000")),
        ("line", "记-0002", "提现备用", D("2000"), None, "借", D("4000")),
        ("line", "记-0003", "购办公用品", None, D("350"), "借", D("3650")),
        ("line", "记-0004", "发放干部补贴", None, D("1500"), "借", D("2150")),
        ("month_total", None, "本月合计", D("2000"), D("1850"), "借", D("2150")),
        ("year_total", None, "本年累计", D("2000"), D("1850"), "借", D("2150")),
        ("line", "记-0001", "购茶叶", None, D("80"), "借", D("2070")),
        ("line", "记-0003", "购办公用品", None, D("420"), "借", D("1650")),
        ("line", "记-0004", "李四借款", None, D("600"), "借", D("1050")),
        ("line", "记-0005", "注销 9月10日 3号凭证", None, D("-350"), "借", D("1400")),
        ("line", "记-0006", "订正 9月10日 3号凭证 修路用材料", None, D("350"), "借", D("1050")),
        ("month_total", None, "本月合计", D("0"), D("1100"), "借", D("1050")),
        ("year_total", None, "本年累计", D("2000"), D("2950"), "借", D("1050")),
    ]
    check_snapshot("subsidiary_ledger_101", ledger.to_json())


def test_subsidiary_ledger_of_a_detail_account_and_one_month(scenario: World) -> None:
    ledger = scenario.run(subsidiary_ledger, "C001", "51301", OCT)
    # opening 350 (September); 80 + 420 − 350 = 150 in October; YTD 350 + 150
    assert ledger.opening_balance == D("350")
    assert ledger.closing_balance == D("500")
    assert ledger.totals("year_total")[OCT].debit == D("500")
    assert [r.balance for r in ledger.lines()] == [D("430"), D("850"), D("500")]


def test_subsidiary_ledger_across_the_year_end(scenario: World) -> None:
    ledger = scenario.run(subsidiary_ledger, "C001", "101", OCT, 202701)
    jan = [r for r in ledger.rows if r.period == 202701]
    assert [(r.kind, r.summary, r.debit, r.credit, r.balance) for r in jan] == [
        ("opening", "上年结转", None, None, D("1050")),
        ("month_total", "本月合计", D("0"), D("0"), D("1050")),
        ("year_total", "本年累计", D("0"), D("0"), D("1050")),  # 本年累计 starts again
    ]
    dec = ledger.totals("year_total")[202612]
    assert (dec.debit, dec.credit) == (D("2000"), D("2950"))
    gl = scenario.run(general_ledger, "C001", 202701)
    assert gl.account("101").opening_label == "上年结转"
    assert gl.account("101").months[0].ytd_credit == D("0")


def test_subsidiary_ledger_refuses(scenario: World) -> None:
    with pytest.raises(NotFoundError):
        scenario.run(subsidiary_ledger, "C001", "999", SEP)
    with pytest.raises(ValidationError):
        scenario.run(subsidiary_ledger, "C001", "101", OCT, SEP)
    with pytest.raises(NotFoundError):
        scenario.run(general_ledger, "NOPE", SEP)


def test_cash_journal_beside_the_ledger(scenario: World) -> None:
    journal = scenario.run(cash_journal, "C001", SEP, OCT)
    assert (journal.title, journal.kind) == ("现金日记账", "cash")
    (cash,) = journal.accounts
    assert cash.opening_balance == D("2000")
    assert [(e.id, e.receipt, e.payment, e.balance, e.backed) for e in cash.entries] == [
        (2, D("2000"), None, D("4000"), True),
        (4, None, D("350"), D("3650"), True),
        (5, None, D("1500"), D("2150"), True),
        (9, None, D("80"), D("2070"), True),
        (11, None, D("420"), D("1650"), True),
        (12, None, D("600"), D("1050"), True),
        (13, D("200"), None, D("1250"), False),
    ]
    by_id = {e.id: e for e in cash.entries}
    # #4 is named by the original, its red reversal and the correction
    assert [(v.period, v.voucher) for v in by_id[4].vouchers] == [
        (SEP, "记-0003"),
        (OCT, "记-0005"),
        (OCT, "记-0006"),
    ]
    assert [(v.period, v.voucher) for v in by_id[9].vouchers] == [(OCT, "记-0001")]
    assert by_id[13].vouchers == ()
    sep, oct_ = cash.months
    # Sept journal: +2000, −350 −1500 −80 → 2070; ledger 2150 (tea booked in Oct)
    assert (sep.receipts, sep.payments, sep.closing_balance) == (D("2000"), D("1930"), D("2070"))
    assert (sep.ledger_debit, sep.ledger_credit, sep.ledger_closing_balance) == (
        D("2000"),
        D("1850"),
        D("2150"),
    )
    assert sep.difference == D("-80")
    # Oct journal: +200, −420 −600 → 1250; ledger 1050; YTD in 2200, out 2950
    assert (oct_.opening_balance, oct_.closing_balance) == (D("2070"), D("1250"))
    assert (oct_.ytd_receipts, oct_.ytd_payments) == (D("2200"), D("2950"))
    assert (oct_.ledger_opening_balance, oct_.ledger_closing_balance) == (D("2150"), D("1050"))
    assert oct_.difference == D("200")
    assert not cash.agrees
    assert [(u.id, u.amount, u.backed_amount) for u in cash.unbacked] == [(13, D("200"), D("0"))]
    check_snapshot("cash_journal", journal.to_json())


def test_bank_journal_agrees(scenario: World) -> None:
    journal = scenario.run(bank_journal, "C001", SEP, OCT)
    (bank,) = journal.accounts
    assert journal.title == "银行日记账"
    assert [e.balance for e in bank.entries] == [
        D("62000"),
        D("60000"),
        D("61200"),
        D("58200"),
        D("63200"),
        D("55200"),
    ]
    assert [(m.receipts, m.payments, m.closing_balance, m.difference) for m in bank.months] == [
        (D("18200"), D("5000"), D("63200"), D("0")),
        (D("0"), D("8000"), D("55200"), D("0")),
    ]
    assert bank.agrees and bank.unbacked == ()
    # October alone starts from September's journal balance
    oct_only = scenario.run(bank_journal, "C001", OCT).account("102")
    assert oct_only.opening_balance == D("63200")
    assert oct_only.months[0].ytd_receipts == D("18200")
    check_snapshot("bank_journal", journal.to_json())


def test_journal_lists_earlier_unbacked_entries(scenario: World) -> None:
    # November alone: #13 of October is still not booked and is listed
    (cash,) = scenario.run(cash_journal, "C001", 202611).accounts
    assert cash.entries == ()
    assert cash.opening_balance == D("1250")
    assert [u.id for u in cash.unbacked] == [13]
    assert cash.months[0].difference == D("200")
    with pytest.raises(ValidationError):
        scenario.run(custody_journal, "C001", "gold", SEP)
