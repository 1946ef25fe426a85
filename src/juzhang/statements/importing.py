"""Bank statements into the books (银行对账单导入): lines, the cashier's journal, drafts.

The file side (:mod:`juzhang.importers.bank`) reads a statement into rows.
This module stores them and prepares the bookkeeper's draft vouchers, in one
database transaction: any problem, and nothing is written.

1. **Which bank account.**  The books' bank detail account (``--account``,
   e.g. 10201 银行存款—农商行) has the bank's account number recorded with it
   (:func:`set_bank_account`, table ``bank_account``).  A statement whose
   metadata or own-account column names another number is refused.  The
   number also goes into the dedup keys, so it is fixed once lines exist.
2. **Every row becomes a statement line** (``statement_line``, the bank's
   record: never changed, never deleted) with its source file
   (``import_batch``), row number and dedup key — the bank's serial where
   there is one, else a fingerprint plus an occurrence counter
   (:func:`juzhang.importers.bank.dedup_keys`).  A row whose key is already
   stored is a *duplicate*: skipped and listed (row ranges), never silently
   dropped; re-importing a file, or overlapping statements in any order,
   adds nothing.  Keys are computed while streaming, one date at a time, so
   memory stays flat however long the file (a file whose dates are not
   grouped is read a second time, keeping every key).
3. **Running balances** are checked row by row (previous + in − out); a
   break is a *blocking* problem naming the row: the lines are the bank's
   record and are never changed afterwards, so a file with missing or
   misread rows must not go in.  Every problem of the file is listed at once
   (:class:`~juzhang.errors.ProblemsError`).
4. **The cashier's entry** (钱账分离).  The bank side of each voucher must be
   backed by the cashier's bank-journal entry.  A new line is matched to an
   entry of the same account and signed amount, dated within the window
   (``window_days``, else the entity's ``link_window_days``), with the same
   counterparty where both name one (one containing the other counts), not
   yet matched to another line: an entry matches one line only.  Among
   several, a counterparty match, then the nearest date, then the lowest id
   wins.
5. **Drafting.**  A matched line gets a draft voucher prepared by the
   importing bookkeeper through :func:`juzhang.books.draft_pairs` (the
   rules of ``draft_vouchers``, checked in bulk): the
   bank line names the entry (``custody_entry``), the counter line goes to
   the account the categorisation rules choose (:mod:`.rules`; suspense
   without rules).  When the entry already backs a voucher (the bookkeeper
   booked it before the statement came) the line is linked to that voucher
   instead; when it belongs to a pending claim (报账单), the claim's voucher
   will be linked later.  Lines dated before the books start, or in a closed
   month, are stored but not drafted.
6. **Lines with no cashier entry** (interest, bank fees, transfers in) wait
   for the cashier, who accepts them into the bank journal with one command
   (:func:`accept_statement_lines`: cashier only).  The next import of that
   account, or :func:`draft_pending`, drafts their vouchers.
7. **Dry run.**  ``dry_run=True`` does everything inside a savepoint and
   rolls it back: the proposed vouchers come back in
   :attr:`ImportResult.proposals` exactly as the real run would draft them,
   and the database is left as it was.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, NamedTuple, TypeVar

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    String,
    and_,
    any_,
    bindparam,
    exists,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, Session

from juzhang import books as ledger
from juzhang import custody
from juzhang.charts import load_chart
from juzhang.core.duty import Action
from juzhang.core.period import first_day, format_period, period_of
from juzhang.errors import (
    ConflictError,
    NotFoundError,
    Problem,
    ProblemsError,
    StateError,
    ValidationError,
)
from juzhang.importers.bank import (
    BankProfile,
    StatementRow,
    dedup_keys,
    load_profile,
    open_statement,
)
from juzhang.importers.reader import DEFAULT_LIMITS, ReadLimits
from juzhang.importers.rules import Categorised, Facts, Rules, rules_for
from juzhang.money import from_fen
from juzhang.storage.access import (
    OPERATOR,
    AccountInfo,
    EntityInfo,
    accounts_of,
    audit,
    audit_many,
    closed_periods,
    command,
    get_entity,
    insert_many,
    next_id,
    now,
    require,
)
from juzhang.storage.engine import is_sqlite
from juzhang.storage.schema import (
    TABLES,
    BankAccount,
    Claim,
    CustodyEntry,
    ImportBatch,
    StatementLine,
    Voucher,
    VoucherLine,
)

__all__ = [
    "CHUNK_ROWS",
    "Accepted",
    "BankAccountView",
    "DraftResult",
    "ImportResult",
    "LineStatus",
    "Proposal",
    "Span",
    "StatementLineView",
    "accept_statement_lines",
    "bank_accounts",
    "draft_pending",
    "format_spans",
    "import_statement",
    "list_statement_lines",
    "set_bank_account",
]

CHUNK_ROWS = 2000
"""Rows handled per round trip (look-ups, drafting, inserts)."""

T = TypeVar("T")
_KEY_MAX = 200  # statement_line.dedup_key length
_ANALYZED = ("statement_line", "voucher", "voucher_line", "custody_entry", "audit_log")
_LINES = TABLES["statement_line"]  # inserted as tuples (storage.access.insert_many)
_LINE_COLUMNS = (
    "entity_id",
    "id",
    "account_code",
    "batch_id",
    "row_no",
    "dedup_key",
    "txn_date",
    "txn_time",
    "out_fen",
    "in_fen",
    "balance_fen",
    "counterparty",
    "counterparty_account",
    "counterparty_bank",
    "summary",
    "purpose",
    "remark",
    "serial",
    "custody_entry_id",
    "voucher_id",
)


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


class _Spans:
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
    ``preview`` limit.
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


# --------------------------------------------------------------------------- bank accounts


def normalise_number(text: str) -> str:
    """Return a bank account number without spaces and dashes (full-width folded).

    Raises :class:`~juzhang.errors.ValidationError` unless digits, and only
    digits, remain.
    """
    number = re.sub(r"[\s\-]", "", unicodedata.normalize("NFKC", text))
    if not number.isascii() or not number.isdigit():
        raise ValidationError(f"银行账号 bank account number {text!r}", "只能是数字 / digits only")
    return number


def _bank_account(accounts: dict[str, AccountInfo], code: str, entity: str) -> AccountInfo:
    acc = accounts.get(code)
    if acc is None:
        raise NotFoundError("科目 account", f"{entity} {code}")
    if acc.custody != "bank":
        raise ValidationError(
            f"科目 account {code} {acc.name}", "不是银行存款科目 / not a bank account"
        )
    if not acc.leaf:
        raise ValidationError(
            f"科目 account {code} {acc.name}",
            "有明细科目，请用末级科目 / has detail accounts: use the detail account",
        )
    if not acc.active:
        raise ValidationError(f"科目 account {code} {acc.name}", "已停用 / inactive")
    return acc


@command
def set_bank_account(
    session: Session,
    entity: str,
    account: str,
    number: str,
    *,
    name: str = "",
    bank: str = "",
    actor: str = OPERATOR,
) -> None:
    """Record the bank's account number behind a bank detail account (set-up).

    Raises:
        NotFoundError: no such entity or account.
        ValidationError: not a bank detail account, or a bad number.
        ConflictError: another account of the entity has this number.
        StateError: statement lines are stored under another number.
    """
    ent = get_entity(session, entity, lock=True)
    _bank_account(accounts_of(session, ent.id), account, entity)
    clean = normalise_number(number)
    other = session.execute(
        select(BankAccount.account_code).where(
            BankAccount.entity_id == ent.id,
            BankAccount.number == clean,
            BankAccount.account_code != account,
        )
    ).scalar_one_or_none()
    if other is not None:
        raise ConflictError("银行账号 bank account number", f"{clean} ({entity} {other})")
    old = session.execute(
        select(BankAccount.number).where(
            BankAccount.entity_id == ent.id, BankAccount.account_code == account
        )
    ).scalar_one_or_none()
    if old is not None and old != clean and _has_lines(session, ent.id, account):
        raise StateError(
            f"{entity} {account} 银行账号 {old}",
            "已导入对账单 / statement lines are stored under it",
            "更改账号 change the number",
        )
    values = {"number": clean, "name": name, "bank": bank}
    if old is None:
        session.execute(
            insert(BankAccount).values(entity_id=ent.id, account_code=account, **values)
        )
    else:
        session.execute(
            update(BankAccount)
            .where(BankAccount.entity_id == ent.id, BankAccount.account_code == account)
            .values(**values)
        )
    audit(session, ent.id, actor, "bank_account.set", account, values)


def _has_lines(session: Session, entity_id: int, account: str) -> bool:
    q = select(StatementLine.id).where(
        StatementLine.entity_id == entity_id, StatementLine.account_code == account
    )
    return session.execute(q.limit(1)).first() is not None


def bank_accounts(session: Session, entity: str) -> list[BankAccountView]:
    """Return the bank account numbers recorded for an entity, by account code.

    Raises:
        NotFoundError: no such entity.
    """
    ent = get_entity(session, entity)
    rows = session.execute(
        select(BankAccount.account_code, BankAccount.number, BankAccount.name, BankAccount.bank)
        .where(BankAccount.entity_id == ent.id)
        .order_by(BankAccount.account_code)
    )
    return [BankAccountView(*row) for row in rows]


# --------------------------------------------------------------------------- working state


@dataclass(slots=True)
class _Item:
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


@dataclass(slots=True)
class _Books:
    """What an import or a drafting run knows about the entity and the account."""

    session: Session
    ent: EntityInfo
    actor: str
    account: str
    rules: Rules
    suspense: str
    window: int
    closed: set[int]
    start: dt.date
    name: str
    accounts: dict[str, AccountInfo]
    suspense_ready: bool = False
    drafted: int = 0
    linked: int = 0
    vouchers: _Spans = field(default_factory=_Spans)
    claims: _Spans = field(default_factory=_Spans)
    closed_rows: _Spans = field(default_factory=_Spans)
    early_rows: _Spans = field(default_factory=_Spans)

    def classify(self, item: _Item) -> None:
        """Mark lines before the books start or in a closed month (never drafted)."""
        if item.date < self.start:
            item.status = LineStatus.BEFORE_START
        elif period_of(item.date) in self.closed:
            item.status = LineStatus.CLOSED_PERIOD


def _open_books(
    session: Session,
    ent: EntityInfo,
    actor: str,
    account: str,
    rules: Rules,
    window_days: int | None,
    name: str,
) -> _Books:
    """Check the rules against the entity's accounts and gather what drafting needs.

    Raises :class:`~juzhang.errors.ProblemsError` listing every bad account
    the rules name.
    """
    accounts = accounts_of(session, ent.id)
    chart = load_chart(ent.chart)
    suspense = rules.suspense or chart.suspense
    problems = []
    for code, where in rules.accounts().items():
        reason = _counter_problem(accounts.get(code), code)
        if reason is not None:
            problems.append(Problem(f"{rules.source}: {where}", reason, "rules"))
    if rules.suspense is None and suspense in accounts:
        reason = _counter_problem(accounts[suspense], suspense)
        if reason is not None:
            problems.append(Problem(f"{ent.code} 待查科目 suspense", reason, "rules"))
    if problems:
        raise ProblemsError("分类规则与科目表不符 / the rules do not fit the chart", problems)
    window = ent.link_window_days if window_days is None else window_days
    if window < 0:
        raise ValidationError("匹配天数 window_days", "不能为负 / cannot be negative")
    return _Books(
        session=session,
        ent=ent,
        actor=actor,
        account=account,
        rules=rules,
        suspense=suspense,
        window=window,
        closed=closed_periods(session, ent.id),
        start=first_day(ent.start_period),
        name=name,
        accounts=accounts,
        suspense_ready=suspense in accounts,
    )


def _counter_problem(acc: AccountInfo | None, code: str) -> str | None:
    if acc is None:
        return f"科目 {code} 不存在 / no account {code}"
    if not acc.leaf:
        return f"科目 {code} {acc.name} 有明细科目 / {code} has detail accounts: use one of them"
    if not acc.active:
        return f"科目 {code} {acc.name} 已停用 / account {code} is inactive"
    if acc.custody is not None:
        return (
            f"科目 {code} {acc.name} 是现金或银行科目：本方账户之间的划转（提现、存现）"
            f"请手工制单 / {code} is a cash or bank account: book transfers between own"
            " accounts by hand"
        )
    return None


def _ensure_suspense(books: _Books) -> None:
    """Create the chart's suspense detail account (待查款项) when the entity lacks it."""
    if books.suspense_ready:
        return
    template = load_chart(books.ent.chart).account(books.suspense)
    ledger.add_account(
        books.session, books.ent.code, books.suspense, template.name, actor=books.actor
    )
    books.suspense_ready = True


