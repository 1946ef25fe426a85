"""The month-end close, told as worked scenarios of community C001 (rural-2023, from 2026-09).

September, the clean month every scenario starts from (amounts in 元)::

    opening        101 库存现金 500.00   102 银行存款 10,000.00   301 资本 −10,500.00
    09-05  cash −120.00  购办公用品     Dr 51301 办公费   120.00 / Cr 101
    09-10  cash +800.00  收门面租金     Dr 101            800.00 / Cr 501 经营收入
    09-20  cash −300.00  慰问困难户     Dr 514 公益支出    300.00 / Cr 101
    09-30  the cashier counts 880.00    (500 − 120 + 800 − 300)

The carry-forward, by hand: income 800.00 and expense 120.00 + 300.00 = 420.00,
so the month's result is 380.00 and the voucher is
Dr 501 800 / Cr 321 800 / Dr 321 420 / Cr 51301 120 / Cr 514 300.

Every scenario runs on SQLite and PostgreSQL.  Each check is also called on
its own (``check_x(ctx)``), against the clean month (no problem) and against
the scenario that breaks it (its message).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, func, select, text
from sqlalchemy import exc as sa_exc

from juzhang import books, closing, custody, verify
from juzhang.cash_count import list_cash_counts, record_cash_count
from juzhang.closing import (
    CHECKS,
    CloseResult,
    carry_forward_draft,
    check_bank_reconciliation,
    check_cash_count,
    check_custody_backed,
    check_journal_ledger,
    check_numbering,
    check_result_accounts,
    check_sequence,
    check_trial_balance,
    check_unposted,
    check_verify,
    close_month,
    ensure_system_user,
    make_context,
    record_disclosure,
    reopen_month,
    run_checks,
    sign_disclosure,
)
from juzhang.core.period import last_day
from juzhang.core.voucher import Line, VoucherDraft
from juzhang.errors import (
    IntegrityError,
    JuzhangError,
    PeriodClosedError,
    SegregationOfDutiesError,
    StateError,
    ValidationError,
)
from juzhang.reports.disclosure import disclosure
from juzhang.reports.trial_balance import trial_balance
from juzhang.statements import import_statement, set_bank_account
from juzhang.storage.schema import AuditLog, Disclosure, Period
from tests.conftest import World, build_world, dump, lock_period

SEP, OCT, NOV, DEC, JAN = 202609, 202610, 202611, 202612, 202701

Move = tuple[int, str, str, str]  # (day, signed cash amount, counter account, 摘要)

SEPTEMBER: list[Move] = [
    (5, "-120.00", "51301", "购办公用品"),
    (10, "800.00", "501", "收门面租金"),
    (20, "-300.00", "514", "慰问困难户"),
]


def setup_books(w: World) -> None:
    """51301 办公费, the opening balances, and the system user (as the closing run adds it)."""
    w.run(ensure_system_user)
    w.run(books.add_account, w.entity, "51301", "办公费")
    w.run(
        books.set_opening,
        w.entity,
        "bk",
        {"101": D("500"), "102": D("10000"), "301": D("-10500")},
    )


def cash_moves(w: World, period: int, moves: Sequence[Move]) -> list[int]:
    """The cashier records the moves, the agency posts their vouchers; return the entry ids."""
    year, month = divmod(period, 100)
    entries = [
        custody.CustodyInput(dt.date(year, month, d), "101", D(amount), summary)
        for d, amount, _acc, summary in moves
    ]
    ids = w.run(custody.record_entries, w.entity, "cash", entries)
    drafts = []
    for entry, (d, amount, acc, summary) in zip(ids, moves, strict=True):
        value = D(amount)
        cash = Line("101", summary, custody_entry=entry, **_side(value, debit=value > 0))
        other = Line(acc, summary, **_side(value, debit=value < 0))
        drafts.append(VoucherDraft(dt.date(year, month, d), (cash, other), 1))
    w.run(books.post_bulk, w.entity, drafts, preparer="bk", reviewer="rv", poster="bk")
    return ids


def _side(value: D, *, debit: bool) -> dict[str, D]:
    return {"debit": abs(value)} if debit else {"credit": abs(value)}


def count(w: World, period: int, amount: str | None = None, *, on: int | None = None) -> None:
    """The cashier counts the cash at the month end (the journal balance unless told)."""
    date = last_day(period) if on is None else dt.date(period // 100, period % 100, on)
    if amount is None:
        tb = w.run(trial_balance, w.entity, period)
        amount = str(tb.row("101").closing_balance)
    w.run(record_cash_count, w.entity, "cash", date, D(amount))


def clean_month(w: World, period: int = SEP, moves: Sequence[Move] = SEPTEMBER) -> None:
    """A month whose books are in order and whose cash is counted."""
    if period == SEP:
        setup_books(w)
    cash_moves(w, period, moves)
    count(w, period)


def balances(w: World, period: int) -> dict[str, D]:
    """Closing balance of every account with one, at the month end (debit positive)."""
    tb = w.run(trial_balance, w.entity, period)
    return {r.code: r.closing_balance for r in tb.rows if r.closing_balance}


def close(w: World, period: int = SEP, actor: str = "rv") -> CloseResult:
    return w.run(close_month, w.entity, period, actor)


def closing_vouchers(w: World, period: int) -> list[Any]:
    return [v for v in w.run(books.list_vouchers, w.entity, period=period) if v.kind == "closing"]


def audit_rows(w: World, action: str) -> list[tuple[str, str, dict[str, Any]]]:
    with w.engine.connect() as conn:
        rows = conn.execute(
            select(AuditLog.actor, AuditLog.subject, AuditLog.detail)
            .where(AuditLog.action == action)
            .order_by(AuditLog.entity_id, AuditLog.seq)
        ).all()
    return [(a, s, json.loads(d)) for a, s, d in rows]


def run_check(w: World, check: Callable[..., Any], period: int = SEP) -> list[Any]:
    """Run one check on its own, in a read transaction."""

    def go(session: Any) -> list[Any]:
        return list(check(make_context(session, w.entity, period)))

    return w.run(go)


@pytest.fixture
def w(world: World) -> World:
    """C001 with September booked and counted (not closed)."""
    clean_month(world)
    return world


@pytest.fixture
def uncounted(world: World) -> World:
    """C001 with September booked, its cash not counted yet."""
    setup_books(world)
    cash_moves(world, SEP, SEPTEMBER)
    return world


# --------------------------------------------------------------------------- a clean month


def test_clean_month_closes_with_the_hand_computed_carry_forward(w: World) -> None:
    for check in CHECKS:
        assert run_check(w, check) == [], check.__name__
    result = close(w)
    assert result.closed and result.problems == ()
    assert result.vouchers == ("记-0004",)
    assert result.result == D("380.00")
    (carry,) = closing_vouchers(w, SEP)
    assert carry.label == "记-0004" and carry.date == dt.date(2026, 9, 30)
    assert (carry.prepared_by, carry.reviewed_by, carry.posted_by) == ("system", "rv", "system")
    assert carry.attachments == 0 and carry.status == "posted"
    assert [(ln.account, ln.side, ln.amount) for ln in carry.lines] == [
        ("501", "D", D("800.00")),
        ("321", "C", D("800.00")),
        ("321", "D", D("420.00")),
        ("51301", "C", D("120.00")),
        ("514", "C", D("300.00")),
    ]
    assert {ln.summary for ln in carry.lines} == {"结转9月收入", "结转9月支出"}
    after = balances(w, SEP)
    assert after == {
        "101": D("880.00"),
        "102": D("10000.00"),
        "301": D("-10500.00"),
        "321": D("-380.00"),
    }
    assert w.run(books.is_closed, "C001", SEP)
    assert w.run(verify.verify, "C001") == []
    actions = [(a, s) for a, s, _d in audit_rows(w, "month.close")]
    assert actions == [("rv", "2026-09")]
    assert audit_rows(w, "period.close")[0][:2] == ("rv", "2026-09")
    # the disclosure's draft row comes with its workbook, carrying the workbook's fingerprint
    report = generate_disclosure(w)
    with w.engine.connect() as conn:
        row = conn.execute(select(Disclosure)).one()
    assert row.status == "draft" and (row.first_period, row.last_period) == (SEP, SEP)
    assert row.fingerprint == report.fingerprint and row.fingerprint.startswith("C001:2026-09:4:")
    # the month takes nothing any more; the next one takes everything
    with pytest.raises(PeriodClosedError):
        w.run(record_cash_count, "C001", "cash", dt.date(2026, 9, 30), D("880"))
    cash_moves(w, OCT, [(8, "200.00", "501", "收门面租金")])


def generate_disclosure(w: World, first: int = SEP, last: int | None = None) -> Any:
    """Compute the disclosure and record its draft row, as the closing run does with its file."""

    def go(session: Any) -> Any:
        report = disclosure(session, w.entity, first, last)
        record_disclosure(session, report)
        return report

    return w.run(go)


def test_closing_twice_or_as_a_non_reviewer_is_refused(w: World) -> None:
    for person in ("bk", "cash", "sup", "adm"):
        before = dump(w.engine)
        with pytest.raises(SegregationOfDutiesError):
            close(w, actor=person)
        assert dump(w.engine) == before
    close(w)
    with pytest.raises(StateError, match="closed"):
        close(w)


def test_a_month_without_income_or_expense_needs_no_carry_forward(world: World) -> None:
    setup_books(world)
    cash_moves(world, SEP, [(3, "-100.00", "112", "借支备用金")])
    count(world, SEP, "400.00")
    result = close(world)
    assert result.closed and result.vouchers == () and result.result == 0
    assert closing_vouchers(world, SEP) == []


# --------------------------------------------------------------------------- each check failing


def _problems(result: CloseResult, subject: str) -> list[str]:
    return [str(p) for p in result.problems if p.subject == subject]


def refused_close(w: World, period: int = SEP) -> CloseResult:
    """Close must refuse, listing the problems, and change nothing."""
    before = dump(w.engine)
    result = close(w, period)
    assert not result.closed and result.problems
    assert dump(w.engine) == before
    return result


def test_a_draft_voucher_left_blocks_the_close(w: World) -> None:
    draft = VoucherDraft(
        dt.date(2026, 9, 25),
        (Line("112", "暂付款", debit=D("50")), Line("212", "暂付款", credit=D("50"))),
    )
    vid = w.run(books.draft_voucher, "C001", "bk", draft)
    (problem,) = run_check(w, check_unposted)
    assert f"草稿#{vid}" in problem.where and "unposted voucher (draft)" in problem.message
    w.run(books.review_vouchers, "C001", "rv", [vid])
    (problem,) = run_check(w, check_unposted)
    assert "reviewed, not posted" in problem.message
    result = refused_close(w)
    assert [p.subject for p in result.problems] == ["unposted"]


def test_an_unbacked_custody_entry_blocks_the_close(w: World) -> None:
    (entry,) = w.run(
        custody.record_entries,
        "C001",
        "cash",
        [custody.CustodyInput(dt.date(2026, 9, 28), "101", D("-50"), "购茶叶")],
    )
    (problem,) = run_check(w, check_custody_backed)
    assert f"日记账 #{entry}" in problem.where
    assert "-50.00" in problem.message and "not backed by a posted voucher" in problem.message
    result = refused_close(w)
    # the same entry also puts journal and ledger apart, and the count no longer agrees
    assert {p.subject for p in result.problems} == {"custody", "journal", "cash_count"}


def test_journal_differing_from_the_ledger_blocks_the_close(w: World) -> None:
    w.run(
        custody.record_entries,
        "C001",
        "cash",
        [custody.CustodyInput(dt.date(2026, 9, 28), "101", D("-50"), "购茶叶")],
    )
    (problem,) = run_check(w, check_journal_ledger)
    assert problem.where == "C001 2026-09 101 库存现金"
    assert "日记账余额 830.00 与总账余额 880.00 不符，差 -50.00" in problem.message
    assert "journal balance differs from the ledger by -50.00" in problem.message
    assert _problems(refused_close(w), "journal") == [str(problem)]


def test_a_cash_count_that_differs_blocks_the_close(w: World) -> None:
    count(w, SEP, "870.00")  # the latest count of the month is the one that counts
    (problem,) = run_check(w, check_cash_count)
    assert "现金盘点 870.00 与日记账 880.00 不符" in problem.message
    assert "短款（盘亏）/ short 10.00" in problem.message and "181" in problem.message
    assert _problems(refused_close(w), "cash_count") == [str(problem)]
    count(w, SEP, "885.50")
    (problem,) = run_check(w, check_cash_count)
    assert "长款（盘盈）/ over 5.50" in problem.message


def test_a_missing_cash_count_blocks_the_close(uncounted: World) -> None:
    world = uncounted
    (problem,) = run_check(world, check_cash_count)
    assert "no cash count for the month end" in problem.message
    assert "juzhang cash count C001 2026-09-30 AMOUNT" in problem.message
    result = refused_close(world)
    assert [p.subject for p in result.problems] == ["cash_count"]


def test_a_cash_shortage_booked_to_loss_pending_lets_the_month_close(uncounted: World) -> None:
    w = uncounted
    count(w, SEP, "870.00", on=28)
    assert "short 10.00" in str(run_check(w, check_cash_count))
    # the cashier records the shortage, the agency books it Dr 181 / Cr 101
    (entry,) = w.run(
        custody.record_entries,
        "C001",
        "cash",
        [custody.CustodyInput(dt.date(2026, 9, 30), "101", D("-10"), "现金盘亏")],
    )
    shortage = VoucherDraft(
        dt.date(2026, 9, 30),
        (
            Line("181", "现金盘亏，待查", debit=D("10")),
            Line("101", "现金盘亏，待查", credit=D("10"), custody_entry=entry),
        ),
        1,
    )
    w.run(books.post_bulk, "C001", [shortage], preparer="bk", reviewer="rv", poster="bk")
    # booked after the count date: allowed, and journal = ledger = count
    assert run_check(w, check_cash_count) == []
    result = close(w)
    assert result.closed
    notes = [str(n) for n in result.notes]
    assert any("现金短款 short 10.00 已记入待处理财产损溢（记-0004）" in n for n in notes)
    assert any("待处理财产损溢余额 10.00 待批准处理" in n for n in notes)
    assert balances(w, SEP)["181"] == D("10.00")


def test_cash_moving_after_the_count_needs_a_new_count(uncounted: World) -> None:
    w = uncounted
    count(w, SEP, "880.00", on=25)
    cash_moves(w, SEP, [(29, "-30.00", "514", "慰问")])
    (problem,) = run_check(w, check_cash_count)
    assert "1 cash movement(s) after the count of 2026-09-25" in problem.message
    count(w, SEP, "850.00")
    assert run_check(w, check_cash_count) == []


def test_months_close_in_order(w: World) -> None:
    cash_moves(w, OCT, [(8, "200.00", "501", "收门面租金")])
    count(w, OCT)
    (problem,) = run_check(w, check_sequence, OCT)
    assert "earlier months are open (2026-09)" in problem.message
    assert [p.subject for p in refused_close(w, OCT).problems] == ["sequence"]
    close(w, SEP)
    assert close(w, OCT).closed


def test_gaps_an_unbalanced_trial_balance_and_verify_are_found(w: World) -> None:
    assert run_check(w, check_numbering) == run_check(w, check_trial_balance) == []
    # break the books around the service, as only a damaged database could be broken, in a
    # transaction rolled back at the end (DDL included): the checks must see the damage
    with w.engine.connect() as conn:
        trans = conn.begin()
        for drop in _drop_triggers(conn, "voucher"):
            conn.execute(text(drop))
        conn.execute(text("UPDATE voucher SET number = 7 WHERE number = 3"))
        conn.execute(
            text("UPDATE account_balance SET debit_fen = debit_fen + 1 WHERE account_code = '514'")
        )
        ctx = make_context(conn, "C001", SEP)
        (gap,) = check_numbering(ctx)
        (tb,) = check_trial_balance(ctx)
        found = {p.subject for p in check_verify(ctx)}
        result = close_month(conn, "C001", SEP, "rv")
        trans.rollback()
    assert gap.where == "C001 2026-09" and "gaps" in gap.message
    assert "does not balance" in tb.message
    assert {"chain", "balance"} <= found and "numbering" not in found
    assert not result.closed
    assert {"numbering", "trial_balance", "chain", "balance"} <= {
        p.subject for p in result.problems
    }
    assert run_check(w, check_numbering) == []  # rolled back


def _drop_triggers(conn: Any, table: str) -> list[str]:
    """Statements dropping the triggers of ``table`` (inside a transaction rolled back)."""
    if conn.dialect.name == "sqlite":
        rows = conn.execute(
            text("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = :t"),
            {"t": table},
        )
        return [f"DROP TRIGGER {name}" for (name,) in rows]
    rows = conn.execute(
        text(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = CAST(:t AS regclass)"
            " AND NOT tgisinternal"
        ),
        {"t": table},
    )
    return [f"DROP TRIGGER {name} ON {table}" for (name,) in rows]


def test_the_carry_forward_accounts_must_take_lines(w: World) -> None:
    w.run(books.add_account, "C001", "32101", "本年收益明细")
    (problem,) = run_check(w, check_result_accounts)
    assert problem.where == "C001 2026-09 321" and "cannot take lines" in problem.message
    assert [p.subject for p in refused_close(w).problems] == ["carry_forward"]


def test_every_problem_is_listed_at_once(uncounted: World) -> None:
    world = uncounted
    world.run(
        books.draft_voucher,
        "C001",
        "bk",
        VoucherDraft(
            dt.date(2026, 9, 25),
            (Line("112", "暂付款", debit=D("5")), Line("212", "暂付款", credit=D("5"))),
        ),
    )
    result = refused_close(world)
    assert [p.subject for p in result.problems] == ["unposted", "cash_count"]

    def only_unposted(session: Any) -> list[Any]:
        return run_checks(make_context(session, "C001", SEP), [check_unposted])

    assert world.run(only_unposted) == [result.problems[0]]


# --------------------------------------------------------------------------- the bank

BANK = "10201"
HEADER = "交易流水号,交易日期,交易账号,对方账户名,对方账号,摘要,用途,支出金额,收入金额,余额"
NUMBER = "6222000011112222"
Row = tuple[str, int, str, str, str, str]  # serial, day, summary, out, in, balance


@pytest.fixture
def banked(world: World) -> World:
    """C001 with the cash September and 10201 农商行基本户 (10,000.00): +5,000 in, −800 out."""
    world.run(ensure_system_user)
    world.run(books.add_account, "C001", "51301", "办公费")
    world.run(books.add_account, "C001", BANK, "农商行基本户")
    opening = {"101": D("500"), BANK: D("10000"), "301": D("-10500")}
    world.run(books.set_opening, "C001", "bk", opening)
    world.run(set_bank_account, "C001", BANK, NUMBER)
    cash_moves(world, SEP, SEPTEMBER)
    count(world, SEP)
    moves = [(12, "5000", "503", "收到街道补助"), (26, "-800", "514", "付保洁费")]
    for d, amount, acc, summary in moves:
        value = D(amount)
        entry = world.run(
            custody.record_entry, "C001", "cash", dt.date(2026, 9, d), BANK, value, summary
        )
        bank = Line(BANK, summary, custody_entry=entry, **_side(value, debit=value > 0))
        other = Line(acc, summary, **_side(value, debit=value < 0))
        draft = VoucherDraft(dt.date(2026, 9, d), (bank, other), 1)
        world.run(books.post_bulk, "C001", [draft], preparer="bk", reviewer="rv", poster="bk")
    return world


def statement(w: World, folder: Path, rows: Sequence[Row]) -> None:
    """The bank's statement (rural commercial bank CSV), imported by the bookkeeper."""
    lines = [HEADER] + [
        f"{serial},2026-09-{d:02d},{NUMBER},,,{summary},,{out},{inflow},{balance}"
        for serial, d, summary, out, inflow, balance in rows
    ]
    path = folder / "statement.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    w.run(import_statement, "C001", "bk", path, account=BANK)


