"""Public disclosure (财务公开表): what a community posts on its board.

公开透明: income and expenditure are disclosed to the residents, item by item
(逐项逐笔), at least quarterly and monthly where busy (DOMAIN §7).  This
module computes, for one entity and a month or a quarter (any months of one
year), everything the board table shows:

* the title ("幸福社区2026年9月财务收支明细公开表", or "…2026年第3季度…"), the
  entity, the period, the date it is posted and the date it stays up to
  (defaults: by the ``post_by_day`` of the next month, up for as many months
  as it covers, until the day before the next one goes up; a recorded
  :class:`~juzhang.storage.schema.Disclosure` row's dates win);
* every income and expenditure item (:class:`DisclosureItem`): each posted
  voucher line on an income or expense account, closing vouchers (结转,
  kind ``closing``) left out; 序号, 日期, 凭证号, 摘要/用途, 收入 (credit
  positive) or 支出 (debit positive) — so red (红字) lines and refunds show
  negative —, 经办人 (the claim's 经手人 where a claim batch made the voucher,
  else the cashier who recorded the money) and 备注 (red reversal,
  correction, the budget line it belongs to);
* a summary by category (:class:`CategoryRow`), 本期 and 本年累计, configured in
  :mod:`juzhang.disclosure_config` (accounts no category takes are shown as
  其他收入/其他支出（未分类）, so the totals always add up), with the totals
  also in capitals (大写);
* cash and bank (:class:`FundRow`): opening balance, money in, money out and
  closing balance, 本期 and 本年累计, from the ledger;
* the special sections the practice requires (:class:`SectionReport`):
  居民干部补贴、奖金, 救灾救济款物 received and handed out, 各种费用的收缴,
  一事一议 funds and their use — each the posted lines of its accounts with
  totals (and balances where configured);
* each expenditure above the configured threshold again (大额支出);
* receivables and payables (债权债务, :class:`DebtRow`) per detail account;
* budget against actual (:class:`BudgetRow`) where a budget is recorded
  (:mod:`juzhang.budget`);
* the signature block (书记, 主任, 报账员, 代理会计, 民主理财小组 and its opinion,
  from the disclosure's sign-off when there is one);
* a **fingerprint** tying the table to the books: the entity's hash-chain
  head (:func:`juzhang.books.chain_head`) at computation and a digest of every
  figure, ``"H001:2026-09:42:1f0c…(16 hex):9ab3…(16 hex)"`` (entity, period,
  chain sequence, head hash, figure digest).

Every amount the table shows is a :class:`Figure` with a stable key
(:meth:`Disclosure.figures`), e.g. ``item/2026-09/记-0003/2/expense``,
``category/expense/管理费用/ytd``, ``fund/bank/closing``.  The workbook writer
records where it put each figure, so a file can be checked against the books
later (:func:`juzhang.exporters.disclosure_excel.verify_report`).

JSON (``to_json()``), stable schema, amounts as decimal strings::

    {"entity", "entity_name", "title", "period", "first", "last", "year_first",
     "posted_on", "posted_until", "items": [{"no", "date", "voucher", "account",
       "account_name", "summary", "income", "expense", "handler", "remark",
       "category"}],
     "categories": {"income"|"expense": [{"name", "current", "ytd"}]},
     "totals": {"income"|"expense": {"current", "ytd", "capitals"}},
     "funds": [{"key": "cash"|"bank"|"total", "name", "opening", "income", "expense",
       "closing", "ytd_opening", "ytd_income", "ytd_expense"}],
     "sections": [{"key", "title", "debit_label", "credit_label", "balance",
       "rows": [{"date", "voucher", "account", "account_name", "summary",
         "debit", "credit"}], "debit", "credit", "ytd_debit", "ytd_credit",
       "opening", "closing"}],
     "large_expense": {"threshold", "items": [same as items]},
     "debts": {"receivables"|"payables": {"rows": [{"code", "name", "opening",
       "increase", "decrease", "closing"}], "total": {...}}},
     "budget": [{"line_no", "name", "kind", "budget", "current", "ytd",
       "remaining", "rate"}],
     "signatures": {"secretary", "director", "cashier", "bookkeeper", "group",
       "opinion", "signer", "signed_on", "status"},
     "chain": {"seq", "hash"}, "digest", "fingerprint",
     "figures": [{"key", "label", "value"}]}

``income``/``expense``/``debit``/``credit`` are ``null`` on the empty side;
``rate`` is the percentage of the budget used so far (one place) or ``null``
for a zero budget; ``opening``/``closing`` of a section are ``null`` unless
it shows balances (credit positive for credit-side accounts).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from juzhang.books import chain_head
from juzhang.budget import budget_lines
from juzhang.core.period import format_period, next_period, period_of
from juzhang.disclosure_config import (
    Category,
    DisclosureConfig,
    SectionConfig,
    check_config,
    longest_prefix,
    resolve_config,
)
from juzhang.errors import ValidationError
from juzhang.money import capitals, from_fen
from juzhang.reports.ledger import Balances, read_balances, year_start
from juzhang.storage.access import AccountInfo, EntityInfo, accounts_of, get_entity
from juzhang.storage.schema import Claim, RoleGrant, User, Voucher, VoucherLine
from juzhang.storage.schema import Disclosure as DisclosureRow

__all__ = [
    "BudgetRow",
    "CategoryRow",
    "DebtRow",
    "Disclosure",
    "DisclosureItem",
    "Figure",
    "FundRow",
    "SectionReport",
    "SectionRow",
    "SignatureBlock",
    "disclosure",
    "figure_key",
    "period_title",
]

ZERO = Decimal("0.00")
UNCATEGORISED = {"income": "其他收入（未分类）", "expense": "其他支出（未分类）"}
KIND_ZH = {"reversal": "红字冲销", "correction": "订正"}


def figure_key(row: str, column: str) -> str:
    """Return the key of one figure: the row's key and the column (``fund/bank/closing``)."""
    return f"{row}/{column}"


