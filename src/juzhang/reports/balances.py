"""Balances read from the books (余额): openings and monthly movements, and shared helpers.

:func:`read_balances` reads the opening balances and the running balances
(``account_balance``) of a set of accounts once; :class:`Balances` answers
opening, movement and closing questions from them.  :func:`direction` (借/贷/平),
:func:`year_start` (本年累计 from January or the month the books start) and
:func:`subtree` (an account and its detail accounts) are shared by the ledgers,
the statements, the disclosure and the close.  Conventions: see
:mod:`juzhang.reports.ledger`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Connection, select

from juzhang.core.period import format_period
from juzhang.errors import ValidationError
from juzhang.storage.access import AccountInfo
from juzhang.storage.schema import (
    AccountBalance,
    OpeningBalance,
)

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
    session: Connection, entity_id: int, last: int, codes: Iterable[str] | None = None
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
