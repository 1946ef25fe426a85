"""Reading vouchers back (查询凭证): one voucher, a list, by number, and the hash-chain head."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Row, select

from juzhang.books.rows import _find_posted, _lines_of, _load_voucher, head_of
from juzhang.core.voucher import (
    LineView,
    VoucherView,
)
from juzhang.money import from_fen
from juzhang.storage.access import (
    EntityInfo,
    get_entity,
    user_logins,
)
from juzhang.storage.schema import (
    Voucher,
)


def get_voucher(session: Connection, entity: str, voucher_id: int) -> VoucherView:
    """Return one voucher with its lines.

    Raises:
        NotFoundError: no such voucher.
    """
    ent = get_entity(session, entity)
    views = _views(session, ent, [_load_voucher(session, ent, voucher_id)])
    return views[0]


def list_vouchers(
    session: Connection, entity: str, *, period: int | None = None, status: str | None = None
) -> list[VoucherView]:
    """Return vouchers of an entity (optionally one month or status), posted ones by number."""
    ent = get_entity(session, entity)
    q = select(Voucher).where(Voucher.entity_id == ent.id)
    if period is not None:
        q = q.where(Voucher.period == period)
    if status is not None:
        q = q.where(Voucher.status == status)
    q = q.order_by(Voucher.period, Voucher.number.is_(None), Voucher.number, Voucher.id)
    return _views(session, ent, list(session.execute(q)))


def find_voucher(session: Connection, entity: str, period: int, number: int) -> VoucherView:
    """Return the posted voucher with this number in this month.

    Raises:
        NotFoundError: none.
    """
    ent = get_entity(session, entity)
    return _views(session, ent, [_find_posted(session, ent, period, number)])[0]


def _views(session: Connection, ent: EntityInfo, rows: Sequence[Row[Any]]) -> list[VoucherView]:
    lines = _lines_of(session, ent.id, [r.id for r in rows])
    people = {
        u
        for r in rows
        for u in (r.prepared_by, r.reviewed_by, r.posted_by, r.cashier_id)
        if u is not None
    }
    names = user_logins(session, people)
    return [
        VoucherView(
            id=r.id,
            entity=ent.code,
            date=r.voucher_date,
            period=r.period,
            word=r.word,
            number=r.number,
            status=r.status,
            kind=r.kind,
            attachments=r.attachments,
            prepared_by=names[r.prepared_by],
            reviewed_by=names.get(r.reviewed_by) if r.reviewed_by else None,
            posted_by=names.get(r.posted_by) if r.posted_by else None,
            cashier=names.get(r.cashier_id) if r.cashier_id else None,
            reverses=r.reverses_id,
            hash=r.hash,
            lines=tuple(
                LineView(no, acc, summary, side, from_fen(fen), custody)
                for no, acc, side, fen, summary, custody in lines[r.id]
            ),
        )
        for r in rows
    ]


def chain_head(session: Connection, entity: str) -> tuple[int, str]:
    """Return ``(sequence, hash)`` of the entity's last posted voucher (0 and zeros if none)."""
    return head_of(session, get_entity(session, entity).id)
