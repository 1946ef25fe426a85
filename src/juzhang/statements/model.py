"""Statement lines as the services show them (对账单行): statuses, results, views.

The values :mod:`juzhang.statements` returns — what an import did
(:class:`ImportResult`, with a dry run's :class:`Proposal` rows), what
drafting did (:class:`DraftResult`), lines accepted by the cashier
(:class:`Accepted`), stored lines and bank accounts as views — and the small
tools the other modules of the package share: runs of numbers
(:class:`Span`), a row on its way through matching and drafting
(:class:`Item`), and chunked ``IN`` look-ups (:func:`one_of`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, TypeVar

from sqlalchemy import ARRAY, BigInteger, ColumnClause, Connection, String, any_, bindparam

from juzhang.errors import Problem
from juzhang.storage.engine import is_sqlite

if TYPE_CHECKING:
    from juzhang.importers.facts import Categorised, Facts

CHUNK_ROWS = 2000
"""Rows handled per round trip (look-ups, drafting, inserts)."""

T = TypeVar("T")


class LineStatus(StrEnum):
    """Where a statement line stands (computed, not stored)."""

    DRAFTED = "drafted"  # 已制单: linked to its voucher
    AWAITING_CASHIER = "awaiting-cashier"  # 待出纳确认: no bank-journal entry yet
    AWAITING_DRAFT = "awaiting-draft"  # 待制单: the entry exists, no voucher yet
    CLOSED_PERIOD = "closed-period"  # 已结账月份: not drafted, book it in an open month
    BEFORE_START = "before-start"  # 建账前: covered by the opening balances
    DUPLICATE = "duplicate"  # 重复: already stored (import results only)


STATUS_ZH: dict[LineStatus, str] = {
    LineStatus.DRAFTED: "已制单",
    LineStatus.AWAITING_CASHIER: "待出纳确认",
    LineStatus.AWAITING_DRAFT: "待制单",
    LineStatus.CLOSED_PERIOD: "已结账月份",
    LineStatus.BEFORE_START: "建账前",
    LineStatus.DUPLICATE: "重复",
}


class Span(NamedTuple):
    """A run of consecutive numbers (rows or ids), ``first`` to ``last`` inclusive."""

    first: int
    last: int

    def __str__(self) -> str:
        return str(self.first) if self.first == self.last else f"{self.first}-{self.last}"

    @property
    def size(self) -> int:
        """How many numbers the run holds."""
        return self.last - self.first + 1

    def numbers(self) -> range:
        """Return the numbers of the run."""
        return range(self.first, self.last + 1)


def format_spans(spans: Sequence[Span]) -> str:
    """Return ``"6-10, 14"``: runs of rows or ids as people write them."""
    return ", ".join(str(s) for s in spans)


class Spans:
    """Collects increasing numbers as runs (flat memory for a million rows)."""

    __slots__ = ("count", "runs")

    def __init__(self) -> None:
        self.runs: list[list[int]] = []
        self.count = 0

    def add(self, number: int) -> None:
        self.count += 1
        if self.runs and self.runs[-1][1] + 1 == number:
            self.runs[-1][1] = number
        else:
            self.runs.append([number, number])

    def add_run(self, first: int, last: int) -> None:
        """Add the numbers ``first`` to ``last``, which come after every number added."""
        self.count += last - first + 1
        if self.runs and self.runs[-1][1] + 1 == first:
            self.runs[-1][1] = last
        else:
            self.runs.append([first, last])

    def result(self) -> tuple[Span, ...]:
        return tuple(Span(a, b) for a, b in self.runs)


@dataclass(frozen=True, slots=True)
class Proposal:
    """One row of a statement and what the import does with it (shown by a dry run).

    ``account``/``summary``/``rule`` describe the drafted voucher's counter
    line (empty when no voucher is drafted); ``custody_entry`` is the
    cashier's entry matched; ``voucher`` the voucher drafted or linked
    (a dry run's ids are rolled back with everything else).
    """

    row: int
    date: dt.date
    direction: Literal["in", "out"]
    amount: Decimal
    counterparty: str
    text: str
    status: LineStatus
    account: str = ""
    summary: str = ""
    rule: str = ""
    custody_entry: int | None = None
    voucher: int | None = None


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What an import of one bank statement did (or, in a dry run, would do).

    ``duplicate_rows`` are the file's rows already stored (skipped, listed as
    runs of row numbers); ``awaiting_lines`` the ids of the new lines that
    wait for the cashier (runs of ids).  ``vouchers_drafted`` counts the new
    drafts of this file's lines, ``vouchers_linked`` lines linked to
    vouchers that existed, ``pending_drafted`` drafts made for earlier lines
    of the account that the cashier has accepted since.  ``notes`` are
    non-blocking findings (lines stored but not drafted, and why; an
    unchecked account number): an import with blocking problems raises
    :class:`~juzhang.errors.ProblemsError` instead of returning.
    ``proposals`` (dry run only) show each row's outcome, up to the
    ``preview`` limit.  ``zero_rows`` are the file's rows with a zero amount
    (``+0.00``), kept out of the books (runs of row numbers).
    """

    file: str
    profile: str
    account: str
    own_account: str | None
    batch_id: int | None
    rows_read: int
    new_lines: int
    duplicates: int
    duplicate_rows: tuple[Span, ...]
    vouchers_drafted: int
    vouchers_linked: int
    awaiting_cashier: int
    awaiting_lines: tuple[Span, ...]
    pending_drafted: int
    notes: tuple[Problem, ...]
    dry_run: bool
    proposals: tuple[Proposal, ...] = ()
    zero_rows: tuple[Span, ...] = ()


@dataclass(frozen=True, slots=True)
class DraftResult:
    """What :func:`draft_pending` did: drafts made, lines linked, lines still waiting."""

    drafted: int
    linked: int
    vouchers: tuple[Span, ...]
    waiting: tuple[Problem, ...]


class Accepted(NamedTuple):
    """A statement line accepted into the bank journal and its entry.

    ``recorded`` is false when the cashier had already recorded the movement
    by hand (the entry was matched as an import matches, and linked).
    """

    line: int
    entry: int
    recorded: bool = True


@dataclass(frozen=True, slots=True)
class BankAccountView:
    """A bank account number recorded for a bank detail account of the books."""

    account: str
    number: str
    name: str
    bank: str


@dataclass(frozen=True, slots=True)
class StatementLineView:
    """A stored statement line and where it stands."""

    id: int
    account: str
    batch: int
    row: int
    date: dt.date
    time: str | None
    direction: Literal["in", "out"]
    amount: Decimal
    balance: Decimal | None
    counterparty: str
    summary: str
    purpose: str
    serial: str
    custody_entry: int | None
    voucher: int | None
    status: LineStatus


@dataclass(slots=True)
class Item:
    """One statement row (or stored line) on its way through matching and drafting."""

    row: int
    date: dt.date
    time: str | None
    fen: int  # signed: money in +, out −
    balance: int | None
    facts: Facts
    key: str = ""
    line_id: int = 0
    entry: int | None = None
    voucher: int | None = None
    status: LineStatus | None = None
    cat: Categorised | None = None


def chunks(values: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def one_of(
    session: Connection, column: ColumnClause[T] | ColumnClause[T | None], values: Sequence[T]
) -> Any:
    """``column IN (values)``; on PostgreSQL ``column = ANY(array)``, one parameter.

    PostgreSQL plans a long ``IN`` list of parameters (psycopg prepares
    statements it runs often) as a linear search per row, which made a
    million-row import quadratic; an array parameter is hashed or probed.
    On SQLite one expanding parameter: ``in_`` of a plain list coerces each
    value into an expression first (about 0.5 µs a value on the bulk paths).
    """
    if is_sqlite(session):
        return column.in_(bindparam(None, list(values), expanding=True))
    element = String() if values and isinstance(values[0], str) else BigInteger()
    return column == any_(bindparam(None, list(values), type_=ARRAY(element)))


def as_date(value: object) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])
