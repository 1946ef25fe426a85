"""Bank reconciliation statement (银行存款余额调节表), per bank account and month end.

At the end of a month the cashier's bank journal (银行日记账) and the bank's
statement (银行对账单) rarely show the same balance: money is on its way
between them.  The reconciliation statement (DOMAIN §6) lists every such
*outstanding item* (未达账项) in four categories and adjusts both balances::

    balance per bank journal                  balance per bank statement
    + 银行已收、企业未收 (bank in, not booked)   + 企业已收、银行未收 (booked in, not at bank)
    − 银行已付、企业未付 (bank out, not booked)  − 企业已付、银行未付 (booked out, not at bank)
    = adjusted balance              ==        = adjusted balance

The two adjusted balances must agree; when they do not, the difference is
reported (a mistake on one side or a missing statement line).  **It is a
check, never a basis for entries**: nothing here writes anything, and an
outstanding item is booked only when the originals arrive.

Where the figures come from, for account ``A`` and month end ``D``:

* *journal balance* — the cashier's view: ``A``'s opening balance (agreed when
  the books were set up) plus every custody entry of ``A`` dated on or before
  ``D``;
* *ledger balance* — the books' view (posted vouchers, from the running
  balances); the difference journal − ledger is shown as well (账账核对), and
  is not part of the reconciliation;
* *statement balance* — the balance of the last statement line dated on or
  before ``D`` (the line that ends that day's chain of balances, see
  :func:`end_of_day_balance`), plus the movements of later-dated lines that
  carry no balance; when no line has a balance, ``A``'s opening balance plus
  the movements from the month the books start up to ``D``; with no
  statement line at all, the opening balance, and ``has_statement`` is false.
  Statement lines dated before the books start are already in the opening
  balance: they count for the statement's balance only, never as
  outstanding items.

Matching a statement line with a custody entry (both dated on or before
``D``; an item dated later does not count yet):

1. **linked** — ``statement_line.custody_entry_id``, set by the statement
   importer when the cashier accepted the line or it was matched;
2. **fallback** — for a line and an entry neither linked to anything: same
   account, same amount, same direction, dates at most ``window_days`` apart
   (default: the entity's ``link_window_days``).  Pairs are taken closest
   dates first, then earliest, then lowest ids, so the result is
   deterministic; each fallback pair is listed (``fallback_matches``) so a
   person can check it.

An outstanding statement line's ``summary`` is its 摘要, 用途 and 附言 (each
once), its ``reference`` the bank's serial; a journal entry's are the
cashier's summary and reference.

Whatever is left unmatched is outstanding: an unmatched statement line is
money the bank moved that the cashier has not recorded (a bank fee, interest,
a transfer received); an unmatched custody entry is money the cashier
recorded that the bank has not yet moved (a cheque not yet presented, a
deposit in transit).

JSON (``to_json()``), stable schema, amounts as decimal strings::

    {"entity", "entity_name", "period", "as_of", "window_days",
     "accounts": [{"code", "name", "journal_balance", "ledger_balance",
       "journal_ledger_difference", "statement_balance", "statement_basis":
       "balance"|"movements"|"opening", "statement_date", "has_statement",
       "bank_in_not_booked"|"bank_out_not_booked"|"booked_in_not_bank"|
       "booked_out_not_bank": {"label", "total", "items": [{"source":
         "statement"|"journal", "id", "date", "summary", "counterparty",
         "reference", "amount"}]},
       "adjusted_journal_balance", "adjusted_statement_balance", "agrees",
       "difference", "linked_matches", "fallback_matches": [{"statement_line",
       "custody_entry", "statement_date", "journal_date", "amount"}]}],
     "agrees"}

``difference`` is the adjusted journal balance minus the adjusted statement
balance; ``statement_date`` is ``null`` without statement lines.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, and_, func, select

from juzhang import clock
from juzhang.core.period import first_day, format_period, last_day, next_period, period_of
from juzhang.errors import NotFoundError, ValidationError
from juzhang.money import from_fen
from juzhang.reports.ledger import read_balances
from juzhang.storage.access import accounts_of, get_entity
from juzhang.storage.schema import BankAccount, CustodyEntry, StatementLine

__all__ = [
    "CATEGORIES",
    "AccountReconciliation",
    "BankReconciliation",
    "FallbackMatch",
    "OutstandingGroup",
    "OutstandingItem",
    "bank_reconciliation",
    "end_of_day_balance",
]

#: The four categories of outstanding items (未达账项): key, label, side it adjusts.
CATEGORIES: tuple[tuple[str, str, str], ...] = (
    ("bank_in_not_booked", "银行已收、企业未收", "journal"),
    ("bank_out_not_booked", "银行已付、企业未付", "journal"),
    ("booked_in_not_bank", "企业已收、银行未收", "statement"),
    ("booked_out_not_bank", "企业已付、银行未付", "statement"),
)
_LABELS = {key: label for key, label, _side in CATEGORIES}


@dataclass(frozen=True, slots=True)
class OutstandingItem:
    """One outstanding item (未达账项): a statement line or a journal entry not matched.

    ``source`` is ``"statement"`` (a bank statement line, ``id`` its row id)
    or ``"journal"`` (a custody entry, ``id`` its entry id); ``amount`` is
    positive.
    """

    source: str
    id: int
    date: dt.date
    summary: str
    counterparty: str
    reference: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class OutstandingGroup:
    """The outstanding items of one category with their total."""

    key: str
    label: str
    items: tuple[OutstandingItem, ...]

    @property
    def total(self) -> Decimal:
        """Sum of the items' amounts."""
        return sum((i.amount for i in self.items), Decimal("0.00"))


