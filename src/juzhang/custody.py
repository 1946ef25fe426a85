"""The cashier's side (出纳): cash and bank journals (现金/银行日记账).

The community's cashier (报账员) holds the cash and the bank account and
records every movement here: date, cash or bank account, money in (positive)
or out (negative), summary, counterparty, reference.  These entries are the
cashier's record, not the books: only the cashier writes them, and the
agency's vouchers on cash and bank accounts must each be backed by one of
them (see :mod:`juzhang.books`).  This is how 钱账分离 is kept in the data:
the books can never claim money moved that the cashier did not record, and
the cashier can never write the books.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, and_, delete, func, select

from juzhang import clock
from juzhang.core.duty import Action
from juzhang.core.period import format_period, period_of
from juzhang.core.text import text_problem
from juzhang.core.types import Side, VoucherStatus
from juzhang.errors import (
    NotFoundError,
    PeriodClosedError,
    Problem,
    ProblemsError,
    StateError,
)
from juzhang.money import from_fen, to_fen
from juzhang.storage.access import (
    AccountInfo,
    AuditChain,
    EntityInfo,
    accounts_of,
    audit,
    closed_periods,
    command,
    get_entity,
    get_row,
    insert_many,
    next_id,
    now,
    require,
)
from juzhang.storage.schema import CustodyEntry, Voucher, VoucherLine


@dataclass(frozen=True, slots=True)
class CustodyInput:
    """A movement to record: ``amount`` positive for money in, negative for money out."""

    date: dt.date
    account: str
    amount: Decimal
    summary: str
    counterparty: str = ""
    reference: str = ""


@dataclass(frozen=True, slots=True)
class CustodyView:
    """A recorded custody entry, with the posted voucher lines' net backing of it."""

    id: int
    date: dt.date
    account: str
    amount: Decimal
    summary: str
    counterparty: str
    reference: str
    source: str
    recorded_by: int
    backed: bool


def _check_inputs(
    entity: EntityInfo,
    items: Sequence[CustodyInput],
    accounts: dict[str, AccountInfo],
    closed: set[int],
) -> list[Problem]:
    problems: list[Problem] = []
    today = clock.today()
    for i, item in enumerate(items, 1):
        where = f"{entity.code} 第{i}笔 entry {i}"
        acc = accounts.get(item.account)
        if acc is None:
            problems.append(Problem(where, f"科目不存在 / no account {item.account}"))
        elif acc.custody is None:
            problems.append(
                Problem(
                    where,
                    f"{acc.code} {acc.name} 不是现金或银行科目 / not a cash or bank account",
                )
            )
        elif not acc.leaf:
            problems.append(
                Problem(where, f"{acc.code} 有明细科目，请用末级科目 / use a detail account")
            )
        if item.amount == 0:
            problems.append(Problem(where, "金额不能为零 / the amount cannot be zero"))
        if not item.summary.strip():
            problems.append(Problem(where, "摘要不能为空 / the summary is empty"))
        for field, value in (
            ("summary", item.summary),
            ("counterparty", item.counterparty),
            ("reference", item.reference),
        ):
            bad = text_problem(value, field)
            if bad is not None:
                problems.append(Problem(f"{where} {field}", bad))
        period = period_of(item.date)
        if period < entity.start_period:
            problems.append(
                Problem(
                    where,
                    f"早于建账月份 {format_period(entity.start_period)} / before the books start",
                )
            )
        if period in closed:
            problems.append(Problem(where, f"{format_period(period)} 已结账 / period closed"))
        future = clock.future_problem(item.date, today)
        if future:
            problems.append(Problem(where, future))
    return problems


@command
def record_entries(
    session: Connection,
    entity: str,
    actor: str,
    items: Sequence[CustodyInput],
    *,
    source: str = "manual",
) -> list[int]:
    """Record cash or bank journal entries (cashier only); return their ids.

    All or nothing: every problem of every item is listed at once.

    Raises:
        SegregationOfDutiesError: the actor is not the entity's cashier.
        ProblemsError: any item is bad (all listed).
    """
    ent = get_entity(session, entity, lock=True)
    uid = require(session, ent, actor, Action.RECORD_CUSTODY)
    recorder = Recorder(session, ent, uid, AuditChain(session, ent.id, actor), source)
    rows, audit_rows, ids = recorder.rows(items)
    Recorder.write(session, rows)
    AuditChain.write(session, audit_rows)
    return ids


class Recorder:
    """Custody entries made a chunk at a time, in memory, by a step that holds the entity's lock.

    What the entries depend on in the database (the accounts, the closed
    months, the next id) is read once; :meth:`rows` checks a chunk's items
    and makes its rows and its audit records (on ``trail``) without the
    database, so that a step can make one chunk's entries while the previous
    chunk's are still being written (:class:`~juzhang.storage.behind.WriteBehind`).
    The caller checked the role (``uid``) and holds the entity's lock: no one
    else records entries meanwhile.
    """

    def __init__(
        self, session: Connection, ent: EntityInfo, uid: int, trail: AuditChain, source: str
    ) -> None:
        self.ent = ent
        self.uid = uid
        self.trail = trail
        self.source = source
        self.accounts = accounts_of(session, ent.id)
        self.closed = closed_periods(session, ent.id)
        self.next = next_id(session, CustodyEntry.__table__, ent.id)

    def rows(
        self, items: Sequence[CustodyInput], given: Sequence[int] | None = None
    ) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[int]]:
        """Check ``items`` and return their rows, audit rows and ids (``given``: their fen).

        Raises:
            ProblemsError: any item is bad (all listed).
        """
        problems = _check_inputs(self.ent, items, self.accounts, self.closed)
        if problems:
            raise ProblemsError("登记日记账 record custody entries", problems)
        first = self.next
        at = now()
        fens = [to_fen(item.amount) for item in items] if given is None else given
        ent_id, source, uid = self.ent.id, self.source, self.uid
        rows = [
            (
                ent_id,
                first + i,
                item.date,
                period_of(item.date),
                item.account,
                fen,
                item.summary,
                item.counterparty,
                item.reference,
                source,
                uid,
                at,
            )
            for i, (item, fen) in enumerate(zip(items, fens, strict=True))
        ]
        audit_rows = self.trail.rows(
            "custody.record",
            [
                (f"#{first + i}", {"account": item.account, "fen": fen})
                for i, (item, fen) in enumerate(zip(items, fens, strict=True))
            ],
        )
        self.next += len(items)
        return rows, audit_rows, [first + i for i in range(len(items))]

    @staticmethod
    def write(session: Connection, rows: list[tuple[Any, ...]]) -> None:
        """Insert rows made by :meth:`rows`, in one statement."""
        insert_many(session, CustodyEntry, _COLUMNS, rows)


