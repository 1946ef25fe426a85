"""Ledgers (账簿): general ledger, subsidiary ledgers, cash and bank journals.

Three books every entity keeps, computed from what is posted:

* **General ledger (总账)** — :func:`general_ledger`: for every first-level
  account (一级科目) and every month of the range, the month's opening balance
  (期初余额), the month's debit and credit (本月合计), the year's debit and
  credit so far (本年累计) and the balance (余额) with its direction 借/贷/平.
  Read entirely from the running balances (``account_balance``) and the
  opening balances: no voucher line is read.
* **Subsidiary ledger (明细账)** — :func:`subsidiary_ledger`: for one account
  of any level (a parent includes its children's lines), an opening row
  (上年结转 when the range starts in January, else 期初余额), every posted line
  of the range in date and voucher-number order with its running balance, and
  at every month end a 本月合计 and a 本年累计 row.  Openings and totals come
  from the running balances; only the lines of the requested accounts and
  months are read.
* **Cash and bank journals (现金/银行日记账)** — :func:`cash_journal`,
  :func:`bank_journal`: the cashier's own records (``custody_entry``, see
  :mod:`juzhang.custody`) with their running balance, set side by side with
  the ledger's view of the same account month by month (账账核对: journal
  balance against ledger balance, and the difference), and the entries not
  (yet) backed by posted voucher lines, which explain such differences.

Conventions shared by every result here:

* Amounts are :class:`~decimal.Decimal` yuan with two places; balances are
  signed **debit positive** (as in the trial balance); :func:`direction`
  gives 借 (debit), 贷 (credit) or 平 (zero) for a balance.
* Red (红字) lines count negative on their own side, so a reversal reduces
  the column it was posted in, as in a paper ledger.
* 本年累计 counts from January, or from the month the entity's books start
  (建账月份) when that is later in the same year: movements before the books
  start are not known.
* The cashier's journals start from the same opening balances as the books
  (agreed once when the books are set up).

JSON (``to_json()``), stable schema, amounts as decimal strings:

* general ledger: ``{"entity", "entity_name", "period", "accounts": [{"code",
  "name", "side", "opening_label", "opening_balance", "opening_direction",
  "months": [{"period", "opening_balance", "debit", "credit", "ytd_debit",
  "ytd_credit", "closing_balance", "direction"}]}]}``;
* subsidiary ledger: ``{"entity", "entity_name", "period", "account": {"code",
  "name", "level", "side"}, "rows": [{"kind": "opening"|"line"|"month_total"|
  "year_total", "period", "date", "voucher", "account", "summary", "debit",
  "credit", "direction", "balance"}]}`` — ``date``/``voucher``/``account`` are
  ``null`` except on lines, ``debit``/``credit`` are ``null`` on opening rows
  and on the empty side of a line;
* custody journal: ``{"entity", "entity_name", "kind": "cash"|"bank", "period",
  "accounts": [{"code", "name", "opening_balance", "entries": [{"id", "date",
  "period", "summary", "counterparty", "reference", "receipt", "payment",
  "balance", "backed", "vouchers": [{"period", "voucher"}]}], "months":
  [{"period", "opening_balance", "receipts", "payments", "ytd_receipts",
  "ytd_payments", "closing_balance", "ledger_opening_balance", "ledger_debit",
  "ledger_credit", "ledger_closing_balance", "difference"}], "unbacked":
  [{"id", "date", "period", "summary", "amount", "backed_amount"}]}]}``;
  ``receipt``/``payment`` are ``null`` on the other side, ``difference`` is
  journal minus ledger.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.orm import Session

from juzhang.core.period import format_period, period_range
from juzhang.errors import NotFoundError, ValidationError
from juzhang.money import from_fen
from juzhang.storage.access import AccountInfo, EntityInfo, accounts_of, get_entity
from juzhang.storage.schema import (
    AccountBalance,
    CustodyEntry,
    OpeningBalance,
    Voucher,
    VoucherLine,
)

__all__ = [
    "Balances",
    "CustodyJournal",
    "CustodyJournalAccount",
    "CustodyJournalEntry",
    "CustodyJournalMonth",
    "GeneralLedger",
    "GeneralLedgerAccount",
    "GeneralLedgerMonth",
    "LedgerRow",
    "SubsidiaryLedger",
    "UnbackedEntry",
    "VoucherRef",
    "bank_journal",
    "cash_journal",
    "custody_journal",
    "direction",
    "general_ledger",
    "read_balances",
    "subsidiary_ledger",
    "subtree",
    "year_start",
]

ZERO = Decimal("0.00")


# --------------------------------------------------------------------------- shared helpers


def direction(balance: Decimal | int) -> str:
    """Return the direction of a debit-positive balance: 借, 贷, or 平 when zero."""
    return "借" if balance > 0 else "贷" if balance < 0 else "平"


def year_start(period: int, start_period: int) -> int:
    """Return the first month of ``period``'s year that the books cover (本年累计 from here).

    January of the year, or ``start_period`` when the books start later that year.
    """
    january = period // 100 * 100 + 1
    return max(january, start_period)


def subtree(accounts: Mapping[str, AccountInfo], code: str) -> list[str]:
    """Return ``code`` and the codes of all its descendants (sorted)."""
    children: dict[str | None, list[str]] = defaultdict(list)
    for acc in accounts.values():
        children[acc.parent].append(acc.code)
    out: list[str] = []
    todo = [code]
    while todo:
        current = todo.pop()
        out.append(current)
        todo.extend(children.get(current, ()))
    return sorted(out)


def _check_range(first: int, last: int) -> None:
    if last < first:
        raise ValidationError(
            f"期间 period {format_period(first)}..{format_period(last)}",
            "结束早于开始 / range runs backwards",
        )


def _label(first: int, last: int) -> str:
    a, b = format_period(first), format_period(last)
    return a if a == b else f"{a}..{b}"


def _dec(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


@dataclass(frozen=True, slots=True)
class Balances:
    """Opening balances and running movements of one entity, in fen (the reports' reader).

    ``opening`` maps an account code to its balance when the books start
    (debit positive); ``moves`` maps a code to ``{period: (debit, credit)}``
    as the running balances hold them (posted vouchers only).
    """

    opening: Mapping[str, int]
    moves: Mapping[str, Mapping[int, tuple[int, int]]]

    def balance_before(self, codes: Iterable[str], period: int) -> int:
        """Return the summed balance of ``codes`` at the start of ``period``."""
        total = 0
        for code in codes:
            total += self.opening.get(code, 0)
            for p, (d, c) in self.moves.get(code, {}).items():
                if p < period:
                    total += d - c
        return total

    def flows(self, codes: Iterable[str], first: int, last: int) -> tuple[int, int]:
        """Return the summed ``(debit, credit)`` of ``codes`` over ``first..last``."""
        debit = credit = 0
        for code in codes:
            for p, (d, c) in self.moves.get(code, {}).items():
                if first <= p <= last:
                    debit += d
                    credit += c
        return debit, credit


def read_balances(
    session: Session, entity_id: int, last: int, codes: Iterable[str] | None = None
) -> Balances:
    """Read the opening balances and the running balances up to ``last`` (no line is read).

    With ``codes`` only those accounts are read.
    """
    wanted = None if codes is None else sorted(set(codes))
    q_open = select(OpeningBalance.account_code, OpeningBalance.amount_fen).where(
        OpeningBalance.entity_id == entity_id
    )
    q_moves = select(
        AccountBalance.account_code,
        AccountBalance.period,
        AccountBalance.debit_fen,
        AccountBalance.credit_fen,
    ).where(AccountBalance.entity_id == entity_id, AccountBalance.period <= last)
    if wanted is not None:
        q_open = q_open.where(OpeningBalance.account_code.in_(wanted))
        q_moves = q_moves.where(AccountBalance.account_code.in_(wanted))
    opening: dict[str, int] = defaultdict(int)
    for code, fen in session.execute(q_open):
        opening[code] += int(fen)
    moves: dict[str, dict[int, tuple[int, int]]] = defaultdict(dict)
    for code, period, d, c in session.execute(q_moves):
        moves[code][int(period)] = (int(d), int(c))
    return Balances(dict(opening), dict(moves))


# --------------------------------------------------------------------------- general ledger


@dataclass(frozen=True, slots=True)
class GeneralLedgerMonth:
    """One month of a general-ledger account: 期初, 本月合计, 本年累计, 余额."""

    period: int
    opening_balance: Decimal
    debit: Decimal
    credit: Decimal
    ytd_debit: Decimal
    ytd_credit: Decimal
    closing_balance: Decimal

    @property
    def direction(self) -> str:
        """借/贷/平 of the closing balance."""
        return direction(self.closing_balance)


@dataclass(frozen=True, slots=True)
class GeneralLedgerAccount:
    """A first-level account's page of the general ledger (总账)."""

    code: str
    name: str
    side: str
    opening_label: str
    opening_balance: Decimal
    months: tuple[GeneralLedgerMonth, ...]

    @property
    def closing_balance(self) -> Decimal:
        """The balance at the end of the range."""
        return self.months[-1].closing_balance if self.months else self.opening_balance


@dataclass(frozen=True, slots=True)
class GeneralLedger:
    """The general ledger (总账) of one entity over one month or a range of months."""

    entity: str
    entity_name: str
    first: int
    last: int
    accounts: tuple[GeneralLedgerAccount, ...]

    @property
    def period_label(self) -> str:
        """``"2026-09"`` or ``"2026-09..2026-10"``."""
        return _label(self.first, self.last)

    def account(self, code: str) -> GeneralLedgerAccount:
        """Return the page of one first-level account (KeyError when absent)."""
        for a in self.accounts:
            if a.code == code:
                return a
        raise KeyError(code)

    def to_json(self) -> dict[str, Any]:
        """Return the documented JSON form (see the module docstring)."""
        return {
            "entity": self.entity,
            "entity_name": self.entity_name,
            "period": self.period_label,
            "accounts": [
                {
                    "code": a.code,
                    "name": a.name,
                    "side": a.side,
                    "opening_label": a.opening_label,
                    "opening_balance": str(a.opening_balance),
                    "opening_direction": direction(a.opening_balance),
                    "months": [
                        {
                            "period": format_period(m.period),
                            "opening_balance": str(m.opening_balance),
                            "debit": str(m.debit),
                            "credit": str(m.credit),
                            "ytd_debit": str(m.ytd_debit),
                            "ytd_credit": str(m.ytd_credit),
                            "closing_balance": str(m.closing_balance),
                            "direction": m.direction,
                        }
                        for m in a.months
                    ],
                }
                for a in self.accounts
            ],
        }


def _opening_label(first: int) -> str:
    return "上年结转" if first % 100 == 1 else "期初余额"


def _months(
    balances: Balances, codes: list[str], first: int, last: int, start_period: int
) -> list[GeneralLedgerMonth]:
    out = []
    balance = balances.balance_before(codes, first)
    for p in period_range(first, last):
        d, c = balances.flows(codes, p, p)
        yd, yc = balances.flows(codes, year_start(p, start_period), p)
        out.append(
            GeneralLedgerMonth(
                period=p,
                opening_balance=from_fen(balance),
                debit=from_fen(d),
                credit=from_fen(c),
                ytd_debit=from_fen(yd),
                ytd_credit=from_fen(yc),
                closing_balance=from_fen(balance + d - c),
            )
        )
        balance += d - c
    return out


def general_ledger(
    session: Session,
    entity: str,
    first: int,
    last: int | None = None,
    *,
    include_empty: bool = False,
) -> GeneralLedger:
    """Compute the general ledger (总账) of ``entity`` from month ``first`` to ``last``.

    One page per first-level account, one row per month.  Accounts without an
    opening balance and without movements in the range are left out unless
    ``include_empty``.

    Raises:
        NotFoundError: unknown entity.
        ValidationError: the range runs backwards.
    """
    last = first if last is None else last
    _check_range(first, last)
    ent = get_entity(session, entity)
    accounts = accounts_of(session, ent.id)
    balances = read_balances(session, ent.id, last)
    pages = []
    for acc in sorted(accounts.values(), key=lambda a: a.code):
        if acc.level != 1:
            continue
        codes = subtree(accounts, acc.code)
        months = _months(balances, codes, first, last, ent.start_period)
        opening = from_fen(balances.balance_before(codes, first))
        empty = opening == 0 and all(m.debit == 0 and m.credit == 0 for m in months)
        if empty and not include_empty:
            continue
        pages.append(
            GeneralLedgerAccount(
                acc.code, acc.name, acc.side, _opening_label(first), opening, tuple(months)
            )
        )
    return GeneralLedger(ent.code, ent.name, first, last, tuple(pages))


# --------------------------------------------------------------------------- subsidiary ledger


@dataclass(frozen=True, slots=True)
class LedgerRow:
    """A row of a subsidiary ledger (明细账).

    ``kind`` is ``"opening"`` (上年结转/期初余额), ``"line"`` (a posted voucher
    line), ``"month_total"`` (本月合计) or ``"year_total"`` (本年累计).
    ``balance`` is the balance after the row, debit positive.
    """

    kind: str
    period: int
    date: dt.date | None
    voucher: str | None
    account: str | None
    summary: str
    debit: Decimal | None
    credit: Decimal | None
    balance: Decimal

    @property
    def direction(self) -> str:
        """借/贷/平 of the balance."""
        return direction(self.balance)


@dataclass(frozen=True, slots=True)
class SubsidiaryLedger:
    """The subsidiary ledger (明细账) of one account over one month or a range of months."""

    entity: str
    entity_name: str
    code: str
    name: str
    level: int
    side: str
    first: int
    last: int
    rows: tuple[LedgerRow, ...]

    @property
    def period_label(self) -> str:
        """``"2026-09"`` or ``"2026-09..2026-10"``."""
        return _label(self.first, self.last)

    @property
    def opening_balance(self) -> Decimal:
        """The balance before the first month."""
        return self.rows[0].balance

    @property
    def closing_balance(self) -> Decimal:
        """The balance after the last month."""
        return self.rows[-1].balance

    def lines(self) -> tuple[LedgerRow, ...]:
        """Return the voucher-line rows only."""
        return tuple(r for r in self.rows if r.kind == "line")

    def totals(self, kind: str = "month_total") -> dict[int, LedgerRow]:
        """Return the 本月合计 (or, with ``"year_total"``, 本年累计) rows by period."""
        return {r.period: r for r in self.rows if r.kind == kind}

    def to_json(self) -> dict[str, Any]:
        """Return the documented JSON form (see the module docstring)."""
        return {
            "entity": self.entity,
            "entity_name": self.entity_name,
            "period": self.period_label,
            "account": {
                "code": self.code,
                "name": self.name,
                "level": self.level,
                "side": self.side,
            },
            "rows": [
                {
                    "kind": r.kind,
                    "period": format_period(r.period),
                    "date": r.date.isoformat() if r.date else None,
                    "voucher": r.voucher,
                    "account": r.account,
                    "summary": r.summary,
                    "debit": _dec(r.debit),
                    "credit": _dec(r.credit),
                    "direction": r.direction,
                    "balance": str(r.balance),
                }
                for r in self.rows
            ],
        }


_Line = tuple[dt.date, int, str, int, int, str, str, str, int]


def _ledger_lines(
    session: Session, entity_id: int, codes: list[str], first: int, last: int
) -> dict[int, list[_Line]]:
    """Posted lines of ``codes`` in ``first..last``, by period, in date and number order."""
    rows = session.execute(
        select(
            Voucher.voucher_date,
            Voucher.period,
            Voucher.word,
            Voucher.number,
            VoucherLine.line_no,
            VoucherLine.account_code,
            VoucherLine.summary,
            VoucherLine.side,
            VoucherLine.amount_fen,
        )
        .join(
            Voucher,
            and_(Voucher.entity_id == VoucherLine.entity_id, Voucher.id == VoucherLine.voucher_id),
        )
        .where(
            VoucherLine.entity_id == entity_id,
            VoucherLine.account_code.in_(codes),
            Voucher.status == "posted",
            Voucher.period >= first,
            Voucher.period <= last,
        )
        .order_by(Voucher.voucher_date, Voucher.number, VoucherLine.line_no)
    )
    out: dict[int, list[_Line]] = defaultdict(list)
    for date, period, word, number, no, acc, summary, side, fen in rows:
        out[int(period)].append(
            (date, int(period), word, int(number or 0), int(no), acc, summary, side, int(fen))
        )
    return out


def subsidiary_ledger(
    session: Session, entity: str, account: str, first: int, last: int | None = None
) -> SubsidiaryLedger:
    """Compute the subsidiary ledger (明细账) of one account from ``first`` to ``last``.

    A parent account includes the lines of all its detail accounts.  A January
    inside the range starts with a 上年结转 row.

    Raises:
        NotFoundError: unknown entity or account.
        ValidationError: the range runs backwards.
    """
    last = first if last is None else last
    _check_range(first, last)
    ent = get_entity(session, entity)
    accounts = accounts_of(session, ent.id)
    acc = accounts.get(account)
    if acc is None:
        raise NotFoundError("科目 account", f"{entity} {account}")
    codes = subtree(accounts, account)
    balances = read_balances(session, ent.id, last, codes)
    lines = _ledger_lines(session, ent.id, codes, first, last)
    rows: list[LedgerRow] = []
    balance = balances.balance_before(codes, first)
    rows.append(
        LedgerRow(
            "opening", first, None, None, None, _opening_label(first), None, None, from_fen(balance)
        )
    )
    for p in period_range(first, last):
        if p != first and p % 100 == 1:
            rows.append(
                LedgerRow("opening", p, None, None, None, "上年结转", None, None, from_fen(balance))
            )
        running = balance
        for date, period, word, number, _no, code, summary, side, fen in lines.get(p, []):
            running += fen if side == "D" else -fen
            rows.append(
                LedgerRow(
                    "line",
                    period,
                    date,
                    f"{word}-{number:04d}",
                    code,
                    summary,
                    from_fen(fen) if side == "D" else None,
                    from_fen(fen) if side == "C" else None,
                    from_fen(running),
                )
            )
        d, c = balances.flows(codes, p, p)
        balance += d - c
        yd, yc = balances.flows(codes, year_start(p, ent.start_period), p)
        closing = from_fen(balance)
        rows.append(
            LedgerRow(
                "month_total", p, None, None, None, "本月合计", from_fen(d), from_fen(c), closing
            )
        )
        rows.append(
            LedgerRow(
                "year_total", p, None, None, None, "本年累计", from_fen(yd), from_fen(yc), closing
            )
        )
    return SubsidiaryLedger(
        ent.code, ent.name, acc.code, acc.name, acc.level, acc.side, first, last, tuple(rows)
    )


# --------------------------------------------------------------------------- custody journals


@dataclass(frozen=True, slots=True)
class VoucherRef:
    """A posted voucher named by period and label (``2026-10`` ``记-0001``)."""

    period: int
    voucher: str


@dataclass(frozen=True, slots=True)
class CustodyJournalEntry:
    """A row of the cashier's journal: one recorded movement and the balance after it.

    ``backed`` says whether the posted lines naming the entry net to its
    amount; ``vouchers`` lists the posted vouchers whose lines name it
    (an original, its red reversal, a correction…).
    """

    id: int
    date: dt.date
    period: int
    summary: str
    counterparty: str
    reference: str
    receipt: Decimal | None
    payment: Decimal | None
    balance: Decimal
    backed: bool
    vouchers: tuple[VoucherRef, ...]


@dataclass(frozen=True, slots=True)
class CustodyJournalMonth:
    """One month of a custody account: the journal's figures beside the ledger's (账账核对)."""

    period: int
    opening_balance: Decimal
    receipts: Decimal
    payments: Decimal
    ytd_receipts: Decimal
    ytd_payments: Decimal
    closing_balance: Decimal
    ledger_opening_balance: Decimal
    ledger_debit: Decimal
    ledger_credit: Decimal
    ledger_closing_balance: Decimal

    @property
    def difference(self) -> Decimal:
        """Journal balance minus ledger balance at the month end (0 when they agree)."""
        return self.closing_balance - self.ledger_closing_balance


@dataclass(frozen=True, slots=True)
class UnbackedEntry:
    """A journal entry that posted voucher lines do not (fully) back yet."""

    id: int
    date: dt.date
    period: int
    summary: str
    amount: Decimal
    backed_amount: Decimal


@dataclass(frozen=True, slots=True)
class CustodyJournalAccount:
    """One cash or bank account's journal with the ledger beside it."""

    code: str
    name: str
    opening_balance: Decimal
    entries: tuple[CustodyJournalEntry, ...]
    months: tuple[CustodyJournalMonth, ...]
    unbacked: tuple[UnbackedEntry, ...]

    @property
    def agrees(self) -> bool:
        """Whether journal and ledger agree at every month end."""
        return all(m.difference == 0 for m in self.months)


@dataclass(frozen=True, slots=True)
class CustodyJournal:
    """The cash (现金日记账) or bank (银行日记账) journals of one entity, with the ledger."""

    entity: str
    entity_name: str
    kind: str
    first: int
    last: int
    accounts: tuple[CustodyJournalAccount, ...]

    @property
    def period_label(self) -> str:
        """``"2026-09"`` or ``"2026-09..2026-10"``."""
        return _label(self.first, self.last)

    @property
    def title(self) -> str:
        """现金日记账 or 银行日记账."""
        return "现金日记账" if self.kind == "cash" else "银行日记账"

    def account(self, code: str) -> CustodyJournalAccount:
        """Return one account's journal (KeyError when absent)."""
        for a in self.accounts:
            if a.code == code:
                return a
        raise KeyError(code)

    def to_json(self) -> dict[str, Any]:
        """Return the documented JSON form (see the module docstring)."""
        return {
            "entity": self.entity,
            "entity_name": self.entity_name,
            "kind": self.kind,
            "period": self.period_label,
            "accounts": [_account_json(a) for a in self.accounts],
        }


def _account_json(a: CustodyJournalAccount) -> dict[str, Any]:
    return {
        "code": a.code,
        "name": a.name,
        "opening_balance": str(a.opening_balance),
        "entries": [
            {
                "id": e.id,
                "date": e.date.isoformat(),
                "period": format_period(e.period),
                "summary": e.summary,
                "counterparty": e.counterparty,
                "reference": e.reference,
                "receipt": _dec(e.receipt),
                "payment": _dec(e.payment),
                "balance": str(e.balance),
                "backed": e.backed,
                "vouchers": [
                    {"period": format_period(v.period), "voucher": v.voucher} for v in e.vouchers
                ],
            }
            for e in a.entries
        ],
        "months": [
            {
                "period": format_period(m.period),
                "opening_balance": str(m.opening_balance),
                "receipts": str(m.receipts),
                "payments": str(m.payments),
                "ytd_receipts": str(m.ytd_receipts),
                "ytd_payments": str(m.ytd_payments),
                "closing_balance": str(m.closing_balance),
                "ledger_opening_balance": str(m.ledger_opening_balance),
                "ledger_debit": str(m.ledger_debit),
                "ledger_credit": str(m.ledger_credit),
                "ledger_closing_balance": str(m.ledger_closing_balance),
                "difference": str(m.difference),
            }
            for m in a.months
        ],
        "unbacked": [
            {
                "id": u.id,
                "date": u.date.isoformat(),
                "period": format_period(u.period),
                "summary": u.summary,
                "amount": str(u.amount),
                "backed_amount": str(u.backed_amount),
            }
            for u in a.unbacked
        ],
    }


def _line_net() -> ColumnElement[int]:
    """SQL expression: a line's amount signed debit positive."""
    return case((VoucherLine.side == "D", VoucherLine.amount_fen), else_=-VoucherLine.amount_fen)


def _backing(
    session: Session, entity_id: int, codes: list[str], last: int
) -> tuple[dict[int, int], dict[int, list[VoucherRef]]]:
    """Net posted backing of every entry of ``codes`` up to ``last``, and the vouchers naming it."""
    rows = session.execute(
        select(
            VoucherLine.custody_entry_id,
            Voucher.period,
            Voucher.word,
            Voucher.number,
            func.sum(_line_net()),
        )
        .join(
            Voucher,
            and_(Voucher.entity_id == VoucherLine.entity_id, Voucher.id == VoucherLine.voucher_id),
        )
        .join(
            CustodyEntry,
            and_(
                CustodyEntry.entity_id == VoucherLine.entity_id,
                CustodyEntry.id == VoucherLine.custody_entry_id,
            ),
        )
        .where(
            VoucherLine.entity_id == entity_id,
            VoucherLine.account_code.in_(codes),
            Voucher.status == "posted",
            CustodyEntry.period <= last,
        )
        .group_by(VoucherLine.custody_entry_id, Voucher.period, Voucher.word, Voucher.number)
        .order_by(VoucherLine.custody_entry_id, Voucher.period, Voucher.number)
    )
    net: dict[int, int] = defaultdict(int)
    refs: dict[int, list[VoucherRef]] = defaultdict(list)
    for entry_id, period, word, number, total in rows:
        if entry_id is None:  # excluded by the join; keeps the type checker informed
            continue
        net[entry_id] += int(total)
        refs[entry_id].append(VoucherRef(int(period), f"{word}-{int(number or 0):04d}"))
    return dict(net), dict(refs)


def _custody_account(
    session: Session,
    ent: EntityInfo,
    acc: AccountInfo,
    balances: Balances,
    backing: tuple[dict[int, int], dict[int, list[VoucherRef]]],
    first: int,
    last: int,
) -> CustodyJournalAccount:
    net, refs = backing
    code = acc.code
    ytd_from = year_start(first, ent.start_period)
    entries = session.execute(
        select(
            CustodyEntry.id,
            CustodyEntry.entry_date,
            CustodyEntry.period,
            CustodyEntry.amount_fen,
            CustodyEntry.summary,
            CustodyEntry.counterparty,
            CustodyEntry.reference,
        )
        .where(
            CustodyEntry.entity_id == ent.id,
            CustodyEntry.account_code == code,
            CustodyEntry.period <= last,
        )
        .order_by(CustodyEntry.entry_date, CustodyEntry.id)
    ).all()
    opening = balances.opening.get(code, 0)
    for _i, _d, period, fen, *_rest in entries:
        if period < first:
            opening += int(fen)
    by_month: dict[int, list[tuple[int, int]]] = defaultdict(list)  # period -> (id, fen)
    rows: list[CustodyJournalEntry] = []
    unbacked: list[UnbackedEntry] = []
    running = opening
    for entry_id, date, period, fen, summary, counterparty, reference in entries:
        fen = int(fen)
        if period >= min(ytd_from, first):
            by_month[int(period)].append((entry_id, fen))
        backed = net.get(entry_id, 0)
        if backed != fen:
            unbacked.append(
                UnbackedEntry(entry_id, date, int(period), summary, from_fen(fen), from_fen(backed))
            )
        if period < first:
            continue
        running += fen
        rows.append(
            CustodyJournalEntry(
                id=entry_id,
                date=date,
                period=int(period),
                summary=summary,
                counterparty=counterparty,
                reference=reference,
                receipt=from_fen(fen) if fen > 0 else None,
                payment=from_fen(-fen) if fen < 0 else None,
                balance=from_fen(running),
                backed=backed == fen,
                vouchers=tuple(refs.get(entry_id, ())),
            )
        )
    months: list[CustodyJournalMonth] = []
    journal = opening
    ledger = balances.balance_before([code], first)
    for p in period_range(first, last):
        ins = sum(f for _i, f in by_month.get(p, []) if f > 0)
        outs = -sum(f for _i, f in by_month.get(p, []) if f < 0)
        ys = year_start(p, ent.start_period)
        y_in = sum(f for q, items in by_month.items() if ys <= q <= p for _i, f in items if f > 0)
        y_out = -sum(f for q, items in by_month.items() if ys <= q <= p for _i, f in items if f < 0)
        d, c = balances.flows([code], p, p)
        months.append(
            CustodyJournalMonth(
                period=p,
                opening_balance=from_fen(journal),
                receipts=from_fen(ins),
                payments=from_fen(outs),
                ytd_receipts=from_fen(y_in),
                ytd_payments=from_fen(y_out),
                closing_balance=from_fen(journal + ins - outs),
                ledger_opening_balance=from_fen(ledger),
                ledger_debit=from_fen(d),
                ledger_credit=from_fen(c),
                ledger_closing_balance=from_fen(ledger + d - c),
            )
        )
        journal += ins - outs
        ledger += d - c
    return CustodyJournalAccount(
        code, acc.name, from_fen(opening), tuple(rows), tuple(months), tuple(unbacked)
    )


def custody_journal(
    session: Session, entity: str, kind: str, first: int, last: int | None = None
) -> CustodyJournal:
    """Compute the cash (``kind="cash"``) or bank (``"bank"``) journals beside the ledger.

    One section per custody account (末级科目) of that kind: the cashier's
    entries of the range with their running balance and the vouchers backing
    them; per month the journal's receipts, payments and balance beside the
    ledger's debit, credit and balance; and every entry up to the end of the
    range that posted lines do not back (as of now).

    Raises:
        NotFoundError: unknown entity.
        ValidationError: ``kind`` is not cash or bank, or the range runs backwards.
    """
    if kind not in ("cash", "bank"):
        raise ValidationError(
            f"日记账 journal {kind!r}", "应为 cash 或 bank / must be cash or bank"
        )
    last = first if last is None else last
    _check_range(first, last)
    ent = get_entity(session, entity)
    accounts = accounts_of(session, ent.id)
    custody = sorted(
        (a for a in accounts.values() if a.custody == kind and a.leaf), key=lambda a: a.code
    )
    codes = [a.code for a in custody]
    balances = read_balances(session, ent.id, last, codes)
    backing = _backing(session, ent.id, codes, last)
    return CustodyJournal(
        ent.code,
        ent.name,
        kind,
        first,
        last,
        tuple(_custody_account(session, ent, a, balances, backing, first, last) for a in custody),
    )


def cash_journal(
    session: Session, entity: str, first: int, last: int | None = None
) -> CustodyJournal:
    """Compute the cash journals (现金日记账) beside the ledger (see :func:`custody_journal`)."""
    return custody_journal(session, entity, "cash", first, last)


def bank_journal(
    session: Session, entity: str, first: int, last: int | None = None
) -> CustodyJournal:
    """Compute the bank journals (银行日记账) beside the ledger (see :func:`custody_journal`)."""
    return custody_journal(session, entity, "bank", first, last)