@dataclass(frozen=True, slots=True)
class FallbackMatch:
    """A statement line and a custody entry paired by amount, direction and dates."""

    statement_line: int
    custody_entry: int
    statement_date: dt.date
    journal_date: dt.date
    amount: Decimal


@dataclass(frozen=True, slots=True)
class AccountReconciliation:
    """The reconciliation statement of one bank account at one month end."""

    code: str
    name: str
    journal_balance: Decimal
    ledger_balance: Decimal
    statement_balance: Decimal
    statement_basis: str
    statement_date: dt.date | None
    has_statement: bool
    bank_in_not_booked: OutstandingGroup
    bank_out_not_booked: OutstandingGroup
    booked_in_not_bank: OutstandingGroup
    booked_out_not_bank: OutstandingGroup
    linked_matches: int
    fallback_matches: tuple[FallbackMatch, ...]
    bank_number: str = ""
    """The bank's account number recorded for this account (银行账号; empty when none)."""
    bank_name: str = ""
    """The bank (开户银行) recorded with the number (empty when none)."""

    @property
    def journal_ledger_difference(self) -> Decimal:
        """Journal balance minus ledger balance (账账核对; 0 when they agree)."""
        return self.journal_balance - self.ledger_balance

    @property
    def adjusted_journal_balance(self) -> Decimal:
        """Journal balance + bank in not booked − bank out not booked."""
        return self.journal_balance + self.bank_in_not_booked.total - self.bank_out_not_booked.total

    @property
    def adjusted_statement_balance(self) -> Decimal:
        """Statement balance + booked in not at bank − booked out not at bank."""
        return (
            self.statement_balance + self.booked_in_not_bank.total - self.booked_out_not_bank.total
        )

    @property
    def difference(self) -> Decimal:
        """Adjusted journal balance minus adjusted statement balance (0 when they agree)."""
        return self.adjusted_journal_balance - self.adjusted_statement_balance

    @property
    def agrees(self) -> bool:
        """Whether the two adjusted balances agree."""
        return self.difference == 0

    @property
    def groups(self) -> tuple[OutstandingGroup, ...]:
        """The four categories in the form's order."""
        return (
            self.bank_in_not_booked,
            self.bank_out_not_booked,
            self.booked_in_not_bank,
            self.booked_out_not_bank,
        )

    def to_json(self) -> dict[str, Any]:
        """Return this account's part of the documented JSON form."""
        out: dict[str, Any] = {
            "code": self.code,
            "name": self.name,
            "journal_balance": str(self.journal_balance),
            "ledger_balance": str(self.ledger_balance),
            "journal_ledger_difference": str(self.journal_ledger_difference),
            "statement_balance": str(self.statement_balance),
            "statement_basis": self.statement_basis,
            "statement_date": None if self.statement_date is None else str(self.statement_date),
            "has_statement": self.has_statement,
        }
        for group in self.groups:
            out[group.key] = {
                "label": group.label,
                "total": str(group.total),
                "items": [
                    {
                        "source": i.source,
                        "id": i.id,
                        "date": i.date.isoformat(),
                        "summary": i.summary,
                        "counterparty": i.counterparty,
                        "reference": i.reference,
                        "amount": str(i.amount),
                    }
                    for i in group.items
                ],
            }
        out.update(
            {
                "adjusted_journal_balance": str(self.adjusted_journal_balance),
                "adjusted_statement_balance": str(self.adjusted_statement_balance),
                "agrees": self.agrees,
                "difference": str(self.difference),
                "linked_matches": self.linked_matches,
                "fallback_matches": [
                    {
                        "statement_line": m.statement_line,
                        "custody_entry": m.custody_entry,
                        "statement_date": m.statement_date.isoformat(),
                        "journal_date": m.journal_date.isoformat(),
                        "amount": str(m.amount),
                    }
                    for m in self.fallback_matches
                ],
            }
        )
        return out


