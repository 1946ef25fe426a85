"""Statement lines (对账单明细) as values, their dedup keys and the running-balance check.

:class:`StatementRow` is one normalised line of a bank statement and
:class:`Statement` a whole file read (:mod:`.bank` makes them).

Dedup (DOMAIN §8): re-importing a statement, or importing overlapping ones,
must add nothing.  :func:`dedup_keys` gives each row the bank's serial where
there is one, else :func:`fingerprint` (account, date, amount, balance,
counterparty, summary), each with an occurrence counter so two identical
lines in one statement stay two.

Running balance: each row's balance must be the previous balance + credit −
debit.  :class:`BalanceCheck` checks rows as they stream by, in both orders
at once (files listing the newest first are common), and
:func:`check_balances` checks a sequence; each break is a
:class:`~juzhang.errors.Problem` naming its row.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, time
from decimal import Decimal
from typing import NamedTuple

from juzhang.errors import Problem

__all__ = [
    "BalanceCheck",
    "Statement",
    "StatementRow",
    "check_balances",
    "dedup_keys",
    "fingerprint",
    "same_account",
]

_ZERO = Decimal("0.00")

# --------------------------------------------------------------------------- results


class StatementRow(NamedTuple):
    """One statement line, normalised (对账单明细行); immutable.

    ``number`` is the row as Excel shows it (1-based).  ``debit`` is money out
    (支出/借方), ``credit`` money in (收入/贷方), each ``Decimal`` with two places
    and ``0.00`` when absent (a reversal may make one negative).  Text fields
    are trimmed and otherwise verbatim, ``""`` when absent; ``raw`` holds
    every cell of the row as text, verbatim.
    """

    number: int
    date: date
    time: time | None
    debit: Decimal
    credit: Decimal
    balance: Decimal | None
    counterparty: str
    counterparty_account: str
    counterparty_bank: str
    summary: str
    purpose: str
    remark: str
    serial: str
    raw: tuple[str, ...]

    @property
    def amount(self) -> Decimal:
        """The signed amount: credit − debit (in +, out −)."""
        return self.credit - self.debit


@dataclass(frozen=True, slots=True)
class Statement:
    """A bank statement file read whole: where from, whose account, and its rows."""

    source: str
    profile: str
    own_account: str | None
    own_name: str | None
    header_row: int
    opening_balance: Decimal | None
    rows: tuple[StatementRow, ...]
    zero_rows: tuple[int, ...] = ()
    """Row numbers of zero-amount rows (``+0.00``), kept out of the rows."""


# --------------------------------------------------------------------------- accounts


def _account_key(text: str) -> str:
    return re.sub(r"[\s\-]", "", unicodedata.normalize("NFKC", text))


def same_account(expected: str, found: str) -> bool:
    """Whether a bank account number found in a file is ``expected``.

    Spaces and dashes do not matter; a masked number (``6222****1234``) matches
    when its visible digits match the start and end of ``expected``.
    """
    want, got = _account_key(expected), _account_key(found)
    if "*" not in got:
        return want == got
    head, _, tail = got.partition("*")
    tail = tail.lstrip("*").rsplit("*", 1)[-1]
    return len(want) >= len(head) + len(tail) and want.startswith(head) and want.endswith(tail)


# --------------------------------------------------------------------------- dedup


def fingerprint(row: StatementRow, account: str) -> str:
    """The fingerprint of a statement line with no serial (DOMAIN §8), as 64 hex digits.

    Made from the account (spaces and dashes ignored), the date, the signed
    amount (credit − debit), the balance, the counterparty and the summary;
    identical lines share it, so :func:`dedup_keys` adds an occurrence counter.
    """
    parts = (
        _account_key(account),
        row.date.isoformat(),
        f"{row.amount:.2f}",
        "" if row.balance is None else f"{row.balance:.2f}",
        row.counterparty,
        row.summary,
    )
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def dedup_keys(rows: Iterable[StatementRow], account: str) -> list[str]:
    """A dedup key for every row, in order: the bank's serial, else the fingerprint.

    Keys look like ``serial:<account>:<date>:<serial>#<n>`` or
    ``fp:<fingerprint>#<n>``, where ``n`` counts earlier rows of the file with
    the same key (1 for the first): two identical lines in one statement stay
    two, and the same lines in an overlapping statement get the same keys.
    """
    seen: Counter[str] = Counter()
    keys = []
    acct = _account_key(account)
    for row in rows:
        if row.serial:
            base = f"serial:{acct}:{row.date.isoformat()}:{row.serial}"
        else:
            base = f"fp:{fingerprint(row, account)}"
        seen[base] += 1
        keys.append(f"{base}#{seen[base]}")
    return keys


# --------------------------------------------------------------------------- balances


@dataclass(slots=True)
class BalanceCheck:
    """Checks running balances as rows stream by, in both orders at once.

    Feed rows with :meth:`add`; :meth:`problems` then reports the breaks of
    the order that fits better (files listing the newest first are common),
    each naming its row.  ``opening`` is the balance before the first row of
    an oldest-first file, when known.
    """

    name: str = ""
    opening: Decimal | None = None
    limit: int = 1000
    _forward_count: int = 0
    _backward_count: int = 0
    _forward: list[tuple[int, Decimal, Decimal]] = field(default_factory=list)
    _backward: list[tuple[int, Decimal, Decimal]] = field(default_factory=list)
    _last_balance: Decimal | None = None
    _since: Decimal = _ZERO  # net movement since the last row with a balance
    _pending_back: tuple[int, Decimal] | None = None  # newer row's balance − its movement
    _rows: int = 0

    @property
    def started(self) -> bool:
        """Whether any row has been added."""
        return self._rows > 0

    def restart(self) -> None:
        """Forget the chain: rows are missing here (skipped as bad), so start afresh."""
        self.opening = None
        self._last_balance = None
        self._since = _ZERO
        self._pending_back = None

    def add(self, row: StatementRow) -> None:
        """Take the next row in file order."""
        self._rows += 1
        start = self._last_balance if self._last_balance is not None else self.opening
        self._since += row.amount
        if row.balance is None:
            if self._pending_back is not None:
                newer, before = self._pending_back
                self._pending_back = (newer, before - row.amount)
            return
        if start is not None:
            expected = start + self._since
            if expected != row.balance:
                self._note(self._forward, (row.number, expected, row.balance))
        if self._pending_back is not None:
            newer, before = self._pending_back
            if before != row.balance:
                self._note(self._backward, (newer, before, row.balance))
        self._pending_back = (row.number, row.balance - row.amount)
        self._last_balance = row.balance
        self._since = _ZERO

    def _note(
        self, breaks: list[tuple[int, Decimal, Decimal]], entry: tuple[int, Decimal, Decimal]
    ) -> None:
        if breaks is self._forward:
            self._forward_count += 1
        else:
            self._backward_count += 1
        if len(breaks) < self.limit:
            breaks.append(entry)

    def problems(self) -> list[Problem]:
        """The balance breaks, each as a problem naming the row; empty when all agree.

        At most ``limit`` breaks are listed, then one problem giving the count.
        """
        newest_first = self._backward_count < self._forward_count
        breaks = self._backward if newest_first else self._forward
        problems = []
        for number, expected, found in breaks:
            if newest_first:
                message = (
                    f"余额不连续：按本行推算上一笔(更早)余额应为 {expected}，实际为 {found} / "
                    f"running balance breaks (newest-first file): expected {expected} before "
                    f"this row, found {found}"
                )
            else:
                message = (
                    f"余额不连续：上笔余额 + 收入 − 支出 应为 {expected}，本行余额为 {found} / "
                    f"running balance breaks: previous balance + credit − debit = {expected}, "
                    f"the row says {found}"
                )
            where = f"{self.name}:{number}" if self.name else str(number)
            problems.append(Problem(where, message, "balance"))
        total = self._backward_count if newest_first else self._forward_count
        if total > len(breaks):
            problems.append(
                Problem(
                    self.name,
                    f"共 {total} 处余额不连续，只列出前 {len(breaks)} 处 / {total} balance breaks, "
                    f"the first {len(breaks)} listed",
                    "balance",
                )
            )
        return problems


def check_balances(
    rows: Iterable[StatementRow], *, opening: Decimal | None = None, name: str = ""
) -> list[Problem]:
    """Check each row's balance = previous balance + credit − debit; return the breaks.

    Rows without a balance carry their movement to the next row that has one.
    A file listed newest first is recognised (the order with fewer breaks is
    used).  Returns one :class:`~juzhang.errors.Problem` per break, ``where``
    = ``name:row``; an empty list when every balance follows.
    """
    check = BalanceCheck(name=name, opening=opening)
    for row in rows:
        check.add(row)
    return check.problems()
