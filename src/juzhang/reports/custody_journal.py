"""Cash and bank journals (现金/银行日记账) set beside the ledger (账账核对).

* **Cash and bank journals (现金/银行日记账)** — :func:`cash_journal`,
  :func:`bank_journal`: the cashier's own records (``custody_entry``, see
  :mod:`juzhang.custody`) with their running balance, set side by side with
  the ledger's view of the same account month by month (账账核对: journal
  balance against ledger balance, and the difference), and the entries not
  (yet) backed by posted voucher lines, which explain such differences.

The JSON form and the conventions shared with the ledgers are in
:mod:`juzhang.reports.ledger`, which re-exports these names.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, case, func, select

from juzhang import clock
from juzhang.core.period import format_period, period_range
from juzhang.core.types import Side, VoucherStatus
from juzhang.errors import ValidationError
from juzhang.money import from_fen
from juzhang.reports.balances import (
    Balances,
    _check_range,
    _dec,
    _label,
    read_balances,
    year_start,
)
from juzhang.storage.access import AccountInfo, EntityInfo, accounts_of, get_entity
from juzhang.storage.schema import (
    CustodyEntry,
    Voucher,
    VoucherLine,
)


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
    return case(
        (VoucherLine.side == Side.DEBIT, VoucherLine.amount_fen), else_=-VoucherLine.amount_fen
    )


def _backing(
    session: Connection, entity_id: int, codes: list[str], last: int
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
            Voucher.status == VoucherStatus.POSTED,
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
    session: Connection,
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
    session: Connection, entity: str, kind: str, first: int, last: int | None = None
) -> CustodyJournal:
    """Compute the cash (``kind="cash"``) or bank (``"bank"``) journals beside the ledger.

    One section per custody account (末级科目) of that kind: the cashier's
    entries of the range with their running balance and the vouchers backing
    them; per month the journal's receipts, payments and balance beside the
    ledger's debit, credit and balance; and every entry up to the end of the
    range that posted lines do not back (as of now).

    Raises:
        NotFoundError: unknown entity.
        ValidationError: ``kind`` is not cash or bank, the range runs backwards,
            or it is before the books start or after the current month.
    """
    if kind not in ("cash", "bank"):
        raise ValidationError(
            f"日记账 journal {kind!r}", "应为 cash 或 bank / must be cash or bank"
        )
    last = first if last is None else last
    _check_range(first, last)
    ent = get_entity(session, entity)
    clock.require_report_months(ent.code, ent.start_period, first, last)
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
    session: Connection, entity: str, first: int, last: int | None = None
) -> CustodyJournal:
    """Compute the cash journals (现金日记账) beside the ledger (see :func:`custody_journal`)."""
    return custody_journal(session, entity, "cash", first, last)


def bank_journal(
    session: Connection, entity: str, first: int, last: int | None = None
) -> CustodyJournal:
    """Compute the bank journals (银行日记账) beside the ledger (see :func:`custody_journal`)."""
    return custody_journal(session, entity, "bank", first, last)
