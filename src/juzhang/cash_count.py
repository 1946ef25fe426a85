"""Cash counts (现金盘点): the cashier counts the cash on hand and records the figure.

At the month end the cashier (报账员/出纳) counts the cash in the till and
records the amount here, for one cash account (库存现金, or one of its detail
accounts).  The count is the cashier's statement of fact (账实核对): the
month-end close (:mod:`juzhang.closing`) compares it with the cash journal.

A count never changes the books or the journal.  When it differs from the
journal, the difference is put right the way every cash movement is: the
cashier records it in the cash journal (盘亏 a shortage as money out, 盘盈 an
overage as money in) and the bookkeeper books it against 待处理财产损溢 (the
chart's ``loss_pending`` account: Dr 181 / Cr 101 for a shortage) until a
decision is made.  Then journal, ledger and count agree.

Only the cashier records counts; a count dated in a closed month is refused
(here first, by the database trigger ``jz_cash_count_insert`` as a backstop).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Connection, insert, select

from juzhang import clock
from juzhang.core.duty import Action
from juzhang.core.period import format_period, period_of
from juzhang.errors import NotFoundError, PeriodClosedError, ValidationError
from juzhang.money import format_amount, from_fen, to_fen
from juzhang.storage.access import (
    AccountInfo,
    EntityInfo,
    accounts_of,
    audit,
    closed_periods,
    command,
    get_entity,
    next_id,
    now,
    require,
    user_logins,
)
from juzhang.storage.schema import CashCount

__all__ = ["CashCountView", "cash_accounts", "list_cash_counts", "record_cash_count"]


@dataclass(frozen=True, slots=True)
class CashCountView:
    """A recorded cash count: date, account, amount counted, note, and who counted."""

    id: int
    date: dt.date
    period: int
    account: str
    amount: Decimal
    note: str
    counted_by: str


def cash_accounts(accounts: dict[str, AccountInfo]) -> list[AccountInfo]:
    """Return the cash accounts (库存现金 leaf accounts) among ``accounts``, by code."""
    return sorted(
        (a for a in accounts.values() if a.custody == "cash" and a.leaf), key=lambda a: a.code
    )


def _account(ent: EntityInfo, accounts: dict[str, AccountInfo], code: str | None) -> str:
    cash = cash_accounts(accounts)
    if code is None:
        if len(cash) != 1:
            names = ", ".join(a.code for a in cash) or "无 none"
            raise ValidationError(
                f"{ent.code} 现金盘点 cash count",
                f"请指定现金科目 / name the cash account ({names})",
            )
        return cash[0].code
    acc = accounts.get(code)
    if acc is None:
        raise NotFoundError("科目 account", f"{ent.code} {code}")
    if acc not in cash:
        raise ValidationError(
            f"{ent.code} 现金盘点 cash count",
            f"{code} {acc.name} 不是现金末级科目 / not a cash leaf account",
        )
    return code


@command
def record_cash_count(
    session: Connection,
    entity: str,
    actor: str,
    date: dt.date,
    amount: Decimal,
    account: str | None = None,
    note: str = "",
) -> int:
    """Record a cash count (现金盘点) by the cashier; return its id.

    ``account`` may be left out when the entity has one cash account.  The
    latest count of a month is the one the close compares with the journal.

    Raises:
        SegregationOfDutiesError: the actor is not the entity's cashier.
        NotFoundError: unknown entity or account.
        ValidationError: not a cash leaf account (or none named when there are
            several), a negative amount, a date before the books start or
            after today (:func:`juzhang.clock.today`).
        PeriodClosedError: the month is closed.
    """
    ent = get_entity(session, entity, lock=True)
    uid = require(session, ent, actor, Action.COUNT_CASH)
    code = _account(ent, accounts_of(session, ent.id), account)
    fen = to_fen(amount)
    if fen < 0:
        raise ValidationError(
            f"{ent.code} 现金盘点 cash count",
            f"金额不能为负 / the amount cannot be negative: {format_amount(amount)}",
        )
    period = period_of(date)
    if period < ent.start_period:
        raise ValidationError(
            f"{ent.code} 现金盘点 cash count",
            f"早于建账月份 {format_period(ent.start_period)} / before the books start",
        )
    if period in closed_periods(session, ent.id):
        raise PeriodClosedError(ent.code, format_period(period))
    future = clock.future_problem(date)
    if future:
        raise ValidationError(f"{ent.code} 现金盘点 cash count", future)
    count_id = next_id(session, CashCount.__table__, ent.id)
    session.execute(
        insert(CashCount).values(
            entity_id=ent.id,
            id=count_id,
            count_date=date,
            period=period,
            account_code=code,
            amount_fen=fen,
            note=note,
            counted_by=uid,
            counted_at=now(),
        )
    )
    audit(
        session,
        ent.id,
        actor,
        "cash.count",
        f"#{count_id}",
        {"account": code, "date": date.isoformat(), "fen": fen},
    )
    return count_id


def list_cash_counts(
    session: Connection, entity: str, *, period: int | None = None, account: str | None = None
) -> list[CashCountView]:
    """Return the entity's cash counts (optionally one month or account), by date and id.

    Raises:
        NotFoundError: unknown entity.
    """
    ent = get_entity(session, entity)
    q = select(CashCount).where(CashCount.entity_id == ent.id)
    if period is not None:
        q = q.where(CashCount.period == period)
    if account is not None:
        q = q.where(CashCount.account_code == account)
    rows = list(session.execute(q.order_by(CashCount.count_date, CashCount.id)))
    names = user_logins(session, {r.counted_by for r in rows})
    return [
        CashCountView(
            r.id,
            r.count_date,
            r.period,
            r.account_code,
            from_fen(r.amount_fen),
            r.note,
            names.get(r.counted_by, ""),
        )
        for r in rows
    ]