@dataclass(frozen=True, slots=True)
class Figure:
    """One figure the disclosure shows: a stable key, a label for people, the value."""

    key: str
    label: str
    value: Decimal | str


# --------------------------------------------------------------------------- rows


@dataclass(frozen=True, slots=True)
class DisclosureItem:
    """One income or expenditure item (one posted voucher line)."""

    no: int
    period: int
    date: dt.date
    voucher: str
    line_no: int
    account: str
    account_name: str
    summary: str
    income: Decimal | None
    expense: Decimal | None
    handler: str
    remark: str
    category: str

    @property
    def key(self) -> str:
        """``item/2026-09/记-0003/2``."""
        return f"item/{format_period(self.period)}/{self.voucher}/{self.line_no}"

    def to_json(self) -> dict[str, Any]:
        """The item's JSON form."""
        return {
            "no": self.no,
            "date": self.date.isoformat(),
            "voucher": self.voucher,
            "account": self.account,
            "account_name": self.account_name,
            "summary": self.summary,
            "income": _dec(self.income),
            "expense": _dec(self.expense),
            "handler": self.handler,
            "remark": self.remark,
            "category": self.category,
        }


@dataclass(frozen=True, slots=True)
class CategoryRow:
    """A category of the summary: 本期 and 本年累计."""

    kind: str
    name: str
    current: Decimal
    ytd: Decimal

    @property
    def key(self) -> str:
        """``category/expense/管理费用``."""
        return f"category/{self.kind}/{self.name}"


@dataclass(frozen=True, slots=True)
class FundRow:
    """Cash (现金) or bank (银行存款): opening, in, out, closing; 本期 and 本年累计."""

    key_name: str
    name: str
    opening: Decimal
    income: Decimal
    expense: Decimal
    ytd_opening: Decimal
    ytd_income: Decimal
    ytd_expense: Decimal

    @property
    def closing(self) -> Decimal:
        """The balance at the end of the period."""
        return self.opening + self.income - self.expense

    @property
    def key(self) -> str:
        """``fund/cash`` or ``fund/bank``."""
        return f"fund/{self.key_name}"


@dataclass(frozen=True, slots=True)
class SectionRow:
    """A posted line of a special section's accounts."""

    period: int
    date: dt.date
    voucher: str
    line_no: int
    account: str
    account_name: str
    summary: str
    debit: Decimal | None
    credit: Decimal | None


@dataclass(frozen=True, slots=True)
class SectionReport:
    """A special section (专项公开): its lines, totals and, where configured, balances."""

    key: str
    title: str
    debit_label: str
    credit_label: str
    accounts: tuple[str, ...]
    rows: tuple[SectionRow, ...]
    ytd_debit: Decimal
    ytd_credit: Decimal
    opening: Decimal | None
    closing: Decimal | None

    @property
    def debit(self) -> Decimal:
        """Debits of the period."""
        return sum((r.debit for r in self.rows if r.debit is not None), ZERO)

    @property
    def credit(self) -> Decimal:
        """Credits of the period."""
        return sum((r.credit for r in self.rows if r.credit is not None), ZERO)

    @property
    def row_key(self) -> str:
        """``section/relief``."""
        return f"section/{self.key}"

    def line_key(self, row: SectionRow) -> str:
        """``section/relief/2026-09/记-0004/1``."""
        return f"{self.row_key}/{format_period(row.period)}/{row.voucher}/{row.line_no}"


@dataclass(frozen=True, slots=True)
class DebtRow:
    """A receivable or payable account: opening, increase, decrease, closing (natural side)."""

    group: str
    code: str
    name: str
    opening: Decimal
    increase: Decimal
    decrease: Decimal

    @property
    def closing(self) -> Decimal:
        """The balance at the end of the period (natural side positive)."""
        return self.opening + self.increase - self.decrease

    @property
    def key(self) -> str:
        """``debt/21101`` (``debt/total/payables`` for a group's total)."""
        return f"debt/{self.code}"


@dataclass(frozen=True, slots=True)
class BudgetRow:
    """A budget line against the books: budget, this period, year to date, remaining, rate."""

    line_no: int
    name: str
    kind: str
    budget: Decimal
    current: Decimal
    ytd: Decimal

    @property
    def remaining(self) -> Decimal:
        """Budget minus the year to date."""
        return self.budget - self.ytd

    @property
    def rate(self) -> Decimal | None:
        """Percentage of the budget reached so far (one place), None for a zero budget."""
        if self.budget == 0:
            return None
        return (self.ytd * 100 / self.budget).quantize(Decimal("0.1"))

    @property
    def key(self) -> str:
        """``budget/1``."""
        return f"budget/{self.line_no}"