def test_a_bank_month_closes_on_an_agreeing_reconciliation(banked: World, tmp_path: Path) -> None:
    (missing,) = run_check(banked, check_bank_reconciliation)
    assert "no bank statement lines for the month" in missing.message
    assert [p.subject for p in refused_close(banked).problems] == ["reconciliation"]
    statement(
        banked,
        tmp_path,
        [
            ("S1", 12, "补助", "", "5000.00", "15000.00"),
            ("S2", 27, "保洁费", "800.00", "", "14200.00"),
            ("S3", 30, "手续费", "20.00", "", "14180.00"),
        ],
    )
    assert run_check(banked, check_bank_reconciliation) == []
    result = close(banked)
    assert result.closed and result.result == D("380.00") + D("5000.00") - D("800.00")
    (fee,) = [n for n in result.notes if n.subject == "outstanding"]
    assert fee.where == "C001 2026-09 10201 银行已付、企业未付"
    assert "2026-09-30 手续费 20.00" in fee.message


def test_a_disagreeing_bank_reconciliation_blocks_the_close(banked: World, tmp_path: Path) -> None:
    statement(  # the bank's balances run 100.00 above the books' from the start
        banked,
        tmp_path,
        [
            ("S1", 12, "补助", "", "5000.00", "15100.00"),
            ("S2", 27, "保洁费", "800.00", "", "14300.00"),
        ],
    )
    (problem,) = run_check(banked, check_bank_reconciliation)
    assert problem.where == "C001 2026-09 10201 农商行基本户"
    assert "日记账调节后 14,200.00，对账单调节后 14,300.00，差 -100.00" in problem.message
    assert "adjusted balances differ by -100.00" in problem.message
    assert _problems(refused_close(banked), "reconciliation") == [str(problem)]


