"""Corrections (更正) of posted vouchers: the red reversal and the blue correcting voucher.

Posted vouchers never change.  A mistake is corrected by a red reversal
(:func:`reverse_voucher`, 摘要 "注销 X月X日 X号凭证") and a blue correcting
voucher (:func:`draft_correction`, "订正 …"); both are drafts that go through
review and posting like any other.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

from sqlalchemy import Connection, Row, select

from juzhang import clock
from juzhang.books.drafting import _check_all, _Checked, _insert_vouchers
from juzhang.books.rows import _find_posted, _lines_of
from juzhang.core.duty import Action
from juzhang.core.period import format_period, period_of
from juzhang.core.types import VoucherStatus
from juzhang.core.voucher import (
    VoucherDraft,
)
from juzhang.errors import (
    PeriodClosedError,
    StateError,
    ValidationError,
)
from juzhang.storage.access import (
    audit,
    closed_periods,
    command,
    get_entity,
    require,
)
from juzhang.storage.schema import (
    Voucher,
)


def correction_label(row: Row[Any]) -> str:
    """Return ``"9月5日 3号凭证"``: how a correction's 摘要 names the original."""
    d = row.voucher_date
    return f"{d.month}月{d.day}日 {row.number}号凭证"


@command
def reverse_voucher(
    session: Connection,
    entity: str,
    actor: str,
    period: int,
    number: int,
    *,
    date: dt.date | None = None,
) -> int:
    """Draft a red reversal (红字冲销) of a posted voucher; return the draft's id.

    The reversal repeats the original's lines with negated amounts, each
    摘要 "注销 X月X日 X号凭证", names the same custody entries, and then goes
    through review and posting like any voucher.  Its date defaults to the
    original's date if that month is open, else today.

    Raises:
        SegregationOfDutiesError: the actor is not a bookkeeper of the entity.
        NotFoundError: no such posted voucher.
        StateError: the voucher is itself a reversal or already reversed.
        PeriodClosedError: the reversal's month is closed.
        ValidationError: the reversal's date is before the books start.
    """
    ent = get_entity(session, entity, lock=True)
    uid = require(session, ent, actor, Action.REVERSE_VOUCHER)
    original = _find_posted(session, ent, period, number)
    if original.kind == "reversal":
        raise StateError(f"凭证 {number}", "红字冲销 reversal", "再冲销 reverse")
    taken = session.execute(
        select(Voucher.id).where(Voucher.entity_id == ent.id, Voucher.reverses_id == original.id)
    ).first()
    if taken is not None:
        raise StateError(f"凭证 {number}", "已冲销 already reversed", "再冲销 reverse")
    closed = closed_periods(session, ent.id)
    when = date or (original.voucher_date if original.period not in closed else clock.today())
    if period_of(when) in closed:
        raise PeriodClosedError(ent.code, format_period(period_of(when)))
    if period_of(when) < ent.start_period:
        raise ValidationError(
            f"凭证 {number} 的冲销 reversal",
            f"早于建账月份 {format_period(ent.start_period)} / before the books start",
        )
    label = "注销 " + correction_label(original)
    rows = [
        (no, acc, side, -fen, label, custody)
        for no, acc, side, fen, _summary, custody in _lines_of(session, ent.id, [original.id])[
            original.id
        ]
    ]
    draft = VoucherDraft(when, (), 0)
    ids = _insert_vouchers(
        session,
        ent,
        uid,
        [(draft, _Checked(period_of(when), rows))],
        kind="reversal",
        reverses=original.id,
    )
    audit(session, ent.id, actor, "voucher.reverse", f"#{ids[0]}", {"reverses": original.id})
    return ids[0]


@command
def draft_correction(
    session: Connection, entity: str, actor: str, period: int, number: int, draft: VoucherDraft
) -> int:
    """Draft the blue correcting voucher (订正) for a reversed voucher; return its id.

    Each line's 摘要 is prefixed "订正 X月X日 X号凭证".

    Raises:
        SegregationOfDutiesError: the actor is not a bookkeeper of the entity.
        NotFoundError: no such posted voucher.
        StateError: the original has no posted reversal yet.
        ProblemsError: the correcting voucher is bad.
    """
    ent = get_entity(session, entity, lock=True)
    uid = require(session, ent, actor, Action.DRAFT_VOUCHER)
    original = _find_posted(session, ent, period, number)
    reversed_ = session.execute(
        select(Voucher.id).where(
            Voucher.entity_id == ent.id,
            Voucher.reverses_id == original.id,
            Voucher.status == VoucherStatus.POSTED,
        )
    ).first()
    if reversed_ is None:
        raise StateError(
            f"凭证 {number}", "未冲销 not reversed", "订正 correct (post its reversal first)"
        )
    prefix = "订正 " + correction_label(original)
    fixed = replace(
        draft,
        lines=tuple(replace(ln, summary=f"{prefix} {ln.summary}".strip()) for ln in draft.lines),
    )
    checked = _check_all(session, ent, [fixed])
    ids = _insert_vouchers(session, ent, uid, checked, kind="correction")
    audit(session, ent.id, actor, "voucher.correct", f"#{ids[0]}", {"corrects": original.id})
    return ids[0]
