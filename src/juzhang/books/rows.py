"""A voucher's stored rows, as the books' services share them.

``LineRow`` is one voucher line as a tuple (line number, account, side, fen,
摘要, custody entry); :class:`_ToPost` and :class:`_Numbered` carry a voucher
into posting and what posting writes on it; the loaders read a voucher row
(:func:`_load_voucher`, :func:`_find_posted`) and the lines of many vouchers
(:func:`_lines_of`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import ARRAY, BigInteger, Connection, Row, any_, bindparam, select

from juzhang.core.period import format_period
from juzhang.core.types import VoucherStatus
from juzhang.core.voucher import GENESIS_HASH
from juzhang.errors import (
    NotFoundError,
)
from juzhang.storage.access import (
    EntityInfo,
    get_row,
)
from juzhang.storage.engine import is_sqlite
from juzhang.storage.schema import (
    Voucher,
    VoucherLine,
)

CHUNK = 2000
"""Vouchers handled per round trip on the bulk paths (review, post, listing lines).

No statement on those paths names more ids than this: PostgreSQL refuses
more than 65,535 parameters in one statement, and memory stays flat.
"""

T = TypeVar("T")


def chunked(values: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    """Yield ``values`` in consecutive slices of at most ``size``."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


def id_in(session: Connection, column: Any, ids: Sequence[int]) -> Any:
    """``column IN (ids)``; on PostgreSQL ``column = ANY(array)``, one parameter.

    Callers pass at most :data:`CHUNK` ids (see :func:`chunked`).  On SQLite
    one expanding parameter, not an expression per id (see
    :func:`juzhang.statements.model.one_of`).
    """
    if is_sqlite(session):
        return column.in_(bindparam(None, list(ids), expanding=True))
    return column == any_(bindparam(None, list(ids), type_=ARRAY(BigInteger())))


LineRow = tuple[
    int, str, str, int, str, int | None
]  # line_no, account, side, fen, summary, custody


@dataclass(frozen=True, slots=True)
class _ToPost:
    id: int
    period: int
    date: dt.date
    kind: str
    reverses: int | None
    rows: list[LineRow]


class _Numbered(NamedTuple):
    """What posting writes on a voucher besides who posted it and when."""

    number: int
    chain_seq: int
    prev_hash: str
    hash: str
    cashier_id: int | None


def _load_voucher(session: Connection, ent: EntityInfo, voucher_id: int) -> Row[Any]:
    row = get_row(session, Voucher, ent.id, voucher_id)
    if row is None:
        raise NotFoundError("凭证 voucher", f"{ent.code} #{voucher_id}")
    return row


def _find_posted(session: Connection, ent: EntityInfo, period: int, number: int) -> Row[Any]:
    row = session.execute(
        select(Voucher).where(
            Voucher.entity_id == ent.id,
            Voucher.period == period,
            Voucher.number == number,
            Voucher.status == VoucherStatus.POSTED,
        )
    ).one_or_none()
    if row is None:
        raise NotFoundError(
            "凭证 voucher", f"{ent.code} {format_period(period)} {ent.voucher_word}-{number:04d}"
        )
    return row


def head_of(session: Connection, entity_id: int) -> tuple[int, str]:
    """Return ``(sequence, hash)`` of the entity's last posted voucher (0 and zeros if none)."""
    head = session.execute(
        select(Voucher.chain_seq, Voucher.hash)
        .where(Voucher.entity_id == entity_id, Voucher.chain_seq.is_not(None))
        .order_by(Voucher.chain_seq.desc())
        .limit(1)
    ).first()
    return (int(head[0] or 0), str(head[1])) if head else (0, GENESIS_HASH)


def _lines_of(session: Connection, entity_id: int, ids: Sequence[int]) -> dict[int, list[LineRow]]:
    """Return the lines of the vouchers ``ids``, by voucher, in line order (a chunk at a time)."""
    out: dict[int, list[LineRow]] = {i: [] for i in ids}
    for part in chunked(ids):
        _add_lines(session, entity_id, part, out)
    return out


def _add_lines(
    session: Connection, entity_id: int, ids: Sequence[int], out: dict[int, list[LineRow]]
) -> None:
    rows = session.execute(
        select(
            VoucherLine.voucher_id,
            VoucherLine.line_no,
            VoucherLine.account_code,
            VoucherLine.side,
            VoucherLine.amount_fen,
            VoucherLine.summary,
            VoucherLine.custody_entry_id,
        )
        .where(VoucherLine.entity_id == entity_id, id_in(session, VoucherLine.voucher_id, ids))
        .order_by(VoucherLine.voucher_id, VoucherLine.line_no)
    )
    for vid, no, acc, side, fen, summary, custody in rows:
        out[vid].append((no, acc, side, int(fen), summary, custody))
