"""Stored statement lines: the cashier accepts them, everyone lists them (对账单行).

Lines with no cashier entry (interest, bank fees, transfers in) wait for the
cashier, who accepts them into the bank journal with one command
(:func:`accept_statement_lines`: cashier only); the next import of that
account, or :func:`~juzhang.statements.drafting.draft_pending`, drafts their
vouchers.  :func:`list_statement_lines` shows lines and where they stand.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Connection, Row, exists, func, select

from juzhang import custody
from juzhang.core.duty import Action
from juzhang.core.period import first_day, period_of
from juzhang.errors import Problem, ProblemsError
from juzhang.money import from_fen
from juzhang.statements.matching import match_movements
from juzhang.statements.model import (
    CHUNK_ROWS,
    STATUS_ZH,
    Accepted,
    LineStatus,
    StatementLineView,
    as_date,
    chunks,
    one_of,
)
from juzhang.statements.stored import LINE_COLUMNS, StoredLine, stored_lines
from juzhang.storage.access import (
    AuditChain,
    EntityInfo,
    closed_periods,
    command,
    get_entity,
    require,
    update_many,
)
from juzhang.storage.behind import WriteBehind
from juzhang.storage.schema import CustodyEntry, StatementLine
from juzhang.storage.statistics import Statistics


def line_status(line: StoredLine | Row[Any], start: dt.date, closed: set[int]) -> LineStatus:
    if line.voucher_id is not None:
        return LineStatus.DRAFTED
    if line.txn_date < start:
        return LineStatus.BEFORE_START
    if period_of(line.txn_date) in closed:
        return LineStatus.CLOSED_PERIOD
    if line.custody_entry_id is None:
        return LineStatus.AWAITING_CASHIER
    return LineStatus.AWAITING_DRAFT


def _custody_input(line: StoredLine) -> custody.CustodyInput:
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
    session: Connection, ent: EntityInfo, account: str | None
) -> Iterator[list[StoredLine]]:
    start = first_day(ent.start_period)
    closed = closed_periods(session, ent.id)
    after = 0
    while True:
        q = select(LINE_COLUMNS).where(
            StatementLine.entity_id == ent.id,
            StatementLine.custody_entry_id.is_(None),
            StatementLine.voucher_id.is_(None),
            StatementLine.txn_date >= start,
            StatementLine.id > after,
        )
        if account is not None:
            q = q.where(StatementLine.account_code == account)
        lines = stored_lines(session.execute(q.order_by(StatementLine.id).limit(CHUNK_ROWS)))
        if not lines:
            return
        after = lines[-1].id
        yield [line for line in lines if period_of(line.txn_date) not in closed]


@command
def accept_statement_lines(
    session: Connection,
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
    (:func:`accept_statement_bulk` does the same for any number of lines and
    returns counts.)

    Raises:
        SegregationOfDutiesError: the actor is not the entity's cashier
            (a bookkeeper never may).
        ProblemsError: unknown lines, or lines not awaiting the cashier
            (every one listed).
    """
    ent = get_entity(session, entity, lock=True)
    require(session, ent, actor, Action.ACCEPT_STATEMENT)
    accepted: list[Accepted] = []
    for done in _accept(session, ent, actor, lines, account):
        accepted.extend(done)
    return accepted


@dataclass(frozen=True, slots=True)
class AcceptSummary:
    """What :func:`accept_statement_bulk` did: lines accepted, how many were linked
    to entries the cashier had recorded by hand, and the first ``shown`` of them."""

    count: int
    existing: int
    first: tuple[Accepted, ...]


@command
def accept_statement_bulk(
    session: Connection,
    entity: str,
    actor: str,
    lines: Sequence[int] | Literal["all"],
    *,
    account: str | None = None,
    shown: int = 50,
) -> AcceptSummary:
    """Accept statement lines as :func:`accept_statement_lines` does, in flat memory.

    The lines are accepted a chunk at a time and only counted; the first
    ``shown`` results are kept for printing.  Returns an :class:`AcceptSummary`.

    Raises:
        SegregationOfDutiesError: the actor is not the entity's cashier.
        ProblemsError: unknown lines, or lines not awaiting the cashier.
    """
    count = existing = 0
    first: list[Accepted] = []
    ent = get_entity(session, entity, lock=True)
    require(session, ent, actor, Action.ACCEPT_STATEMENT)
    for done in _accept(session, ent, actor, lines, account):
        count += len(done)
        existing += sum(1 for a in done if not a.recorded)
        first.extend(done[: max(0, shown - len(first))])
    return AcceptSummary(count, existing, tuple(first))


