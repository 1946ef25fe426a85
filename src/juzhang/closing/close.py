"""Closing a month (月末结账): carry forward the month's result, then lock the month.

:func:`close_month` runs the checks (:mod:`juzhang.closing.checks`) and, when
none finds a problem, posts the carry-forward (:func:`carry_forward_draft`; in
December also the year's distribution) as machine vouchers and closes the
period, in one savepoint of the caller's transaction.
"""

from __future__ import annotations

from collections import defaultdict
from contextlib import suppress
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Connection, select, update

from juzhang import books
from juzhang.agency import add_user
from juzhang.books.period import _lock_period, require_month_over
from juzhang.closing.checks import (
    NOTES,
    CloseContext,
    distribution_target,
    make_context,
    run_checks,
)
from juzhang.core.duty import Action
from juzhang.core.period import (
    format_period,
    last_day,
    next_period,
)
from juzhang.core.voucher import Line, VoucherDraft
from juzhang.errors import ConflictError, Problem, StateError
from juzhang.money import format_fen, from_fen
from juzhang.reports.ledger import read_balances
from juzhang.storage.access import (
    EntityInfo,
    audit,
    closed_periods,
    command,
    get_entity,
    require,
)
from juzhang.storage.schema import (
    Period,
    User,
)

RESTRICTED_INCOME = "限定性收入"
"""Name of the income detail accounts whose income is restricted (non-profit chart)."""

RESTRICTED_NET_ASSETS = "限定性净资产"
"""Name of the net-assets account restricted income is carried to (non-profit chart)."""


def _restricted_target(ctx: CloseContext) -> str | None:
    found = [
        a.code
        for a in ctx.accounts.values()
        if a.name == RESTRICTED_NET_ASSETS and a.category == "net_assets" and a.leaf
    ]
    return found[0] if len(found) == 1 else None


def carry_forward_draft(ctx: CloseContext) -> VoucherDraft | None:
    """Return the carry-forward voucher (结转损益) of the month, or ``None`` when nothing to carry.

    Every income and expense leaf account with a balance at the month end gets
    a line bringing it to zero; per target account (``current_year_result``,
    or 限定性净资产 for restricted income) one line takes the income total and
    one the expense total.  Amounts are positive, on the side that zeroes the
    balance.
    """
    month = ctx.period % 100
    restricted = _restricted_target(ctx)
    result = ctx.chart.current_year_result
    income: dict[str, list[Line]] = defaultdict(list)
    expense: dict[str, list[Line]] = defaultdict(list)
    totals: dict[tuple[str, str], int] = defaultdict(int)
    for acc in sorted(ctx.accounts.values(), key=lambda a: a.code):
        balance = ctx.ledger.get(acc.code, 0)
        if acc.category not in ("income", "expense") or not acc.leaf or not balance:
            continue
        target = (
            restricted
            if restricted and acc.category == "income" and acc.name == RESTRICTED_INCOME
            else result
        )
        summary = f"结转{month}月{'收入' if acc.category == 'income' else '支出'}"
        line = (
            Line(acc.code, summary, credit=from_fen(balance))
            if balance > 0
            else Line(acc.code, summary, debit=from_fen(-balance))
        )
        (income if acc.category == "income" else expense)[target].append(line)
        totals[(target, acc.category)] += balance
    lines: list[Line] = []
    for target in sorted(income):
        lines.extend(income[target])
        lines.append(_counter_line(target, totals[(target, "income")], f"结转{month}月收入"))
    for target in sorted(expense):
        lines.append(_counter_line(target, totals[(target, "expense")], f"结转{month}月支出"))
        lines.extend(expense[target])
    lines = [ln for ln in lines if ln.amount]
    return VoucherDraft(last_day(ctx.period), tuple(lines), 0) if lines else None


def _counter_line(target: str, balance: int, summary: str) -> Line:
    """The target's line taking ``balance`` (the carried accounts' debit-positive sum)."""
    if balance > 0:
        return Line(target, summary, debit=from_fen(balance))
    return Line(target, summary, credit=from_fen(-balance))