@dataclass(frozen=True, slots=True)
class BankReconciliation:
    """银行存款余额调节表 of every bank account of one entity at one month end."""

    entity: str
    entity_name: str
    period: int
    as_of: dt.date
    window_days: int
    accounts: tuple[AccountReconciliation, ...]

    title = "银行存款余额调节表"

    @property
    def agrees(self) -> bool:
        """Whether every account's adjusted balances agree."""
        return all(a.agrees for a in self.accounts)

    def account(self, code: str) -> AccountReconciliation:
        """Return one account's statement (KeyError when absent)."""
        for a in self.accounts:
            if a.code == code:
                return a
        raise KeyError(code)

    def to_json(self) -> dict[str, Any]:
        """Return the documented JSON form (see the module docstring)."""
        return {
            "entity": self.entity,
            "entity_name": self.entity_name,
            "period": format_period(self.period),
            "as_of": self.as_of.isoformat(),
            "window_days": self.window_days,
            "accounts": [a.to_json() for a in self.accounts],
            "agrees": self.agrees,
        }


# --------------------------------------------------------------------------- reading
#
# The month's rows are read whole; of the months before it only what can
# still be outstanding (a line or an entry not linked to the other side by
# the month end) is read, and the rest enters as aggregates (SUM, COUNT, MAX
# over ``ix_statement_line_date`` and ``ix_custody_entry_period``, read from
# the index alone), so the work in Python follows the month and the number of
# items left open, not the history (issue 18).  The earlier lines linked to
# nothing are read through ``ix_statement_line_entry``'s NULL range; the
# earlier entries not matched still walk the account's earlier entries (an
# anti-join), but probe that index alone, without reading a line's row.


@dataclass(frozen=True, slots=True)
class _Line:
    """A statement line as the reconciliation needs it (amount signed: in +, out −).

    ``linked`` is true when the line is linked to a custody entry dated on or
    before the month end (a matched pair).
    """

    id: int
    date: dt.date
    time: str
    batch: int
    row_no: int
    fen: int
    balance: int | None
    summary: str
    counterparty: str
    reference: str
    entry: int | None
    linked: bool = False