@dataclass(frozen=True, slots=True)
class SignatureBlock:
    """Who signs (names) and the 民主理财小组's opinion when it has signed."""

    secretary: str
    director: str
    cashier: str
    bookkeeper: str
    group: tuple[str, ...]
    opinion: str
    signer: str
    signed_on: dt.date | None
    status: str


# --------------------------------------------------------------------------- the report


@dataclass(frozen=True, slots=True)
class Disclosure:
    """The public disclosure (财务公开表) of one entity for a month or a quarter."""

    entity: str
    entity_name: str
    community: str
    title: str
    first: int
    last: int
    year_first: int
    posted_on: dt.date
    posted_until: dt.date
    items: tuple[DisclosureItem, ...]
    income_categories: tuple[CategoryRow, ...]
    expense_categories: tuple[CategoryRow, ...]
    funds: tuple[FundRow, ...]
    sections: tuple[SectionReport, ...]
    large_threshold: Decimal
    receivables: tuple[DebtRow, ...]
    payables: tuple[DebtRow, ...]
    budget: tuple[BudgetRow, ...]
    signatures: SignatureBlock
    chain_seq: int
    chain_hash: str
    config: DisclosureConfig
    _memo: dict[str, Any] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )
    """Derived values computed once (the figures and their digest); never part of the value."""

    # -- derived figures

    @property
    def period_label(self) -> str:
        """``"2026-09"`` or ``"2026-07..2026-09"``."""
        a, b = format_period(self.first), format_period(self.last)
        return a if a == b else f"{a}..{b}"

    @property
    def period_text(self) -> str:
        """The period in words: ``2026年9月``, ``2026年第3季度`` or ``2026年7月至8月``."""
        return period_title(self.first, self.last)

    @property
    def total_income(self) -> Decimal:
        """Income of the period (sum of the items)."""
        return sum((c.current for c in self.income_categories), ZERO)

    @property
    def total_expense(self) -> Decimal:
        """Expenditure of the period."""
        return sum((c.current for c in self.expense_categories), ZERO)

    @property
    def ytd_income(self) -> Decimal:
        """Income of the year to the end of the period (本年累计)."""
        return sum((c.ytd for c in self.income_categories), ZERO)

    @property
    def ytd_expense(self) -> Decimal:
        """Expenditure of the year to the end of the period."""
        return sum((c.ytd for c in self.expense_categories), ZERO)

    @property
    def large_items(self) -> tuple[DisclosureItem, ...]:
        """Expenditure items above the threshold (大额支出)."""
        return tuple(
            i for i in self.items if i.expense is not None and i.expense > self.large_threshold
        )

    def section(self, key: str) -> SectionReport:
        """Return one special section (KeyError when absent)."""
        for s in self.sections:
            if s.key == key:
                return s
        raise KeyError(key)

    def category(self, kind: str, name: str) -> CategoryRow:
        """Return one category row (KeyError when absent)."""
        rows = self.income_categories if kind == "income" else self.expense_categories
        for c in rows:
            if c.name == name:
                return c
        raise KeyError(name)

    def fund(self, key: str) -> FundRow:
        """Return the cash (``"cash"``), bank (``"bank"``) or total (``"total"``) row."""
        for f in (*self.funds, self.fund_total):
            if f.key_name == key:
                return f
        raise KeyError(key)

    @property
    def fund_total(self) -> FundRow:
        """Cash and bank together (合计)."""
        return FundRow(
            "total",
            "合计",
            *(
                sum((getattr(f, name) for f in self.funds), ZERO)
                for name in (
                    "opening",
                    "income",
                    "expense",
                    "ytd_opening",
                    "ytd_income",
                    "ytd_expense",
                )
            ),
        )

    # -- figures and fingerprint

    def figures(self) -> tuple[Figure, ...]:
        """Every figure the table shows, keyed stably (see the module docstring).

        Computed once per disclosure: the workbook asks for them, and for the
        digest they give, several times.
        """
        if "figures" not in self._memo:
            self._memo["figures"] = tuple(_figures(self))
        figures: tuple[Figure, ...] = self._memo["figures"]
        return figures

    @property
    def digest(self) -> str:
        """SHA-256 over the entity, the period and every figure (hex)."""
        if "digest" not in self._memo:
            self._memo["digest"] = figures_digest(self.entity, self.period_label, self.figures())
        digest: str = self._memo["digest"]
        return digest

    @property
    def fingerprint(self) -> str:
        """``"H001:2026-09:<chain seq>:<head hash, 16 hex>:<figure digest, 16 hex>"``."""
        return (
            f"{self.entity}:{self.period_label}:{self.chain_seq}:"
            f"{self.chain_hash[:16]}:{self.digest[:16]}"
        )

    def to_json(self) -> dict[str, Any]:
        """Return the documented JSON form (see the module docstring)."""
        return _json(self)


