"""Trial balance (科目余额表): per account, opening, period debit and credit, closing.

A pure calculation over the running balances (``account_balance``) and the
opening balances: it never scans voucher lines.  Balances are signed debit
positive.  Every account appears at every level; a parent sums its children.
The totals of the first-level rows must balance: opening and closing sum to
zero, and debit equals credit.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, select

from juzhang import clock
from juzhang.core.period import format_period
from juzhang.money import from_fen
from juzhang.storage.access import accounts_of, get_entity
from juzhang.storage.schema import AccountBalance, OpeningBalance


@dataclass(frozen=True, slots=True)
class TrialBalanceRow:
    """One account's row; amounts in yuan, balances debit positive."""

    code: str
    name: str
    level: int
    leaf: bool
    opening_balance: Decimal
    debit: Decimal
    credit: Decimal
    closing_balance: Decimal


@dataclass(frozen=True, slots=True)
class TrialBalance:
    """The trial balance of one entity over one month or a range of months."""

    entity: str
    first: int
    last: int
    rows: tuple[TrialBalanceRow, ...]
    opening_total: Decimal
    debit_total: Decimal
    credit_total: Decimal
    closing_total: Decimal

    @property
    def balanced(self) -> bool:
        """Whether the totals balance (试算平衡)."""
        return (
            self.opening_total == 0
            and self.closing_total == 0
            and self.debit_total == self.credit_total
        )

    @property
    def period_label(self) -> str:
        """``"2026-09"`` or ``"2026-01..2026-03"``."""
        a, b = format_period(self.first), format_period(self.last)
        return a if a == b else f"{a}..{b}"

    def row(self, code: str) -> TrialBalanceRow:
        """Return the row of one account (KeyError when absent)."""
        for r in self.rows:
            if r.code == code:
                return r
        raise KeyError(code)

    def to_json(self) -> dict[str, Any]:
        """Return the documented JSON form (amounts as decimal strings)."""
        return {
            "entity": self.entity,
            "period": self.period_label,
            "accounts": [
                {
                    "code": r.code,
                    "name": r.name,
                    "level": r.level,
                    "opening_balance": str(r.opening_balance),
                    "debit": str(r.debit),
                    "credit": str(r.credit),
                    "closing_balance": str(r.closing_balance),
                }
                for r in self.rows
            ],
            "totals": {
                "opening_balance": str(self.opening_total),
                "debit": str(self.debit_total),
                "credit": str(self.credit_total),
                "closing_balance": str(self.closing_total),
                "balanced": self.balanced,
            },
        }


def trial_balance(
    session: Connection, entity: str, first: int, last: int | None = None
) -> TrialBalance:
    """Compute the trial balance of ``entity`` from month ``first`` to ``last``.

    Raises:
        NotFoundError: unknown entity.
        ValidationError: a month before the books start or after the current month
            (:func:`juzhang.clock.require_report_months`).
    """
    last = first if last is None else last
    ent = get_entity(session, entity)
    clock.require_report_months(ent.code, ent.start_period, first, last)
    accounts = accounts_of(session, ent.id)
    opening: dict[str, int] = defaultdict(int)
    debit: dict[str, int] = defaultdict(int)
    credit: dict[str, int] = defaultdict(int)
    for code, fen in session.execute(
        select(OpeningBalance.account_code, OpeningBalance.amount_fen).where(
            OpeningBalance.entity_id == ent.id
        )
    ):
        opening[code] += int(fen)
    for code, period, d, c in session.execute(
        select(
            AccountBalance.account_code,
            AccountBalance.period,
            AccountBalance.debit_fen,
            AccountBalance.credit_fen,
        ).where(AccountBalance.entity_id == ent.id, AccountBalance.period <= last)
    ):
        if period < first:
            opening[code] += int(d) - int(c)
        else:
            debit[code] += int(d)
            credit[code] += int(c)
    # roll leaf amounts up to every ancestor
    for code, account in accounts.items():
        parent = account.parent if account.leaf else None
        while parent is not None:
            opening[parent] += opening[code]
            debit[parent] += debit[code]
            credit[parent] += credit[code]
            parent = accounts[parent].parent
    rows = tuple(
        TrialBalanceRow(
            code=a.code,
            name=a.name,
            level=a.level,
            leaf=a.leaf,
            opening_balance=from_fen(opening[a.code]),
            debit=from_fen(debit[a.code]),
            credit=from_fen(credit[a.code]),
            closing_balance=from_fen(opening[a.code] + debit[a.code] - credit[a.code]),
        )
        for a in sorted(accounts.values(), key=lambda a: a.code)
    )
    top = [r for r in rows if r.level == 1]
    return TrialBalance(
        entity=ent.code,
        first=first,
        last=last,
        rows=rows,
        opening_total=sum((r.opening_balance for r in top), Decimal("0.00")),
        debit_total=sum((r.debit for r in top), Decimal("0.00")),
        credit_total=sum((r.credit for r in top), Decimal("0.00")),
        closing_total=sum((r.closing_balance for r in top), Decimal("0.00")),
    )
