"""Draft vouchers for statement lines (对账单制单) through :func:`juzhang.books.draft_pairs_for`.

A matched line gets a draft voucher prepared by the importing bookkeeper:
the bank line names the cashier's entry, the counter line goes to the
account the categorisation rules choose (suspense without rules).  When the
entry already backs a voucher the line is linked to that voucher instead;
when it belongs to a pending claim (报账单) the claim's voucher will be
linked later.  :class:`Books` holds what one command resolved once — the
entity, the acting bookkeeper, the accounts and closed months — for every
chunk of lines.  :func:`draft_pending` drafts stored lines whose entries
exist now.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, or_, select

from juzhang import books as ledger
from juzhang.charts import load_chart
from juzhang.core.duty import Action
from juzhang.core.period import first_day, period_of
from juzhang.core.types import Side, VoucherStatus
from juzhang.errors import (
    Problem,
    ProblemsError,
    StatementLineRef,
    ValidationError,
    VoucherRef,
)
from juzhang.importers.rules import Categorised, Rules, rules_for
from juzhang.statements.matching import match_entries
from juzhang.statements.model import (
    CHUNK_ROWS,
    DraftResult,
    Item,
    LineStatus,
    Spans,
    chunks,
    format_spans,
    one_of,
)
from juzhang.statements.settings import stored_for
from juzhang.statements.stored import LINE_COLUMNS, line_item, stored_lines
from juzhang.storage.access import (
    AccountInfo,
    AuditChain,
    EntityInfo,
    accounts_of,
    closed_periods,
    command,
    get_entity,
    require,
    update_many,
)
from juzhang.storage.behind import WriteBehind
from juzhang.storage.schema import Claim, StatementLine, Voucher, VoucherLine
from juzhang.storage.statistics import Statistics


@dataclass(slots=True)
class Books:
    """What an import or a drafting run knows about the entity and the account."""

    session: Connection
    ent: EntityInfo
    uid: int
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
    writer: ledger.PairWriter | None = None
    """Set by a step that writes behind (:func:`draft_pending`): the chunks' vouchers."""
    flush: Callable[[], None] | None = None
    """Set with :attr:`writer`: waits for the writes in flight, before anything else is written."""
    drafted: int = 0
    linked: int = 0
    vouchers: Spans = field(default_factory=Spans)
    claims: Spans = field(default_factory=Spans)
    closed_rows: Spans = field(default_factory=Spans)
    early_rows: Spans = field(default_factory=Spans)

    def classify(self, item: Item) -> None:
        """Mark lines before the books start or in a closed month (never drafted)."""
        if item.date < self.start:
            item.status = LineStatus.BEFORE_START
        elif period_of(item.date) in self.closed:
            item.status = LineStatus.CLOSED_PERIOD


def open_books(
    session: Connection,
    ent: EntityInfo,
    uid: int,
    actor: str,
    account: str,
    rules: Rules,
    window_days: int | None,
    name: str,
    accounts: dict[str, AccountInfo],
    closed: set[int],
) -> Books:
    """Check the rules against the entity's accounts and gather what drafting needs.

    ``ent`` is locked and ``uid`` (``actor``) checked by the caller, which
    read ``accounts`` and the ``closed`` months once for the command.
    Returns the :class:`Books`.  Raises :class:`~juzhang.errors.ProblemsError`
    listing every bad account the rules name.
    """
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
    return Books(
        session=session,
        ent=ent,
        uid=uid,
        actor=actor,
        account=account,
        rules=rules,
        suspense=suspense,
        window=window,
        closed=closed,
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


def _ensure_suspense(books: Books) -> None:
    """Create the chart's suspense detail account (待查款项) when the entity lacks it."""
    if books.suspense_ready:
        return
    template = load_chart(books.ent.chart).account(books.suspense)
    if books.flush is not None:
        books.flush()  # the connection is this thread's again
    ledger.add_account(
        books.session, books.ent.code, books.suspense, template.name, actor=books.actor
    )
    books.accounts.update(accounts_of(books.session, books.ent.id))  # shared by the command
    books.suspense_ready = True
    if books.writer is not None:  # the account's audit record moved the chain's head
        books.writer.trail = AuditChain(books.session, books.ent.id, books.actor)


def _usage(session: Connection, entity_id: int, entry_ids: Sequence[int]) -> dict[int, int]:
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
    for part in chunks(sorted(set(entry_ids)), 900):
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
                one_of(session, VoucherLine.custody_entry_id, part),
            )
        )
        for raw_entry, voucher_id, status, kind, side, fen in rows:
            if raw_entry is None:
                continue
            entry = int(raw_entry)
            if status == VoucherStatus.POSTED:
                net[entry] = net.get(entry, 0) + (fen if side == Side.DEBIT else -fen)
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


