"""The risk checks read the month, not the history, and give the same signals (issue 18).

:func:`juzhang.risk.risk_report` reads the month's claims and entries, a
window before it (the receipts falling due in it, the claims a split run may
start with, the months of the round-sum check), the earlier claims carrying
the month's invoice numbers, and aggregates for the rest (the cash balance at
the month start, the cash received and not yet matched by deposits).  On a
book of six months built from a seeded generator — receipts late in a month
deposited in the next, cash spent before it is deposited (坐支), entries not
booked whose 摘要 says 存现 or 提现, withdrawals from the bank, invoices claimed
again in later months (spaces, lower case, several numbers in a cell), split
claims across a month's end, round sums paid monthly — its signals for every
month and several thresholds must equal, signal for signal, those of the
reference that reads the whole history (:mod:`tests.risk.risk_reference`, the
code before the change).  Two property tests check the two non-obvious
steps on generated data without a database: the 坐收坐支 matching carried
into a window as one total, and the split runs read from a widened window.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal as D
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from juzhang import books, custody
from juzhang.core.period import first_day, last_day
from juzhang.core.voucher import Line, VoucherDraft
from juzhang.risk import check_split_claims, check_undeposited, risk_report
from juzhang.risk.signal import ClaimRow, EntryRow
from juzhang.risk_config import RiskSettings
from tests.claims.test_claims import Item
from tests.conftest import World
from tests.risk import risk_reference as ref
from tests.risk.test_risk import TWO, claims, deposit, move, w

__all__ = ["w"]  # the fixture, re-used

MONTHS = (202609, 202610, 202611, 202612, 202701, 202702)
VARIANTS = (
    RiskSettings(),
    RiskSettings(
        deposit_days=1,
        split_days=3,
        approval_threshold=D("500.00"),
        cash_limit=D("3000.00"),
        cash_limit_days=1,
        round_sum=True,
        round_months=2,
    ),
    RiskSettings(deposit_days=10, split_days=30, round_sum=True, round_months=3),
)
INVOICES = ("04400190011100001234", "04400190011100005678", "A1B2C3", "044001900111 0000 9999")


def _day(period: int, d: int) -> dt.date:
    return dt.date(period // 100, period % 100, d)


def withdraw(w: World, date: dt.date, amount: str) -> int:
    """Cash taken out of the bank (提现): Dr 101 / Cr 102, both backed. Return the cash entry."""
    value = D(amount)
    cash, bank = w.run(
        custody.record_entries,
        w.entity,
        "cash",
        [
            custody.CustodyInput(date, "101", value, "提取备用金"),
            custody.CustodyInput(date, "102", -value, "提取备用金"),
        ],
    )
    lines = (
        Line("101", "提取备用金", custody_entry=cash, debit=value),
        Line("102", "提取备用金", custody_entry=bank, credit=value),
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


def unbooked(w: World, date: dt.date, amount: str, summary: str) -> int:
    """A cash entry the agency has not booked yet: judged by its 摘要."""
    entry = custody.CustodyInput(date, "101", D(amount), summary)
    (eid,) = w.run(custody.record_entries, w.entity, "cash", [entry])
    return eid


def _build(w: World, folder: Path, seed: int) -> None:
    """Six months of cash, bank and claims, with the month boundaries crossed on purpose."""
    rng = random.Random(seed)
    invoice = 0
    for n, m in enumerate(MONTHS):
        received = 0
        for _ in range(rng.randint(3, 5)):
            fen = rng.choice((30_000, 120_000, 260_000, 450_000, 600_000))
            move(w, _day(m, rng.randint(1, 27)), f"{fen / 100:.2f}", "504", "收场地使用费")
            received += fen
        # late in the month: deposited (perhaps) in the next one
        move(w, _day(m, 28), "800.00", "504", "收停车费")
        received += 80_000
        unbooked(w, _day(m, rng.randint(1, 28)), "150.00", "收现金 零星收入")
        unbooked(w, _day(m, rng.randint(1, 28)), "200.00", "提现 备用金")  # a withdrawal
        if n % 2:
            withdraw(w, _day(m, rng.randint(1, 28)), "500.00")
        move(
            w,
            _day(m, rng.randint(1, 28)),
            f"-{rng.choice((200, 700, 1500))}.00",
            "51301",
            "直接支付维修费",
        )  # 坐支
        # deposits: early in the month (last month's late receipts) and later, partial
        deposit(w, _day(m, rng.randint(1, 3)), f"{rng.choice((500, 900, 1200))}.00")
        part = received * rng.choice((5, 7, 9)) // 10 // 100 * 100
        deposit(w, _day(m, rng.randint(8, 27)), f"{part / 100:.2f}")
        if n % 3 == 2:
            unbooked(w, _day(m, rng.randint(20, 28)), "-300.00", "现金存入银行（未记账）")
        # round sums to the same payee monthly; one month with a contract reference
        move(
            w,
            _day(m, 10),
            "-600.00",
            "51301",
            "保洁费",
            account="102",
            counterparty="洁美保洁公司",
            reference="合同 BJ-1" if n == 3 else "",
        )
        move(w, _day(m, 12), "-800.00", "51301", "绿化养护", account="102", counterparty="青青园林")
        # claims: invoices again across months; a split run across the month's end
        items = []
        for _ in range(rng.randint(2, 3)):
            number = INVOICES[invoice % len(INVOICES)]
            invoice += rng.choice((1, 1, 2))
            text = rng.choice((number, number.lower(), f"{number}、99{invoice:04d}", f" {number} "))
            items.append(
                Item(
                    _day(m, rng.randint(1, 25)),
                    "购买打印纸",
                    D("120.00"),
                    "51301",
                    rng.choice(("现金", "银行")),
                    invoice=text,
                    approver=TWO,
                )
            )
        items.append(
            Item(
                _day(m, rng.randint(1, 25)), "购买茶叶", D("260.00"), "51301", "银行", approver=TWO
            )
        )  # no invoice: 白条
        for d in (26, 28):
            items.append(
                Item(
                    _day(m, d),
                    "购买办公桌椅",
                    D("400.00"),
                    "51301",
                    "银行",
                    handler="陈采购",
                    approver=TWO,
                )
            )
        if n + 1 < len(MONTHS):
            items.append(
                Item(
                    _day(MONTHS[n + 1], 2),
                    "购买办公桌椅",
                    D("400.00"),
                    "51301",
                    "银行",
                    handler="陈采购",
                    approver=TWO,
                    decision="" if n % 2 else "村委会决议 2026-7",
                )
            )
        claims(w, folder, f"{m}.xlsx", items)


def test_the_month_alone_gives_the_signals_of_the_whole_history(w: World, tmp_path: Path) -> None:
    _build(w, tmp_path, seed=18)

    def both(session: Any) -> list[tuple[int, int, tuple[Any, ...], tuple[Any, ...]]]:
        return [
            (
                m,
                i,
                risk_report(session, w.entity, m, settings).signals,
                ref.reference_signals(session, w.entity, m, settings),
            )
            for m in MONTHS
            for i, settings in enumerate(VARIANTS)
        ]

    seen: Counter[str] = Counter()
    for month, variant, new, old in w.run(both):
        assert new == old, (month, variant)
        seen.update(s.check for s in new)
    # the book exercises every check that reads history (or this test could not fail)
    for check in (
        "duplicate_invoice",
        "split_claims",
        "undeposited",
        "cash_on_hand",
        "round_sum",
        "no_invoice",
        "cash_payment",
    ):
        assert seen[check] > 0, (check, seen)


# --------------------------------------------------------------------------- properties


@dataclass
class _Ctx:
    """The parts of a risk context the two checks read, over lists instead of a database."""

    period: int
    settings: RiskSettings
    all_entries: list[EntryRow] = field(default_factory=list)
    transfers: set[int] = field(default_factory=set)
    all_claims: list[ClaimRow] = field(default_factory=list)
    window_from: dt.date | None = None  # the reference's: every entry

    @dataclass
    class _Entity:
        code: str = "C001"

    entity: _Entity = field(default_factory=_Entity)

    @property
    def start(self) -> dt.date:
        return first_day(self.period)

    @property
    def end(self) -> dt.date:
        return last_day(self.period)

    def in_month(self, date: dt.date) -> bool:
        return self.start <= date <= self.end

    def is_transfer(self, e: EntryRow) -> bool:
        return e.id in self.transfers

    def labels_of(self, ids: tuple[int, ...]) -> tuple[str, ...]:
        return ()

    def claim_vouchers(self, claims: tuple[ClaimRow, ...]) -> tuple[str, ...]:
        return ()

    # the reference reads these
    @property
    def entries(self) -> tuple[EntryRow, ...]:
        return tuple(e for e in self.all_entries if self.entries_from <= e.date <= self.end)

    @property
    def claims(self) -> tuple[ClaimRow, ...]:
        return tuple(c for c in self.all_claims if c.date <= self.end)

    # the new checks read these
    @property
    def entries_from(self) -> dt.date:
        if self.window_from is not None:
            return self.window_from
        return self.start - dt.timedelta(days=self.settings.deposit_days)

    def undeposited_before_fen(self, day: dt.date) -> int:
        """The database's running sum, in Python: receipts first within a day."""
        x, lowest = 0, 0
        before = [e for e in self.all_entries if e.date < day]
        for e in sorted(before, key=lambda e: (e.date, e.amount < 0, e.id)):
            t = self.is_transfer(e)
            if e.amount > 0 and not t:
                x += int(e.amount * 100)
            elif e.amount < 0 and t:
                x += int(e.amount * 100)
                lowest = min(lowest, x)
        return x - lowest

    def claims_from(self, first: dt.date) -> tuple[ClaimRow, ...]:
        return tuple(c for c in self.all_claims if first <= c.date <= self.end)

    @property
    def first_claim_date(self) -> dt.date | None:
        return min((c.date for c in self.all_claims if c.date <= self.end), default=None)