# --------------------------------------------------------------------------- the year end


def test_december_close_carries_the_year_to_322_and_january_opens_clean(w: World) -> None:
    assert close(w).result == D("380.00")
    cash_moves(w, OCT, [(8, "200.00", "501", "收门面租金")])
    count(w, OCT)
    assert close(w, OCT).vouchers == ("记-0002",)
    count(w, NOV)  # a quiet month: no carry-forward voucher
    nov = close(w, NOV)
    assert nov.closed and nov.vouchers == ()
    cash_moves(w, DEC, [(15, "-100.00", "51301", "购年货慰问品")])
    count(w, DEC)
    dec = close(w, DEC)
    # Dec: expense 100 → 321; then the year's result 380 + 200 − 100 = 480 → 322
    assert dec.vouchers == ("记-0002", "记-0003") and dec.result == D("-100.00")
    carry, year_end = closing_vouchers(w, DEC)
    assert [(ln.account, ln.side, ln.amount) for ln in carry.lines] == [
        ("321", "D", D("100.00")),
        ("51301", "C", D("100.00")),
    ]
    assert [(ln.account, ln.side, ln.amount, ln.summary) for ln in year_end.lines] == [
        ("321", "D", D("480.00"), "结转本年收益"),
        ("322", "C", D("480.00"), "结转本年收益"),
    ]
    dec_closing = balances(w, DEC)
    assert dec_closing["322"] == D("-480.00") and "321" not in dec_closing
    # January opens with December's closing balances; income and expense at zero
    jan = w.run(trial_balance, "C001", JAN)
    for row in jan.rows:
        assert row.opening_balance == dec_closing.get(row.code, 0), row.code
    for code in ("501", "513", "51301", "514", "321"):
        assert jan.row(code).opening_balance == 0
    assert jan.opening_total == 0 and jan.balanced
    # reopening December reverses both machine vouchers, the year-end one first
    done = w.run(reopen_month, "C001", DEC, "adm", "年终结转有误", reviewer="rv")
    assert done.reversals == ("记-0004", "记-0005")
    reopened = balances(w, DEC)
    assert "322" not in reopened and reopened["321"] == D("-580.00")
    assert reopened["51301"] == D("100.00")
    assert close(w, DEC).vouchers == ("记-0006", "记-0007")
    assert balances(w, DEC) == dec_closing
    cash_moves(w, JAN, [(6, "50.00", "504", "收其他收入")])
    count(w, JAN)
    assert close(w, JAN).result == D("50.00")
    assert balances(w, JAN)["321"] == D("-50.00")
    assert balances(w, JAN)["322"] == D("-480.00")
    assert w.run(verify.verify, "C001") == []