@dataclass(frozen=True, slots=True)
class _Entry:
    """A custody entry (amount signed: in +, out −).

    ``line_date`` is the date of the statement line linked to it (``None``
    when no line is).
    """

    id: int
    date: dt.date
    fen: int
    summary: str
    counterparty: str
    reference: str
    line_date: dt.date | None = None


@dataclass(frozen=True, slots=True)
class _Window:
    """What one account's reconciliation reads: the month, its end, the books' start."""

    entity_id: int
    code: str
    start: dt.date
    end: dt.date
    books_start: dt.date


def _fen_sum(session: Connection, query: Any) -> int:
    return int(session.execute(query).scalar_one() or 0)


def _line_rows(
    session: Connection, w: _Window, *where: Any, by_account: bool = True
) -> list[_Line]:
    """Statement lines of ``w``'s account matching ``where``, with their link's date.

    Without ``by_account`` the account is not asked for (``where`` must
    imply it, e.g. links to the account's entries: the foreign key holds the
    account), so that the plan cannot prefer the account's index.
    """
    mine = (StatementLine.account_code == w.code,) if by_account else ()
    rows = session.execute(
        select(
            StatementLine.id,
            StatementLine.txn_date,
            StatementLine.txn_time,
            StatementLine.batch_id,
            StatementLine.row_no,
            StatementLine.in_fen,
            StatementLine.out_fen,
            StatementLine.balance_fen,
            StatementLine.summary,
            StatementLine.purpose,
            StatementLine.remark,
            StatementLine.counterparty,
            StatementLine.serial,
            StatementLine.custody_entry_id,
            CustodyEntry.entry_date,
        )
        .outerjoin(
            CustodyEntry,
            and_(
                CustodyEntry.entity_id == StatementLine.entity_id,
                CustodyEntry.id == StatementLine.custody_entry_id,
            ),
        )
        .where(StatementLine.entity_id == w.entity_id, *mine, *where)
    )
    out = []
    for (
        line_id,
        date,
        time,
        batch,
        row_no,
        in_fen,
        out_fen,
        balance,
        summary,
        purpose,
        remark,
        counterparty,
        serial,
        entry,
        entry_date,
    ) in rows:
        parts = [t.strip() for t in (summary, purpose, remark) if t and t.strip()]
        text = " ".join(dict.fromkeys(parts))  # 摘要 用途 附言, each once
        out.append(
            _Line(
                id=int(line_id),
                date=date,
                time=time or "",
                batch=int(batch),
                row_no=int(row_no),
                fen=int(in_fen) - int(out_fen),
                balance=None if balance is None else int(balance),
                summary=text,
                counterparty=counterparty or "",
                reference=serial or "",
                entry=None if entry is None else int(entry),
                linked=entry_date is not None and entry_date <= w.end,
            )
        )
    out.sort(key=_line_order)
    return out


_CHUNK = 500
"""Entry ids per ``IN`` list (far below SQLite's limit on parameters)."""


def _line_order(ln: _Line) -> tuple[dt.date, str, int, int, int]:
    return (ln.date, ln.time, ln.batch, ln.row_no, ln.id)


