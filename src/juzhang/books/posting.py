"""Review (审核) and posting (记账) of vouchers: numbers, the hash chain, bulk posting.

A reviewer other than the preparer reviews a draft; a bookkeeper posts it.
Numbers (记-0001) are given at posting, gapless and unique per entity and month,
under the entity's write lock; posting chains each voucher's hash to the
previous one (the running balances follow by trigger).  :func:`post_bulk`
drafts, reviews and posts a batch in one pass.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

from sqlalchemy import Connection, select, tuple_, update

from juzhang.books.drafting import _check_all, _insert_vouchers
from juzhang.books.opening import _opening_difference
from juzhang.books.rows import (
    CHUNK,
    _lines_of,
    _load_voucher,
    _Numbered,
    _ToPost,
    chunked,
    head_of,
    id_in,
)
from juzhang.core.duty import Action
from juzhang.core.period import format_period
from juzhang.core.types import VoucherStatus
from juzhang.core.voucher import (
    VoucherDraft,
    voucher_hash,
)
from juzhang.errors import (
    NotFoundError,
    PeriodClosedError,
    SegregationOfDutiesError,
    StateError,
    UnbalancedError,
)
from juzhang.money import format_amount, from_fen
from juzhang.storage.access import (
    AuditChain,
    EntityInfo,
    audit,
    audit_many,
    closed_periods,
    command,
    get_entity,
    next_id,
    now,
    require,
    update_many,
    update_range,
)
from juzhang.storage.behind import WriteBehind
from juzhang.storage.schema import (
    CustodyEntry,
    Voucher,
)
from juzhang.storage.statistics import Statistics


@command
def review_vouchers(session: Connection, entity: str, actor: str, ids: Sequence[int]) -> None:
    """Review drafts (审核); the reviewer may not be the preparer.  All or nothing.

    The same as :func:`review_bulk` with a list of ids.

    Raises:
        NotFoundError: no such voucher.
        SegregationOfDutiesError: not a reviewer, or reviewing one's own voucher.
        StateError: a voucher is not a draft.
    """
    ent = get_entity(session, entity, lock=True)
    uid = require(session, ent, actor, Action.REVIEW_VOUCHER)
    _review(session, ent, uid, actor, ids, CHUNK)


@command
def review_bulk(
    session: Connection,
    entity: str,
    actor: str,
    ids: Sequence[int] | Literal["all"],
    *,
    chunk: int = CHUNK,
) -> int:
    """Review drafts (审核) of any number, ``chunk`` at a time; return how many.  All or nothing.

    ``ids`` is a list of draft ids or ``"all"`` (every draft of the entity).
    Each chunk is checked and reviewed with a few statements (its rows
    selected by one query, updated by one statement, audited by one insert),
    so time grows with the number of drafts and memory with ``chunk`` only;
    the rules are those of the one-by-one workflow and the database's
    backstops see every row.

    Raises:
        NotFoundError: no such voucher.
        SegregationOfDutiesError: not a reviewer, or reviewing one's own voucher.
        StateError: a voucher is not a draft.
    """
    ent = get_entity(session, entity, lock=True)
    uid = require(session, ent, actor, Action.REVIEW_VOUCHER)
    return _review(session, ent, uid, actor, ids, chunk)


def _review(
    session: Connection,
    ent: EntityInfo,
    uid: int,
    actor: str,
    ids: Sequence[int] | Literal["all"],
    chunk: int,
) -> int:
    """Review drafts (the caller holds the entity's lock and checked the role)."""
    stats = Statistics(session)
    if ids == "all":
        own = session.execute(
            select(Voucher.id)
            .where(Voucher.entity_id == ent.id, Voucher.status == "draft")
            .where(Voucher.prepared_by == uid)
            .order_by(Voucher.id)
            .limit(1)
        ).scalar_one_or_none()
        if own is not None:
            raise _own_review(actor, ent, own)
        return _review_all(session, ent, uid, actor, chunk, stats)
    unique = list(dict.fromkeys(ids))  # each id once
    for part in chunked(unique, chunk):
        keys = _keys_of(session, ent, part)
        for k in keys:
            if k.status != "draft":
                raise StateError(f"凭证 #{k.id}", k.status, "审核 review")
            if k.prepared_by == uid:
                raise _own_review(actor, ent, k.id)
        _review_chunk(session, ent, uid, actor, part)
        stats.grew(len(part))
    return len(unique)


def _own_review(actor: str, ent: EntityInfo, voucher_id: int) -> SegregationOfDutiesError:
    return SegregationOfDutiesError(
        f"{actor} ({ent.code})",
        "reviewer 审核",
        f"审核自己制单的凭证 #{voucher_id} / review own voucher",
        "审核人不得是制单人 / the reviewer may not be the preparer",
    )


def _review_all(
    session: Connection, ent: EntityInfo, uid: int, actor: str, chunk: int, stats: Statistics
) -> int:
    """Review every draft (none the reviewer's own), each chunk written behind the next one's read.

    As posting does (:class:`~juzhang.storage.behind.WriteBehind`): the next
    chunk is read after the last one read (its review may still be being
    written), and the audit chain's head moves on in memory.
    """
    done = 0
    last: _Key | None = None
    trail: AuditChain | None = None
    with WriteBehind.on(session, written=stats.grew) as behind:
        while waiting := _next_chunk(session, ent, "draft", chunk, last):
            last = waiting[-1]
            if trail is None:  # read once there is something to review
                trail = AuditChain(session, ent.id, actor)
            behind.release()  # the chunk before, while this one is made
            ids = [k.id for k in waiting]
            audit = trail.rows("voucher.review", [(f"#{i}", None) for i in ids])
            behind.hold(functools.partial(_write_review, session, ent, uid, ids, audit), len(ids))
            done += len(waiting)
    return done


def _review_chunk(
    session: Connection, ent: EntityInfo, uid: int, actor: str, ids: Sequence[int]
) -> None:
    """Review checked drafts ``ids`` (at most a chunk) in one statement, and audit them."""
    _write_review(
        session,
        ent,
        uid,
        ids,
        AuditChain(session, ent.id, actor).rows("voucher.review", [(f"#{i}", None) for i in ids]),
    )


def _write_review(
    session: Connection,
    ent: EntityInfo,
    uid: int,
    ids: Sequence[int],
    audit: list[tuple[Any, ...]],
) -> None:
    session.execute(
        update(Voucher)
        .where(Voucher.entity_id == ent.id, id_in(session, Voucher.id, ids))
        .where(Voucher.status == "draft")
        .values(status="reviewed", reviewed_by=uid, reviewed_at=now()),
        execution_options={"synchronize_session": False},
    )
    AuditChain.write(session, audit)


class _Key(NamedTuple):
    """What the bulk paths read of a voucher before they act on it (no lines)."""

    id: int
    period: int
    date: dt.date
    kind: str
    reverses: int | None
    status: str
    prepared_by: int


_KEY_COLUMNS = (
    Voucher.id,
    Voucher.period,
    Voucher.voucher_date,
    Voucher.kind,
    Voucher.reverses_id,
    Voucher.status,
    Voucher.prepared_by,
)


def _keys_of(session: Connection, ent: EntityInfo, ids: Sequence[int]) -> list[_Key]:
    """Return the keys of vouchers ``ids`` (at most a chunk), in the order given.

    Raises:
        NotFoundError: an id is not a voucher of the entity.
    """
    found = {
        r[0]: _Key(*r)
        for r in session.execute(
            select(*_KEY_COLUMNS).where(
                Voucher.entity_id == ent.id, id_in(session, Voucher.id, ids)
            )
        )
    }
    for i in ids:
        if i not in found:
            raise NotFoundError("凭证 voucher", f"{ent.code} #{i}")
    return [found[i] for i in ids]


def _next_chunk(
    session: Connection, ent: EntityInfo, status: str, chunk: int, after: _Key | None = None
) -> list[_Key]:
    """The first ``chunk`` vouchers in ``status`` in (month, date, id) order, after ``after``.

    The caller holds the entity's lock: nothing else comes in.  Reviewing
    moves them out of ``status``, so its next call needs no ``after``;
    posting reads the next chunk before the last one is written, so it
    passes the last key it read.  The index ``ix_voucher_status`` (entity,
    status, month, date, id) gives them in this order without sorting the
    rest.
    """
    q = select(*_KEY_COLUMNS).where(Voucher.entity_id == ent.id, Voucher.status == status)
    if after is not None:
        q = q.where(
            tuple_(Voucher.period, Voucher.voucher_date, Voucher.id)
            > (after.period, after.date, after.id)
        )
    return [
        _Key(*r)
        for r in session.execute(
            q.order_by(Voucher.period, Voucher.voucher_date, Voucher.id).limit(chunk)
        )
    ]


@command
def unreview_voucher(session: Connection, entity: str, actor: str, voucher_id: int) -> None:
    """Withdraw a review (取消审核): the voucher goes back to draft.

    Raises:
        SegregationOfDutiesError: the actor is not a reviewer of the entity.
        StateError: the voucher is not reviewed.
    """
    ent = get_entity(session, entity, lock=True)
    require(session, ent, actor, Action.UNREVIEW_VOUCHER)
    row = _load_voucher(session, ent, voucher_id)
    if row.status != VoucherStatus.REVIEWED:
        raise StateError(f"凭证 #{voucher_id}", row.status, "取消审核 withdraw review")
    session.execute(
        update(Voucher)
        .where(Voucher.entity_id == ent.id, Voucher.id == voucher_id)
        .values(status=VoucherStatus.DRAFT, reviewed_by=None, reviewed_at=None)
    )
    audit(session, ent.id, actor, "voucher.unreview", f"#{voucher_id}")


def _number(session: Connection, ent: EntityInfo, items: list[_ToPost]) -> list[_Numbered]:
    """Number and chain vouchers about to be posted, one result per item in its order.

    The caller holds the entity's lock and has checked the roles.  Numbers run
    per period in (period, date, id) order, the hash chain in the same order.
    """
    chain = _Chain(session, ent)
    return chain.number(items, chain.read(session, items))


class _Chain:
    """The months' numbers and the hash chain's head while an entity's vouchers are posted.

    Read once (:meth:`__init__`), each new month's last number and a chunk's
    cashiers as the chunk comes (:meth:`read`); :meth:`number` then numbers
    and chains a chunk in memory and moves the head on, so a chunk can be
    numbered while the one before is still being written.  The caller holds
    the entity's lock: no other posting moves the head meanwhile.
    """

    def __init__(self, session: Connection, ent: EntityInfo) -> None:
        diff = _opening_difference(session, ent.id)
        if diff:
            raise UnbalancedError("期初余额 opening balances", format_amount(from_fen(abs(diff))))
        self.ent = ent
        self.closed = closed_periods(session, ent.id)
        self.numbers: dict[int, int] = {}
        self.seq, self.prev = head_of(session, ent.id)

    def read(self, session: Connection, items: list[_ToPost]) -> dict[int, int]:
        """Check the items' months are open, read each new month's last number; return the
        cashier behind each voucher that has one (by voucher id)."""
        for item in items:
            if item.period in self.closed:
                raise PeriodClosedError(self.ent.code, format_period(item.period))
        for p in {v.period for v in items} - self.numbers.keys():
            # The month's last number by ORDER BY … LIMIT 1 on the unique key
            # (entity, period, number): max() aggregated every row of the month
            # when PostgreSQL planned it without (or with early) statistics.
            self.numbers[p] = int(
                session.execute(
                    select(Voucher.number)
                    .where(
                        Voucher.entity_id == self.ent.id,
                        Voucher.period == p,
                        Voucher.number.is_not(None),
                    )
                    .order_by(Voucher.number.desc())
                    .limit(1)
                ).scalar_one_or_none()
                or 0
            )
        return _cashiers(session, self.ent.id, items)

    def number(self, items: list[_ToPost], cashiers: dict[int, int]) -> list[_Numbered]:
        """Number and chain ``items`` (read by :meth:`read`); one result per item in its order."""
        numbers = self.numbers
        seq, prev = self.seq, self.prev
        out: dict[int, _Numbered] = {}

        def order(n: int) -> tuple[int, dt.date, int]:
            return items[n].period, items[n].date, items[n].id

        for i in sorted(range(len(items)), key=order):
            item = items[i]
            numbers[item.period] += 1
            seq += 1
            number = numbers[item.period]
            digest = voucher_hash(
                prev,
                entity=self.ent.code,
                seq=seq,
                period=item.period,
                number=number,
                date=item.date,
                kind=item.kind,
                reverses=item.reverses,
                lines=item.rows,
            )
            out[i] = _Numbered(number, seq, prev, digest, cashiers.get(item.id))
            prev = digest
        self.seq, self.prev = seq, prev
        return [out[i] for i in range(len(items))]


def _post(session: Connection, ent: EntityInfo, poster: int, items: list[_ToPost]) -> list[int]:
    """Number, chain and post reviewed vouchers (caller holds the lock and checked roles).

    Returns the numbers given, in number order.  (:func:`post_bulk` writes
    the numbers with its drafts and posts them in one statement instead.)
    """
    rows, numbers = _posting_rows(ent, poster, items, _number(session, ent, items))
    update_many(session, Voucher, rows)
    return numbers


def _posting_rows(
    ent: EntityInfo, poster: int, items: list[_ToPost], numbered: list[_Numbered]
) -> tuple[list[dict[str, Any]], list[int]]:
    """The voucher updates that post ``items`` as ``numbered``, and the numbers, in number order.

    In number order: SQLite's row trigger refuses number ``n`` before ``n - 1``.
    """
    at = now()
    in_order = sorted(zip(items, numbered, strict=True), key=lambda p: p[1].chain_seq)
    rows = [
        {"entity_id": ent.id, "id": item.id, "status": VoucherStatus.POSTED}
        | n._asdict()
        | {"posted_by": poster, "posted_at": at}
        for item, n in in_order
    ]
    return rows, [n.number for _item, n in in_order]


def _cashiers(session: Connection, entity_id: int, items: list[_ToPost]) -> dict[int, int]:
    entry_ids = {r[5]: v.id for v in items for r in v.rows if r[5] is not None}
    if not entry_ids:
        return {}
    out: dict[int, int] = {}
    for part in chunked(sorted(entry_ids)):
        rows = session.execute(
            select(CustodyEntry.id, CustodyEntry.recorded_by).where(
                CustodyEntry.entity_id == entity_id, id_in(session, CustodyEntry.id, part)
            )
        )
        for entry_id, cashier in rows:
            out.setdefault(entry_ids[entry_id], cashier)
    return out


@command
def post_vouchers(session: Connection, entity: str, actor: str, ids: Sequence[int]) -> list[int]:
    """Post reviewed vouchers (记账); return the numbers given.

    The vouchers are numbered and posted in (month, date, id) order, whatever
    the order of ``ids`` (an id listed twice is posted once); numbers run on
    from the month's last number, and the returned list follows that order.
    (:func:`post_reviewed` posts any number of them and returns a summary.)

    Raises:
        NotFoundError: no such voucher.
        SegregationOfDutiesError: the actor is not a bookkeeper of the entity.
        StateError: a voucher is not reviewed.
        UnbalancedError: the opening balances do not balance.
        PeriodClosedError: a voucher's month is closed.
    """
    ent = get_entity(session, entity, lock=True)
    uid = require(session, ent, actor, Action.POST_VOUCHER)
    numbers: list[int] = []
    _post_reviewed(session, ent, uid, actor, ids, CHUNK, numbers)
    return numbers


@dataclass(frozen=True, slots=True)
class Posted:
    """What a bulk posting gave: how many, and per month the run of numbers.

    Numbers given by one posting run on without gaps in each month, so
    ``spans`` — ``(month, first number, last number)`` by month — names every
    voucher posted (记-0001 … 记-0007).
    """

    count: int
    word: str
    spans: tuple[tuple[int, int, int], ...]

    def labels(self) -> Iterator[tuple[int, str]]:
        """Yield ``(month, "记-0001")`` for every voucher posted, in number order."""
        for period, first, last in self.spans:
            for number in range(first, last + 1):
                yield period, f"{self.word}-{number:04d}"


@command
def post_reviewed(
    session: Connection,
    entity: str,
    actor: str,
    ids: Sequence[int] | Literal["all"],
    *,
    chunk: int = CHUNK,
) -> Posted:
    """Post reviewed vouchers (记账) of any number, ``chunk`` at a time.  All or nothing.

    ``ids`` is a list of reviewed vouchers or ``"all"`` (every reviewed
    voucher of the entity).  Numbers and the hash chain follow (month, date,
    id) order over the whole set, as :func:`post_vouchers` gives them; each
    chunk is read with two queries (vouchers, lines), numbered and chained
    as a set (:func:`_number`) and posted with one statement, so time grows
    with the number of vouchers and memory with ``chunk`` only.  Returns a
    :class:`Posted`.

    Raises:
        NotFoundError: no such voucher.
        SegregationOfDutiesError: the actor is not a bookkeeper of the entity.
        StateError: a voucher is not reviewed.
        UnbalancedError: the opening balances do not balance.
        PeriodClosedError: a voucher's month is closed.
    """
    ent = get_entity(session, entity, lock=True)
    uid = require(session, ent, actor, Action.POST_VOUCHER)
    return _post_reviewed(session, ent, uid, actor, ids, chunk, None)


def _post_reviewed(
    session: Connection,
    ent: EntityInfo,
    uid: int,
    actor: str,
    ids: Sequence[int] | Literal["all"],
    chunk: int,
    numbers: list[int] | None,
) -> Posted:
    """Post reviewed vouchers (the caller holds the entity's lock and checked the role).

    A chunk at a time, each chunk's writes behind the next chunk's numbering
    (:class:`~juzhang.storage.behind.WriteBehind`): the chunk's vouchers and
    lines are read first, then the previous chunk's writes start, then this
    chunk is numbered, chained and audited in memory while they run.
    """
    stats = Statistics(session)
    spans: dict[int, list[int]] = {}
    count = 0
    with WriteBehind.on(session, written=stats.grew) as behind:
        for part in _to_post(session, ent, ids, chunk):
            if not count:  # read once there is something to post
                chain = _Chain(session, ent)
                trail = AuditChain(session, ent.id, actor)
            lines = _lines_of(session, ent.id, [k.id for k in part])
            items = [_ToPost(k.id, k.period, k.date, k.kind, k.reverses, lines[k.id]) for k in part]
            cashiers = chain.read(session, items)
            behind.release()  # the chunk before, while this one is numbered
            rows, given = _posting_rows(ent, uid, items, chain.number(items, cashiers))
            audit = trail.rows(
                "voucher.post",
                [(f"#{k.id}", {"number": n}) for k, n in zip(part, given, strict=True)],
            )
            behind.hold(functools.partial(_write_posting, session, rows, audit), len(part))
            for key, number in zip(part, given, strict=True):
                span = spans.setdefault(key.period, [number, number])
                span[1] = number
            if numbers is not None:
                numbers.extend(given)
            count += len(part)
    return Posted(count, ent.voucher_word, tuple((p, a, b) for p, (a, b) in sorted(spans.items())))


def _write_posting(
    session: Connection, rows: list[dict[str, Any]], audit: list[tuple[Any, ...]]
) -> None:
    update_many(session, Voucher, rows)
    AuditChain.write(session, audit)


def _to_post(
    session: Connection, ent: EntityInfo, ids: Sequence[int] | Literal["all"], chunk: int
) -> Iterator[list[_Key]]:
    """The vouchers to post in chunks, in (month, date, id) order; each is checked reviewed."""
    if ids == "all":
        last = None
        while waiting := _next_chunk(session, ent, "reviewed", chunk, last):
            yield waiting
            last = waiting[-1]
        return
    keys: list[_Key] = []
    for part in chunked(list(dict.fromkeys(ids)), chunk):  # each id once
        for k in _keys_of(session, ent, part):
            if k.status != "reviewed":
                raise StateError(f"凭证 #{k.id}", k.status, "记账 post (review it first)")
            keys.append(k)
    keys.sort(key=lambda k: (k.period, k.date, k.id))
    for start in range(0, len(keys), chunk):
        yield keys[start : start + chunk]


@command
def post_bulk(
    session: Connection,
    entity: str,
    drafts: Sequence[VoucherDraft],
    *,
    preparer: str,
    reviewer: str,
    poster: str,
) -> list[int]:
    """Prepare, review and post many vouchers in one go; return their ids.  All or nothing.

    For imports and history loads: every rule of the one-by-one workflow
    holds (roles, reviewer ≠ preparer, custody backing, periods, numbering),
    checked for all drafts first, with every problem listed.

    Raises:
        SegregationOfDutiesError: a person lacks the role, or reviewer is preparer.
        ProblemsError: any draft is bad (all listed).
        UnbalancedError: the opening balances do not balance.
    """
    ent = get_entity(session, entity, lock=True)
    prep = require(session, ent, preparer, Action.DRAFT_VOUCHER)
    rev = require(session, ent, reviewer, Action.REVIEW_VOUCHER)
    post = require(session, ent, poster, Action.POST_VOUCHER)
    if prep == rev:
        raise SegregationOfDutiesError(
            f"{reviewer} ({ent.code})",
            "reviewer 审核",
            "审核自己制单的凭证 / review own vouchers",
            "审核人不得是制单人 / the reviewer may not be the preparer",
        )
    # PostgreSQL: statistics first, when earlier calls (other transactions) grew the
    # tables; without them the foreign-key checks went through uq_voucher_entity_id_
    # reverses_id, about 1,000 index tuples a row (issue 18, bench_scale part c)
    Statistics(session)
    checked = _check_all(session, ent, drafts)
    # Number and chain first and write the drafts with their numbers, so that
    # posting each one only flips its status: an update that grew every row by
    # its hashes and touched the number and chain keys cost more than the insert.
    first = next_id(session, Voucher.__table__, ent.id)
    items = [
        _ToPost(first + k, c.period, d.date, "normal", None, c.rows)
        for k, (d, c) in enumerate(checked)
    ]
    numbered = _number(session, ent, items)
    ids = _insert_vouchers(session, ent, prep, checked, numbered=numbered, first=first)
    # Review and post them all in one UPDATE: the database still sees a reviewer
    # other than the preparer on every posted voucher, and SQLite, which updates
    # in the order the drafts went in (number order), meets n - 1 before n.
    at = now()
    update_range(
        session,
        Voucher,
        ent.id,
        range(first, first + len(ids)),
        {
            "status": VoucherStatus.POSTED,
            "posted_by": post,
            "posted_at": at,
            "reviewed_by": rev,
            "reviewed_at": at,
        },
    )
    people = {"reviewer": reviewer, "poster": poster}
    audit_many(
        session,
        ent.id,
        preparer,
        "voucher.bulk",
        [(f"#{i}", people) for i in ids],
    )
    return ids