def test_the_non_profit_chart_carries_into_net_assets(engine: Engine) -> None:
    w = build_world(engine, "N001", chart="npo-2004")
    w.run(ensure_system_user)  # 410101 限定性收入 / 410102 非限定性收入 are shipped
    w.run(books.set_opening, "N001", "bk", {"1001": D("1000"), "3101": D("-1000")})
    entries = w.run(
        custody.record_entries,
        "N001",
        "cash",
        [
            custody.CustodyInput(dt.date(2026, 9, 3), "1001", D("600"), "定向捐赠"),
            custody.CustodyInput(dt.date(2026, 9, 4), "1001", D("250"), "捐赠"),
            custody.CustodyInput(dt.date(2026, 9, 9), "1001", D("-90"), "办公用品"),
        ],
    )
    drafts = [
        VoucherDraft(
            dt.date(2026, 9, d),
            (
                Line("1001", s, custody_entry=e, **_side(D(a), debit=D(a) > 0)),
                Line(acc, s, **_side(D(a), debit=D(a) < 0)),
            ),
            1,
        )
        for e, (d, a, acc, s) in zip(
            entries,
            [
                (3, "600", "410101", "定向捐赠"),
                (4, "250", "410102", "捐赠"),
                (9, "-90", "5201", "办公"),
            ],
            strict=True,
        )
    ]
    w.run(books.post_bulk, "N001", drafts, preparer="bk", reviewer="rv", poster="bk")
    w.run(record_cash_count, "N001", "cash", dt.date(2026, 9, 30), D("1760"))
    result = w.run(close_month, "N001", SEP, "rv")
    assert result.closed and result.result == D("760.00")
    (carry,) = [v for v in w.run(books.list_vouchers, "N001") if v.kind == "closing"]
    assert [(ln.account, ln.side, ln.amount) for ln in carry.lines] == [
        ("410102", "D", D("250.00")),
        ("3101", "C", D("250.00")),
        ("410101", "D", D("600.00")),
        ("3102", "C", D("600.00")),
        ("3101", "D", D("90.00")),
        ("5201", "C", D("90.00")),
    ]
    after = balances(w, SEP)
    assert after["3101"] == D("-1160.00") and after["3102"] == D("-600.00")