def _statement_lines(session: Connection, w: _Window) -> tuple[list[_Line], int]:
    """The month's lines, and the earlier ones (from the books' start) still open at its end.

    An earlier line is open when it is linked to nothing (the fallback may
    pair it; read through ``ix_statement_line_entry``: only the open ones) or to an
    entry dated after the month end.  The second value is the number of those
    earlier open lines (every other earlier line is a linked pair).
    """
    month = _line_rows(
        session, w, StatementLine.txn_date >= w.start, StatementLine.txn_date <= w.end
    )
    if w.start <= w.books_start:
        return month, 0
    before = (StatementLine.txn_date >= w.books_start, StatementLine.txn_date < w.start)
    unlinked = _line_rows(session, w, *before, StatementLine.custody_entry_id.is_(None))
    # entries after the month end: few, found by date; the earlier lines linked
    # to them are then probed one entry at a time (ix_statement_line_entry)
    later = [
        int(i)
        for (i,) in session.execute(
            select(CustodyEntry.id).where(
                CustodyEntry.entity_id == w.entity_id,
                CustodyEntry.account_code == w.code,
                CustodyEntry.entry_date > w.end,
            )
        )
    ]
    linked_later = [
        ln
        for at in range(0, len(later), _CHUNK)
        # by entry only (the unique (entity, custody_entry_id)); dates in Python,
        # so that no plan walks the earlier lines by date instead
        for ln in _line_rows(
            session,
            w,
            StatementLine.custody_entry_id.in_(later[at : at + _CHUNK]),
            by_account=False,
        )
        if w.books_start <= ln.date < w.start
    ]
    return sorted([*unlinked, *linked_later, *month], key=_line_order), len(unlinked) + len(
        linked_later
    )


def _entries(session: Connection, w: _Window) -> list[_Entry]:
    """The month's entries, and the earlier ones not matched by a line at the month end.

    An earlier entry is matched when a line dated from the books' start to
    the month end is linked to it.  The earlier ones are found by an
    anti-join on the covering ``ix_statement_line_entry`` (entry, date: no
    line row is read); the date of a line outside that range linked to one
    of them (dated after the month end, or before the books start: few) is
    read by date.
    """
    columns = (
        CustodyEntry.id,
        CustodyEntry.entry_date,
        CustodyEntry.amount_fen,
        CustodyEntry.summary,
        CustodyEntry.counterparty,
        CustodyEntry.reference,
    )
    account = (CustodyEntry.entity_id == w.entity_id, CustodyEntry.account_code == w.code)
    link = (
        StatementLine.entity_id == CustodyEntry.entity_id,
        StatementLine.custody_entry_id == CustodyEntry.id,
    )
    order = (CustodyEntry.entry_date, CustodyEntry.id)
    month = (
        select(*columns, StatementLine.txn_date)
        .outerjoin(StatementLine, and_(*link))
        .where(*account, CustodyEntry.entry_date >= w.start, CustodyEntry.entry_date <= w.end)
        .order_by(*order)
    )
    earlier = (
        select(*columns)
        .outerjoin(
            StatementLine,
            and_(
                *link,
                StatementLine.txn_date >= w.books_start,
                StatementLine.txn_date <= w.end,
            ),
        )
        .where(*account, CustodyEntry.entry_date < w.start, StatementLine.txn_date.is_(None))
        .order_by(*order)
    )
    # by date (``ix_statement_line_date``), one range at a time; the links are
    # kept in Python, so that no plan walks the entity's links instead
    outside = {
        int(entry): date
        for beyond in (StatementLine.txn_date < w.books_start, StatementLine.txn_date > w.end)
        for entry, date in session.execute(
            select(StatementLine.custody_entry_id, StatementLine.txn_date).where(
                StatementLine.entity_id == w.entity_id,
                StatementLine.account_code == w.code,
                beyond,
            )
        )
        if entry is not None
    }
    return [
        _Entry(int(i), d, int(f), s, c or "", r or "", outside.get(int(i)))
        for i, d, f, s, c, r in session.execute(earlier)
    ] + [
        _Entry(int(i), d, int(f), s, c or "", r or "", ld)
        for i, d, f, s, c, r, ld in session.execute(month)
    ]


@dataclass(frozen=True, slots=True)
class _Before:
    """What the months before the month add, as aggregates."""

    entries_fen: int
    """Sum of the entries dated before the month start."""
    linked_lines: int
    """Lines from the books' start to before the month start linked to an entry ≤ month end."""