# --------------------------------------------------------------------------- matching


@lru_cache(maxsize=4096)
def _fold(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).casefold()


def _counterparty_fit(line: str, entry: str) -> int | None:
    """0: both name the same counterparty; 1: one names none; None: they differ."""
    if not line or not entry:
        return 1
    return 0 if line in entry or entry in line else None


def _match(
    session: Session, entity_id: int, account: str, window_days: int, items: Sequence[_Item]
) -> None:
    """Give each item the cashier's entry of ``account`` that records it, where there is one."""
    wanted = [i for i in items if i.status is not LineStatus.BEFORE_START and i.entry is None]
    if not wanted:
        return
    window = dt.timedelta(days=window_days)
    linked = exists().where(
        StatementLine.entity_id == CustodyEntry.entity_id,
        StatementLine.custody_entry_id == CustodyEntry.id,
    )
    pool: dict[int, list[tuple[dt.date, int, str]]] = {}
    amounts = sorted({i.fen for i in wanted})
    low = min(i.date for i in wanted) - window
    high = max(i.date for i in wanted) + window
    for part in _chunks(amounts, 900):
        rows = session.execute(
            select(
                CustodyEntry.id,
                CustodyEntry.entry_date,
                CustodyEntry.amount_fen,
                CustodyEntry.counterparty,
            ).where(
                CustodyEntry.entity_id == entity_id,
                CustodyEntry.account_code == account,
                _one_of(session, CustodyEntry.amount_fen, part),
                # coalesce(d, d): filter on the date, but never through the date
                # index: for a chunk's span of dates that index reads most of a
                # month's entries, and the planners chose it as the journal grew
                # (1,000,000 rows: 15 s of 100 s per 300,000); the amount index
                # finds the few entries of each amount.
                func.coalesce(CustodyEntry.entry_date, CustodyEntry.entry_date).between(low, high),
                ~linked,
            )
        )
        for entry_id, day, fen, counterparty in rows:
            pool.setdefault(int(fen), []).append((day, int(entry_id), _fold(counterparty)))
    for item in wanted:
        candidates = pool.get(item.fen)
        if not candidates:
            continue
        mine = _fold(item.facts.counterparty)
        best: tuple[int, int, int] | None = None
        for day, entry_id, theirs in candidates:
            days = abs((day - item.date).days)
            fit = _counterparty_fit(mine, theirs)
            if days > window_days or fit is None:
                continue
            rank = (fit, days, entry_id)
            if best is None or rank < best:
                best = rank
        if best is not None:
            item.entry = best[2]
            candidates[:] = [c for c in candidates if c[1] != best[2]]