def test_carry_forward_draft_is_none_for_an_empty_month(world: World) -> None:
    setup_books(world)

    def draft(session: Any) -> VoucherDraft | None:
        return carry_forward_draft(make_context(session, "C001", SEP))

    assert world.run(draft) is None


# --------------------------------------------------------------------------- reopening


def test_reopen_before_sign_off_reverses_the_carry_forward(w: World) -> None:
    before = balances(w, SEP)
    close(w)
    generate_disclosure(w)
    for person in ("rv", "bk", "sup", "cash"):
        with pytest.raises(SegregationOfDutiesError, match="admin"):
            w.run(reopen_month, "C001", SEP, person, "补记")
    with pytest.raises(ValidationError, match="reason"):
        w.run(reopen_month, "C001", SEP, "adm", "  ", reviewer="rv")
    # the admin holds no reviewer role: someone who does must review the reversal
    with pytest.raises(ValidationError, match="reviewer"):
        w.run(reopen_month, "C001", SEP, "adm", "漏记一笔利息收入")
    with pytest.raises(SegregationOfDutiesError):
        w.run(reopen_month, "C001", SEP, "adm", "漏记一笔利息收入", reviewer="bk")
    assert w.run(books.is_closed, "C001", SEP)
    done = w.run(reopen_month, "C001", SEP, "adm", "漏记一笔利息收入", reviewer="rv")
    assert done.reversals == ("记-0005",) and done.reviewer == "rv"
    assert not w.run(books.is_closed, "C001", SEP)
    red = [v for v in w.run(books.list_vouchers, "C001") if v.kind == "reversal"]
    (red_voucher,) = red
    assert (red_voucher.prepared_by, red_voucher.reviewed_by) == ("system", "rv")
    assert all(ln.amount < 0 and ln.summary == "注销 9月30日 4号凭证" for ln in red_voucher.lines)
    assert balances(w, SEP) == before  # income and expense are back, 321 empty
    (reopen,) = audit_rows(w, "month.reopen")
    assert reopen[0] == "adm" and reopen[2]["reason"] == "漏记一笔利息收入"
    assert reopen[2]["reversals"] == ["记-0005"]
    assert audit_rows(w, "period.reopen")[0][2] == {"reason": "漏记一笔利息收入"}
    with w.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Disclosure)).scalar_one() == 0
    # the month takes the missing voucher and closes again, carrying the new figures
    cash_moves(w, SEP, [(30, "12.50", "504", "利息收入")])
    count(w, SEP)
    again = close(w)
    assert again.closed and again.result == D("392.50") and again.vouchers == ("记-0007",)
    assert balances(w, SEP)["321"] == D("-392.50")
    assert w.run(verify.verify, "C001") == []