def _before(session: Connection, w: _Window, open_lines: int) -> _Before:
    """The aggregates of the months before ``w``'s month.

    ``open_lines`` is the number of earlier lines still open
    (:func:`_statement_lines`): the linked pairs are the other earlier lines,
    counted over ``ix_statement_line_date`` alone (no join to the entries).
    The entries' sum is taken by period (an entry's ``period`` is its date's
    month) over the covering ``ix_custody_entry_period``.
    """
    entries = _fen_sum(
        session,
        select(func.sum(CustodyEntry.amount_fen)).where(
            CustodyEntry.entity_id == w.entity_id,
            CustodyEntry.account_code == w.code,
            CustodyEntry.period < period_of(w.start),
        ),
    )
    if w.start <= w.books_start:
        return _Before(entries, 0)
    lines = _fen_sum(
        session,
        select(func.count())
        .select_from(StatementLine)
        .where(
            StatementLine.entity_id == w.entity_id,
            StatementLine.account_code == w.code,
            StatementLine.txn_date >= w.books_start,
            StatementLine.txn_date < w.start,
        ),
    )
    return _Before(entries, lines - open_lines)


# --------------------------------------------------------------------------- statement balance


def end_of_day_balance(lines: Sequence[tuple[int, int]], start: int | None = None) -> int:
    """Return the balance at the end of a day from its ``(signed amount, balance)`` lines.

    Statements list a day's lines oldest-first or newest-first, and times are
    often missing, so the order of the file is not trusted: each line's
    balance before it is ``balance − amount``; the day ends with the balance
    that no other line of the day starts from.  When the day comes back to
    where it started (its lines net to zero), that is the day's ``start``
    (the previous day's closing balance) when given and among the balances.
    Otherwise (a broken chain) the balance of the last line in the given
    order is returned.

    Raises:
        ValueError: ``lines`` is empty.
    """
    if not lines:
        raise ValueError("no lines")
    left = _open_ends(lines)
    if len(left) == 1:
        return left[0]
    if not left and start is not None and start in {balance for _fen, balance in lines}:
        return start
    return lines[-1][1]


def _open_ends(lines: Sequence[tuple[int, int]]) -> list[int]:
    ends = Counter(balance for _fen, balance in lines)
    starts = Counter(balance - fen for fen, balance in lines)
    return list((ends - starts).elements())


def _needs_start(lines: Sequence[tuple[int, int]]) -> bool:
    """Whether :func:`end_of_day_balance` of ``lines`` may depend on its ``start``."""
    return not _open_ends(lines)


def _balance_day(
    session: Connection, w: _Window, before: dt.date
) -> tuple[dt.date, list[tuple[int, int]]] | None:
    """The last day before ``before`` with balances, and its ``(amount, balance)`` lines."""
    base = (
        StatementLine.entity_id == w.entity_id,
        StatementLine.account_code == w.code,
        StatementLine.balance_fen.is_not(None),
    )
    day = session.execute(
        select(func.max(StatementLine.txn_date)).where(*base, StatementLine.txn_date < before)
    ).scalar_one()
    if day is None:
        return None
    rows = session.execute(
        select(StatementLine.in_fen, StatementLine.out_fen, StatementLine.balance_fen)
        .where(*base, StatementLine.txn_date == day)
        .order_by(
            func.coalesce(StatementLine.txn_time, ""),
            StatementLine.batch_id,
            StatementLine.row_no,
            StatementLine.id,
        )
    )
    return day, [(int(i) - int(o), int(b)) for i, o, b in rows if b is not None]