def figures_digest(entity: str, period_label: str, figures: Iterable[Figure]) -> str:
    """Return the SHA-256 (hex) of an entity, a period and figures (order does not matter)."""
    body = json.dumps(
        {
            "entity": entity,
            "period": period_label,
            "figures": sorted([f.key, str(f.value)] for f in figures),
        },
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def period_title(first: int, last: int) -> str:
    """Return the period in words: ``2026年9月``, ``2026年第3季度``, ``2026年7月至8月``."""
    year, m1, m2 = first // 100, first % 100, last % 100
    if first == last:
        return f"{year}年{m1}月"
    if m1 % 3 == 1 and m2 == m1 + 2:
        return f"{year}年第{(m1 + 2) // 3}季度"
    if m1 == 1 and m2 == 12:
        return f"{year}年度"
    return f"{year}年{m1}月至{m2}月"


def _dec(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _figures(d: Disclosure) -> Iterator[Figure]:
    for i in d.items:
        where = f"序号{i.no} {i.voucher} {i.summary}"
        if i.income is not None:
            yield Figure(figure_key(i.key, "income"), f"{where} 收入", i.income)
        if i.expense is not None:
            yield Figure(figure_key(i.key, "expense"), f"{where} 支出", i.expense)
    for c in (*d.income_categories, *d.expense_categories):
        kind = "收入" if c.kind == "income" else "支出"
        yield Figure(figure_key(c.key, "current"), f"{kind} {c.name} 本期", c.current)
        yield Figure(figure_key(c.key, "ytd"), f"{kind} {c.name} 本年累计", c.ytd)
    for kind, zh, current, ytd in (
        ("income", "收入", d.total_income, d.ytd_income),
        ("expense", "支出", d.total_expense, d.ytd_expense),
    ):
        yield Figure(figure_key(f"total/{kind}", "current"), f"{zh}合计 本期", current)
        yield Figure(figure_key(f"total/{kind}", "ytd"), f"{zh}合计 本年累计", ytd)
        yield Figure(figure_key(f"total/{kind}", "capitals"), f"{zh}合计 大写", capitals(current))
    for f in (*d.funds, d.fund_total):
        for column, zh, value in (
            ("opening", "期初余额", f.opening),
            ("income", "本期收入", f.income),
            ("expense", "本期支出", f.expense),
            ("closing", "期末余额", f.closing),
            ("ytd_opening", "年初余额", f.ytd_opening),
            ("ytd_income", "本年收入", f.ytd_income),
            ("ytd_expense", "本年支出", f.ytd_expense),
        ):
            yield Figure(figure_key(f.key, column), f"{f.name} {zh}", value)
    for s in d.sections:
        yield from _section_figures(s)
    for i in d.large_items:
        yield Figure(
            figure_key(i.key.replace("item/", "large/", 1), "expense"),
            f"大额支出 {i.voucher} {i.summary}",
            i.expense or ZERO,
        )
    for group, rows in (("receivables", d.receivables), ("payables", d.payables)):
        for r in (*rows, debt_total(group, rows)):
            for column, zh, value in (
                ("opening", "期初", r.opening),
                ("increase", "增加", r.increase),
                ("decrease", "减少", r.decrease),
                ("closing", "期末", r.closing),
            ):
                yield Figure(figure_key(r.key, column), f"{r.code} {r.name} {zh}", value)
    for b in d.budget:
        for column, zh, val in (
            ("budget", "预算", b.budget),
            ("current", "本期", b.current),
            ("ytd", "本年累计", b.ytd),
            ("remaining", "预算余额", b.remaining),
            ("rate", "执行率%", b.rate),
        ):
            if val is not None:
                yield Figure(figure_key(b.key, column), f"预算 {b.name} {zh}", val)


def _section_figures(s: SectionReport) -> Iterator[Figure]:
    for r in s.rows:
        where = f"{s.title} {r.voucher} {r.summary}"
        if r.debit is not None:
            yield Figure(figure_key(s.line_key(r), "debit"), f"{where} {s.debit_label}", r.debit)
        if r.credit is not None:
            yield Figure(figure_key(s.line_key(r), "credit"), f"{where} {s.credit_label}", r.credit)
    total = f"{s.row_key}/total"
    if s.debit_label:
        yield Figure(figure_key(total, "debit"), f"{s.title} {s.debit_label} 本期", s.debit)
        yield Figure(figure_key(total, "ytd_debit"), f"{s.title} {s.debit_label} 本年", s.ytd_debit)
    if s.credit_label:
        yield Figure(figure_key(total, "credit"), f"{s.title} {s.credit_label} 本期", s.credit)
        yield Figure(
            figure_key(total, "ytd_credit"), f"{s.title} {s.credit_label} 本年", s.ytd_credit
        )
    if s.opening is not None and s.closing is not None:
        yield Figure(figure_key(total, "opening"), f"{s.title} 期初余额", s.opening)
        yield Figure(figure_key(total, "closing"), f"{s.title} 期末余额", s.closing)


def debt_total(group: str, rows: Sequence[DebtRow]) -> DebtRow:
    """Return the total row of a debt group (``code`` ``total/<group>``)."""
    name = "债权合计" if group == "receivables" else "债务合计"
    return DebtRow(
        group,
        f"total/{group}",
        name,
        sum((r.opening for r in rows), ZERO),
        sum((r.increase for r in rows), ZERO),
        sum((r.decrease for r in rows), ZERO),
    )


def _json(d: Disclosure) -> dict[str, Any]:
    def debts(group: str, rows: Sequence[DebtRow]) -> dict[str, Any]:
        def one(r: DebtRow) -> dict[str, Any]:
            return {
                "code": r.code,
                "name": r.name,
                "opening": str(r.opening),
                "increase": str(r.increase),
                "decrease": str(r.decrease),
                "closing": str(r.closing),
            }

        return {"rows": [one(r) for r in rows], "total": one(debt_total(group, rows))}

    sig = d.signatures
    return {
        "entity": d.entity,
        "entity_name": d.entity_name,
        "title": d.title,
        "period": d.period_label,
        "first": format_period(d.first),
        "last": format_period(d.last),
        "year_first": format_period(d.year_first),
        "posted_on": d.posted_on.isoformat(),
        "posted_until": d.posted_until.isoformat(),
        "items": [i.to_json() for i in d.items],
        "categories": {
            kind: [{"name": c.name, "current": str(c.current), "ytd": str(c.ytd)} for c in rows]
            for kind, rows in (("income", d.income_categories), ("expense", d.expense_categories))
        },
        "totals": {
            "income": {
                "current": str(d.total_income),
                "ytd": str(d.ytd_income),
                "capitals": capitals(d.total_income),
            },
            "expense": {
                "current": str(d.total_expense),
                "ytd": str(d.ytd_expense),
                "capitals": capitals(d.total_expense),
            },
        },
        "funds": [
            {
                "key": f.key_name,
                "name": f.name,
                "opening": str(f.opening),
                "income": str(f.income),
                "expense": str(f.expense),
                "closing": str(f.closing),
                "ytd_opening": str(f.ytd_opening),
                "ytd_income": str(f.ytd_income),
                "ytd_expense": str(f.ytd_expense),
            }
            for f in (*d.funds, d.fund_total)
        ],
        "sections": [
            {
                "key": s.key,
                "title": s.title,
                "debit_label": s.debit_label,
                "credit_label": s.credit_label,
                "balance": s.opening is not None,
                "rows": [
                    {
                        "date": r.date.isoformat(),
                        "voucher": r.voucher,
                        "account": r.account,
                        "account_name": r.account_name,
                        "summary": r.summary,
                        "debit": _dec(r.debit),
                        "credit": _dec(r.credit),
                    }
                    for r in s.rows
                ],
                "debit": str(s.debit),
                "credit": str(s.credit),
                "ytd_debit": str(s.ytd_debit),
                "ytd_credit": str(s.ytd_credit),
                "opening": _dec(s.opening),
                "closing": _dec(s.closing),
            }
            for s in d.sections
        ],
        "large_expense": {
            "threshold": str(d.large_threshold),
            "items": [i.to_json() for i in d.large_items],
        },
        "debts": {
            "receivables": debts("receivables", d.receivables),
            "payables": debts("payables", d.payables),
        },
        "budget": [
            {
                "line_no": b.line_no,
                "name": b.name,
                "kind": b.kind,
                "budget": str(b.budget),
                "current": str(b.current),
                "ytd": str(b.ytd),
                "remaining": str(b.remaining),
                "rate": _dec(b.rate),
            }
            for b in d.budget
        ],
        "signatures": {
            "secretary": sig.secretary,
            "director": sig.director,
            "cashier": sig.cashier,
            "bookkeeper": sig.bookkeeper,
            "group": list(sig.group),
            "opinion": sig.opinion,
            "signer": sig.signer,
            "signed_on": None if sig.signed_on is None else sig.signed_on.isoformat(),
            "status": sig.status,
        },
        "chain": {"seq": d.chain_seq, "hash": d.chain_hash},
        "digest": d.digest,
        "fingerprint": d.fingerprint,
        "figures": [{"key": f.key, "label": f.label, "value": str(f.value)} for f in d.figures()],
    }


# --------------------------------------------------------------------------- reading the books


@dataclass(frozen=True, slots=True)
class _PostedLine:
    voucher_id: int
    period: int
    date: dt.date
    voucher: str
    kind: str
    cashier: int | None
    line_no: int
    account: str
    summary: str
    side: str
    amount: int  # as posted: negative on red lines

    @property
    def signed(self) -> int:
        """The amount debit positive (a red debit counts negative)."""
        return self.amount if self.side == "D" else -self.amount


def _posted_lines(
    session: Session, entity_id: int, codes: Iterable[str], first: int, last: int
) -> list[_PostedLine]:
    """Posted lines on ``codes`` in ``first..last``, closing vouchers left out, in book order."""
    wanted = sorted(set(codes))
    if not wanted:
        return []
    rows = session.execute(
        select(
            Voucher.id,
            Voucher.period,
            Voucher.voucher_date,
            Voucher.word,
            Voucher.number,
            Voucher.kind,
            Voucher.cashier_id,
            VoucherLine.line_no,
            VoucherLine.account_code,
            VoucherLine.summary,
            VoucherLine.side,
            VoucherLine.amount_fen,
        )
        .join(
            VoucherLine,
            and_(VoucherLine.entity_id == Voucher.entity_id, VoucherLine.voucher_id == Voucher.id),
        )
        .where(
            Voucher.entity_id == entity_id,
            Voucher.status == "posted",
            Voucher.kind != "closing",
            Voucher.period >= first,
            Voucher.period <= last,
            VoucherLine.account_code.in_(wanted),
        )
        .order_by(Voucher.period, Voucher.number, VoucherLine.line_no)
    )
    return [
        _PostedLine(
            int(vid),
            int(period),
            date,
            f"{word}-{int(number or 0):04d}",
            kind,
            None if cashier is None else int(cashier),
            int(line_no),
            code,
            summary,
            side,
            int(fen),
        )
        for (vid, period, date, word, number, kind, cashier, line_no, code, summary, side, fen) in (
            rows
        )
    ]


def _closing_moves(
    session: Session, entity_id: int, first: int, last: int
) -> dict[str, dict[int, tuple[int, int]]]:
    """(debit, credit) of posted closing vouchers (结转) per account and month."""
    rows = session.execute(
        select(Voucher.period, VoucherLine.account_code, VoucherLine.side, VoucherLine.amount_fen)
        .join(
            VoucherLine,
            and_(VoucherLine.entity_id == Voucher.entity_id, VoucherLine.voucher_id == Voucher.id),
        )
        .where(
            Voucher.entity_id == entity_id,
            Voucher.status == "posted",
            Voucher.kind == "closing",
            Voucher.period >= first,
            Voucher.period <= last,
        )
    )
    out: dict[str, dict[int, tuple[int, int]]] = defaultdict(dict)
    for period, code, side, fen in rows:
        d, c = out[code].get(int(period), (0, 0))
        out[code][int(period)] = (d + int(fen), c) if side == "D" else (d, c + int(fen))
    return out


@dataclass(frozen=True, slots=True)
class _Books:
    """What the report reads once: accounts, balances, closing moves."""

    ent: EntityInfo
    accounts: Mapping[str, AccountInfo]
    balances: Balances
    closing: Mapping[str, Mapping[int, tuple[int, int]]]

    def net(self, codes: Sequence[str], first: int, last: int) -> tuple[int, int]:
        """(debit, credit) of ``codes`` over ``first..last`` without closing vouchers."""
        debit, credit = self.balances.flows(codes, first, last)
        for code in codes:
            for p, (cd, cc) in self.closing.get(code, {}).items():
                if first <= p <= last:
                    debit -= cd
                    credit -= cc
        return debit, credit

    def leaves(self, prefixes: Iterable[str]) -> list[str]:
        """Leaf codes under any of ``prefixes``."""
        pre = tuple(prefixes)
        return sorted(
            a.code for a in self.accounts.values() if a.leaf and pre and a.code.startswith(pre)
        )


def _category_of(code: str, categories: Sequence[Category], fallback: str) -> str:
    best, name = 0, fallback
    for c in categories:
        n = longest_prefix(code, c.accounts)
        if n > best:
            best, name = n, c.name
    return name


def _handlers(
    session: Session, entity_id: int, lines: Sequence[_PostedLine]
) -> dict[tuple[int, int], str]:
    """经办人 per (voucher id, line no): the claim's 经手人, else the recording cashier."""
    ids = sorted({ln.voucher_id for ln in lines})
    claims: dict[int, list[tuple[str | None, int, str]]] = defaultdict(list)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for vid, code, fen, handler in session.execute(
            select(Claim.voucher_id, Claim.account_code, Claim.amount_fen, Claim.handler).where(
                Claim.entity_id == entity_id, Claim.voucher_id.in_(chunk)
            )
        ):
            if vid is not None and handler:
                claims[int(vid)].append((code, int(fen), handler.strip()))
    cashier_ids = {ln.cashier for ln in lines if ln.cashier is not None}
    names = (
        dict(session.execute(select(User.id, User.name).where(User.id.in_(cashier_ids))).all())
        if cashier_ids
        else {}
    )
    out: dict[tuple[int, int], str] = {}
    for ln in lines:
        found = claims.get(ln.voucher_id, [])
        exact = [h for code, fen, h in found if code == ln.account and fen == abs(ln.signed)]
        handlers = exact or sorted({h for _c, _f, h in found})
        if handlers:
            out[(ln.voucher_id, ln.line_no)] = "、".join(dict.fromkeys(handlers))
        elif ln.cashier is not None:
            out[(ln.voucher_id, ln.line_no)] = str(names.get(ln.cashier, ""))
    return out


def _items(
    session: Session,
    books: _Books,
    config: DisclosureConfig,
    first: int,
    last: int,
    budget_names: Mapping[str, str],
) -> tuple[DisclosureItem, ...]:
    kinds = {
        a.code: a.category
        for a in books.accounts.values()
        if a.leaf and a.category in ("income", "expense")
    }
    lines = _posted_lines(session, books.ent.id, kinds, first, last)
    handlers = _handlers(session, books.ent.id, lines)
    items = []
    for no, ln in enumerate(lines, 1):
        kind = kinds[ln.account]
        category = _category_of(
            ln.account,
            (config.income if kind == "income" else config.expense) or (),
            UNCATEGORISED[kind],
        )
        remark = [KIND_ZH[ln.kind]] if ln.kind in KIND_ZH else []
        if ln.account in budget_names:
            remark.append(f"预算：{budget_names[ln.account]}")
        amount = from_fen(-ln.signed if kind == "income" else ln.signed)
        items.append(
            DisclosureItem(
                no=no,
                period=ln.period,
                date=ln.date,
                voucher=ln.voucher,
                line_no=ln.line_no,
                account=ln.account,
                account_name=books.accounts[ln.account].name,
                summary=ln.summary,
                income=amount if kind == "income" else None,
                expense=amount if kind == "expense" else None,
                handler=handlers.get((ln.voucher_id, ln.line_no), ""),
                remark="；".join(remark),
                category=category,
            )
        )
    return tuple(items)


def _categories(
    books: _Books,
    config: DisclosureConfig,
    items: Sequence[DisclosureItem],
    first: int,
    last: int,
    year_first: int,
) -> tuple[tuple[CategoryRow, ...], tuple[CategoryRow, ...]]:
    out = []
    for kind, configured in (("income", config.income or ()), ("expense", config.expense or ())):
        names = [c.name for c in configured]
        current: dict[str, Decimal] = defaultdict(lambda: ZERO)
        for i in items:
            value = i.income if kind == "income" else i.expense
            if value is not None:
                current[i.category] += value
        ytd_fen: dict[str, int] = defaultdict(int)
        for a in books.accounts.values():
            if not a.leaf or a.category != kind:
                continue
            debit, credit = books.net([a.code], year_first, last)
            name = _category_of(a.code, configured, UNCATEGORISED[kind])
            ytd_fen[name] += credit - debit if kind == "income" else debit - credit
        if any(v for k, v in ytd_fen.items() if k not in names) or UNCATEGORISED[kind] in current:
            names.append(UNCATEGORISED[kind])
        out.append(
            tuple(
                CategoryRow(kind, name, current[name], from_fen(ytd_fen.get(name, 0)))
                for name in names
            )
        )
    return out[0], out[1]


def _funds(books: _Books, first: int, last: int, year_first: int) -> tuple[FundRow, ...]:
    rows = []
    for kind, name in (("cash", "现金"), ("bank", "银行存款")):
        codes = sorted(a.code for a in books.accounts.values() if a.leaf and a.custody == kind)
        b = books.balances
        d, c = b.flows(codes, first, last)
        yd, yc = b.flows(codes, year_first, last)
        rows.append(
            FundRow(
                kind,
                name,
                from_fen(b.balance_before(codes, first)),
                from_fen(d),
                from_fen(c),
                from_fen(b.balance_before(codes, year_first)),
                from_fen(yd),
                from_fen(yc),
            )
        )
    return tuple(rows)


def _sections(
    session: Session,
    books: _Books,
    config: DisclosureConfig,
    first: int,
    last: int,
    year_first: int,
) -> tuple[SectionReport, ...]:
    out = []
    for s in config.sections or ():
        out.append(_section(session, books, s, first, last, year_first))
    return tuple(out)


def _section(
    session: Session,
    books: _Books,
    s: SectionConfig,
    first: int,
    last: int,
    year_first: int,
) -> SectionReport:
    codes = books.leaves(s.accounts)
    rows = tuple(
        SectionRow(
            ln.period,
            ln.date,
            ln.voucher,
            ln.line_no,
            ln.account,
            books.accounts[ln.account].name,
            ln.summary,
            from_fen(ln.amount) if ln.side == "D" else None,
            from_fen(ln.amount) if ln.side == "C" else None,
        )
        for ln in _posted_lines(session, books.ent.id, codes, first, last)
        if (ln.side == "D" and s.debit) or (ln.side == "C" and s.credit)
    )
    ytd_debit, ytd_credit = books.net(codes, year_first, last)
    opening = closing = None
    if s.balance:
        credit_side = bool(codes) and all(
            books.accounts[c].side == "credit" or books.accounts[c].category == "liability"
            for c in codes
        )
        sign = -1 if credit_side else 1
        opening = from_fen(sign * books.balances.balance_before(codes, first))
        closing = from_fen(sign * books.balances.balance_before(codes, next_period(last)))
    return SectionReport(
        key=s.key,
        title=s.title,
        debit_label=s.debit,
        credit_label=s.credit,
        accounts=s.accounts,
        rows=rows,
        ytd_debit=from_fen(ytd_debit) if s.debit else ZERO,
        ytd_credit=from_fen(ytd_credit) if s.credit else ZERO,
        opening=opening,
        closing=closing,
    )


def _debts(
    books: _Books, prefixes: Sequence[str], group: str, first: int, last: int
) -> tuple[DebtRow, ...]:
    sign = 1 if group == "receivables" else -1
    rows = []
    for code in books.leaves(prefixes):
        opening = sign * books.balances.balance_before([code], first)
        d, c = books.balances.flows([code], first, last)
        increase, decrease = (d, c) if sign == 1 else (c, d)
        if opening == 0 and d == 0 and c == 0:
            continue
        rows.append(
            DebtRow(
                group,
                code,
                _full_name(books.accounts, code),
                from_fen(opening),
                from_fen(increase),
                from_fen(decrease),
            )
        )
    return tuple(rows)


def _full_name(accounts: Mapping[str, AccountInfo], code: str) -> str:
    """``应付款—应付绿化养护费`` for a detail account."""
    parts = []
    current: str | None = code
    while current is not None:
        parts.append(accounts[current].name)
        current = accounts[current].parent
    return "—".join(reversed(parts))


def _budget(
    session: Session, books: _Books, first: int, last: int, year_first: int
) -> tuple[tuple[BudgetRow, ...], dict[str, str]]:
    lines = budget_lines(session, books.ent.code, last // 100)
    rows = []
    names: dict[str, str] = {}
    best: dict[str, int] = {}
    for b in lines:
        codes = books.leaves(b.accounts)
        sign = 1 if b.kind == "expense" else -1
        d, c = books.net(codes, first, last)
        yd, yc = books.net(codes, year_first, last)
        rows.append(
            BudgetRow(
                b.line_no,
                b.name,
                b.kind,
                b.amount,
                from_fen(sign * (d - c)),
                from_fen(sign * (yd - yc)),
            )
        )
        for code in codes:
            n = longest_prefix(code, b.accounts)
            if n > best.get(code, 0):
                best[code], names[code] = n, b.name
    return tuple(rows), names


def _people(session: Session, entity_id: int, role: str) -> list[str]:
    rows = session.execute(
        select(User.name)
        .join(RoleGrant, RoleGrant.user_id == User.id)
        .where(RoleGrant.entity_id == entity_id, RoleGrant.role == role)
        .order_by(User.name)
    )
    return [str(n) for (n,) in rows]


def _signatures(
    session: Session, ent: EntityInfo, config: DisclosureConfig, row: DisclosureRow | None
) -> SignatureBlock:
    sig = config.signatures
    group = sig.group or tuple(_people(session, ent.id, "supervisor"))
    return SignatureBlock(
        secretary=sig.secretary,
        director=sig.director,
        cashier=sig.cashier or "、".join(_people(session, ent.id, "cashier")),
        bookkeeper=sig.bookkeeper or "、".join(_people(session, ent.id, "bookkeeper")),
        group=tuple(group),
        opinion=row.opinion if row is not None and row.signed_on is not None else "",
        signer=row.signer_name if row is not None and row.signed_on is not None else "",
        signed_on=row.signed_on if row is not None else None,
        status=row.status if row is not None else "",
    )


def _add_months(date: dt.date, months: int) -> dt.date:
    p = period_of(date)
    for _ in range(months):
        p = next_period(p)
    return dt.date(p // 100, p % 100, date.day)


def _check_range(first: int, last: int) -> None:
    if last < first:
        raise ValidationError(
            f"期间 period {format_period(first)}..{format_period(last)}",
            "结束早于开始 / range runs backwards",
        )
    if first // 100 != last // 100:
        raise ValidationError(
            f"期间 period {format_period(first)}..{format_period(last)}",
            "公开期间不能跨年 / a disclosure covers months of one year",
        )


def disclosure(
    session: Session,
    entity: str,
    first: int,
    last: int | None = None,
    *,
    config: DisclosureConfig | None = None,
    posted_on: dt.date | None = None,
    posted_until: dt.date | None = None,
) -> Disclosure:
    """Compute the public disclosure (财务公开表) of ``entity`` for ``first..last``.

    ``config`` defaults to :func:`juzhang.disclosure_config.default_config`;
    parts a configuration leaves out are taken from that default.
    ``posted_on`` defaults to the recorded disclosure's date, else the
    config's ``post_by_day`` of the month after ``last``; ``posted_until`` to
    the recorded date, else the day before the next disclosure goes up
    (``posted_on`` plus as many months as the disclosure covers, less a day).

    Raises:
        NotFoundError: unknown entity.
        ValidationError: the range runs backwards or crosses a year.
        ProblemsError: the configuration does not fit the entity.
    """
    last = first if last is None else last
    _check_range(first, last)
    ent = get_entity(session, entity)
    accounts = accounts_of(session, ent.id)
    config = resolve_config(config or DisclosureConfig(ent.chart), ent.chart, accounts)
    check_config(config, ent.chart, accounts)
    year_first = year_start(last, ent.start_period)
    earliest = min(first, year_first)
    books = _Books(
        ent,
        accounts,
        read_balances(session, ent.id, last),
        _closing_moves(session, ent.id, earliest, last),
    )
    row = session.execute(
        select(DisclosureRow).where(
            DisclosureRow.entity_id == ent.id,
            DisclosureRow.first_period == first,
            DisclosureRow.last_period == last,
        )
    ).scalar_one_or_none()
    budget, budget_names = _budget(session, books, first, last, year_first)
    items = _items(session, books, config, first, last, budget_names)
    income, expense = _categories(books, config, items, first, last, year_first)
    after = next_period(last)
    default_post = dt.date(after // 100, after % 100, config.post_by_day)
    posted = posted_on or (row.posted_on if row and row.posted_on else None) or default_post
    months = last - first + 1  # same year
    until = (
        posted_until
        or (row.posted_until if row and row.posted_until else None)
        or _add_months(posted, months) - dt.timedelta(days=1)
    )
    seq, head = chain_head(session, entity)
    community = config.community or ent.name
    return Disclosure(
        entity=ent.code,
        entity_name=ent.name,
        community=community,
        title=f"{community}{period_title(first, last)}财务收支明细公开表",
        first=first,
        last=last,
        year_first=year_first,
        posted_on=posted,
        posted_until=until,
        items=items,
        income_categories=income,
        expense_categories=expense,
        funds=_funds(books, first, last, year_first),
        sections=_sections(session, books, config, first, last, year_first),
        large_threshold=config.large_expense,
        receivables=_debts(books, config.receivables or (), "receivables", first, last),
        payables=_debts(books, config.payables or (), "payables", first, last),
        budget=budget,
        signatures=_signatures(session, ent, config, row),
        chain_seq=seq,
        chain_hash=head,
        config=config,
    )