def _distribution_draft(ctx: CloseContext) -> VoucherDraft | None:
    """December: carry the year's result (本年收益) into result distribution (收益分配)."""
    target = distribution_target(ctx)
    if not ctx.december or target is None:
        return None
    result = ctx.chart.current_year_result
    balances = read_balances(ctx.session, ctx.entity.id, ctx.period, [result])
    balance = balances.balance_before([result], next_period(ctx.period))
    if not balance:
        return None
    summary = "结转本年收益"
    if balance < 0:  # a surplus: credit balance on 321
        lines = (
            Line(result, summary, debit=from_fen(-balance)),
            Line(target, summary, credit=from_fen(-balance)),
        )
    else:
        lines = (
            Line(target, summary, debit=from_fen(balance)),
            Line(result, summary, credit=from_fen(balance)),
        )
    return VoucherDraft(last_day(ctx.period), lines, 0)


# --------------------------------------------------------------------------- close


@dataclass(frozen=True, slots=True)
class CloseResult:
    """The outcome of :func:`close_month`.

    ``closed`` is false when ``problems`` blocked the close (nothing was
    changed); ``notes`` are information (outstanding items, cash differences).
    ``vouchers`` are the labels of the posted carry-forward vouchers
    (``记-0031``); ``result`` is the month's income minus expense (收益, a
    surplus positive).
    """

    entity: str
    period: int
    closed: bool
    problems: tuple[Problem, ...] = ()
    notes: tuple[Problem, ...] = ()
    vouchers: tuple[str, ...] = ()
    result: Decimal = Decimal("0.00")


def _month_result(ctx: CloseContext) -> int:
    return -sum(
        ctx.ledger.get(a.code, 0)
        for a in ctx.accounts.values()
        if a.leaf and a.category in ("income", "expense")
    )


@command
def close_month(session: Connection, entity: str, period: int, actor: str) -> CloseResult:
    """Close ``entity``'s month: run :data:`CHECKS`, carry forward, lock (结账).

    Returns the :class:`CloseResult`: when any check finds a problem, every
    problem is listed, ``closed`` is false and nothing has changed.

    Raises:
        SegregationOfDutiesError: the actor is not a reviewer of the entity.
        NotFoundError: unknown entity or actor.
        StateError: the month is closed already, or has not ended (its last
            day is not yet past: :func:`juzhang.clock.today`).
    """
    ent = get_entity(session, entity, lock=True)
    require(session, ent, actor, Action.CLOSE_PERIOD)
    if period in closed_periods(session, ent.id):
        raise StateError(f"{entity} {format_period(period)}", "已结账 closed", "结账 close")
    require_month_over(ent.code, period)
    ctx = make_context(session, entity, period)
    problems = run_checks(ctx)
    notes = run_checks(ctx, NOTES)
    if problems:
        return CloseResult(ent.code, period, False, tuple(problems), tuple(notes))
    result = _month_result(ctx)
    labels = []
    draft = carry_forward_draft(ctx)
    if draft is not None:
        labels.append(_post_machine(session, ent, actor, draft))
    year_end = _distribution_draft(ctx)
    if year_end is not None:
        labels.append(_post_machine(session, ent, actor, year_end))
    _lock_period(session, entity, actor, period)
    seq, digest = ctx.verification[1]  # the verified point, read under the entity's lock
    session.execute(
        update(Period)
        .where(Period.entity_id == ent.id, Period.period == period)
        .values(verified_seq=seq, verified_hash=digest)
    )
    audit(
        session,
        ent.id,
        actor,
        "month.close",
        format_period(period),
        {"vouchers": labels, "result": format_fen(result)},
    )
    return CloseResult(ent.code, period, True, (), tuple(notes), tuple(labels), from_fen(result))


def ensure_system_user(session: Connection) -> None:
    """Add the system user (``system`` 系统, an operator action) unless it exists.

    It prepares and posts the machine vouchers.  Adding a user takes the
    agency lock; the closing run calls this in a transaction of its own
    before any close, so that no close takes the agency lock while it holds
    an entity's.  (Otherwise the first close that posts a machine voucher
    adds it, under the entity's lock; a refused close never adds it.)
    """
    found = session.execute(select(User.id).where(User.login == books.SYSTEM_LOGIN)).first()
    if found is None:
        with suppress(ConflictError):  # added meanwhile by another transaction
            add_user(session, books.SYSTEM_LOGIN, "系统")


def _post_machine(session: Connection, ent: EntityInfo, reviewer: str, draft: VoucherDraft) -> str:
    vid = books.post_closing_voucher(session, ent.code, reviewer, draft)
    return books.get_voucher(session, ent.code, vid).label


# --------------------------------------------------------------------------- disclosure