def _statement_balance(
    session: Connection, w: _Window, opening: int
) -> tuple[int, str, dt.date | None]:
    """Return (balance, basis, date of the last line) at the month end.

    The balance is the stored balance that ends the last day with balances
    (:func:`end_of_day_balance`; an earlier day is read only while a day's
    lines net to zero and its end depends on the day before), plus the
    movements of the later lines without one.
    """
    where = (
        StatementLine.entity_id == w.entity_id,
        StatementLine.account_code == w.code,
        StatementLine.txn_date <= w.end,
    )
    last_date = session.execute(select(func.max(StatementLine.txn_date)).where(*where)).scalar_one()
    if last_date is None:
        return opening, "opening", None
    moved = func.sum(StatementLine.in_fen - StatementLine.out_fen)
    anchor = _balance_day(session, w, w.end + dt.timedelta(days=1))
    if anchor is None:
        since = _fen_sum(
            session, select(moved).where(*where, StatementLine.txn_date >= w.books_start)
        )
        return opening + since, "movements", last_date
    chain = [anchor[1]]
    day = anchor[0]
    while _needs_start(chain[-1]):
        earlier = _balance_day(session, w, day)
        if earlier is None:
            break
        day, lines = earlier
        chain.append(lines)
    end: int | None = None
    for lines in reversed(chain):
        end = end_of_day_balance(lines, end)
    assert end is not None
    after = _fen_sum(session, select(moved).where(*where, StatementLine.txn_date > anchor[0]))
    return end + after, "balance", last_date


# --------------------------------------------------------------------------- matching


def _fallback(
    lines: Iterable[_Line], entries: Iterable[_Entry], window: int
) -> list[tuple[_Line, _Entry]]:
    """Pair unlinked lines and entries by amount, direction and date window (closest first)."""
    by_amount: dict[int, list[_Entry]] = {}
    for e in entries:
        by_amount.setdefault(e.fen, []).append(e)
    candidates = []
    for ln in lines:
        for e in by_amount.get(ln.fen, ()):
            gap = abs((ln.date - e.date).days)
            if gap <= window:
                candidates.append((gap, min(ln.date, e.date), ln.id, e.id, ln, e))
    candidates.sort(key=lambda c: c[:4])
    used_lines: set[int] = set()
    used_entries: set[int] = set()
    pairs = []
    for _gap, _date, line_id, entry_id, ln, e in candidates:
        if line_id in used_lines or entry_id in used_entries:
            continue
        used_lines.add(line_id)
        used_entries.add(entry_id)
        pairs.append((ln, e))
    return pairs


def _group(key: str, items: Iterable[OutstandingItem]) -> OutstandingGroup:
    return OutstandingGroup(key, _LABELS[key], tuple(sorted(items, key=lambda i: (i.date, i.id))))


def _line_item(ln: _Line) -> OutstandingItem:
    return OutstandingItem(
        "statement",
        ln.id,
        ln.date,
        ln.summary,
        ln.counterparty,
        ln.reference,
        from_fen(abs(ln.fen)),
    )


def _entry_item(e: _Entry) -> OutstandingItem:
    return OutstandingItem(
        "journal", e.id, e.date, e.summary, e.counterparty, e.reference, from_fen(abs(e.fen))
    )