def test_an_admin_who_also_reviews_reverses_without_naming_anyone(w: World) -> None:
    from juzhang import agency

    w.run(agency.grant, "adm", "reviewer", "C001")
    close(w)
    assert w.run(reopen_month, "C001", SEP, "adm", "重新结转").reviewer == "adm"


def test_reopen_only_the_last_closed_month(w: World) -> None:
    close(w)
    count(w, OCT)
    close(w, OCT)
    with pytest.raises(StateError, match=r"later months are closed"):
        w.run(reopen_month, "C001", SEP, "adm", "补记", reviewer="rv")
    w.run(reopen_month, "C001", OCT, "adm", "补记", reviewer="rv")
    w.run(reopen_month, "C001", SEP, "adm", "补记", reviewer="rv")
    with pytest.raises(StateError, match="open"):
        w.run(reopen_month, "C001", SEP, "adm", "补记", reviewer="rv")


def test_a_month_closed_by_the_primitive_reopens_without_a_reviewer(world: World) -> None:
    world.run(lock_period, "C001", "rv", SEP)
    done = world.run(reopen_month, "C001", SEP, "adm", "误结账")
    assert done.reversals == () and done.reviewer is None


# --------------------------------------------------------------------------- sign-off


def test_sign_off_publishes_and_freezes_the_disclosure(w: World) -> None:
    with pytest.raises(StateError, match="open"):
        w.run(sign_disclosure, "C001", SEP, "sup", None, "同意", dt.date(2026, 10, 5))
    close(w)
    for person in ("rv", "bk", "adm", "cash"):
        with pytest.raises(SegregationOfDutiesError):
            w.run(sign_disclosure, "C001", SEP, person, None, "同意", dt.date(2026, 10, 5))
    with pytest.raises(ValidationError, match="opinion"):
        w.run(sign_disclosure, "C001", "2026-09", "sup", None, " ", dt.date(2026, 10, 5))
    made = generate_disclosure(w).fingerprint
    cash_moves(w, OCT, [(8, "200.00", "501", "收门面租金")])  # the chain head moves on
    signed = w.run(
        sign_disclosure, "C001", "2026-09", "sup", None, "账目清楚，同意公开", dt.date(2026, 10, 5)
    )
    assert signed.fingerprint == made and signed.name == "周理财"
    with w.engine.connect() as conn:
        row = conn.execute(select(Disclosure)).one()
    assert row.status == "published" and row.signer_name == "周理财"
    assert row.opinion == "账目清楚，同意公开" and row.signed_on == dt.date(2026, 10, 5)
    assert audit_rows(w, "disclosure.sign")[0][0] == "sup"
    with pytest.raises(StateError, match="published"):
        w.run(sign_disclosure, "C001", SEP, "sup", "周理财", "再签", dt.date(2026, 10, 6))
    # reopening is refused by the service and, around it, by the database
    with pytest.raises(StateError, match="published") as info:
        w.run(reopen_month, "C001", SEP, "adm", "发现错账", reviewer="rv")
    assert "current month" in str(info.value)
    for sql in (
        "UPDATE period SET status = 'open' WHERE period = 202609",
        "UPDATE disclosure SET opinion = 'x'",
        "DELETE FROM disclosure",
    ):
        with pytest.raises(sa_exc.DBAPIError), w.engine.begin() as conn:
            conn.execute(text(sql))
    with pytest.raises(IntegrityError):
        w.run(books.reopen_period, "C001", "adm", SEP, "绕过服务 around the service")


