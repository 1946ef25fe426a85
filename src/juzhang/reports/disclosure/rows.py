"""The rows of the public disclosure (财务公开表): items, categories, funds, sections, debts.

Immutable values, each with the stable key its figures are named by
(:func:`figure_key`); :class:`juzhang.reports.disclosure.Disclosure` holds them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from juzhang.core.period import format_period

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
            "period": format_period(self.period),
            "line_no": self.line_no,
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
    """A budget line against the books: budget, this period, year to date, remaining, rate.

    ``budget`` is the budget in force (调整后预算); ``initial`` the year's
    budget as set (年初预算, ``None``: the same); :attr:`adjustment` (调整)
    the difference an adjustment made.
    """

    line_no: int
    name: str
    kind: str
    budget: Decimal
    current: Decimal
    ytd: Decimal
    initial: Decimal | None = None

    @property
    def initial_budget(self) -> Decimal:
        """年初预算."""
        return self.budget if self.initial is None else self.initial

    @property
    def adjustment(self) -> Decimal:
        """调整: the budget in force less the initial budget."""
        return self.budget - self.initial_budget

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


def _dec(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


QUESTION_STATUS_ZH = {"open": "待答复", "answered": "已答复", "overdue": "逾期未答复"}


@dataclass(frozen=True, slots=True)
class QuestionRow:
    """A resident's question shown on the board (提问栏/回音栏), as of the board's last day.

    ``status`` is ``answered``, ``open`` or ``overdue`` (open past ``due_on``);
    the texts the board prints are :attr:`question_text`, :attr:`answer_text`
    and :attr:`status_text`, and they are the board's figures (so they are in
    its digest and its published snapshot).
    """

    id: int
    period: int
    line_no: int | None
    line_ref: str
    text: str
    asked_on: dt.date
    due_on: dt.date
    answer: str
    answered_on: dt.date | None
    status: str

    @property
    def key(self) -> str:
        """``question/3``."""
        return f"question/{self.id}"

    @property
    def question_text(self) -> str:
        """``问3（2026年9月 第2行 记-0002 收门面租金 收入 800.00，10月12日提问）：…``."""
        about = f"{self.period // 100}年{self.period % 100}月"
        if self.line_no is not None:
            about += f" 第{self.line_no}行"
            if self.line_ref:
                about += f" {self.line_ref}"
        asked = f"{self.asked_on.month}月{self.asked_on.day}日提问"
        return f"问{self.id}（{about}，{asked}）：{self.text}"

    @property
    def answer_text(self) -> str:
        """``答（10月20日）：…`` or ``尚未答复``."""
        if self.answered_on is None:
            return "尚未答复"
        return f"答（{self.answered_on.month}月{self.answered_on.day}日）：{self.answer}"

    @property
    def status_text(self) -> str:
        """``已答复`` / ``待答复`` / ``逾期未答复``."""
        return QUESTION_STATUS_ZH.get(self.status, self.status)

    @property
    def due_text(self) -> str:
        """The date an answer is due, ``2026-10-27``."""
        return self.due_on.isoformat()

    def to_json(self) -> dict[str, Any]:
        """The question's JSON form (part of the disclosure's, so of the published snapshot)."""
        return {
            "id": self.id,
            "period": format_period(self.period),
            "line": self.line_no,
            "line_ref": self.line_ref,
            "text": self.text,
            "asked_on": self.asked_on.isoformat(),
            "due_on": self.due_on.isoformat(),
            "answer": self.answer,
            "answered_on": None if self.answered_on is None else self.answered_on.isoformat(),
            "status": self.status,
        }