def _claimed(session: Connection, entity_id: int, entry_ids: Sequence[int]) -> set[int]:
    """Entries recorded for a claim (报账单) whose voucher the claims flow still drafts."""
    found: set[int] = set()
    for part in chunks(sorted(set(entry_ids)), 900):
        rows = session.execute(
            select(Claim.custody_entry_id).where(
                Claim.entity_id == entity_id,
                Claim.status == "pending",
                one_of(session, Claim.custody_entry_id, part),
            )
        )
        found.update(int(e) for (e,) in rows if e is not None)
    return found


def _pair_of(books: Books, item: Item, cat: Categorised) -> ledger.PairDraft:
    """The voucher of a statement line: bank account against the counter account.

    Money in is 借 银行存款 贷 the counter account; money out the other way
    round (:class:`juzhang.books.PairDraft`); the bank line names the entry.
    """
    assert item.entry is not None
    return ledger.PairDraft(
        item.date, books.account, cat.account, cat.summary, item.fen, item.entry
    )


@dataclass(slots=True)
class Lookups:
    """What :func:`settle` reads for a chunk's items before it decides anything."""

    matched: list[Item]
    usage: dict[int, int]
    claimed: set[int]
    custody: Any = None  # ledger.custody_lookups of the entries that may be drafted


def settle(books: Books, items: Sequence[Item]) -> None:
    """Draft vouchers for the items that have an entry, or link the voucher that exists."""
    write = settle_made(books, items, settle_lookups(books, items))
    if write is not None:
        write(books.session)


def settle_lookups(books: Books, items: Sequence[Item]) -> Lookups:
    """The reads of :func:`settle`: which entries back a voucher or a pending claim, and
    the entries the drafts would name."""
    matched = [i for i in items if i.entry is not None and i.voucher is None]
    if not matched:
        return Lookups(matched, {}, set())
    entry_ids = [i.entry for i in matched if i.entry is not None]
    usage = _usage(books.session, books.ent.id, entry_ids)
    claimed = (
        _claimed(books.session, books.ent.id, entry_ids) if len(usage) < len(matched) else set()
    )
    free = [e for e in entry_ids if e not in usage and e not in claimed]
    # ``usage`` is the rule the check asks again: the free entries are unused
    custody = ledger.custody_lookups(books.session, books.ent, free, unused=True) if free else None
    return Lookups(matched, usage, claimed, custody)


def settle_made(
    books: Books, items: Sequence[Item], looked: Lookups
) -> Callable[[Connection], None] | None:
    """The rest of :func:`settle`, without the database when ``books.writer`` is set.

    Decides each item, checks the drafts against what ``looked`` read, numbers
    them (``books.writer``, else a writer of its own) and returns their write,
    or ``None`` when nothing is drafted.  Creating the suspense account (it
    writes) first waits for the writes in flight (``books.flush``).
    """
    drafts: list[ledger.PairDraft] = []
    targets: list[Item] = []
    categorise, suspense = books.rules.categorise, books.suspense
    for item in looked.matched:
        assert item.entry is not None
        voucher = looked.usage.get(item.entry)
        if voucher is not None:
            item.voucher = voucher
            item.status = LineStatus.DRAFTED
            books.linked += 1
        elif item.status is LineStatus.CLOSED_PERIOD:
            continue
        elif item.entry in looked.claimed:
            item.status = LineStatus.AWAITING_DRAFT
            if item.row:  # a row of the file being imported (stored lines: draft_pending says)
                books.claims.add(item.row)
        else:
            item.cat = categorise(item.facts, suspense)
            drafts.append(_pair_of(books, item, item.cat))
            targets.append(item)
    if not drafts:
        return None
    if any(d.counter_account == suspense for d in drafts):
        _ensure_suspense(books)
    try:
        ledger.check_pairs(
            books.session, books.ent, drafts, books.accounts, books.closed, looked.custody
        )
    except ProblemsError as exc:
        raise ProblemsError(
            exc.what, [_relocate(books, p, targets) for p in exc.problems]
        ) from None
    writer = books.writer or ledger.PairWriter(books.session, books.ent, books.uid, books.actor)
    ids, write = writer.rows(drafts)
    for item, voucher_id in zip(targets, ids, strict=True):
        item.voucher = voucher_id
        item.status = LineStatus.DRAFTED
    books.vouchers.add_run(ids[0], ids[-1])
    books.drafted += len(ids)
    return write


def _relocate(books: Books, problem: Problem, targets: Sequence[Item]) -> Problem:
    """Name the statement row behind a problem the ledger found in one of the drafts."""
    ref = problem.ref
    if not isinstance(ref, VoucherRef) or ref.draft is None:
        return problem
    item = targets[ref.draft - 1]
    where = f"{books.name}:{item.row}" if item.row else f"对账单行 statement line #{item.line_id}"
    return Problem(
        f"{where} ({problem.where})",
        problem.message,
        problem.subject or "voucher",
        StatementLineRef(item.line_id, item.row or None, books.name),
    )


