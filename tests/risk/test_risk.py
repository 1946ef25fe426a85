"""The risk signals (廉政风险提示), each check told as a scenario that fires and one that does not.

Community C001 (rural-2023, from 2026-09) opens with 101 库存现金 500.00 and
102 银行存款 10,000.00; every scenario then records the cashier's entries and
posts their vouchers (or imports a claim batch), and runs one check on its
own (``check_x(ctx)``) with the default thresholds unless it says otherwise:
cash-settlement limit 1,000, approval threshold 1,000 within 7 days, cash
limit 5,000 for more than 3 days, deposits within 3 days, 白条 above 200.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest

from juzhang import books, custody
from juzhang.budget import BudgetInput, set_budget
from juzhang.claims import draft_claims, import_claims
from juzhang.core.voucher import Line, VoucherDraft
from juzhang.errors import ProblemsError, SegregationOfDutiesError
from juzhang.risk import (
    RISK_CHECKS,
    RiskCheck,
    RiskSignal,
    check_cadre_pay,
    check_cash_on_hand,
    check_cash_payments,
    check_duplicate_invoices,
    check_no_invoice,
    check_round_sums,
    check_split_claims,
    check_undeposited,
    invoice_numbers,
    make_risk_context,
    risk_report,
)
from juzhang.risk_config import (
    RiskSettings,
    load_risk_settings,
    parse_risk_settings,
    risk_settings_toml,
    set_risk_settings,
    stored_risk_settings,
)
from tests.claims.test_claims import Item, fill
from tests.closing.test_closing import setup_books
from tests.conftest import World

SEP, OCT, NOV = 202609, 202610, 202611
TWO = "王主任、刘书记"  # two approvers: the default rules ask for them from 300 元


def sep(d: int) -> dt.date:
    return dt.date(2026, 9, d)


def _side(value: D, *, debit: bool) -> dict[str, D]:
    return {"debit": abs(value)} if debit else {"credit": abs(value)}


def move(
    w: World,
    date: dt.date,
    amount: str,
    other: str,
    summary: str,
    *,
    account: str = "101",
    counterparty: str = "",
    reference: str = "",
    attachments: int = 1,
) -> int:
    """The cashier records one movement; the agency posts its voucher. Return the entry id."""
    value = D(amount)
    entry = custody.CustodyInput(date, account, value, summary, counterparty, reference)
    (eid,) = w.run(custody.record_entries, w.entity, "cash", [entry])
    lines = (
        Line(account, summary, custody_entry=eid, **_side(value, debit=value > 0)),
        Line(other, summary, **_side(value, debit=value < 0)),
    )
    draft = VoucherDraft(date, lines, attachments)
    w.run(books.post_bulk, w.entity, [draft], preparer="bk", reviewer="rv", poster="bk")
    return eid


def deposit(w: World, date: dt.date, amount: str) -> int:
    """Cash taken to the bank (存现): Dr 102 / Cr 101, both sides backed. Return the cash entry."""
    value = D(amount)
    cash, bank = w.run(
        custody.record_entries,
        w.entity,
        "cash",
        [
            custody.CustodyInput(date, "101", -value, "现金存入银行"),
            custody.CustodyInput(date, "102", value, "现金存入银行"),
        ],
    )
    lines = (
        Line("102", "现金存入银行", custody_entry=bank, debit=value),
        Line("101", "现金存入银行", custody_entry=cash, credit=value),
    )
    w.run(
        books.post_bulk,
        w.entity,
        [VoucherDraft(date, lines, 1)],
        preparer="bk",
        reviewer="rv",
        poster="bk",
    )
    return cash


def run(w: World, check: RiskCheck, period: int = SEP, **settings: Any) -> list[RiskSignal]:
    """Run one check on its own, with the default thresholds changed by ``settings``."""

    def go(session: Any) -> list[RiskSignal]:
        return check(make_risk_context(session, w.entity, period, RiskSettings(**settings)))

    return w.run(go)


def claims(w: World, tmp_path: Path, name: str, items: Sequence[Item]) -> list[int]:
    """The cashier imports a claim batch; the agency drafts, reviews and posts its vouchers."""
    result = w.run(import_claims, w.entity, "cash", fill(tmp_path / name, items))
    assert not result.returned, result.returned
    ids = w.run(draft_claims, w.entity, "bk")
    w.run(books.review_vouchers, w.entity, "rv", ids)
    w.run(books.post_vouchers, w.entity, "bk", ids)
    return [c.id for c in result.pending]


@pytest.fixture
def w(world: World) -> World:
    """C001 with 51301 办公费, 51303 干部补贴 and its opening balances (101: 500, 102: 10,000)."""
    setup_books(world)
    world.run(books.add_account, world.entity, "51303", "干部补贴")
    return world


# --------------------------------------------------------------------------- invoices, claims


def test_an_invoice_claimed_again_in_another_batch_and_month(w: World, tmp_path: Path) -> None:
    first = claims(w, tmp_path, "9月.xlsx", [Item(sep(2), "购买打印纸", D("286.00"), "51301",
                   "现金", invoice="04400190011100001234")])  # fmt: skip
    other = claims(w, tmp_path, "9月b.xlsx", [Item(sep(9), "购买墨盒", D("120.00"), "51301",
                   "现金", invoice="04400190011100005678")])  # fmt: skip
    assert run(w, check_duplicate_invoices) == []  # different numbers: nothing
    again = claims(w, tmp_path, "10月.xlsx", [Item(dt.date(2026, 10, 3), "购买打印纸（补）",
                   D("286.00"), "51301", "现金", invoice=" 044001900111 00001234")])  # fmt: skip
    assert run(w, check_duplicate_invoices, SEP) == []  # reported in the month it repeats
    (signal,) = run(w, check_duplicate_invoices, OCT)
    assert signal.claims == (first[0], again[0]) and other[0] not in signal.claims
    assert signal.amount == D("572.00") and signal.date == dt.date(2026, 10, 3)
    assert "04400190011100001234" in signal.message and "claimed 2 times" in signal.message
    assert len(signal.vouchers) == 2 and signal.vouchers[0].startswith("2026-09 记-")
    assert invoice_numbers("a1, b2、c3；d4") == ["A1", "B2", "C3", "D4"]


def test_claims_split_under_the_approval_threshold(w: World, tmp_path: Path) -> None:
    split = claims(w, tmp_path, "a.xlsx", [
        Item(sep(3), "购买办公桌椅", D("400.00"), "51301", "银行", handler="陈采购", approver=TWO),
        Item(sep(5), "购买办公桌椅", D("400.00"), "51301", "银行", handler="陈采购", approver=TWO),
        Item(sep(8), "购买办公桌椅", D("400.00"), "51301", "银行", handler="陈采购", approver=TWO),
    ])  # fmt: skip
    (signal,) = run(w, check_split_claims)
    assert signal.claims == tuple(split) and signal.amount == D("1200.00")
    assert "陈采购" in signal.message and "approval threshold" in signal.message
    assert len(signal.vouchers) == 3


def test_claims_apart_or_below_the_threshold_are_not_split(w: World, tmp_path: Path) -> None:
    claims(w, tmp_path, "b.xlsx", [
        Item(sep(3), "购买办公桌椅", D("400.00"), "51301", "银行", handler="陈采购", approver=TWO),
        Item(sep(20), "购买办公桌椅", D("400.00"), "51301", "银行", handler="陈采购", approver=TWO),
        Item(sep(21), "购买茶叶", D("300.00"), "51301", "银行", handler="林后勤", approver=TWO),
        Item(sep(22), "购买纸杯", D("300.00"), "51301", "银行", handler="林后勤", approver=TWO),
    ])  # fmt: skip
    assert run(w, check_split_claims) == []  # 9-3 and 9-20 too far apart; 600 under 1,000
    (signal,) = run(w, check_split_claims, approval_threshold="500.00")
    assert signal.amount == D("600.00") and "林后勤" in signal.message


def test_expenses_without_an_invoice(w: World, tmp_path: Path) -> None:
    ids = claims(w, tmp_path, "c.xlsx", [
        Item(sep(4), "租用音响设备", D("500.00"), "51301", "现金", approver=TWO),
        Item(sep(6), "购买饮用水", D("150.00"), "51301", "现金"),
        Item(sep(7), "购买奖品", D("600.00"), "51301", "现金", invoice="00098765", approver=TWO),
    ])  # fmt: skip
    bare = move(w, sep(9), "-300.00", "51301", "付搬运费", attachments=0)
    signals = run(w, check_no_invoice)
    assert [(s.claims, s.entries, s.amount) for s in signals] == [
        ((ids[0],), signals[0].entries, D("500.00")),
        ((), (), D("300.00")),
    ]
    assert "无附件" in signals[1].message and signals[1].vouchers[0].startswith("2026-09 记-")
    assert bare not in signals[1].entries
    assert run(w, check_no_invoice, no_invoice_threshold="600.00") == []


# --------------------------------------------------------------------------- cash


def test_large_cash_payments_should_go_by_bank(w: World) -> None:
    move(w, sep(1), "3000.00", "504", "收场地使用费")
    big = move(w, sep(2), "-1500.00", "51301", "购买空调", counterparty="家电商场")
    move(w, sep(3), "-800.00", "51301", "购买风扇")
    deposit(w, sep(4), "1000.00")  # a deposit into the bank is not a payment
    (signal,) = run(w, check_cash_payments)
    assert signal.entries == (big,) and signal.amount == D("1500.00")
    assert "家电商场" in signal.message and len(signal.vouchers) == 1
    assert run(w, check_cash_payments, cash_settlement_limit="1500.00") == []


def test_cash_on_hand_above_the_limit_for_too_many_days(w: World) -> None:
    receipt = move(w, sep(5), "6000.00", "504", "收场地使用费")  # 500 + 6,000 = 6,500 > 5,000
    deposit(w, sep(12), "3000.00")  # 3,500 from the 12th: 7 days over (5th to 11th)
    (signal,) = run(w, check_cash_on_hand)
    assert signal.date == sep(5) and signal.amount == D("6500.00")
    assert "连续 7 天" in signal.message and receipt in signal.entries
    assert run(w, check_cash_on_hand, cash_limit_days=7) == []
    assert run(w, check_cash_on_hand, cash_limit="6500.00") == []


def test_cash_deposited_in_time_is_not_over_the_limit(w: World) -> None:
    move(w, sep(5), "6000.00", "504", "收场地使用费")
    deposit(w, sep(7), "6000.00")  # over on the 5th and 6th only
    assert run(w, check_cash_on_hand) == []
    assert run(w, check_undeposited) == []


def test_cash_received_and_not_deposited(w: World) -> None:
    """坐收坐支: 6,000 received on the 5th, 2,000 of it spent, 4,000 deposited on the 12th."""
    receipt = move(w, sep(5), "6000.00", "504", "收场地使用费")
    move(w, sep(6), "-2000.00", "51301", "直接支付维修费")
    deposit(w, sep(12), "4000.00")
    late = move(w, sep(27), "300.00", "504", "收停车费")  # due 9-30: not deposited
    signals = run(w, check_undeposited)
    assert [(s.entries, s.amount) for s in signals] == [
        ((receipt,), D("6000.00")),
        ((late,), D("300.00")),
    ]
    assert "3 天内未存入银行" in signals[0].message
    # ten days: the 4,000 deposited on the 12th is in time; the 2,000 spent (坐支) never is,
    # and the 300 of the 27th is due in October
    (spent,) = run(w, check_undeposited, deposit_days=10)
    assert (spent.entries, spent.amount) == ((receipt,), D("2000.00"))
    # the receipt of the 29th is due in October: judged then
    move(w, sep(29), "100.00", "504", "收停车费")
    assert len(run(w, check_undeposited)) == 2


# --------------------------------------------------------------------------- cadres, round sums


def test_cadre_pay_above_the_standard_and_the_budget(w: World) -> None:
    w.run(set_budget, w.entity, "bk", 2026,
          [BudgetInput("干部补贴", "expense", ("51303",), D("2500.00"))])  # fmt: skip
    move(w, sep(15), "-3000.00", "51303", "发放9月干部补贴", account="102")
    assert [s.message for s in run(w, check_cadre_pay)] == [
        "预算项目“干部补贴”本年已支出 3,000.00 元，超过预算 2,500.00 元 / cadre pay above"
        " its budget line"
    ]
    signals = run(w, check_cadre_pay, cadre_standard="2000.00")
    assert [s.amount for s in signals] == [D("3000.00"), D("3000.00")]
    assert "超过核定标准 2,000.00 元" in signals[0].message
    assert all(s.vouchers for s in signals)


def test_cadre_pay_within_standard_and_budget(w: World) -> None:
    w.run(set_budget, w.entity, "bk", 2026,
          [BudgetInput("干部补贴", "expense", ("51303",), D("5000.00"))])  # fmt: skip
    move(w, sep(15), "-3000.00", "51303", "发放9月干部补贴", account="102")
    assert run(w, check_cadre_pay, cadre_standard="3000.00") == []


def test_round_sums_paid_monthly_without_a_contract(w: World) -> None:
    entries = [
        move(w, dt.date(2026, m, 10), "-600.00", "51301", "保洁费", account="102",
             counterparty="洁美保洁公司")
        for m in (9, 10, 11)
    ]  # fmt: skip
    for m in (9, 10, 11):
        move(w, dt.date(2026, m, 12), "-800.00", "51301", "绿化养护", account="102",
             counterparty="青青园林", reference="合同 LH-2026-03")  # fmt: skip
    assert run(w, check_round_sums, NOV) == []  # off by default
    (signal,) = run(w, check_round_sums, NOV, round_sum=True)
    assert signal.entries == tuple(entries) and signal.amount == D("600.00")
    assert "洁美保洁公司" in signal.message and len(signal.vouchers) == 3
    assert run(w, check_round_sums, OCT, round_sum=True) == []  # two months only
    assert run(w, check_round_sums, NOV, round_sum=True, round_months=4) == []


# --------------------------------------------------------------------------- the report, settings


def test_the_report_runs_every_check_with_the_stored_settings(w: World, tmp_path: Path) -> None:
    move(w, sep(2), "-1500.00", "51301", "购买空调")
    report = w.run(risk_report, w.entity, SEP)
    assert report.counts() == {"cash_payment": 1}
    assert report.to_json()["signals"][0]["entries"] == [report.signals[0].entries[0]]
    assert len(RISK_CHECKS) == 8
    with pytest.raises(SegregationOfDutiesError):
        w.run(set_risk_settings, w.entity, "bk", RiskSettings())
    w.run(set_risk_settings, w.entity, "rv", RiskSettings(cash_settlement_limit=D("2000.00")))
    assert w.run(stored_risk_settings, w.entity).cash_settlement_limit == D("2000.00")
    assert w.run(risk_report, w.entity, SEP).signals == ()
    path = tmp_path / "risk.toml"
    path.write_text(risk_settings_toml(RiskSettings(round_sum=True)), encoding="utf-8")
    assert load_risk_settings(path).round_sum is True


def test_bad_settings_list_every_problem() -> None:
    with pytest.raises(ProblemsError) as info:
        parse_risk_settings(
            {"cash_limit": 5000.5, "split_days": 0, "colour": 1, "round_months": 1}, "r.toml"
        )
    text = str(info.value)
    for key in ("cash_limit", "split_days", "colour", "round_months"):
        assert f"r.toml: {key}" in text