_COLUMNS = (
    "entity_id",
    "id",
    "entry_date",
    "period",
    "account_code",
    "amount_fen",
    "summary",
    "counterparty",
    "reference",
    "source",
    "recorded_by",
    "recorded_at",
)


def record_entry(
    session: Connection,
    entity: str,
    actor: str,
    date: dt.date,
    account: str,
    amount: Decimal,
    summary: str,
    *,
    counterparty: str = "",
    reference: str = "",
) -> int:
    """Record one cash or bank journal entry (cashier only); return its id.

    Raises:
        SegregationOfDutiesError: the actor is not the entity's cashier.
        ProblemsError: the entry is bad.
    """
    item = CustodyInput(date, account, amount, summary, counterparty, reference)
    return record_entries(session, entity, actor, [item])[0]


@command
def delete_entry(session: Connection, entity: str, actor: str, entry_id: int) -> None:
    """Delete a custody entry that no voucher line names yet (cashier only).

    Raises:
        NotFoundError: no such entry.
        SegregationOfDutiesError: the actor is not the entity's cashier.
        StateError: a voucher line names it.
        PeriodClosedError: its month is closed.
    """
    ent = get_entity(session, entity, lock=True)
    require(session, ent, actor, Action.RECORD_CUSTODY)
    row = get_row(session, CustodyEntry, ent.id, entry_id)
    if row is None:
        raise NotFoundError("日记账 custody entry", f"{entity} #{entry_id}")
    if row.period in closed_periods(session, ent.id):
        raise PeriodClosedError(ent.code, format_period(row.period))
    used = session.execute(
        select(VoucherLine.voucher_id).where(
            VoucherLine.entity_id == ent.id, VoucherLine.custody_entry_id == entry_id
        )
    ).first()
    if used is not None:
        raise StateError(f"日记账 #{entry_id}", "已被凭证引用 / named by a voucher", "删除 delete")
    session.execute(
        delete(CustodyEntry).where(CustodyEntry.entity_id == ent.id, CustodyEntry.id == entry_id)
    )
    audit(session, ent.id, actor, "custody.delete", f"#{entry_id}")


def posted_backing(
    session: Connection, entity_id: int, *, period: int | None = None
) -> dict[int, int]:
    """Return ``{custody entry id: net signed fen of posted lines naming it}``.

    With ``period``, only the entries of that month (found by their ids, so
    the month-end check reads the month's lines, not the history's).
    """
    month = (
        VoucherLine.custody_entry_id.in_(
            select(CustodyEntry.id).where(
                CustodyEntry.entity_id == entity_id, CustodyEntry.period == period
            )
        )
        if period is not None
        else VoucherLine.custody_entry_id.is_not(None)
    )
    rows = session.execute(
        select(VoucherLine.custody_entry_id, VoucherLine.side, func.sum(VoucherLine.amount_fen))
        .join(
            Voucher,
            and_(Voucher.entity_id == VoucherLine.entity_id, Voucher.id == VoucherLine.voucher_id),
        )
        .where(
            VoucherLine.entity_id == entity_id,
            month,
            Voucher.status == VoucherStatus.POSTED,
        )
        .group_by(VoucherLine.custody_entry_id, VoucherLine.side)
    )
    out: dict[int, int] = {}
    for entry_id, side, total in rows:
        if entry_id is None:
            continue
        out[entry_id] = out.get(entry_id, 0) + (int(total) if side == Side.DEBIT else -int(total))
    return out


def list_entries(
    session: Connection, entity: str, *, period: int | None = None, account: str | None = None
) -> list[CustodyView]:
    """Return custody entries of an entity (optionally one month or account), by date."""
    ent = get_entity(session, entity)
    q = select(CustodyEntry).where(CustodyEntry.entity_id == ent.id)
    if period is not None:
        q = q.where(CustodyEntry.period == period)
    if account is not None:
        q = q.where(CustodyEntry.account_code == account)
    backing = posted_backing(session, ent.id)
    return [
        CustodyView(
            r.id,
            r.entry_date,
            r.account_code,
            from_fen(r.amount_fen),
            r.summary,
            r.counterparty,
            r.reference,
            r.source,
            r.recorded_by,
            backing.get(r.id, 0) == r.amount_fen,
        )
        for r in session.execute(q.order_by(CustodyEntry.entry_date, CustodyEntry.id))
    ]


__all__ = [
    "CustodyInput",
    "CustodyView",
    "delete_entry",
    "list_entries",
    "posted_backing",
    "record_entries",
    "record_entry",
]
