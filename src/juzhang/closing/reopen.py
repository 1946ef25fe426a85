"""Reopening a closed month (反结账).
**Reopening (反结账)**, :func:`reopen_month`: by an admin, with a reason (audit
log), only the last closed month, and never once a published disclosure covers
it (the database refuses too).  Posted vouchers never change, so the
carry-forward is undone by posting its red reversal into the reopened month.
That reversal is a voucher like any other and needs a reviewer ≠ its preparer
(the system): the acting admin when also a reviewer, else a reviewer named by
the admin (``reviewer=``), who must hold the role now.  The admin never
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Connection, delete, select

from juzhang import books
from juzhang.core.duty import Action, Role
from juzhang.core.period import (
    format_period,
)
from juzhang.core.types import VoucherStatus
from juzhang.errors import StateError, ValidationError
from juzhang.storage.access import (
    audit,
    closed_periods,
    command,
    get_entity,
    get_user_id,
    require,
    roles_of,
)
from juzhang.storage.schema import (
    Disclosure,
    Voucher,
)


@dataclass(frozen=True, slots=True)
class ReopenResult:
    """The outcome of :func:`reopen_month`: the red reversals posted and who reviewed them."""

    entity: str
    period: int
    reversals: tuple[str, ...] = field(default=())
    reviewer: str | None = None


def _published_over(session: Connection, entity_id: int, period: int) -> str | None:
    row = session.execute(
        select(Disclosure.first_period, Disclosure.last_period).where(
            Disclosure.entity_id == entity_id,
            Disclosure.status == "published",
            Disclosure.first_period <= period,
            Disclosure.last_period >= period,
        )
    ).first()
    if row is None:
        return None
    a, b = int(row[0]), int(row[1])
    return format_period(a) if a == b else f"{format_period(a)}..{format_period(b)}"


def _closing_vouchers(session: Connection, entity_id: int, period: int) -> list[int]:
    """Posted closing vouchers of the month not reversed yet, newest first."""
    reversed_ids = select(Voucher.reverses_id).where(
        Voucher.entity_id == entity_id, Voucher.reverses_id.is_not(None)
    )
    rows = session.execute(
        select(Voucher.id)
        .where(
            Voucher.entity_id == entity_id,
            Voucher.period == period,
            Voucher.status == VoucherStatus.POSTED,
            Voucher.kind == "closing",
            Voucher.id.not_in(reversed_ids),
        )
        .order_by(Voucher.number.desc())
    )
    return [int(i) for (i,) in rows]


@command
def reopen_month(
    session: Connection,
    entity: str,
    period: int,
    actor: str,
    reason: str,
    *,
    reviewer: str | None = None,
) -> ReopenResult:
    """Reopen (反结账) the last closed month, undoing its carry-forward; admin only.

    The month is reopened (:func:`juzhang.books.reopen_period`, the reason
    goes to the audit log), then the red reversal of each of its
    carry-forward vouchers is posted into it, prepared and posted by the
    system and reviewed by ``reviewer`` — by default the actor when the
    actor also holds the reviewer role.  Draft disclosures of the month are
    dropped (they no longer match the books).

    Raises:
        SegregationOfDutiesError: the actor is not an admin, or the reviewer
            may not review the entity's vouchers.
        ValidationError: no reason, or a reversal is needed and no reviewer.
        StateError: the month is open, a later month is closed, or a
            published disclosure covers it (correct in the current month).
    """
    ent = get_entity(session, entity, lock=True)
    uid = require(session, ent, actor, Action.REOPEN_PERIOD)
    what = f"{ent.code} {format_period(period)}"
    if not reason.strip():
        raise ValidationError("反结账 reopen", "必须说明原因 / a reason is required")
    closed = closed_periods(session, ent.id)
    if period not in closed:
        raise StateError(what, "未结账 open", "反结账 reopen")
    later = sorted(p for p in closed if p > period)
    if later:
        months = ", ".join(format_period(p) for p in later)
        raise StateError(
            what,
            f"之后的月份已结账 ({months}) / later months are closed",
            "反结账 reopen (reopen the last closed month first)",
        )
    published = _published_over(session, ent.id, period)
    if published is not None:
        raise StateError(
            what,
            f"财务公开 {published} 已由民主理财小组签字发布 / the disclosure is published",
            "反结账 reopen: 请在当前月份更正 (correct errors in the current month)",
        )
    to_reverse = _closing_vouchers(session, ent.id, period)
    checker: str | None = None
    if to_reverse:
        if reviewer is None and Role.REVIEWER in roles_of(session, ent.id, uid):
            reviewer = actor
        if reviewer is None:
            raise ValidationError(
                f"反结账 reopen {what}",
                "冲销结转凭证需要审核人：请指定 reviewer / reversing the carry-forward needs"
                " a reviewer: name one (--reviewer)",
            )
        get_user_id(session, reviewer)
        checker = reviewer
    books.reopen_period(session, entity, actor, period, reason)
    labels = []
    for vid in to_reverse:
        red = books.post_closing_voucher(session, ent.code, str(checker), reverses=vid)
        labels.append(books.get_voucher(session, ent.code, red).label)
    session.execute(
        delete(Disclosure).where(
            Disclosure.entity_id == ent.id,
            Disclosure.status == "draft",
            Disclosure.first_period <= period,
            Disclosure.last_period >= period,
        )
    )
    audit(
        session,
        ent.id,
        actor,
        "month.reopen",
        format_period(period),
        {"reason": reason, "reversals": labels, "reviewer": checker},
    )
    return ReopenResult(ent.code, period, tuple(labels), checker)