def _chunks(values: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _one_of(session: Session, column: Mapped[T] | Mapped[T | None], values: Sequence[T]) -> Any:
    """``column IN (values)``; on PostgreSQL ``column = ANY(array)``, one parameter.

    PostgreSQL plans a long ``IN`` list of parameters (psycopg prepares
    statements it runs often) as a linear search per row, which made a
    million-row import quadratic; an array parameter is hashed or probed.
    """
    if is_sqlite(session):
        return column.in_(values)
    element = String() if values and isinstance(values[0], str) else BigInteger()
    return column == any_(bindparam(None, list(values), type_=ARRAY(element)))


# --------------------------------------------------------------------------- drafting


def _usage(session: Session, entity_id: int, entry_ids: Sequence[int]) -> dict[int, int]:
    """Return ``{entry id: voucher id}`` for entries that already back a voucher.

    An entry backs a voucher as :mod:`juzhang.books` sees it: a draft or
    reviewed voucher names it, or posted lines naming it do not net to zero
    (a posted voucher and its posted reversal free it again).  The voucher
    given is the newest one naming it that is not a reversal.
    """
    net: dict[int, int] = {}
    unposted: set[int] = set()
    newest: dict[int, int] = {}  # newest voucher naming the entry that is not a reversal
    any_voucher: dict[int, int] = {}
    for part in _chunks(sorted(set(entry_ids)), 900):
        rows = session.execute(
            select(
                VoucherLine.custody_entry_id,
                Voucher.id,
                Voucher.status,
                Voucher.kind,
                VoucherLine.side,
                VoucherLine.amount_fen,
            )
            .join(
                Voucher,
                and_(
                    Voucher.entity_id == VoucherLine.entity_id,
                    Voucher.id == VoucherLine.voucher_id,
                ),
            )
            .where(
                VoucherLine.entity_id == entity_id,
                _one_of(session, VoucherLine.custody_entry_id, part),
            )
        )
        for raw_entry, voucher_id, status, kind, side, fen in rows:
            if raw_entry is None:
                continue
            entry = int(raw_entry)
            if status == "posted":
                net[entry] = net.get(entry, 0) + (fen if side == "D" else -fen)
            else:
                unposted.add(entry)
            any_voucher[entry] = max(any_voucher.get(entry, 0), voucher_id)
            if kind != "reversal":
                newest[entry] = max(newest.get(entry, 0), voucher_id)
    return {
        entry: newest.get(entry, voucher)
        for entry, voucher in any_voucher.items()
        if net.get(entry, 0) != 0 or entry in unposted
    }


def _claimed(session: Session, entity_id: int, entry_ids: Sequence[int]) -> set[int]:
    """Entries recorded for a claim (报账单) whose voucher the claims flow still drafts."""
    found: set[int] = set()
    for part in _chunks(sorted(set(entry_ids)), 900):
        rows = session.execute(
            select(Claim.custody_entry_id).where(
                Claim.entity_id == entity_id,
                Claim.status == "pending",
                _one_of(session, Claim.custody_entry_id, part),
            )
        )
        found.update(int(e) for (e,) in rows if e is not None)
    return found


def _pair_of(books: _Books, item: _Item, cat: Categorised) -> ledger.PairDraft:
    """The voucher of a statement line: bank account against the counter account.

    Money in is 借 银行存款 贷 the counter account; money out the other way
    round (:class:`juzhang.books.PairDraft`); the bank line names the entry.
    """
    assert item.entry is not None
    return ledger.PairDraft(
        item.date, books.account, cat.account, cat.summary, item.fen, item.entry
    )


def _settle(books: _Books, items: Sequence[_Item]) -> None:
    """Draft vouchers for the items that have an entry, or link the voucher that exists."""
    matched = [i for i in items if i.entry is not None and i.voucher is None]
    if not matched:
        return
    entry_ids = [i.entry for i in matched if i.entry is not None]
    usage = _usage(books.session, books.ent.id, entry_ids)
    claimed = (
        _claimed(books.session, books.ent.id, entry_ids) if len(usage) < len(matched) else set()
    )
    drafts: list[ledger.PairDraft] = []
    targets: list[_Item] = []
    categorise, suspense = books.rules.categorise, books.suspense
    for item in matched:
        assert item.entry is not None
        voucher = usage.get(item.entry)
        if voucher is not None:
            item.voucher = voucher
            item.status = LineStatus.DRAFTED
            books.linked += 1
        elif item.status is LineStatus.CLOSED_PERIOD:
            continue
        elif item.entry in claimed:
            item.status = LineStatus.AWAITING_DRAFT
            if item.row:  # a row of the file being imported (stored lines: draft_pending says)
                books.claims.add(item.row)
        else:
            item.cat = categorise(item.facts, suspense)
            drafts.append(_pair_of(books, item, item.cat))
            targets.append(item)
    if not drafts:
        return
    if any(d.counter_account == suspense for d in drafts):
        _ensure_suspense(books)
    try:
        ids = ledger.draft_pairs(books.session, books.ent.code, books.actor, drafts)
    except ProblemsError as exc:
        raise ProblemsError(
            exc.what, [_relocate(books, p, targets) for p in exc.problems]
        ) from None
    for item, voucher_id in zip(targets, ids, strict=True):
        item.voucher = voucher_id
        item.status = LineStatus.DRAFTED
    books.vouchers.add_run(ids[0], ids[-1])
    books.drafted += len(ids)


_VOUCHER_NO = re.compile(r"凭证(\d*) voucher ?\d*")


def _relocate(books: _Books, problem: Problem, targets: Sequence[_Item]) -> Problem:
    """Name the statement row behind a problem the ledger found in draft number N."""
    found = _VOUCHER_NO.search(problem.where)
    if found is None:
        return problem
    item = targets[int(found.group(1)) - 1 if found.group(1) else 0]
    where = f"{books.name}:{item.row}" if item.row else f"对账单行 statement line #{item.line_id}"
    return Problem(f"{where} ({problem.where})", problem.message, problem.subject or "voucher")


# --------------------------------------------------------------------------- dedup keys


class _Unsorted(Exception):
    """A date came back after other dates: keys must be counted over the whole file."""


class _Keys:
    """Dedup keys equal to :func:`~juzhang.importers.bank.dedup_keys`, streamed.

    Identical rows share their date, so occurrence counters are needed for
    the current date only, provided the file keeps each date's rows
    together.  With ``evict`` a date met again after another raises
    :class:`_Unsorted` (the import starts again without evicting).
    """

    def __init__(self, account: str, *, evict: bool) -> None:
        self.account = account
        self.evict = evict
        self.day: dt.date | None = None
        self.counts: dict[str, int] = {}
        self.done: set[dt.date] = set()

    def keys(self, rows: Sequence[StatementRow]) -> list[str]:
        """Return the keys of the next rows of the file, in order.

        :func:`~juzhang.importers.bank.dedup_keys` gives each row's base key
        (one call per batch); the occurrence counters run on across batches.
        """
        out = []
        counts = self.counts
        for row, local in zip(rows, dedup_keys(rows, self.account), strict=True):
            if row.date != self.day:
                if self.day is not None:
                    self.done.add(self.day)
                if self.evict:
                    if row.date in self.done:
                        raise _Unsorted
                    counts.clear()
                self.day = row.date
            base = local.rpartition("#")[0]
            count = counts.get(base, 0) + 1
            counts[base] = count
            key = f"{base}#{count}"
            if len(key) > _KEY_MAX:  # a very long serial: keep the key within the column
                key = f"sha:{hashlib.sha256(base.encode('utf-8')).hexdigest()}#{count}"
            out.append(key)
        return out


# --------------------------------------------------------------------------- import


def import_statement(
    session: Session,
    entity: str,
    actor: str,
    path: str | Path,
    *,
    account: str,
    profile: str | None = None,
    mapping: str | Path | None = None,
    rules: Rules | str | Path | None = None,
    dry_run: bool = False,
    window_days: int | None = None,
    limits: ReadLimits = DEFAULT_LIMITS,
    name: str | None = None,
    preview: int = 1000,
) -> ImportResult:
    """Import a bank statement file into the bank detail account ``account``.

    The actor must be a bookkeeper of the entity (the agency imports
    statements).  ``profile`` names a shipped layout, ``mapping`` is a
    user-written layout file (one of the two, or neither to detect it);
    ``rules`` a categorisation rules file or :class:`~.rules.Rules` (none:
    every line to the suspense account).  Everything happens in one
    savepoint of ``session``: on any error nothing is written.  With
    ``dry_run`` everything is done and then rolled back; the result's
    ``proposals`` show each row's outcome (up to ``preview`` rows).

    Returns an :class:`ImportResult`.

    Raises:
        SegregationOfDutiesError: the actor is not a bookkeeper of the entity.
        NotFoundError: unknown entity or account.
        ValidationError: not a bank detail account, no bank account number
            recorded for it, or both ``profile`` and ``mapping`` given.
        ProblemsError: every problem at once — the file cannot be read, is
            another account's statement, bad rows, balance breaks, bad rules.
    """
    if profile is not None and mapping is not None:
        raise ValidationError("对账单格式 profile", "profile 与 mapping 只能给一个 / not both")
    layout: str | BankProfile | None = load_profile(mapping) if mapping is not None else profile
    chosen = rules_for(rules)
    options = _Options(Path(path), layout, chosen, window_days, limits, name, preview, dry_run)
    return _import(session, entity, actor, account, options)


@dataclass(frozen=True, slots=True)
class _Options:
    path: Path
    layout: str | BankProfile | None
    rules: Rules
    window_days: int | None
    limits: ReadLimits
    name: str | None
    preview: int
    dry_run: bool


@command
def _import(
    session: Session, entity: str, actor: str, account: str, options: _Options
) -> ImportResult:
    ent = get_entity(session, entity, lock=True)
    require(session, ent, actor, Action.DRAFT_VOUCHER)
    _bank_account(accounts_of(session, ent.id), account, entity)
    number = session.execute(
        select(BankAccount.number).where(
            BankAccount.entity_id == ent.id, BankAccount.account_code == account
        )
    ).scalar_one_or_none()
    if number is None:
        raise ValidationError(
            f"{entity} {account} 银行账号 bank account number",
            "未登记，请先登记 / not recorded: run `juzhang statement bank-account "
            f"{entity} {account} NUMBER` first",
        )
    for evict in (True, False):
        savepoint = session.begin_nested()
        try:
            run = _Run(session, ent, actor, account, number, options)
            result = run.execute(evict=evict)
        except _Unsorted:
            savepoint.rollback()
            continue
        except BaseException:
            savepoint.rollback()
            raise
        if options.dry_run:
            savepoint.rollback()
        else:
            savepoint.commit()
        return result
    raise AssertionError("unreachable: the second attempt keeps every key")


class _Run:
    """One attempt at importing a file (see :func:`import_statement`)."""

    def __init__(
        self,
        session: Session,
        ent: EntityInfo,
        actor: str,
        account: str,
        number: str,
        options: _Options,
    ) -> None:
        self.session = session
        self.ent = ent
        self.actor = actor
        self.account = account
        self.number = number
        self.options = options
        self.batch_id: int | None = None
        self.next_line = next_id(session, _LINES, ent.id)
        self.rows_read = 0
        self.new_lines = 0
        self.duplicates = _Spans()
        self.awaiting = _Spans()
        self.problems: list[Problem] = []
        self.proposals: list[Proposal] = []
        self.analyze_at = CHUNK_ROWS

    def execute(self, *, evict: bool) -> ImportResult:
        options = self.options
        shown = options.name or options.path.name
        books = _open_books(
            self.session,
            self.ent,
            self.actor,
            self.account,
            options.rules,
            options.window_days,
            shown,
        )
        with open_statement(
            options.path,
            profile=options.layout,
            account=self.number,
            limits=options.limits,
            name=shown,
        ) as stream:
            keys = _Keys(self.number, evict=evict)
            self._analyze()  # PostgreSQL: plan with the tables' sizes of now
            chunk: list[StatementRow] = []
            for row in stream:  # the stream checks running balances as rows go by
                self.rows_read += 1
                if stream.problems:
                    chunk.clear()  # refused anyway: only collect the problems
                    continue
                chunk.append(row)
                if len(chunk) >= CHUNK_ROWS:
                    self._chunk(books, [*map(_item_of, chunk, keys.keys(chunk))])
                    chunk = []
            if chunk and not stream.problems:
                self._chunk(books, [*map(_item_of, chunk, keys.keys(chunk))])
            problems = [*stream.problems, *self.problems]
            if problems:
                raise ProblemsError(
                    f"银行对账单未导入 / bank statement not imported: {stream.name}", problems
                )
            pending = self._draft_earlier(books)
            return self._result(books, stream.profile.name, stream.own_account, pending)

    def _chunk(self, books: _Books, chunk: list[_Item]) -> None:
        existing = self._existing(chunk)
        new: list[_Item] = []
        for item in chunk:
            found = existing.get(item.key)
            if found is None:
                new.append(item)
                continue
            line_id, day, fen = found
            if (day, fen) != (item.date, item.fen):
                self.problems.append(
                    Problem(
                        f"{books.name}:{item.row}",
                        f"与已导入的对账单行 #{line_id} 去重键相同但日期或金额不同"
                        f" ({day} {from_fen(fen)}) / same dedup key as stored line #{line_id}"
                        f" but another date or amount ({day} {from_fen(fen)})",
                        "dedup",
                    )
                )
                continue
            self.duplicates.add(item.row)
            item.status = LineStatus.DUPLICATE
            item.line_id = line_id
            self._propose(item)
        if self.problems or not new:
            return
        for item in new:
            item.line_id = self.next_line
            self.next_line += 1
            books.classify(item)
        _match(self.session, self.ent.id, self.account, books.window, new)
        _settle(books, new)
        for item in new:
            if item.status is None:
                item.status = (
                    LineStatus.AWAITING_CASHIER if item.entry is None else LineStatus.AWAITING_DRAFT
                )
            if item.status is LineStatus.AWAITING_CASHIER:
                self.awaiting.add(item.line_id)
            elif item.status is LineStatus.CLOSED_PERIOD:
                books.closed_rows.add(item.row)
            elif item.status is LineStatus.BEFORE_START:
                books.early_rows.add(item.row)
            self._propose(item)
        self._insert(new)
        if self.new_lines >= self.analyze_at:
            self._refresh_statistics()

    def _refresh_statistics(self) -> None:
        """PostgreSQL: ANALYZE the tables this import is filling, at 4×-growth steps.

        Plans PostgreSQL caches for a session (foreign-key checks, trigger
        functions, prepared statements) are made with the table sizes of the
        moment; made while these tables were nearly empty they scan them
        whole, and a long import into a fresh database turns quadratic
        (20,000 rows: 376 s instead of 60 s).  ANALYZE sees this
        transaction's own rows, and new statistics make PostgreSQL plan again.
        """
        self.analyze_at *= 4
        self._analyze()

    def _analyze(self) -> None:
        """PostgreSQL: ANALYZE the tables the import reads and fills (also at the start).

        Without statistics (a custody journal recorded since the last
        autovacuum) PostgreSQL checks the foreign key from a voucher line to
        its custody entry through the amount index, reading every entry of
        the account: 2.4 ms per line at 20,000 entries instead of 5 µs.
        """
        if not is_sqlite(self.session):
            self.session.execute(text(f"ANALYZE {', '.join(_ANALYZED)}"))

    def _existing(self, chunk: Sequence[_Item]) -> dict[str, tuple[int, dt.date, int]]:
        keys = [i.key for i in chunk]
        found: dict[str, tuple[int, dt.date, int]] = {}
        for start in range(0, len(keys), 900):
            rows = self.session.execute(
                select(
                    StatementLine.dedup_key,
                    StatementLine.id,
                    StatementLine.txn_date,
                    StatementLine.in_fen - StatementLine.out_fen,
                ).where(
                    StatementLine.entity_id == self.ent.id,
                    StatementLine.account_code == self.account,
                    _one_of(self.session, StatementLine.dedup_key, keys[start : start + 900]),
                )
            )
            for key, line_id, day, fen in rows:
                found[key] = (int(line_id), _as_date(day), int(fen))
        return found

    def _insert(self, items: Sequence[_Item]) -> None:
        if self.batch_id is None:
            self.batch_id = self._new_batch()
        ent_id, account, batch = self.ent.id, self.account, self.batch_id
        rows = []
        for i in items:
            facts, fen = i.facts, i.fen
            rows.append(
                (ent_id, i.line_id, account, batch, i.row, i.key, i.date, i.time,
                 -fen if fen < 0 else 0, fen if fen > 0 else 0, i.balance,
                 facts.counterparty, facts.counterparty_account, facts.counterparty_bank,
                 facts.summary, facts.purpose, facts.remark, facts.serial, i.entry, i.voucher)
            )  # fmt: skip
        insert_many(self.session, StatementLine, _LINE_COLUMNS, rows)  # a few driver calls
        self.new_lines += len(rows)

    def _new_batch(self) -> int:
        batch_id = next_id(self.session, TABLES["import_batch"], self.ent.id)
        uid = require(self.session, self.ent, self.actor, Action.DRAFT_VOUCHER)
        self.session.execute(
            insert(ImportBatch).values(
                entity_id=self.ent.id,
                id=batch_id,
                kind="bank",
                file_name=self.options.name or self.options.path.name,
                file_sha256=_sha256(self.options.path),
                account_code=self.account,
                profile=_profile_name(self.options.layout),
                imported_by=uid,
                imported_at=now(),
                rows_read=0,
                rows_new=0,
            )
        )
        return batch_id

    def _draft_earlier(self, books: _Books) -> int:
        """Draft lines of earlier imports whose cashier entries exist now."""
        before = books.drafted
        for items in _pending_lines(
            self.session, self.ent.id, self.account, skip_batch=self.batch_id
        ):
            for item in items:
                books.classify(item)
            _settle(books, items)
            _store_links(self.session, self.ent.id, items)
        return books.drafted - before

    def _propose(self, item: _Item) -> None:
        if not self.options.dry_run or len(self.proposals) >= self.options.preview:
            return
        cat = item.cat
        assert item.status is not None
        self.proposals.append(
            Proposal(
                row=item.row,
                date=item.date,
                direction=item.facts.direction,
                amount=item.facts.amount,
                counterparty=item.facts.counterparty,
                text=" ".join(t for t in (item.facts.summary, item.facts.purpose) if t),
                status=item.status,
                account=cat.account if cat else "",
                summary=cat.summary if cat else "",
                rule=cat.rule if cat else "",
                custody_entry=item.entry,
                voucher=item.voucher,
            )
        )

    def _result(
        self, books: _Books, profile: str, own_account: str | None, pending: int
    ) -> ImportResult:
        if self.batch_id is not None:
            self.session.execute(
                update(ImportBatch)
                .where(ImportBatch.entity_id == self.ent.id, ImportBatch.id == self.batch_id)
                .values(rows_read=self.rows_read, rows_new=self.new_lines)
            )
            audit(
                self.session,
                self.ent.id,
                self.actor,
                "statement.import",
                f"batch #{self.batch_id}",
                {
                    "file": self.options.name or self.options.path.name,
                    "account": self.account,
                    "rows": self.rows_read,
                    "new": self.new_lines,
                    "drafted": books.drafted,
                },
            )
        notes = _notes(books)
        if own_account is None:
            notes.insert(
                0,
                Problem(
                    books.name,
                    "对账单上没有本方账号，未核对账号 / the statement names no account number: "
                    "the account was not checked",
                    "account",
                ),
            )
        return ImportResult(
            file=books.name,
            profile=profile,
            account=self.account,
            own_account=own_account,
            batch_id=None if self.options.dry_run else self.batch_id,
            rows_read=self.rows_read,
            new_lines=self.new_lines,
            duplicates=self.duplicates.count,
            duplicate_rows=self.duplicates.result(),
            vouchers_drafted=books.drafted - pending,
            vouchers_linked=books.linked,
            awaiting_cashier=self.awaiting.count,
            awaiting_lines=self.awaiting.result(),
            pending_drafted=pending,
            notes=tuple(notes),
            dry_run=self.options.dry_run,
            proposals=tuple(self.proposals),
        )


def _notes(books: _Books) -> list[Problem]:
    notes = []
    for spans, message in (
        (
            books.early_rows,
            f"早于建账月份 {format_period(books.ent.start_period)}，已保存未制单 / before the "
            "books start: stored, not drafted (the opening balance covers them)",
        ),
        (
            books.closed_rows,
            "所在月份已结账，已保存未制单，请在未结账月份手工制单 / in a closed month: stored, "
            "not drafted; book it by hand in an open month",
        ),
        (
            books.claims,
            "出纳日记账记录属于待制单的报账单，凭证由报账单生成 / the cashier's entry belongs to "
            "a pending claim: its voucher comes from the claim",
        ),
    ):
        if spans.count:
            notes.append(Problem(f"{books.name}:{format_spans(spans.result())}", message, "line"))
    return notes


def _item_of(row: StatementRow, key: str) -> _Item:
    clock = row.time
    amount = row.credit - row.debit
    fen = int(amount.scaleb(2))
    direction: Literal["in", "out"] = "in" if fen > 0 else "out"
    facts = Facts(
        row.date,
        direction,
        abs(amount),
        row.counterparty,
        row.counterparty_account,
        row.counterparty_bank,
        row.summary,
        row.purpose,
        row.remark,
        row.serial,
        row.number,
    )
    return _Item(
        row=row.number,
        date=row.date,
        time=None if clock is None else f"{clock.hour:02}:{clock.minute:02}:{clock.second:02}",
        fen=fen,
        balance=None if row.balance is None else int(row.balance.scaleb(2)),
        facts=facts,
        key=key,
    )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _profile_name(layout: str | BankProfile | None) -> str:
    if isinstance(layout, BankProfile):
        return layout.name[:64]
    return (layout or "")[:64]


def _as_date(value: object) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


# --------------------------------------------------------------------------- stored lines


def _line_item(line: StatementLine) -> _Item:
    fen = line.in_fen - line.out_fen
    facts = Facts(
        line.txn_date,
        "in" if fen > 0 else "out",
        from_fen(abs(fen)),
        line.counterparty,
        line.counterparty_account,
        line.counterparty_bank,
        line.summary,
        line.purpose,
        line.remark,
        line.serial,
        line.row_no,
    )
    return _Item(
        row=0,
        date=line.txn_date,
        time=line.txn_time,
        fen=fen,
        balance=line.balance_fen,
        facts=facts,
        key=line.dedup_key,
        line_id=line.id,
        entry=line.custody_entry_id,
        voucher=line.voucher_id,
    )


def _pending_lines(
    session: Session,
    entity_id: int,
    account: str | None,
    *,
    skip_batch: int | None = None,
    start: dt.date | None = None,
) -> Iterator[list[_Item]]:
    """Stored lines with no voucher yet, in chunks, by id.

    Only lines with a cashier entry, unless ``start`` is given: then also
    lines without one dated from ``start`` (the books' first day).
    """
    after = 0
    waiting: ColumnElement[bool] = StatementLine.custody_entry_id.is_not(None)
    if start is not None:
        waiting = or_(waiting, StatementLine.txn_date >= start)
    while True:
        q = select(StatementLine).where(
            StatementLine.entity_id == entity_id,
            StatementLine.voucher_id.is_(None),
            waiting,
            StatementLine.id > after,
        )
        if account is not None:
            q = q.where(StatementLine.account_code == account)
        if skip_batch is not None:
            q = q.where(StatementLine.batch_id != skip_batch)
        lines = list(session.scalars(q.order_by(StatementLine.id).limit(CHUNK_ROWS)))
        if not lines:
            return
        after = lines[-1].id
        items = [_line_item(line) for line in lines]
        for line in lines:
            session.expunge(line)
        yield items


def _store_links(session: Session, entity_id: int, items: Sequence[_Item]) -> None:
    """Write the entries matched and the vouchers drafted or found for stored lines."""
    rows = [
        {
            "entity_id": entity_id,
            "id": i.line_id,
            "custody_entry_id": i.entry,
            "voucher_id": i.voucher,
        }
        for i in items
        if i.entry is not None
    ]
    if rows:
        session.execute(update(StatementLine), rows)


@command
def draft_pending(
    session: Session,
    entity: str,
    actor: str,
    *,
    account: str | None = None,
    rules: Rules | str | Path | None = None,
    window_days: int | None = None,
) -> DraftResult:
    """Draft vouchers for stored lines whose cashier entries exist now (bookkeeper).

    These are the lines the cashier accepted into the bank journal since
    they were imported, and lines still waiting whose movement the cashier
    has since recorded by hand (matched as an import matches them); a line
    whose entry backs a voucher by now is linked to it.  ``account`` limits
    it to one bank account; ``rules`` and ``window_days`` as for
    :func:`import_statement`.

    Returns a :class:`DraftResult`; lines with an entry that still cannot be
    drafted are listed in ``waiting`` with the reason.

    Raises:
        SegregationOfDutiesError: the actor is not a bookkeeper of the entity.
        ProblemsError: bad rules, or a draft the ledger refuses (all listed).
    """
    ent = get_entity(session, entity, lock=True)
    require(session, ent, actor, Action.DRAFT_VOUCHER)
    chosen = rules_for(rules)
    start = first_day(ent.start_period)
    drafted = linked = 0
    vouchers = _Spans()
    waiting: list[Problem] = []
    q = select(StatementLine.account_code).where(
        StatementLine.entity_id == ent.id, StatementLine.voucher_id.is_(None)
    )
    if account is not None:
        q = q.where(StatementLine.account_code == account)
    for code in sorted(set(session.scalars(q.distinct()))):
        books = _open_books(session, ent, actor, code, chosen, window_days, f"{entity} {code}")
        books.vouchers = vouchers
        stuck = _Spans()
        for items in _pending_lines(session, ent.id, code, start=start):
            for item in items:
                books.classify(item)
            _match(session, ent.id, code, books.window, items)
            _settle(books, items)
            _store_links(session, ent.id, items)
            for item in items:
                if item.entry is not None and item.voucher is None:
                    stuck.add(item.line_id)
        drafted += books.drafted
        linked += books.linked
        if stuck.count:
            waiting.append(
                Problem(
                    f"{entity} {code} 对账单行 lines #{format_spans(stuck.result())}",
                    "未制单：月份已结账或属于待制单的报账单 / not drafted: closed month, or the "
                    "entry belongs to a pending claim",
                    "line",
                )
            )
    return DraftResult(drafted, linked, vouchers.result(), tuple(waiting))


# --------------------------------------------------------------------------- the cashier


def _status(line: StatementLine, start: dt.date, closed: set[int]) -> LineStatus:
    if line.voucher_id is not None:
        return LineStatus.DRAFTED
    if line.txn_date < start:
        return LineStatus.BEFORE_START
    if period_of(line.txn_date) in closed:
        return LineStatus.CLOSED_PERIOD
    if line.custody_entry_id is None:
        return LineStatus.AWAITING_CASHIER
    return LineStatus.AWAITING_DRAFT


def _custody_input(line: StatementLine) -> custody.CustodyInput:
    text = " ".join(t for t in (line.summary, line.purpose) if t)
    return custody.CustodyInput(
        date=line.txn_date,
        account=line.account_code,
        amount=from_fen(line.in_fen - line.out_fen),
        summary=text or f"银行对账单 statement line #{line.id}",
        counterparty=line.counterparty,
        reference=line.serial,
    )


def _awaiting_chunks(
    session: Session, ent: EntityInfo, account: str | None
) -> Iterator[list[StatementLine]]:
    start = first_day(ent.start_period)
    closed = closed_periods(session, ent.id)
    after = 0
    while True:
        q = select(StatementLine).where(
            StatementLine.entity_id == ent.id,
            StatementLine.custody_entry_id.is_(None),
            StatementLine.voucher_id.is_(None),
            StatementLine.txn_date >= start,
            StatementLine.id > after,
        )
        if account is not None:
            q = q.where(StatementLine.account_code == account)
        lines = list(session.scalars(q.order_by(StatementLine.id).limit(CHUNK_ROWS)))
        if not lines:
            return
        after = lines[-1].id
        for line in lines:
            session.expunge(line)
        yield [line for line in lines if period_of(line.txn_date) not in closed]


@command
def accept_statement_lines(
    session: Session,
    entity: str,
    actor: str,
    lines: Sequence[int] | Literal["all"],
    *,
    account: str | None = None,
) -> list[Accepted]:
    """Accept statement lines into the bank journal (cashier only); return the entries.

    For each line a bank-journal entry (``source='statement'``) is recorded
    through :func:`juzhang.custody.record_entries` with the bank's date,
    amount, summary, counterparty and serial, and linked to the line — unless
    the cashier has meanwhile recorded the movement by hand: an unlinked
    entry that matches (as an import matches) is linked instead, so nothing
    is recorded twice.  The bookkeeper's next import or :func:`draft_pending`
    then drafts their vouchers.  ``lines`` is a list of line ids or ``"all"`` (every line
    awaiting the cashier, optionally of one ``account``).  All or nothing.

    Raises:
        SegregationOfDutiesError: the actor is not the entity's cashier
            (a bookkeeper never may).
        ProblemsError: unknown lines, or lines not awaiting the cashier
            (every one listed).
    """
    ent = get_entity(session, entity, lock=True)
    require(session, ent, actor, Action.ACCEPT_STATEMENT)
    if lines == "all":
        batches: Iterable[list[StatementLine]] = _awaiting_chunks(session, ent, account)
    else:
        batches = [_chosen_lines(session, ent, list(dict.fromkeys(lines)), account)]
    accepted: list[Accepted] = []
    for batch in batches:
        if not batch:
            continue
        items = [_line_item(line) for line in batch]
        for code in sorted({line.account_code for line in batch}):
            mine = [i for i, line in zip(items, batch, strict=True) if line.account_code == code]
            _match(session, ent.id, code, ent.link_window_days, mine)
        fresh = [line for line, item in zip(batch, items, strict=True) if item.entry is None]
        recorded = iter(
            custody.record_entries(
                session, entity, actor, [_custody_input(line) for line in fresh], source="statement"
            )
            if fresh
            else []
        )
        done = [
            Accepted(item.line_id, next(recorded), True)
            if item.entry is None
            else Accepted(item.line_id, item.entry, False)
            for item in items
        ]
        session.execute(
            update(StatementLine),
            [{"entity_id": ent.id, "id": a.line, "custody_entry_id": a.entry} for a in done],
        )
        audit_many(
            session,
            ent.id,
            actor,
            "statement.accept",
            [(f"line #{a.line}", {"entry": a.entry, "recorded": a.recorded}) for a in done],
        )
        accepted.extend(done)
    return accepted


def _chosen_lines(
    session: Session, ent: EntityInfo, ids: list[int], account: str | None
) -> list[StatementLine]:
    found: dict[int, StatementLine] = {}
    for part in _chunks(ids, 900):
        for stored in session.scalars(
            select(StatementLine).where(
                StatementLine.entity_id == ent.id, _one_of(session, StatementLine.id, part)
            )
        ):
            found[stored.id] = stored
    start = first_day(ent.start_period)
    closed = closed_periods(session, ent.id)
    problems = []
    for line_id in ids:
        line = found.get(line_id)
        where = f"{ent.code} 对账单行 statement line #{line_id}"
        if line is None:
            problems.append(Problem(where, "不存在 / no such line", "line"))
            continue
        status = _status(line, start, closed)
        if account is not None and line.account_code != account:
            problems.append(
                Problem(where, f"不是科目 {account} 的行 / not a line of {account}", "line")
            )
        elif status is not LineStatus.AWAITING_CASHIER:
            problems.append(
                Problem(
                    where,
                    f"状态为 {STATUS_ZH[status]}，不需要出纳确认 / {status.value}: nothing for "
                    "the cashier to accept",
                    "line",
                )
            )
    if problems:
        raise ProblemsError("确认对账单行 / accept statement lines", problems)
    for line in found.values():
        session.expunge(line)
    return [found[i] for i in ids]


# --------------------------------------------------------------------------- listing


def list_statement_lines(
    session: Session,
    entity: str,
    *,
    account: str | None = None,
    pending: bool = False,
    batch: int | None = None,
    limit: int | None = None,
) -> list[StatementLineView]:
    """Return stored statement lines, by account, date and id.

    ``pending`` keeps the lines someone still has to act on (awaiting the
    cashier, awaiting a draft, or in a closed month without a voucher).

    Raises:
        NotFoundError: no such entity.
    """
    ent = get_entity(session, entity)
    start = first_day(ent.start_period)
    closed = closed_periods(session, ent.id)
    q = select(StatementLine).where(StatementLine.entity_id == ent.id)
    if account is not None:
        q = q.where(StatementLine.account_code == account)
    if batch is not None:
        q = q.where(StatementLine.batch_id == batch)
    if pending:
        q = q.where(StatementLine.voucher_id.is_(None), StatementLine.txn_date >= start)
    q = q.order_by(StatementLine.account_code, StatementLine.txn_date, StatementLine.id)
    if limit is not None:
        q = q.limit(limit)
    views = []
    for line in session.scalars(q):
        fen = line.in_fen - line.out_fen
        views.append(
            StatementLineView(
                id=line.id,
                account=line.account_code,
                batch=line.batch_id,
                row=line.row_no,
                date=line.txn_date,
                time=line.txn_time,
                direction="in" if fen > 0 else "out",
                amount=from_fen(abs(fen)),
                balance=None if line.balance_fen is None else from_fen(line.balance_fen),
                counterparty=line.counterparty,
                summary=line.summary,
                purpose=line.purpose,
                serial=line.serial,
                custody_entry=line.custody_entry_id,
                voucher=line.voucher_id,
                status=_status(line, start, closed),
            )
        )
    return views
