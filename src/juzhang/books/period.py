"""Periods (会计期间): locking and reopening a month, the primitives under the month-end close.

Locking a month is not public: the only way to lock one is the month-end
close, :func:`juzhang.closing.close_month` (checks, carry-forward, lock),
which calls :func:`_lock_period` last.  ``tests/test_one_close.py`` proves that
no public function locks a month without the checks.
"""

from __future__ import annotations

from sqlalchemy import Connection, func, insert, select, update

from juzhang import clock
from juzhang.core.duty import Action
from juzhang.core.period import format_period, last_day
from juzhang.core.types import VoucherStatus
from juzhang.errors import (
    MonthNotOverError,
    StateError,
    ValidationError,
)
from juzhang.storage.access import (
    audit,
    closed_periods,
    command,
    get_entity,
    get_row,
    now,
    require,
)
from juzhang.storage.schema import (
    Period,
    Voucher,
)


def require_month_over(entity: str, period: int) -> None:
    """Refuse to close a month that has not ended (its last day is today or later).

    Raises:
        MonthNotOverError: the month's last day is not yet past (:func:`juzhang.clock.today`).
    """
    today = clock.today()
    end = last_day(period)
    if today <= end:
        raise MonthNotOverError(entity, format_period(period), today, end)


def _lock_period(session: Connection, entity: str, actor: str, period: int) -> None:
    """Lock (结账) a month: nothing can be drafted into or posted to it any more.

    Private: the lock without the month-end checks.  Only
    :func:`juzhang.closing.close_month` calls it, inside its ``@command``
    savepoint, after the checks and the carry-forward (tests that need a
    locked month without a full close use the test-only helper in
    ``tests/conftest.py``).

    Raises:
        SegregationOfDutiesError: the actor is not a reviewer of the entity.
        StateError: the month has not ended, unposted vouchers are dated in
            it, or it is closed.
    """
    ent = get_entity(session, entity, lock=True)
    uid = require(session, ent, actor, Action.CLOSE_PERIOD)
    if period in closed_periods(session, ent.id):
        raise StateError(f"{entity} {format_period(period)}", "已结账 closed", "结账 close")
    require_month_over(entity, period)
    pending = session.execute(
        select(func.count()).where(
            Voucher.entity_id == ent.id,
            Voucher.period == period,
            Voucher.status != VoucherStatus.POSTED,
        )
    ).scalar_one()
    if pending:
        raise StateError(
            f"{entity} {format_period(period)}",
            f"有 {pending} 张未记账凭证 / {pending} unposted voucher(s)",
            "结账 close",
        )
    values = {"status": "closed", "closed_by": uid, "closed_at": now()}
    exists = get_row(session, Period, ent.id, period)
    if exists is None:
        session.execute(insert(Period).values(entity_id=ent.id, period=period, **values))
    else:
        session.execute(
            update(Period)
            .where(Period.entity_id == ent.id, Period.period == period)
            .values(**values)
        )
    audit(session, ent.id, actor, "period.close", format_period(period))


@command
def reopen_period(session: Connection, entity: str, actor: str, period: int, reason: str) -> None:
    """Reopen (反结账) a closed month: admin only, with a reason, recorded.

    Raises:
        SegregationOfDutiesError: the actor is not an admin of the entity.
        ValidationError: no reason given.
        StateError: the month is not closed.
    """
    ent = get_entity(session, entity, lock=True)
    require(session, ent, actor, Action.REOPEN_PERIOD)
    if not reason.strip():
        raise ValidationError("反结账 reopen", "必须说明原因 / a reason is required")
    if period not in closed_periods(session, ent.id):
        raise StateError(f"{entity} {format_period(period)}", "未结账 open", "反结账 reopen")
    session.execute(
        update(Period)
        .where(Period.entity_id == ent.id, Period.period == period)
        .values(status="open", closed_by=None, closed_at=None)
    )
    audit(session, ent.id, actor, "period.reopen", format_period(period), {"reason": reason})


def is_closed(session: Connection, entity: str, period: int) -> bool:
    """Return whether the entity's month is closed."""
    return period in closed_periods(session, get_entity(session, entity).id)
