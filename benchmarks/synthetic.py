"""Synthetic books (合成账簿) for the benchmarks: deterministic, realistic, cheap to make.

One community's year is a list of :class:`MonthBook`: the cashier's journal
entries of the month (现金/银行日记账) and the vouchers the agency prepares
from the month's claim batch.  Vouchers are drawn from a small set of
everyday templates on the rural-2023 chart (office supplies paid in cash,
utilities from the bank, cadres' subsidies, rent and subsidy income, cash
withdrawals, public-welfare spending split over detail accounts, travel
claims settled against an advance), with 2 to 4 lines each.  Every line on
a cash or bank account names the custody entry that backs it.

Everything comes from ``random.Random(seed * 1000 + community)``: the same
arguments give the same books in every process, so the juzhang run and the
raw baseline insert exactly the same rows.  Ids are those a fresh database
gives: custody entries and vouchers are numbered 1, 2, … per community in
the order they are generated, and vouchers are generated in date order, so
a voucher's id order is its posting order.
"""

from __future__ import annotations

import calendar
import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass

YEAR = 2026
START_PERIOD = YEAR * 100 + 1
CHART = "rural-2023"

DETAIL_ACCOUNTS: tuple[tuple[str, str], ...] = (
    ("10201", "农商银行基本户"),
    ("10202", "建设银行专项资金户"),
    ("50101", "房屋租赁收入"),
    ("50301", "财政补助"),
    ("50302", "专项补助"),
    ("51301", "办公费"),
    ("51302", "干部补贴"),
    ("51303", "水电费"),
    ("51304", "差旅费"),
    ("51401", "环境卫生"),
    ("51402", "帮困救助"),
    ("51403", "文体活动"),
)
"""Detail accounts (明细科目) every benchmark community adds to the chart."""

OPENING_FEN: dict[str, int] = {
    "101": 500_000,
    "10201": 180_000_000,
    "10202": 60_000_000,
    "112": 2_000_000,
    "151": 420_000_000,
    "212": -3_000_000,
    "301": -600_000_000,
    "311": -59_500_000,
}
"""Opening balances in fen, debit positive (they sum to zero)."""

CUSTODY_ACCOUNTS = frozenset({"101", "10201", "10202"})


@dataclass(frozen=True, slots=True)
class SynthCustody:
    """A cashier's journal entry; ``fen`` signed, money in positive."""

    id: int
    date: dt.date
    account: str
    fen: int
    summary: str
    counterparty: str
    reference: str


@dataclass(frozen=True, slots=True)
class SynthLine:
    """A voucher line: ``side`` "D" or "C", ``fen`` positive, ``custody`` an entry id."""

    account: str
    summary: str
    side: str
    fen: int
    custody: int | None


@dataclass(frozen=True, slots=True)
class SynthVoucher:
    """A voucher as generated: its id in a fresh database, date, lines, attachments."""

    id: int
    date: dt.date
    lines: tuple[SynthLine, ...]
    attachments: int


@dataclass(frozen=True, slots=True)
class MonthBook:
    """One community-month: the custody entries, then the vouchers they back."""

    period: int
    custody: tuple[SynthCustody, ...]
    vouchers: tuple[SynthVoucher, ...]


def entity_code(n: int) -> str:
    """Return the code of benchmark community ``n`` (0-based): ``B001`` …"""
    return f"B{n + 1:03d}"


def entity_name(n: int) -> str:
    """Return the name of benchmark community ``n``."""
    return f"第{n + 1}社区股份经济合作社"


_VENDORS = ("城东文具店", "供电公司", "自来水公司", "惠民超市", "绿洁保洁公司", "新华书店")
_TENANTS = ("张记面馆", "便民菜店", "李氏五金", "幸福药房", "社区快递站")


def _fen(rng: random.Random, low_yuan: int, high_yuan: int) -> int:
    """An amount in fen: mostly whole yuan, sometimes with jiao and fen."""
    yuan = rng.randint(low_yuan, high_yuan)
    return yuan * 100 + (rng.choice((0, 0, 0, 50, rng.randint(1, 99))))