def test_sign_off_refused_when_the_figures_changed(w: World) -> None:
    close(w)
    generate_disclosure(w)
    with w.engine.begin() as conn:  # the workbook showed other figures than the books now hold
        conn.execute(text("UPDATE disclosure SET fingerprint = 'C001:2026-09:3:aaaa:bbbb'"))
    with pytest.raises(StateError, match="figures changed"):
        w.run(sign_disclosure, "C001", SEP, "sup", None, "同意", dt.date(2026, 10, 5))
    generate_disclosure(w)  # generated again: signed
    w.run(sign_disclosure, "C001", SEP, "sup", None, "同意", dt.date(2026, 10, 5))


def test_a_disclosure_is_recorded_for_closed_months_only(w: World) -> None:
    with pytest.raises(StateError, match="open"):
        generate_disclosure(w)


def test_a_quarter_is_signed_once_its_months_are_closed(w: World) -> None:
    close(w)
    count(w, OCT)
    with pytest.raises(StateError, match="2026-10"):
        w.run(sign_disclosure, "C001", "2026-09..2026-10", "sup", None, "同意", dt.date.today())
    close(w, OCT)
    signed = w.run(
        sign_disclosure, "C001", (SEP, OCT), "sup", "周理财", "同意公开", dt.date(2026, 11, 3)
    )
    assert (signed.first, signed.last) == (SEP, OCT)
    with pytest.raises(StateError, match="published"):
        w.run(reopen_month, "C001", OCT, "adm", "x", reviewer="rv")


# --------------------------------------------------------------------------- the pieces


def test_cash_counts_are_the_cashiers(world: World) -> None:
    for person in ("bk", "rv", "sup", "adm"):
        with pytest.raises(SegregationOfDutiesError):
            world.run(record_cash_count, "C001", person, dt.date(2026, 9, 30), D("1"))
    bad: list[tuple[type[JuzhangError], tuple[Any, ...]]] = [
        (ValidationError, (dt.date(2026, 9, 30), D("-1"))),
        (ValidationError, (dt.date(2026, 8, 31), D("1"))),
        (ValidationError, (dt.date(2026, 9, 30), D("1"), "102")),
    ]
    for exc, args in bad:
        with pytest.raises(exc):
            world.run(record_cash_count, "C001", "cash", *args)
    world.run(books.add_account, "C001", "10101", "备用金")
    world.run(books.add_account, "C001", "10102", "零钱")
    with pytest.raises(ValidationError, match="name the cash account"):
        world.run(record_cash_count, "C001", "cash", dt.date(2026, 9, 30), D("1"))
    cid = world.run(
        record_cash_count, "C001", "cash", dt.date(2026, 9, 30), D("12.3"), "10101", "月末盘点"
    )
    (view,) = world.run(list_cash_counts, "C001", period=SEP)
    assert (view.id, view.account, view.amount, view.note, view.counted_by) == (
        cid,
        "10101",
        D("12.30"),
        "月末盘点",
        "cash",
    )


