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

The shared balances and helpers are :mod:`juzhang.reports.balances`; the cash
and bank journals :mod:`juzhang.reports.custody_journal`.  This module holds
the general and subsidiary ledgers and re-exports the rest, so callers import
every ledger name from here.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, and_, select

from juzhang import clock
from juzhang.core.period import format_period, period_range
from juzhang.core.types import Side, VoucherStatus
from juzhang.errors import NotFoundError
from juzhang.money import from_fen
from juzhang.reports.balances import (
    Balances,
    _check_range,
    _dec,
    _label,
    direction,
    read_balances,
    subtree,
    year_start,
)
from juzhang.reports.custody_journal import (
    CustodyJournal,
    CustodyJournalAccount,
    CustodyJournalEntry,
    CustodyJournalMonth,
    UnbackedEntry,
    VoucherRef,
    bank_journal,
    cash_journal,
    custody_journal,
)
from juzhang.storage.access import accounts_of, get_entity
from juzhang.storage.schema import (
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
    session: Connection,
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
        ValidationError: the range runs backwards, or is before the books
            start or after the current month.
    """
    last = first if last is None else last
    _check_range(first, last)
    ent = get_entity(session, entity)
    clock.require_report_months(ent.code, ent.start_period, first, last)
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
    session: Connection, entity_id: int, codes: list[str], first: int, last: int
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
            Voucher.status == VoucherStatus.POSTED,
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
    session: Connection, entity: str, account: str, first: int, last: int | None = None
) -> SubsidiaryLedger:
    """Compute the subsidiary ledger (明细账) of one account from ``first`` to ``last``.

    A parent account includes the lines of all its detail accounts.  A January
    inside the range starts with a 上年结转 row.

    Raises:
        NotFoundError: unknown entity or account.
        ValidationError: the range runs backwards, or is before the books
            start or after the current month.
    """
    last = first if last is None else last
    _check_range(first, last)
    ent = get_entity(session, entity)
    clock.require_report_months(ent.code, ent.start_period, first, last)
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
            running += fen if side == Side.DEBIT else -fen
            rows.append(
                LedgerRow(
                    "line",
                    period,
                    date,
                    f"{word}-{number:04d}",
                    code,
                    summary,
                    from_fen(fen) if side == Side.DEBIT else None,
                    from_fen(fen) if side == Side.CREDIT else None,
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
