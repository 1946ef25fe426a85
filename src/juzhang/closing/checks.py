"""The month-end checks (结账检查) and notes, each a small function on a :class:`CloseContext`.

:data:`CHECKS` is a list of small functions ``check_x(ctx) -> list[Problem]``
(like beancount's ``BASIC_VALIDATIONS``; each testable alone on a
:class:`CloseContext`); any problem blocks the close (:mod:`juzhang.closing.close`).
:data:`NOTES` are information for the people closing the month and never block.
**Cash differences (现金长短款).**  A cash line of a voucher must be backed by a
cashier's journal entry (钱账分离), so a difference found by the count is put
right like any cash movement: the cashier records it in the cash journal (a
shortage 盘亏 as money out, an overage 盘盈 as money in) and the bookkeeper
books it against 待处理财产损溢 (the chart's ``loss_pending``, 181: Dr 181 / Cr
101 for a shortage) until it is decided.  After that, journal, ledger and count
agree.  So the check is: the month's latest count of each cash account in use
equals the journal balance at the month end, and no cash moved after the count
date except such adjustments (entries backed by a posted voucher that has a
line on ``loss_pending`` or its detail accounts), which are listed as notes.
A count that differs is reported with the amount short or over and what to do.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

from sqlalchemy import Connection, and_, func, select

from juzhang import verify
from juzhang.cash_count import cash_accounts
from juzhang.charts import ChartTemplate, load_chart
from juzhang.core.period import (
    first_day,
    format_period,
    last_day,
    next_period,
    period_range,
    previous_period,
)
from juzhang.core.types import VoucherStatus
from juzhang.core.voucher import GENESIS_HASH
from juzhang.custody import posted_backing
from juzhang.errors import Problem
from juzhang.money import format_amount, format_fen
from juzhang.reports.ledger import read_balances, subtree
from juzhang.reports.reconciliation import BankReconciliation, bank_reconciliation
from juzhang.reports.trial_balance import trial_balance
from juzhang.storage.access import (
    AccountInfo,
    EntityInfo,
    accounts_of,
    closed_periods,
    get_entity,
)
from juzhang.storage.schema import (
    CashCount,
    CustodyEntry,
    Period,
    Voucher,
    VoucherLine,
)


@dataclass(frozen=True)
class CloseContext:
    """What the checks look at: one entity's month, with figures read once and cached.

    Balances are in fen, signed debit positive, at the end of ``period``.
    """

    session: Connection
    entity: EntityInfo
    chart: ChartTemplate
    period: int
    accounts: Mapping[str, AccountInfo]

    @property
    def where(self) -> str:
        """``"C001 2026-09"``: where a problem of this close is."""
        return f"{self.entity.code} {format_period(self.period)}"

    @cached_property
    def verification(self) -> tuple[tuple[Problem, ...], tuple[int, str]]:
        """Problems of the vouchers posted since the last verified point, and the new point."""
        start = verified_point(self.session, self.entity.id)
        problems, head = verify.verify_since(self.session, self.entity, start)
        return tuple(problems), head

    @property
    def december(self) -> bool:
        """Whether the month ends the year (年末: the year's result is distributed)."""
        return self.period % 100 == 12

    @cached_property
    def opening(self) -> dict[str, int]:
        """Opening balances (期初余额) by account."""
        return dict(read_balances(self.session, self.entity.id, 0).opening)

    @cached_property
    def ledger(self) -> dict[str, int]:
        """Ledger balance of every account with amounts, at the month end (posted only)."""
        balances = read_balances(self.session, self.entity.id, self.period)
        codes = set(balances.opening) | set(balances.moves)
        after = next_period(self.period)
        return {code: balances.balance_before([code], after) for code in codes}

    @cached_property
    def journal(self) -> dict[str, int]:
        """Cashier's journal balance of every custody account at the month end."""
        rows = self.session.execute(
            select(CustodyEntry.account_code, func.sum(CustodyEntry.amount_fen))
            .where(CustodyEntry.entity_id == self.entity.id, CustodyEntry.period <= self.period)
            .group_by(CustodyEntry.account_code)
        )
        out = {a.code: self.opening.get(a.code, 0) for a in self.custody_accounts}
        for code, total in rows:
            out[code] = out.get(code, self.opening.get(code, 0)) + int(total)
        return out

    @cached_property
    def custody_used(self) -> frozenset[str]:
        """Custody accounts in use by the month end: an opening balance or a journal entry."""
        rows = self.session.execute(
            select(CustodyEntry.account_code)
            .where(CustodyEntry.entity_id == self.entity.id, CustodyEntry.period <= self.period)
            .distinct()
        )
        return frozenset({c for c, fen in self.opening.items() if fen} | {c for (c,) in rows})

    @cached_property
    def entries_in_month(self) -> dict[str, list[tuple[int, dt.date, int]]]:
        """The month's journal entries ``(id, date, fen)`` by account, by date and id."""
        out: dict[str, list[tuple[int, dt.date, int]]] = defaultdict(list)
        rows = self.session.execute(
            select(
                CustodyEntry.account_code,
                CustodyEntry.id,
                CustodyEntry.entry_date,
                CustodyEntry.amount_fen,
            )
            .where(CustodyEntry.entity_id == self.entity.id, CustodyEntry.period == self.period)
            .order_by(CustodyEntry.entry_date, CustodyEntry.id)
        )
        for code, entry_id, date, fen in rows:
            out[code].append((int(entry_id), date, int(fen)))
        return dict(out)

    @cached_property
    def custody_accounts(self) -> list[AccountInfo]:
        """Cash and bank leaf accounts, by code."""
        return sorted(
            (a for a in self.accounts.values() if a.custody is not None and a.leaf),
            key=lambda a: a.code,
        )

    @cached_property
    def loss_pending_codes(self) -> frozenset[str]:
        """待处理财产损溢 and its detail accounts (empty when the chart has none)."""
        lp = self.chart.loss_pending
        if lp is None or lp not in self.accounts:
            return frozenset()
        return frozenset(subtree(self.accounts, lp))

    @cached_property
    def cash_adjustments(self) -> dict[int, str]:
        """Journal entries of the month booked against 待处理财产损溢: ``{entry id: voucher}``."""
        if not self.loss_pending_codes:
            return {}
        backed = (
            select(VoucherLine.custody_entry_id, Voucher.word, Voucher.number)
            .join(
                Voucher,
                and_(
                    Voucher.entity_id == VoucherLine.entity_id,
                    Voucher.id == VoucherLine.voucher_id,
                ),
            )
            .join(
                CustodyEntry,
                and_(
                    CustodyEntry.entity_id == VoucherLine.entity_id,
                    CustodyEntry.id == VoucherLine.custody_entry_id,
                ),
            )
            .where(
                VoucherLine.entity_id == self.entity.id,
                Voucher.status == VoucherStatus.POSTED,
                CustodyEntry.period == self.period,
                Voucher.id.in_(
                    select(VoucherLine.voucher_id).where(
                        VoucherLine.entity_id == self.entity.id,
                        VoucherLine.account_code.in_(sorted(self.loss_pending_codes)),
                    )
                ),
            )
        )
        return {
            int(entry): f"{word}-{int(number or 0):04d}"
            for entry, word, number in self.session.execute(backed)
            if entry is not None
        }

    @cached_property
    def reconciliation(self) -> BankReconciliation:
        """The bank reconciliation statements of the month end (every bank account)."""
        return bank_reconciliation(self.session, self.entity.code, self.period)


def make_context(session: Connection, entity: str, period: int) -> CloseContext:
    """Return the context the checks of ``entity``'s month ``period`` run on.

    Raises:
        NotFoundError: unknown entity.
    """
    ent = get_entity(session, entity)
    return CloseContext(session, ent, load_chart(ent.chart), period, accounts_of(session, ent.id))


def _name(ctx: CloseContext, code: str) -> str:
    acc = ctx.accounts.get(code)
    return f"{code} {acc.name}" if acc else code


# --------------------------------------------------------------------------- checks


def check_sequence(ctx: CloseContext) -> list[Problem]:
    """Months close in order (按月顺序结账): every earlier month of the books is closed."""
    start = ctx.entity.start_period
    if ctx.period < start:
        return [
            Problem(
                ctx.where,
                f"早于建账月份 {format_period(start)} / before the books start",
                "sequence",
            )
        ]
    closed = closed_periods(ctx.session, ctx.entity.id)
    missing = [p for p in period_range(start, previous_period(ctx.period)) if p not in closed]
    if not missing:
        return []
    months = ", ".join(format_period(p) for p in missing)
    return [
        Problem(
            ctx.where,
            f"之前的月份未结账：{months}，请按月份顺序结账"
            f" / earlier months are open ({months}): close them first",
            "sequence",
        )
    ]


def check_unposted(ctx: CloseContext) -> list[Problem]:
    """No voucher dated in the month is left as a draft or reviewed but unposted."""
    rows = ctx.session.execute(
        select(Voucher.id, Voucher.status, Voucher.voucher_date)
        .where(
            Voucher.entity_id == ctx.entity.id,
            Voucher.period == ctx.period,
            Voucher.status != VoucherStatus.POSTED,
        )
        .order_by(Voucher.voucher_date, Voucher.id)
    )
    state: dict[str, tuple[str, str]] = {
        VoucherStatus.DRAFT: ("未审核", "draft"),
        VoucherStatus.REVIEWED: ("已审核未记账", "reviewed, not posted"),
    }
    return [
        Problem(
            f"{ctx.where} 草稿#{vid} ({date.isoformat()})",
            f"未记账凭证（{state.get(status, (status, status))[0]}）：请审核记账或删除"
            f" / unposted voucher ({state.get(status, (status, status))[1]}):"
            " review and post it, or delete it",
            "unposted",
        )
        for vid, status, date in rows
    ]


def check_custody_backed(ctx: CloseContext) -> list[Problem]:
    """Every cashier's journal entry of the month backs a posted voucher (钱账对应)."""
    backing = posted_backing(ctx.session, ctx.entity.id, period=ctx.period)
    rows = ctx.session.execute(
        select(
            CustodyEntry.id,
            CustodyEntry.entry_date,
            CustodyEntry.account_code,
            CustodyEntry.amount_fen,
            CustodyEntry.summary,
        )
        .where(CustodyEntry.entity_id == ctx.entity.id, CustodyEntry.period == ctx.period)
        .order_by(CustodyEntry.entry_date, CustodyEntry.id)
    )
    problems = []
    for entry_id, date, code, fen, summary in rows:
        backed = backing.get(int(entry_id), 0)
        if backed != int(fen):
            problems.append(
                Problem(
                    f"{ctx.where} 日记账 #{entry_id} ({date.isoformat()})",
                    f"{_name(ctx, code)} {format_fen(int(fen))} {summary}："
                    f"没有已记账凭证（已入账 {format_fen(backed)}）"
                    " / not backed by a posted voucher: the bookkeeper books it",
                    "custody",
                )
            )
    return problems


def check_journal_ledger(ctx: CloseContext) -> list[Problem]:
    """Each cash and bank account's journal balance equals its ledger balance (账账相符)."""
    problems = []
    for acc in ctx.custody_accounts:
        journal = ctx.journal.get(acc.code, 0)
        ledger = ctx.ledger.get(acc.code, 0)
        if journal != ledger:
            diff = format_fen(journal - ledger)
            problems.append(
                Problem(
                    f"{ctx.where} {acc.code} {acc.name}",
                    f"日记账余额 {format_fen(journal)} 与总账余额 {format_fen(ledger)} 不符，"
                    f"差 {diff} / journal balance differs from the ledger by {diff} (账账不符)",
                    "journal",
                )
            )
    return problems


def _count_of(ctx: CloseContext, code: str) -> tuple[dt.date, int] | None:
    row = ctx.session.execute(
        select(CashCount.count_date, CashCount.amount_fen)
        .where(
            CashCount.entity_id == ctx.entity.id,
            CashCount.period == ctx.period,
            CashCount.account_code == code,
        )
        .order_by(CashCount.count_date.desc(), CashCount.id.desc())
        .limit(1)
    ).first()
    return None if row is None else (row[0], int(row[1]))


def check_cash_count(ctx: CloseContext) -> list[Problem]:
    """The month-end cash count equals the cash journal (账实相符).

    For every cash account in use (a balance or an entry by the month end):
    the month's latest count exists, no cash moved after its date except
    differences booked against 待处理财产损溢, and it equals the journal balance.
    """
    problems = []
    for acc in cash_accounts(dict(ctx.accounts)):
        if acc.code not in ctx.custody_used:
            continue
        where = f"{ctx.where} {acc.code} {acc.name}"
        count = _count_of(ctx, acc.code)
        if count is None:
            problems.append(
                Problem(
                    where,
                    "没有月末现金盘点：请报账员盘点并登记"
                    f" / no cash count for the month end: the cashier counts and records it"
                    f" (juzhang cash count {ctx.entity.code} {last_day(ctx.period)} AMOUNT)",
                    "cash_count",
                )
            )
            continue
        date, counted = count
        later = [
            (i, d)
            for i, d, _f in ctx.entries_in_month.get(acc.code, [])
            if d > date and i not in ctx.cash_adjustments
        ]
        if later:
            problems.append(
                Problem(
                    where,
                    f"盘点日 {date} 之后还有 {len(later)} 笔现金收付，请在月末重新盘点"
                    f" / {len(later)} cash movement(s) after the count of {date}: count again"
                    " at the month end",
                    "cash_count",
                )
            )
            continue
        journal = ctx.journal.get(acc.code, 0)
        if counted != journal:
            gap = counted - journal
            kind = "长款（盘盈）/ over" if gap > 0 else "短款（盘亏）/ short"
            way = "收入 in" if gap > 0 else "支出 out"
            problems.append(
                Problem(
                    where,
                    f"现金盘点 {format_fen(counted)} 与日记账 {format_fen(journal)} 不符，"
                    f"{kind} {format_fen(abs(gap))}：报账员登记日记账（{way}），代理会计记入"
                    f" {ctx.chart.loss_pending or '待处理财产损溢'}"
                    f" / the count differs from the cash journal: the cashier records the"
                    f" difference and the bookkeeper books it to 待处理财产损溢",
                    "cash_count",
                )
            )
    return problems


def check_bank_reconciliation(ctx: CloseContext) -> list[Problem]:
    """Every bank account's reconciliation agrees (调节后余额相等), on the month's statement.

    A bank account with journal entries in the month needs statement lines
    dated in the month: without them the statement reconciles nothing.
    """
    problems = []
    month_start = first_day(ctx.period)
    for rec in ctx.reconciliation.accounts:
        where = f"{ctx.where} {rec.code} {rec.name}"
        if ctx.entries_in_month.get(rec.code) and (
            rec.statement_date is None or rec.statement_date < month_start
        ):
            problems.append(
                Problem(
                    where,
                    "本月没有银行对账单：请先导入 / no bank statement lines for the month:"
                    " import the statement first",
                    "reconciliation",
                )
            )
        if not rec.agrees:
            diff = format_amount(rec.difference)
            journal = format_amount(rec.adjusted_journal_balance)
            bank = format_amount(rec.adjusted_statement_balance)
            problems.append(
                Problem(
                    where,
                    f"银行存款余额调节表不平：日记账调节后 {journal}，"
                    f"对账单调节后 {bank}，差 {diff}"
                    f" / adjusted balances differ by {diff}",
                    "reconciliation",
                )
            )
    return problems


def check_numbering(ctx: CloseContext) -> list[Problem]:
    """Voucher numbers run 1..n without gaps in every month up to this one (连续编号)."""
    rows = ctx.session.execute(
        select(
            Voucher.period,
            func.count(),
            func.count(func.distinct(Voucher.number)),
            func.min(Voucher.number),
            func.max(Voucher.number),
        )
        .where(
            Voucher.entity_id == ctx.entity.id,
            Voucher.status == VoucherStatus.POSTED,
            Voucher.period <= ctx.period,
        )
        .group_by(Voucher.period)
    )
    return [
        Problem(
            f"{ctx.entity.code} {format_period(period)}",
            f"凭证号不连续（{n} 张，号 {low}–{high}）/ voucher numbers have gaps or repeats",
            "numbering",
        )
        for period, n, distinct, low, high in rows
        if not (n == distinct == high and low == 1)
    ]


def check_trial_balance(ctx: CloseContext) -> list[Problem]:
    """The month's trial balance balances (试算平衡)."""
    tb = trial_balance(ctx.session, ctx.entity.code, ctx.period)
    if tb.balanced:
        return []
    return [
        Problem(
            ctx.where,
            f"试算不平衡：期初合计 {tb.opening_total}，借方 {tb.debit_total}，"
            f"贷方 {tb.credit_total}，期末合计 {tb.closing_total} / the trial balance does"
            " not balance",
            "trial_balance",
        )
    ]


def check_verify(ctx: CloseContext) -> list[Problem]:
    """What was posted since the last close's verification verifies (核对; see below).

    :func:`juzhang.verify.verify_since` from the chain position the entity's
    last close verified up to (:func:`verified_point`): the whole history the
    first time, then only what each month added, so closing a month costs
    the same after two years of history as after one month.  Numbering is
    :func:`check_numbering`'s; ``juzhang verify`` still checks everything.
    """
    return list(ctx.verification[0])


def verified_point(session: Connection, entity_id: int) -> tuple[int, str]:
    """The furthest chain position ``(sequence, hash)`` a close of the entity verified.

    ``(0, GENESIS_HASH)`` when none has.  The position is kept only while the
    voucher there still carries that hash (else from the beginning again).
    """
    row = session.execute(
        select(Period.verified_seq, Period.verified_hash)
        .where(Period.entity_id == entity_id, Period.verified_seq.is_not(None))
        .order_by(Period.verified_seq.desc())
        .limit(1)
    ).first()
    if row is None or row[0] is None or row[1] is None:
        return (0, GENESIS_HASH)
    seq, digest = int(row[0]), str(row[1])
    held = session.execute(
        select(Voucher.hash).where(Voucher.entity_id == entity_id, Voucher.chain_seq == seq)
    ).scalar_one_or_none()
    return (seq, digest) if held == digest else (0, GENESIS_HASH)


UNDISTRIBUTED = "未分配收益"
"""Name of the detail of 收益分配 the year end carries 本年收益 into, when 收益分配 has details."""


def distribution_target(ctx: CloseContext) -> str | None:
    """The account the year end credits: 收益分配, or its detail 未分配收益 when it has details."""
    code = ctx.chart.result_distribution
    acc = ctx.accounts.get(code) if code else None
    if acc is None or acc.leaf:
        return code
    found = [a.code for a in ctx.accounts.values() if a.parent == code and a.name == UNDISTRIBUTED]
    return found[0] if len(found) == 1 else code


def _result_targets(ctx: CloseContext) -> list[str]:
    codes = [ctx.chart.current_year_result]
    target = distribution_target(ctx)
    if ctx.december and target:
        codes.append(target)
    return codes


def check_result_accounts(ctx: CloseContext) -> list[Problem]:
    """The accounts the carry-forward posts to exist as active leaf accounts."""
    problems = []
    for code in _result_targets(ctx):
        acc = ctx.accounts.get(code)
        if acc is None or not acc.leaf or not acc.active:
            state = "不存在 missing" if acc is None else "不是可用的末级科目 not an active leaf"
            problems.append(
                Problem(
                    f"{ctx.where} {code}",
                    f"结转科目 {code} {state} / the carry-forward account cannot take lines",
                    "carry_forward",
                )
            )
    return problems


Check = Callable[[CloseContext], list[Problem]]

#: The month-end checks, in order; each is testable alone.  Any problem blocks the close.
CHECKS: list[Check] = [
    check_sequence,
    check_unposted,
    check_custody_backed,
    check_journal_ledger,
    check_cash_count,
    check_bank_reconciliation,
    check_numbering,
    check_trial_balance,
    check_verify,
    check_result_accounts,
]


def run_checks(ctx: CloseContext, checks: Sequence[Check] | None = None) -> list[Problem]:
    """Run ``checks`` (default :data:`CHECKS`) and return every problem found."""
    problems: list[Problem] = []
    for check in CHECKS if checks is None else checks:
        problems.extend(check(ctx))
    return problems


# --------------------------------------------------------------------------- notes


def note_outstanding_items(ctx: CloseContext) -> list[Problem]:
    """The reconciliation's outstanding items (未达账项), one note each."""
    return [
        Problem(
            f"{ctx.where} {rec.code} {group.label}",
            f"{item.date} {item.summary} {format_amount(item.amount)}"
            + (f" {item.counterparty}" if item.counterparty else ""),
            "outstanding",
        )
        for rec in ctx.reconciliation.accounts
        for group in rec.groups
        for item in group.items
    ]


def note_cash_differences(ctx: CloseContext) -> list[Problem]:
    """Cash differences booked this month against 待处理财产损溢, and what still waits there."""
    notes = []
    for code, entries in sorted(ctx.entries_in_month.items()):
        for entry_id, date, fen in entries:
            voucher = ctx.cash_adjustments.get(entry_id)
            if voucher is not None:
                kind = "长款 over" if fen > 0 else "短款 short"
                notes.append(
                    Problem(
                        f"{ctx.where} {_name(ctx, code)}",
                        f"{date} 现金{kind} {format_fen(abs(fen))} 已记入待处理财产损溢"
                        f"（{voucher}）/ cash difference booked to loss_pending",
                        "cash_difference",
                    )
                )
    pending = sum(ctx.ledger.get(code, 0) for code in ctx.loss_pending_codes)
    if pending:
        notes.append(
            Problem(
                f"{ctx.where} {_name(ctx, ctx.chart.loss_pending or '')}",
                f"待处理财产损溢余额 {format_fen(pending)} 待批准处理 / balance awaits a decision",
                "cash_difference",
            )
        )
    return notes


#: Information for the people closing the month; never blocks.
NOTES: list[Check] = [note_outstanding_items, note_cash_differences]
