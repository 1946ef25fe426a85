"""Review (审核) and posting (记账) of vouchers: numbers, the hash chain, bulk posting.

A reviewer other than the preparer reviews a draft; a bookkeeper posts it.
Numbers (记-0001) are given at posting, gapless and unique per entity and month,
under the entity's write lock; posting chains each voucher's hash to the
previous one (the running balances follow by trigger).  :func:`post_bulk`
drafts, reviews and posts a batch in one pass.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from juzhang.books.drafting import _check_all, _insert_vouchers
from juzhang.books.opening import _opening_difference
from juzhang.books.rows import _lines_of, _load_voucher, _Numbered, _ToPost
from juzhang.core.duty import Action
from juzhang.core.period import format_period
from juzhang.core.types import VoucherStatus
from juzhang.core.voucher import (
    GENESIS_HASH,
    VoucherDraft,
    voucher_hash,
)
from juzhang.errors import (
    PeriodClosedError,
    SegregationOfDutiesError,
    StateError,
    UnbalancedError,
)
from juzhang.money import format_amount, from_fen
from juzhang.storage.access import (
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
from juzhang.storage.schema import (
    CustodyEntry,
    Voucher,
)


@command
def review_vouchers(session: Session, entity: str, actor: str, ids: Sequence[int]) -> None:
    """Review drafts (审核); the reviewer may not be the preparer.  All or nothing.

    Raises:
        SegregationOfDutiesError: not a reviewer, or reviewing one's own voucher.
        StateError: a voucher is not a draft.
    """
    ent = get_entity(session, entity, lock=True)
    uid = require(session, ent, actor, Action.REVIEW_VOUCHER)
    rows = [_load_voucher(session, ent, i) for i in dict.fromkeys(ids)]  # each id once
    for row in rows:
        if row.status != VoucherStatus.DRAFT:
            raise StateError(f"凭证 #{row.id}", row.status, "审核 review")
        if row.prepared_by == uid:
            raise SegregationOfDutiesError(
                f"{actor} ({ent.code})",
                "reviewer 审核",
                f"审核自己制单的凭证 #{row.id} / review own voucher",
                "审核人不得是制单人 / the reviewer may not be the preparer",
            )
    at = now()
    if rows:
        update_many(
            session,
            Voucher,
            [
                {
                    "entity_id": ent.id,
                    "id": r.id,
                    "status": "reviewed",
                    "reviewed_by": uid,
                    "reviewed_at": at,
                }
                for r in rows
            ],
        )
    audit_many(session, ent.id, actor, "voucher.review", [(f"#{r.id}", None) for r in rows])


@command
def unreview_voucher(session: Session, entity: str, actor: str, voucher_id: int) -> None:
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


def _number(session: Session, ent: EntityInfo, items: list[_ToPost]) -> list[_Numbered]:
    """Number and chain vouchers about to be posted, one result per item in its order.

    The caller holds the entity's lock and has checked the roles.  Numbers run
    per period in (period, date, id) order, the hash chain in the same order.
    """
    diff = _opening_difference(session, ent.id)
    if diff:
        raise UnbalancedError("期初余额 opening balances", format_amount(from_fen(abs(diff))))
    closed = closed_periods(session, ent.id)
    for item in items:
        if item.period in closed:
            raise PeriodClosedError(ent.code, format_period(item.period))
    numbers: dict[int, int] = {}
    for p in {v.period for v in items}:
        numbers[p] = int(
            session.execute(
                select(func.max(Voucher.number)).where(
                    Voucher.entity_id == ent.id, Voucher.period == p
                )
            ).scalar_one()
            or 0
        )
    head = session.execute(
        select(Voucher.chain_seq, Voucher.hash)
        .where(Voucher.entity_id == ent.id, Voucher.chain_seq.is_not(None))
        .order_by(Voucher.chain_seq.desc())
        .limit(1)
    ).first()
    seq, prev = (int(head[0] or 0), str(head[1])) if head else (0, GENESIS_HASH)
    cashiers = _cashiers(session, ent.id, items)
    out: dict[int, _Numbered] = {}
    for i in sorted(range(len(items)), key=lambda i: (items[i].period, items[i].date, items[i].id)):
        item = items[i]
        numbers[item.period] += 1
        seq += 1
        number = numbers[item.period]
        digest = voucher_hash(
            prev,
            entity=ent.code,
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
    return [out[i] for i in range(len(items))]


def _post(session: Session, ent: EntityInfo, poster: int, items: list[_ToPost]) -> list[int]:
    """Number, chain and post reviewed vouchers (caller holds the lock and checked roles).

    Returns the numbers given, in number order.  The rows are updated in
    number order: SQLite's row trigger refuses number ``n`` before ``n - 1``.
    (:func:`post_bulk` writes the numbers with its drafts and posts them in
    one statement instead.)
    """
    numbered = _number(session, ent, items)
    at = now()
    in_order = sorted(zip(items, numbered, strict=True), key=lambda p: p[1].chain_seq)
    if in_order:
        update_many(
            session,
            Voucher,
            [
                {"entity_id": ent.id, "id": item.id, "status": VoucherStatus.POSTED}
                | n._asdict()
                | {"posted_by": poster, "posted_at": at}
                for item, n in in_order
            ],
        )
    return [n.number for _item, n in in_order]


def _cashiers(session: Session, entity_id: int, items: list[_ToPost]) -> dict[int, int]:
    entry_ids = {r[5]: v.id for v in items for r in v.rows if r[5] is not None}
    if not entry_ids:
        return {}
    out: dict[int, int] = {}
    rows = session.execute(
        select(CustodyEntry.id, CustodyEntry.recorded_by).where(
            CustodyEntry.entity_id == entity_id, CustodyEntry.id.in_(entry_ids)
        )
    )
    for entry_id, cashier in rows:
        out.setdefault(entry_ids[entry_id], cashier)
    return out


@command
def post_vouchers(session: Session, entity: str, actor: str, ids: Sequence[int]) -> list[int]:
    """Post reviewed vouchers (记账); return the numbers given.

    The vouchers are numbered and posted in (month, date, id) order, whatever
    the order of ``ids`` (an id listed twice is posted once); numbers run on
    from the month's last number, and the returned list follows that order.

    Raises:
        SegregationOfDutiesError: the actor is not a bookkeeper of the entity.
        StateError: a voucher is not reviewed.
        UnbalancedError: the opening balances do not balance.
        PeriodClosedError: a voucher's month is closed.
    """
    ent = get_entity(session, entity, lock=True)
    uid = require(session, ent, actor, Action.POST_VOUCHER)
    rows = [_load_voucher(session, ent, i) for i in dict.fromkeys(ids)]  # each id once
    for row in rows:
        if row.status != VoucherStatus.REVIEWED:
            raise StateError(f"凭证 #{row.id}", row.status, "记账 post (review it first)")
    lines = _lines_of(session, ent.id, [r.id for r in rows])
    items = [
        _ToPost(r.id, r.period, r.voucher_date, r.kind, r.reverses_id, lines[r.id]) for r in rows
    ]
    numbers = _post(session, ent, uid, items)
    audit_many(
        session,
        ent.id,
        actor,
        "voucher.post",
        [
            (f"#{i.id}", {"number": n})
            for i, n in zip(
                sorted(items, key=lambda v: (v.period, v.date, v.id)), numbers, strict=True
            )
        ],
    )
    return numbers


@command
def post_bulk(
    session: Session,
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
    checked = _check_all(session, ent, drafts)
    # Number and chain first and write the drafts with their numbers, so that
    # posting each one only flips its status: an update that grew every row by
    # its hashes and touched the number and chain keys cost more than the insert.
    first = next_id(session, Voucher.__table__, ent.id)  # type: ignore[arg-type]
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