def test_machine_vouchers_are_checked(w: World) -> None:
    carry = VoucherDraft(
        dt.date(2026, 9, 30),
        (Line("501", "结转", debit=D("800")), Line("321", "结转", credit=D("800"))),
    )
    with pytest.raises(SegregationOfDutiesError):
        w.run(books.post_closing_voucher, "C001", "bk", carry)
    with pytest.raises(ValidationError):
        w.run(books.post_closing_voucher, "C001", "rv")
    with pytest.raises(ValidationError, match="cash or bank"):
        w.run(
            books.post_closing_voucher,
            "C001",
            "rv",
            VoucherDraft(
                dt.date(2026, 9, 30),
                (Line("101", "x", debit=D("1")), Line("321", "x", credit=D("1"))),
            ),
        )
    first = w.run(books.list_vouchers, "C001", period=SEP)[0]
    with pytest.raises(StateError):
        w.run(books.post_closing_voucher, "C001", "rv", reverses=first.id)
    vid = w.run(books.post_closing_voucher, "C001", "rv", carry)
    red = w.run(books.post_closing_voucher, "C001", "rv", reverses=vid)
    with pytest.raises(StateError, match="already reversed"):
        w.run(books.post_closing_voucher, "C001", "rv", reverses=vid)
    assert w.run(books.get_voucher, "C001", red).reverses == vid
    assert w.run(verify.verify, "C001") == []


def test_every_check_is_listed_once() -> None:
    names = [c.__name__ for c in CHECKS]
    assert len(names) == len(set(names)) and all(n.startswith("check_") for n in names)
    assert check_bank_reconciliation in CHECKS
    assert closing.NOTES and all(n.__name__.startswith("note_") for n in closing.NOTES)


def test_close_verifies_only_what_was_posted_since_the_last_close(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 18: the close verified the whole history every month; now from the last close on."""
    w = world
    clean_month(w, SEP)
    assert close(w).closed
    with w.engine.connect() as conn:
        point = conn.execute(
            select(Period.verified_seq, Period.verified_hash).where(Period.period == SEP)
        ).one()
    assert point[0] == 3  # September's three vouchers, verified before the carry-forward
    clean_month(w, OCT, [(3, "-50.00", "51301", "买笔"), (8, "200.00", "501", "收租金")])
    starts: list[tuple[int, str]] = []
    hashed: list[int] = []
    walk, rehash = verify._walk_chain, verify.voucher_hash  # noqa: SLF001 — observe the walk

    def watched_walk(session: Connection, ent: Any, start: tuple[int, str]) -> Any:
        starts.append(start)
        return walk(session, ent, start)

    def watched_hash(*args: Any, **kwargs: Any) -> str:
        hashed.append(kwargs["seq"])
        return rehash(*args, **kwargs)

    monkeypatch.setattr(verify, "_walk_chain", watched_walk)
    monkeypatch.setattr(verify, "voucher_hash", watched_hash)
    assert close(w, OCT).closed
    assert starts == [tuple(point)]
    assert hashed == [4, 5, 6]  # September's carry-forward and October's two vouchers
    # the full verification still reads everything
    hashed.clear()
    assert w.run(verify.verify, w.entity) == []
    assert hashed == list(range(1, 8))


def test_the_close_still_finds_custody_links_broken_since_the_last_close(world: World) -> None:
    """Issue 18: the check from the last close on reads the new vouchers' lines only.

    It must still see a new cash line that names no entry, an entry backed
    by a new line and by one of a closed month, and a running balance of the
    new month that differs from its lines.
    """
    w = world
    clean_month(w, SEP)
    assert close(w).closed
    clean_month(w, OCT, [(3, "-50.00", "51301", "买笔"), (8, "200.00", "501", "收租金")])
    with w.engine.connect() as conn:
        trans = conn.begin()
        for drop in _drop_triggers(conn, "voucher_line"):
            conn.execute(text(drop))
        rows = conn.execute(
            text(
                "SELECT v.period, l.voucher_id, l.line_no, l.custody_entry_id"
                " FROM voucher_line l JOIN voucher v"
                " ON v.entity_id = l.entity_id AND v.id = l.voucher_id"
                " WHERE l.account_code = '101' AND l.custody_entry_id IS NOT NULL"
                " ORDER BY v.period, l.voucher_id"
            )
        ).all()
        sep_entry = next(r[3] for r in rows if r[0] == SEP)
        (_p, v1, n1, _e1), (_q, v2, n2, _e2) = [r for r in rows if r[0] == OCT]
        update = (
            "UPDATE voucher_line SET custody_entry_id = {} WHERE voucher_id = {} AND line_no = {}"
        )
        conn.execute(text(update.format("NULL", v1, n1)))
        conn.execute(text(update.format(sep_entry, v2, n2)))
        conn.execute(  # and October's running balance of cash, one fen off
            text(
                "UPDATE account_balance SET debit_fen = debit_fen + 1"
                " WHERE period = :p AND account_code = '101'"
            ),
            {"p": OCT},
        )
        found = list(check_verify(make_context(conn, "C001", OCT)))
        trans.rollback()
    custody_problems = [p for p in found if p.subject == "custody"]
    assert any(f"#{v1} 第{n1}行" in p.where and "without" in p.message for p in custody_problems)
    assert any(f"日记账 #{sep_entry}" in p.where for p in custody_problems)
    assert [p.where for p in found if p.subject == "balance"] == ["C001 101 2026-10"]