def _reconcile(
    code: str,
    name: str,
    opening: int,
    ledger: int,
    statement: tuple[int, str, dt.date | None],
    lines: list[_Line],
    entries: list[_Entry],
    before: _Before,
    window: int,
    w: _Window,
) -> AccountReconciliation:
    """Reconcile one account at ``w.end``.

    ``lines`` and ``entries`` are the month's and the earlier ones still open
    (:func:`_statement_lines`, :func:`_entries`), ``before`` what the rest
    adds; ``statement`` is :func:`_statement_balance`'s answer.  Lines dated
    before the books' start are already in the opening balance: they count
    for the statement's balance only.
    """
    balance, basis, last_date = statement
    lines = [ln for ln in lines if ln.date >= w.books_start]
    matched_lines = {ln.id for ln in lines if ln.linked}
    matched_entries = {
        e.id for e in entries if e.line_date is not None and w.books_start <= e.line_date <= w.end
    }
    # a linked pair is never re-matched, even when one side is dated after the month end
    free_lines = [ln for ln in lines if ln.entry is None]
    free_entries = [
        e
        for e in entries
        if e.id not in matched_entries and (e.line_date is None or e.line_date < w.books_start)
    ]
    pairs = _fallback(free_lines, free_entries, window)
    matched_lines.update(ln.id for ln, _e in pairs)
    matched_entries.update(e.id for _ln, e in pairs)
    open_lines = [ln for ln in lines if ln.id not in matched_lines]
    open_entries = [e for e in entries if e.id not in matched_entries]
    month = [e for e in entries if e.date >= w.start]
    return AccountReconciliation(
        code=code,
        name=name,
        journal_balance=from_fen(opening + before.entries_fen + sum(e.fen for e in month)),
        ledger_balance=from_fen(ledger),
        statement_balance=from_fen(balance),
        statement_basis=basis,
        statement_date=last_date,
        has_statement=last_date is not None,
        bank_in_not_booked=_group(
            "bank_in_not_booked", (_line_item(ln) for ln in open_lines if ln.fen > 0)
        ),
        bank_out_not_booked=_group(
            "bank_out_not_booked", (_line_item(ln) for ln in open_lines if ln.fen < 0)
        ),
        booked_in_not_bank=_group(
            "booked_in_not_bank", (_entry_item(e) for e in open_entries if e.fen > 0)
        ),
        booked_out_not_bank=_group(
            "booked_out_not_bank", (_entry_item(e) for e in open_entries if e.fen < 0)
        ),
        linked_matches=before.linked_lines + len(matched_lines) - len(pairs),
        fallback_matches=tuple(
            FallbackMatch(ln.id, e.id, ln.date, e.date, from_fen(abs(ln.fen))) for ln, e in pairs
        ),
    )


# --------------------------------------------------------------------------- entry point


def bank_reconciliation(
    session: Connection,
    entity: str,
    period: int,
    *,
    account: str | None = None,
    window_days: int | None = None,
) -> BankReconciliation:
    """Compute the bank reconciliation statement (银行存款余额调节表) at ``period``'s end.

    One statement per bank account (leaf accounts with custody ``bank``), or
    only ``account``.  ``window_days`` is the fallback matching window
    (default: the entity's ``link_window_days``).  Reads only; writes nothing.

    Raises:
        NotFoundError: unknown entity, or ``account`` is not one of its bank accounts.
        ValidationError: ``window_days`` is negative, or ``period`` is before
            the books start or after the current month.
    """
    ent = get_entity(session, entity)
    clock.require_report_months(ent.code, ent.start_period, period, period)
    window = ent.link_window_days if window_days is None else window_days
    if window < 0:
        raise ValidationError(f"匹配天数 window {window}", "不能为负 / cannot be negative")
    accounts = accounts_of(session, ent.id)
    banks = sorted(
        (a for a in accounts.values() if a.custody == "bank" and a.leaf), key=lambda a: a.code
    )
    if account is not None:
        banks = [a for a in banks if a.code == account]
        if not banks:
            raise NotFoundError("银行存款科目 bank account", f"{entity} {account}")
    end = last_day(period)
    codes = [a.code for a in banks]
    balances = read_balances(session, ent.id, period, codes)
    after = next_period(period)
    numbers = {
        str(code): (str(number), str(bank or ""))
        for code, number, bank in session.execute(
            select(BankAccount.account_code, BankAccount.number, BankAccount.bank).where(
                BankAccount.entity_id == ent.id
            )
        )
    }
    results = []
    for acc in banks:
        w = _Window(ent.id, acc.code, first_day(period), end, first_day(ent.start_period))
        opening = balances.opening.get(acc.code, 0)
        lines, open_before = _statement_lines(session, w)
        results.append(
            _reconcile(
                acc.code,
                acc.name,
                opening,
                balances.balance_before([acc.code], after),
                _statement_balance(session, w, opening),
                lines,
                _entries(session, w),
                _before(session, w, open_before),
                window,
                w,
            )
        )
        if acc.code in numbers:
            number, bank = numbers[acc.code]
            results[-1] = replace(results[-1], bank_number=number, bank_name=bank)
    return BankReconciliation(ent.code, ent.name, period, end, window, tuple(results))