_START = dt.date(2026, 1, 1)
_days = st.integers(min_value=0, max_value=150)


@settings(max_examples=300, deadline=None)
@given(
    moves=st.lists(
        st.tuples(_days, st.integers(min_value=-900, max_value=900), st.booleans()),
        max_size=60,
    ),
    deposit_days=st.integers(min_value=1, max_value=40),
    month=st.integers(min_value=1, max_value=5),
)
def test_undeposited_carried_as_one_total_matches_the_whole_matching(
    moves: list[tuple[int, int, bool]], deposit_days: int, month: int
) -> None:
    entries = sorted(
        (
            EntryRow(i + 1, _START + dt.timedelta(days=d), "101", "cash", D(a), "", "", "")
            for i, (d, a, _t) in enumerate(moves)
            if a
        ),
        key=lambda e: (e.date, e.id),
    )
    transfers = {i + 1 for i, (_d, _a, t) in enumerate(moves) if t}
    period = 202600 + month + 1
    ctx = _Ctx(period, RiskSettings(deposit_days=deposit_days), entries, transfers)
    whole = _Ctx(period, ctx.settings, entries, transfers, window_from=dt.date(2000, 1, 1))
    assert check_undeposited(ctx) == ref.check_undeposited(whole)  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=130),
            st.sampled_from((300, 400, 600, 1200)),
            st.sampled_from(("甲", "乙", "")),
            st.sampled_from(("购买桌椅", "购买 茶叶")),
            st.sampled_from((False, False, False, True)),
        ),
        max_size=80,
    ),
    split_days=st.integers(min_value=1, max_value=30),
    month=st.integers(min_value=3, max_value=5),
)
def test_split_runs_from_a_widened_window_match_the_whole_history(
    rows: list[tuple[int, int, str, str, bool]], split_days: int, month: int
) -> None:
    made = [
        ClaimRow(
            i + 1,
            1,
            i + 1,
            _START + dt.timedelta(days=d),
            purpose,
            D(amount),
            "bank",
            "张三",
            payee or "张三",
            "",
            "决议" if decided else "",
            None,
            None,
        )
        for i, (d, amount, payee, purpose, decided) in enumerate(rows)
    ]
    made.sort(key=lambda c: (c.date, c.id))
    ctx = _Ctx(202600 + month, RiskSettings(split_days=split_days), all_claims=made)
    assert check_split_claims(ctx) == ref.check_split_claims(ctx)  # type: ignore[arg-type]


def test_split_runs_cut_from_before_the_window_are_found() -> None:
    """A claim every day: where the runs are cut depends on the first claim, months before."""
    for split_days in (1, 2, 3, 5):
        for first in range(split_days + 1):
            made = [
                ClaimRow(i + 1, 1, i + 1, _START + dt.timedelta(days=d), "购买桌椅", D("600"),
                         "bank", "张三", "张三", "", "", None, None)
                for i, d in enumerate(range(first, 130))
            ]  # fmt: skip
            ctx = _Ctx(202604, RiskSettings(split_days=split_days), all_claims=made)
            new = check_split_claims(ctx)  # type: ignore[arg-type]
            assert new and new == ref.check_split_claims(ctx)  # type: ignore[arg-type]