def pending_lines(
    session: Connection,
    entity_id: int,
    account: str | None,
    *,
    skip_batch: int | None = None,
    start: dt.date | None = None,
) -> Iterator[list[Item]]:
    """Stored lines with no voucher yet, in chunks, by id.

    Only lines with a cashier entry, unless ``start`` is given: then also
    lines without one dated from ``start`` (the books' first day).
    """
    after = 0
    waiting: ColumnElement[bool] = StatementLine.custody_entry_id.is_not(None)
    if start is not None:
        waiting = or_(waiting, StatementLine.txn_date >= start)
    while True:
        q = select(LINE_COLUMNS).where(
            StatementLine.entity_id == entity_id,
            StatementLine.voucher_id.is_(None),
            waiting,
            StatementLine.id > after,
        )
        if account is not None:
            q = q.where(StatementLine.account_code == account)
        if skip_batch is not None:
            q = q.where(StatementLine.batch_id != skip_batch)
        lines = stored_lines(session.execute(q.order_by(StatementLine.id).limit(CHUNK_ROWS)))
        if not lines:
            return
        after = lines[-1].id
        yield [line_item(line) for line in lines]


def store_links(session: Connection, entity_id: int, items: Sequence[Item]) -> None:
    """Write the entries matched and the vouchers drafted or found for stored lines."""
    update_many(session, StatementLine, _links(entity_id, items))


def _links(entity_id: int, items: Sequence[Item]) -> list[dict[str, Any]]:
    return [
        {
            "entity_id": entity_id,
            "id": i.line_id,
            "custody_entry_id": i.entry,
            "voucher_id": i.voucher,
        }
        for i in items
        if i.entry is not None
    ]


def _write_settled(
    session: Connection,
    drafts: Callable[[Connection], None] | None,
    links: list[dict[str, Any]],
) -> None:
    if drafts is not None:
        drafts(session)
    update_many(session, StatementLine, links)


@command
def draft_pending(
    session: Connection,
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
    :func:`import_statement` (no ``rules``: those stored for each account or
    the community with :func:`~juzhang.statements.settings.set_import_settings`).

    Returns a :class:`DraftResult`; lines with an entry that still cannot be
    drafted are listed in ``waiting`` with the reason.

    Raises:
        SegregationOfDutiesError: the actor is not a bookkeeper of the entity.
        ProblemsError: bad rules, or a draft the ledger refuses (all listed).
    """
    ent = get_entity(session, entity, lock=True)
    uid = require(session, ent, actor, Action.DRAFT_VOUCHER)
    given = None if rules is None else rules_for(rules)
    start = first_day(ent.start_period)
    accounts = accounts_of(session, ent.id)
    closed = closed_periods(session, ent.id)
    stats = Statistics(session)
    drafted = linked = 0
    vouchers = Spans()
    waiting: list[Problem] = []
    q = select(StatementLine.account_code).where(
        StatementLine.entity_id == ent.id, StatementLine.voucher_id.is_(None)
    )
    if account is not None:
        q = q.where(StatementLine.account_code == account)
    codes = sorted(set(session.scalars(q.distinct())))
    writer = ledger.PairWriter(session, ent, uid, actor) if codes else None
    taken: set[int] = set()  # entries recorded by hand, matched in this step
    # Each chunk's writes (vouchers, lines, links) run behind the next
    # chunk's deciding and making (WriteBehind): its lines, the entries they
    # match and what backs them are read before the chunk before is written,
    # and the voucher ids and the audit chain move on in memory (the entity
    # is locked).
    with WriteBehind.on(session, written=stats.grew) as behind:
        for code in codes:
            chosen = given
            if chosen is None:  # the rules stored for the account or the community, else none
                stored = stored_for(session, ent.id, ent.code, code).rules
                chosen = stored if stored is not None else Rules()
            books = open_books(
                session,
                ent,
                uid,
                actor,
                code,
                chosen,
                window_days,
                f"{entity} {code}",
                accounts,
                closed,
            )
            books.vouchers = vouchers
            books.writer, books.flush = writer, behind.wait
            stuck = Spans()
            for items in pending_lines(session, ent.id, code, start=start):
                for item in items:
                    books.classify(item)
                match_entries(session, ent.id, code, books.window, items, taken)
                looked = settle_lookups(books, items)
                behind.release()  # the chunk before, while this one is made
                made = settle_made(books, items, looked)
                write = functools.partial(_write_settled, session, made, _links(ent.id, items))
                behind.hold(write, len(items))
                for item in items:
                    if item.entry is not None and item.voucher is None:
                        stuck.add(item.line_id)
            drafted += books.drafted
            linked += books.linked
            if stuck.count:
                waiting.append(
                    Problem(
                        f"{entity} {code} 对账单行 lines #{format_spans(stuck.result())}",
                        "未制单：月份已结账或属于待制单的报账单 / not drafted: closed month,"
                        " or the entry belongs to a pending claim",
                        "line",
                    )
                )
    return DraftResult(drafted, linked, vouchers.result(), tuple(waiting))