def _accept(
    session: Connection,
    ent: EntityInfo,
    actor: str,
    lines: Sequence[int] | Literal["all"],
    account: str | None,
) -> Iterator[list[Accepted]]:
    """Accept the lines a chunk at a time; yield each chunk's results (the caller checked).

    Each chunk's writes (its new entries, the lines' links, the audit
    records) run behind the next chunk's matching and making
    (:class:`~juzhang.storage.behind.WriteBehind`): the next chunk's lines
    and the entries they may match are read before the chunk before is
    written, so the entries that chunk matched are carried as taken, and
    the entries' ids and the audit chain's head move on in memory (the
    caller holds the entity's lock).
    """
    stats = Statistics(session, "custody_entry")
    if lines == "all":
        batches: Iterable[list[StoredLine]] = _awaiting_chunks(session, ent, account)
    else:
        batches = [_chosen_lines(session, ent, list(dict.fromkeys(lines)), account)]
    recorder: custody.Recorder | None = None
    taken: set[int] = set()  # entries recorded by hand, matched in this step
    unmatched: set[str] | None = None  # accounts with entries no line is linked to
    with WriteBehind.on(session, written=stats.grew) as behind:
        for batch in batches:
            if not batch:
                continue
            if recorder is None:  # read once there is something to accept
                uid = require(session, ent, actor, Action.RECORD_CUSTODY)
                recorder = custody.Recorder(
                    session, ent, uid, AuditChain(session, ent.id, actor), "statement"
                )
            if unmatched is None:  # read once, before anything is written
                unmatched = _unlinked_accounts(session, ent, batch)
            found = _matched(session, ent, batch, taken, unmatched)
            taken.update(entry for entry in found if entry is not None)
            behind.release()  # the chunk before, while this one is made
            fresh = [line for line, entry in zip(batch, found, strict=True) if entry is None]
            entries, audit_rows, ids = recorder.rows(
                [_custody_input(line) for line in fresh],
                [line.in_fen - line.out_fen for line in fresh],
            )
            recorded = iter(ids)
            done = [
                Accepted(line.id, next(recorded), True)
                if entry is None
                else Accepted(line.id, entry, False)
                for line, entry in zip(batch, found, strict=True)
            ]
            links = [{"entity_id": ent.id, "id": a.line, "custody_entry_id": a.entry} for a in done]
            audit_rows += recorder.trail.rows(
                "statement.accept",
                [(f"line #{a.line}", {"entry": a.entry, "recorded": a.recorded}) for a in done],
            )
            write = functools.partial(_write_accepted, session, entries, links, audit_rows)
            behind.hold(write, len(done))
            yield done


def _unlinked_accounts(session: Connection, ent: EntityInfo, first: list[StoredLine]) -> set[str]:
    """The accounts with entries a line could still be matched to, at the step's start.

    Entries no statement line is linked to, dated from the window before the
    earliest line waiting (``first`` is the first chunk, by id; the
    earliest date of all lines waiting is read).  The step's own entries are
    linked as they are recorded and its matches as they are made, so the
    set only shrinks: an account without such entries (a statement accepted
    before the cashier recorded anything by hand) is not matched at all.
    """
    earliest = session.execute(
        select(func.min(StatementLine.txn_date)).where(
            StatementLine.entity_id == ent.id,
            StatementLine.custody_entry_id.is_(None),
            StatementLine.voucher_id.is_(None),
        )
    ).scalar_one()
    since = min(line.txn_date for line in first) if earliest is None else as_date(earliest)
    linked = exists().where(
        StatementLine.entity_id == CustodyEntry.entity_id,
        StatementLine.custody_entry_id == CustodyEntry.id,
    )
    rows = session.execute(
        select(CustodyEntry.account_code)
        .where(
            CustodyEntry.entity_id == ent.id,
            CustodyEntry.entry_date >= since - dt.timedelta(days=ent.link_window_days),
            ~linked,
        )
        .distinct()
    )
    return {code for (code,) in rows}


def _matched(
    session: Connection,
    ent: EntityInfo,
    batch: list[StoredLine],
    taken: set[int],
    unmatched: set[str],
) -> list[int | None]:
    """The entry the cashier recorded by hand for each line, where there is one."""
    found: list[int | None] = [None] * len(batch)
    for code in sorted({line.account_code for line in batch} & unmatched):
        at = [n for n, line in enumerate(batch) if line.account_code == code]
        movements = [
            (batch[n].in_fen - batch[n].out_fen, batch[n].txn_date, batch[n].counterparty)
            for n in at
        ]
        matched = match_movements(session, ent.id, code, ent.link_window_days, movements, taken)
        for n, entry in zip(at, matched, strict=True):
            found[n] = entry
    return found


def _write_accepted(
    session: Connection,
    entries: list[tuple[Any, ...]],
    links: list[dict[str, Any]],
    audit_rows: list[tuple[Any, ...]],
) -> None:
    if entries:
        custody.Recorder.write(session, entries)
    update_many(session, StatementLine, links)
    AuditChain.write(session, audit_rows)


def _chosen_lines(
    session: Connection, ent: EntityInfo, ids: list[int], account: str | None
) -> list[StoredLine]:
    found: dict[int, StoredLine] = {}
    for part in chunks(ids, 900):
        for stored in stored_lines(
            session.execute(
                select(LINE_COLUMNS).where(
                    StatementLine.entity_id == ent.id, one_of(session, StatementLine.id, part)
                )
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
        status = line_status(line, start, closed)
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
    return [found[i] for i in ids]


# --------------------------------------------------------------------------- listing


def list_statement_lines(
    session: Connection,
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
    for line in session.execute(q):
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
                status=line_status(line, start, closed),
            )
        )
    return views