class _Month:
    """Builds one month's entries and vouchers, handing out ids as it goes."""

    def __init__(self, rng: random.Random, next_custody: int) -> None:
        self.rng = rng
        self.next_custody = next_custody
        self.custody: list[SynthCustody] = []

    def entry(self, date: dt.date, account: str, fen: int, summary: str, party: str) -> int:
        cid = self.next_custody
        self.next_custody += 1
        ref = f"{'现' if account == '101' else '银'}-{date:%m%d}-{cid:05d}"
        self.custody.append(SynthCustody(cid, date, account, fen, summary, party, ref))
        return cid

    def lines(self, date: dt.date) -> tuple[SynthLine, ...]:
        """Return the lines of one voucher drawn from the everyday templates."""
        rng = self.rng
        kind = rng.choices(range(10), weights=(18, 10, 8, 8, 10, 6, 8, 10, 8, 14))[0]
        d, c = "D", "C"
        if kind == 0:  # office supplies paid in cash
            fen, s, v = _fen(rng, 20, 900), "购办公用品", rng.choice(_VENDORS)
            return (
                SynthLine("51301", s, d, fen, None),
                SynthLine("101", s, c, fen, self.entry(date, "101", -fen, s, v)),
            )
        if kind == 1:  # utilities from the bank
            fen, s = _fen(rng, 200, 8000), "支付水电费"
            return (
                SynthLine("51303", s, d, fen, None),
                SynthLine("10201", s, c, fen, self.entry(date, "10201", -fen, s, "供电公司")),
            )
        if kind == 2:  # accrue cadres' subsidies (no money moves)
            fen, s = _fen(rng, 3000, 20000), "计提本月干部补贴"
            return (SynthLine("51302", s, d, fen, None), SynthLine("212", s, c, fen, None))
        if kind == 3:  # pay cadres' subsidies from the bank
            fen, s = _fen(rng, 3000, 20000), "发放干部补贴"
            return (
                SynthLine("212", s, d, fen, None),
                SynthLine("10201", s, c, fen, self.entry(date, "10201", -fen, s, "工资代发")),
            )
        if kind == 4:  # rent received at the bank
            fen, s, t = _fen(rng, 800, 12000), "收到门面房租金", rng.choice(_TENANTS)
            return (
                SynthLine("10201", s, d, fen, self.entry(date, "10201", fen, s, t)),
                SynthLine("50101", s, c, fen, None),
            )
        if kind == 5:  # subsidy received into the special-funds account
            fen = _fen(rng, 5000, 80000)
            acc, s = rng.choice((("50301", "收到财政补助"), ("50302", "收到专项补助")))
            return (
                SynthLine("10202", s, d, fen, self.entry(date, "10202", fen, s, "街道财政所")),
                SynthLine(acc, s, c, fen, None),
            )
        if kind == 6:  # withdraw petty cash: two custody entries
            fen, s = rng.choice((100_000, 200_000, 300_000)), "提取备用金"
            return (
                SynthLine("101", s, d, fen, self.entry(date, "101", fen, s, "农商银行")),
                SynthLine("10201", s, c, fen, self.entry(date, "10201", -fen, s, "农商银行")),
            )
        if kind == 7:  # environment and culture spending: 3 lines
            a, b, s = _fen(rng, 300, 6000), _fen(rng, 100, 3000), "环境整治及文体活动支出"
            return (
                SynthLine("51401", s, d, a, None),
                SynthLine("51403", s, d, b, None),
                SynthLine("10202", s, c, a + b, self.entry(date, "10202", -a - b, s, "绿洁保洁")),
            )
        if kind == 8:  # public welfare over three detail accounts: 4 lines
            a, b, e = _fen(rng, 200, 3000), _fen(rng, 200, 3000), _fen(rng, 100, 2000)
            s = "公益支出（卫生、救助、文体）"
            return (
                SynthLine("51401", s, d, a, None),
                SynthLine("51402", s, d, b, None),
                SynthLine("51403", s, d, e, None),
                SynthLine(
                    "10202", s, c, a + b + e, self.entry(date, "10202", -a - b - e, s, "受助居民")
                ),
            )
        # travel claim settled against an advance: 3 lines, cash returned
        spent, back, s = _fen(rng, 100, 1500), rng.randint(1, 50) * 1000, "报销差旅费，退回借款"
        return (
            SynthLine("51304", s, d, spent, None),
            SynthLine("101", s, d, back, self.entry(date, "101", back, s, "经办人")),
            SynthLine("112", s, c, spent + back, None),
        )


def community_year(
    community: int, *, months: int, per_month: int, seed: int = 2026
) -> Iterator[MonthBook]:
    """Yield the months of one community's synthetic books, January first.

    Args:
        community: 0-based index of the community.
        months: how many months (1–12) of the year.
        per_month: vouchers per month.
        seed: base seed; the same arguments always give the same books.
    """
    rng = random.Random(seed * 1000 + community)
    next_voucher, next_custody = 1, 1
    for m in range(1, months + 1):
        days = calendar.monthrange(YEAR, m)[1]
        dates = sorted(dt.date(YEAR, m, rng.randint(1, days)) for _ in range(per_month))
        month = _Month(rng, next_custody)
        vouchers = []
        for date in dates:
            lines = month.lines(date)
            vouchers.append(SynthVoucher(next_voucher, date, lines, rng.randint(1, 4)))
            next_voucher += 1
        next_custody = month.next_custody
        yield MonthBook(YEAR * 100 + m, tuple(month.custody), tuple(vouchers))
