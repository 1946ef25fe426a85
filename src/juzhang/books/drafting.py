"""Drafting vouchers (制单): check drafts against the books, store them, edit and delete.

Every draft is checked before anything is written — accounts are active leaf
accounts, the month is open and not before the books start, the date is not
after today (:func:`juzhang.clock.today`), cash and bank
lines are backed by the cashier's journal (:mod:`juzhang.books.custody_link`)
— and every problem of every draft is reported at once
(:class:`juzhang.errors.ProblemsError`).  A draft may be edited or deleted by
its preparer; editing a reviewed voucher sends it back to draft.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import Connection, Row, delete, update

from juzhang import clock
from juzhang.books.account import _account_problem
from juzhang.books.custody_link import _CustodyLinker
from juzhang.books.rows import LineRow, _load_voucher, _Numbered
from juzhang.core.duty import Action
from juzhang.core.period import format_period, period_of
from juzhang.core.types import Side, VoucherStatus
from juzhang.core.voucher import (
    VoucherDraft,
    checked_fens,
)
from juzhang.errors import (
    PeriodClosedError,
    Problem,
    ProblemsError,
    SegregationOfDutiesError,
    StateError,
    VoucherRef,
)
from juzhang.storage.access import (
    AccountInfo,
    AuditChain,
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
from juzhang.storage.schema import (
    Claim,
    StatementLine,
    Voucher,
    VoucherLine,
)


@dataclass(frozen=True, slots=True)
class _Checked:
    period: int
    rows: list[LineRow]


def _check_against_books(
    session: Connection,
    ent: EntityInfo,
    draft: VoucherDraft,
    where: str,
    accounts: Mapping[str, AccountInfo],
    closed: set[int],
    linker: _CustodyLinker,
) -> tuple[_Checked | None, list[Problem]]:
    problems, fens = checked_fens(draft, where)
    period = period_of(draft.date)
    if period < ent.start_period:
        problems.append(
            Problem(
                where, f"早于建账月份 {format_period(ent.start_period)} / before the books start"
            )
        )
    if period in closed:
        problems.append(Problem(where, f"{format_period(period)} 已结账 / the period is closed"))
    future = clock.future_problem(draft.date)
    if future:
        problems.append(Problem(where, future))
    rows: list[LineRow] = []
    for i, (line, fen) in enumerate(zip(draft.lines, fens, strict=True), 1):
        bad = _account_problem(line.account, accounts)
        if bad:
            problems.append(Problem(f"{where} 第{i}行 line {i}", bad))
            continue
        if not fen:
            continue  # no side or a zero amount: already reported by checked_fens
        custody: int | None = None
        if accounts[line.account].custody is not None:
            custody, why = linker.link(line, fen, draft.date)
            if why:
                problems.append(Problem(f"{where} 第{i}行 line {i}", why))
        elif line.custody_entry is not None:
            problems.append(
                Problem(
                    f"{where} 第{i}行 line {i}",
                    "只有现金或银行科目的行才引用日记账"
                    " / only cash and bank lines name a custody entry",
                )
            )
        side = Side.DEBIT if line.debit is not None else Side.CREDIT
        rows.append(
            (i, line.account, side, fen if side == Side.DEBIT else -fen, line.summary, custody)
        )
    return (_Checked(period, rows) if not problems else None), problems


def _insert_vouchers(
    session: Connection,
    ent: EntityInfo,
    preparer: int,
    items: Sequence[tuple[VoucherDraft | PairDraft, _Checked]],
    *,
    kind: str = "normal",
    reverses: int | None = None,
    numbered: Sequence[_Numbered] | None = None,
    first: int | None = None,
) -> list[int]:
    """Insert drafts and their lines; return their ids (consecutive, in the order given).

    With ``numbered`` (the bulk path: one per item, in the same order), each
    draft is written with the number, chain link and cashier it is about to be
    posted with, so that posting only flips its status (see :func:`post_bulk`);
    ``first`` is then the first id, which the caller took for the numbering.
    """
    if first is None:
        first = next_id(session, Voucher.__table__, ent.id)
    ids = list(range(first, first + len(items)))
    rows, lines = _draft_rows(ent, preparer, items, ids, kind, reverses)
    columns: tuple[str, ...] = _VOUCHER_COLUMNS
    if numbered is not None:
        # In posting order: SQLite posts a bulk batch in one UPDATE, which
        # visits the rows in the order they were inserted (see post_bulk).
        columns = (*columns, *_Numbered._fields)
        rows = (
            row + tuple(n)
            for row, n in sorted(zip(rows, numbered, strict=True), key=lambda p: p[1].chain_seq)
        )
    insert_many(session, Voucher, columns, rows)
    insert_many(session, VoucherLine, _LINE_COLUMNS, lines)
    return ids


def _draft_rows(
    ent: EntityInfo,
    preparer: int,
    items: Sequence[tuple[VoucherDraft | PairDraft, _Checked]],
    ids: Sequence[int],
    kind: str = "normal",
    reverses: int | None = None,
) -> tuple[Iterable[tuple[Any, ...]], Iterable[tuple[Any, ...]]]:
    """The rows of drafts with ids ``ids``: the vouchers' (``_VOUCHER_COLUMNS``) and the lines'."""
    at = now()
    vouchers = (
        (
            ent.id,
            vid,
            draft.date,
            checked.period,
            ent.voucher_word,
            VoucherStatus.DRAFT,
            kind,
            draft.attachments,
            preparer,
            reverses,
            at,
        )
        for vid, (draft, checked) in zip(ids, items, strict=True)
    )
    lines = (
        (ent.id, vid, no, acc, summary, side, fen, custody)
        for vid, (_draft, checked) in zip(ids, items, strict=True)
        for no, acc, side, fen, summary, custody in checked.rows
    )
    return vouchers, lines


_VOUCHER_COLUMNS = (
    "entity_id",
    "id",
    "voucher_date",
    "period",
    "word",
    "status",
    "kind",
    "attachments",
    "prepared_by",
    "reverses_id",
    "prepared_at",
)
_LINE_COLUMNS = (
    "entity_id",
    "voucher_id",
    "line_no",
    "account_code",
    "summary",
    "side",
    "amount_fen",
    "custody_entry_id",
)


def _check_all(
    session: Connection,
    ent: EntityInfo,
    drafts: Sequence[VoucherDraft],
    *,
    exclude_voucher: int | None = None,
) -> list[tuple[VoucherDraft, _Checked]]:
    accounts = accounts_of(session, ent.id)
    closed = closed_periods(session, ent.id)
    linker = _CustodyLinker(session, ent, exclude_voucher)
    linker.prefetch(ln.custody_entry for d in drafts for ln in d.lines if ln.custody_entry)
    checked: list[tuple[VoucherDraft, _Checked]] = []
    problems: list[Problem] = []
    for n, draft in enumerate(drafts, 1):
        where = f"{ent.code} 凭证{n} voucher {n}" if len(drafts) > 1 else f"{ent.code} 凭证 voucher"
        result, found = _check_against_books(session, ent, draft, where, accounts, closed, linker)
        problems.extend(p.about(VoucherRef(draft=n)) for p in found)
        if result is not None:
            checked.append((draft, result))
    if problems:
        raise ProblemsError("凭证 voucher", problems)
    return checked


@command
def draft_vouchers(
    session: Connection, entity: str, actor: str, drafts: Sequence[VoucherDraft]
) -> list[int]:
    """Prepare vouchers (制单) as drafts; return their ids.  All or nothing.

    Raises:
        SegregationOfDutiesError: the actor is not a bookkeeper of the entity.
        ProblemsError: any draft is bad (every problem of every draft listed).
    """
    ent = get_entity(session, entity, lock=True)
    uid = require(session, ent, actor, Action.DRAFT_VOUCHER)
    checked = _check_all(session, ent, drafts)
    ids = _insert_vouchers(session, ent, uid, checked)
    audit_many(session, ent.id, actor, "voucher.draft", [(f"#{i}", None) for i in ids])
    return ids


def draft_voucher(session: Connection, entity: str, actor: str, draft: VoucherDraft) -> int:
    """Prepare one voucher (制单) as a draft; return its id (see :func:`draft_vouchers`)."""
    return draft_vouchers(session, entity, actor, [draft])[0]


class PairDraft(NamedTuple):
    """A two-line voucher in fen backed by a custody entry, for drafting in bulk.

    ``fen`` is signed as the custody entry is: money in positive, out
    negative.  Money in is 借 ``custody_account`` 贷 ``counter_account``;
    money out the other way round.  Both lines carry ``summary``; the custody
    line names ``entry``.  (What a bank statement line or a claim becomes.)
    """

    date: dt.date
    custody_account: str
    counter_account: str
    summary: str
    fen: int
    entry: int
    attachments: int = 0


@command
def draft_pairs(
    session: Connection, entity: str, actor: str, drafts: Sequence[PairDraft]
) -> list[int]:
    """Prepare two-line vouchers backed by custody entries (制单) in bulk; return their ids.

    The rules of :func:`draft_vouchers`, checked with integers and a few
    queries per call instead of per voucher: the actor is a bookkeeper, each
    date is in an open month from the books' start, amounts are not zero,
    摘要 not empty, both accounts are active leaf accounts, the custody
    account is a cash or bank account and the counter account is not, and
    each entry is of the custody account, the amount and the direction, and
    backs no other voucher.  One audit record names the range of ids.  All
    or nothing.

    Raises:
        SegregationOfDutiesError: the actor is not a bookkeeper of the entity.
        ProblemsError: any draft is bad (every problem listed, drafts named
            ``凭证N voucher N`` as :func:`draft_vouchers` names them).
    """
    ent = get_entity(session, entity, lock=True)
    uid = require(session, ent, actor, Action.DRAFT_VOUCHER)
    return draft_pairs_for(session, ent, uid, actor, drafts)


def draft_pairs_for(
    session: Connection,
    ent: EntityInfo,
    uid: int,
    actor: str,
    drafts: Sequence[PairDraft],
    *,
    accounts: Mapping[str, AccountInfo] | None = None,
    closed: set[int] | None = None,
) -> list[int]:
    """:func:`draft_pairs` for a service that has locked ``ent`` and checked the actor (``uid``).

    A service drafting in chunks passes the entity's ``accounts`` and
    ``closed`` months, read once per command.  Returns the ids.  Raises
    :class:`~juzhang.errors.ProblemsError` as :func:`draft_pairs` does.
    """
    if not drafts:
        return []
    check_pairs(session, ent, drafts, accounts, closed)
    writer = PairWriter(session, ent, uid, actor)
    ids, write = writer.rows(drafts)
    write(session)
    return ids


def custody_lookups(
    session: Connection, ent: EntityInfo, entry_ids: Iterable[int | None], *, unused: bool = False
) -> _CustodyLinker:
    """What :func:`check_pairs` reads of the custody entries ``entry_ids``, read now.

    ``unused``: the caller has just read that no voucher uses these entries
    (as :func:`juzhang.statements.drafting.settle_lookups` has); only the
    entries themselves are read.
    """
    linker = _CustodyLinker(session, ent, None)
    linker.prefetch((i for i in entry_ids if i is not None), unused=unused)
    return linker


class PairWriter:
    """Checked pair drafts made into rows a chunk at a time, by a step that holds the entity's lock.

    The next voucher id and the audit chain's head are read once and moved
    on in memory, so that a step can make one chunk's vouchers while the
    previous chunk's are still being written
    (:class:`~juzhang.storage.behind.WriteBehind`).  Nothing else may draft
    vouchers or audit for the entity meanwhile: the caller holds its lock
    (and refreshes :attr:`trail` after auditing anything else itself).
    """

    def __init__(self, session: Connection, ent: EntityInfo, uid: int, actor: str) -> None:
        self.ent = ent
        self.uid = uid
        self.next = next_id(session, Voucher.__table__, ent.id)
        self.trail = AuditChain(session, ent.id, actor)

    def rows(self, drafts: Sequence[PairDraft]) -> tuple[list[int], Callable[[Connection], None]]:
        """Number ``drafts`` (checked) and make their rows and audit record.

        Returns the ids and the write, which inserts them in three statements.
        """
        ids = list(range(self.next, self.next + len(drafts)))
        self.next += len(drafts)
        items = [(d, _Checked(period_of(d.date), _pair_rows(d))) for d in drafts]
        vouchers, lines = _draft_rows(self.ent, self.uid, items, ids)
        subject = f"#{ids[0]}" if len(ids) == 1 else f"#{ids[0]}-{ids[-1]}"
        trail = self.trail.rows("voucher.draft", [(subject, {"vouchers": len(drafts)})])
        return ids, functools.partial(_write_drafts, list(vouchers), list(lines), trail)


def _write_drafts(
    vouchers: list[tuple[Any, ...]],
    lines: list[tuple[Any, ...]],
    trail: list[tuple[Any, ...]],
    session: Connection,
) -> None:
    insert_many(session, Voucher, _VOUCHER_COLUMNS, vouchers)
    insert_many(session, VoucherLine, _LINE_COLUMNS, lines)
    AuditChain.write(session, trail)


def _pair_rows(d: PairDraft) -> list[LineRow]:
    """The two lines of a pair: 借 custody 贷 counter for money in, the other way for out."""
    if d.fen > 0:
        return [
            (1, d.custody_account, Side.DEBIT, d.fen, d.summary, d.entry),
            (2, d.counter_account, Side.CREDIT, d.fen, d.summary, None),
        ]
    return [
        (1, d.counter_account, Side.DEBIT, -d.fen, d.summary, None),
        (2, d.custody_account, Side.CREDIT, -d.fen, d.summary, d.entry),
    ]


def check_pairs(
    session: Connection,
    ent: EntityInfo,
    drafts: Sequence[PairDraft],
    accounts: Mapping[str, AccountInfo] | None = None,
    closed: set[int] | None = None,
    linker: _CustodyLinker | None = None,
) -> None:
    """Check pair drafts as :func:`draft_pairs` does; ``linker`` from :func:`custody_lookups`
    (read earlier: the check then asks the database nothing).

    Raises:
        ProblemsError: any draft is bad (every problem listed).
    """
    accounts = accounts_of(session, ent.id) if accounts is None else accounts
    closed = closed_periods(session, ent.id) if closed is None else closed
    if linker is None:
        linker = custody_lookups(session, ent, [d.entry for d in drafts])
    custody_ok = {
        c: _pair_account_problem(c, accounts, True) for c in {d.custody_account for d in drafts}
    }
    counter_ok = {
        c: _pair_account_problem(c, accounts, False) for c in {d.counter_account for d in drafts}
    }
    problems: list[Problem] = []
    today = clock.today()
    for n, d in enumerate(drafts, 1):
        first = len(problems)
        where = f"{ent.code} 凭证{n} voucher {n}" if len(drafts) > 1 else f"{ent.code} 凭证 voucher"
        period = period_of(d.date)
        if period < ent.start_period:
            problems.append(
                Problem(
                    where,
                    f"早于建账月份 {format_period(ent.start_period)} / before the books start",
                )
            )
        if period in closed:
            problems.append(
                Problem(where, f"{format_period(period)} 已结账 / the period is closed")
            )
        future = clock.future_problem(d.date, today)
        if future:
            problems.append(Problem(where, future))
        if d.attachments < 0:
            problems.append(Problem(where, "附件张数不能为负 / attachments cannot be negative"))
        if d.fen == 0:
            problems.append(Problem(where, "金额不能为零 / the amount cannot be zero"))
        if not d.summary.strip():
            problems.append(Problem(where, "摘要不能为空 / the summary (摘要) is empty"))
        custody_line, counter_line = (1, 2) if d.fen > 0 else (2, 1)
        bad = custody_ok[d.custody_account]
        if bad is None and d.fen != 0:
            _entry, bad = linker.check_explicit(d.entry, d.custody_account, d.fen)
        if bad is not None:
            problems.append(Problem(f"{where} 第{custody_line}行 line {custody_line}", bad))
        bad = counter_ok[d.counter_account]
        if bad is not None:
            problems.append(Problem(f"{where} 第{counter_line}行 line {counter_line}", bad))
        problems[first:] = [p.about(VoucherRef(draft=n)) for p in problems[first:]]
    if problems:
        raise ProblemsError("凭证 voucher", problems)


def _pair_account_problem(
    code: str, accounts: Mapping[str, AccountInfo], custody: bool
) -> str | None:
    bad = _account_problem(code, accounts)
    if bad is not None:
        return bad
    if custody and accounts[code].custody is None:
        return f"科目 {code} 不是现金或银行科目 / {code} is not a cash or bank account"
    if not custody and accounts[code].custody is not None:
        return (
            f"科目 {code} 是现金或银行科目，须由日记账支持 / {code} is a cash or bank account:"
            " it needs a custody entry of its own"
        )
    return None


def _require_preparer(
    session: Connection, ent: EntityInfo, row: Row[Any], uid: int, actor: str, action: str
) -> None:
    if row.status == VoucherStatus.POSTED:
        raise StateError(f"凭证 #{row.id}", "已记账 posted", action)
    if row.prepared_by != uid:
        raise SegregationOfDutiesError(
            f"{actor} ({ent.code})",
            "bookkeeper 代理会计",
            action,
            "只有制单人可以修改或删除草稿 / only the preparer may change a draft",
        )
    if row.period in closed_periods(session, row.entity_id):
        raise PeriodClosedError(ent.code, format_period(row.period))


@command
def edit_voucher(
    session: Connection, entity: str, actor: str, voucher_id: int, draft: VoucherDraft
) -> None:
    """Replace a draft's date, attachments and lines (preparer only).

    A reviewed voucher that is edited goes back to draft.

    Raises:
        NotFoundError: no such voucher.
        StateError: the voucher is posted, or is a reversal (delete it instead).
        SegregationOfDutiesError: the actor is not its preparer.
        PeriodClosedError: its month is closed.
        ProblemsError: the new content is bad.
    """
    ent = get_entity(session, entity, lock=True)
    uid = require(session, ent, actor, Action.EDIT_VOUCHER)
    row = _load_voucher(session, ent, voucher_id)
    _require_preparer(session, ent, row, uid, actor, "修改 edit")
    was = row.status  # read now: the UPDATE below refreshes ``row`` in the session
    if row.kind == "reversal":
        raise StateError(
            f"凭证 #{voucher_id}", "红字冲销 reversal", "修改 edit (delete it instead)"
        )
    ((_, checked),) = _check_all(session, ent, [draft], exclude_voucher=voucher_id)
    session.execute(
        delete(VoucherLine).where(
            VoucherLine.entity_id == ent.id, VoucherLine.voucher_id == voucher_id
        )
    )
    session.execute(
        update(Voucher)
        .where(Voucher.entity_id == ent.id, Voucher.id == voucher_id)
        .values(
            voucher_date=draft.date,
            period=checked.period,
            attachments=draft.attachments,
            status=VoucherStatus.DRAFT,
            reviewed_by=None,
            reviewed_at=None,
        )
    )
    insert_many(
        session,
        VoucherLine,
        _LINE_COLUMNS,
        (
            (ent.id, voucher_id, no, acc, summary, side, fen, custody)
            for no, acc, side, fen, summary, custody in checked.rows
        ),
    )
    audit(session, ent.id, actor, "voucher.edit", f"#{voucher_id}", {"was": was})


@command
def delete_voucher(session: Connection, entity: str, actor: str, voucher_id: int) -> None:
    """Delete a draft or reviewed voucher (preparer only).

    A claim it was drafted from goes back to pending, and a bank statement
    line it was drafted from waits to be drafted again.

    Raises:
        NotFoundError: no such voucher.
        StateError: the voucher is posted.
        SegregationOfDutiesError: the actor is not its preparer.
        PeriodClosedError: its month is closed.
    """
    ent = get_entity(session, entity, lock=True)
    uid = require(session, ent, actor, Action.EDIT_VOUCHER)
    row = _load_voucher(session, ent, voucher_id)
    _require_preparer(session, ent, row, uid, actor, "删除 delete")
    # what was drafted from a claim or a statement line waits to be drafted again
    session.execute(
        update(Claim)
        .where(Claim.entity_id == ent.id, Claim.voucher_id == voucher_id)
        .values(status="pending", voucher_id=None)
    )
    session.execute(
        update(StatementLine)
        .where(StatementLine.entity_id == ent.id, StatementLine.voucher_id == voucher_id)
        .values(voucher_id=None)
    )
    session.execute(
        delete(VoucherLine).where(
            VoucherLine.entity_id == ent.id, VoucherLine.voucher_id == voucher_id
        )
    )
    session.execute(delete(Voucher).where(Voucher.entity_id == ent.id, Voucher.id == voucher_id))
    audit(session, ent.id, actor, "voucher.delete", f"#{voucher_id}")
