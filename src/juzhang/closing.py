"""The month-end close (月末结账): checks, carry-forward, lock; reopening; disclosure sign-off.

:func:`close_month` closes one community's month in the caller's transaction.
It runs :data:`CHECKS`, a list of small functions ``check_x(ctx) ->
list[Problem]`` (like beancount's ``BASIC_VALIDATIONS``; each testable alone
on a :class:`CloseContext`), and only when none finds a problem does it change
anything:

1. months close in order: every earlier month of the books is closed;
2. no voucher dated in the month is left unposted (draft or reviewed);
3. every cashier's journal entry of the month backs a posted voucher, and each
   cash and bank account's journal balance equals its ledger balance at the
   month end (账账相符);
4. the cashier's cash count (现金盘点, :mod:`juzhang.cash_count`) agrees with
   the cash journal (账实相符) — see *cash differences* below;
5. the bank reconciliation (银行存款余额调节表) of every bank account agrees
   (调节后余额相等), with the bank's statement read for the month;
6. voucher numbers run without gaps, the trial balance balances, and
   :func:`juzhang.verify.verify` finds nothing;
7. the accounts the carry-forward needs exist as leaf accounts.

Then it posts the carry-forward (结转损益): one machine voucher (kind
``closing``, no attachments, dated the month's last day) that brings every
income and expense account to zero against the chart's
``current_year_result`` (321 本年收益; 3101 非限定性净资产 in the non-profit
chart, where income of detail accounts named 限定性收入 goes to 限定性净资产);
in December a second one carries the year's result to ``result_distribution``
(321 → 322, or to its detail 未分配收益 when 322 has details) where the
chart has one.  Both are prepared and posted by the
system user and reviewed by the acting reviewer
(:func:`juzhang.books.post_closing_voucher`); a month without income or
expense needs none.  Last the month is locked (:func:`juzhang.books.close_period`).
Balances simply carry on into the next month and year: the January opening is
December's closing, with income and expense at zero.

Everything happens in one savepoint of the caller's transaction: a refusal
or an interruption leaves the month open and unchanged.  Problems are returned
as values in :class:`CloseResult` (all of them, one per finding); a command the
actor may not give (not a reviewer, month already closed) raises.

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

**Reopening (反结账)**, :func:`reopen_month`: by an admin, with a reason (audit
log), only the last closed month, and never once a published disclosure covers
it (the database refuses too).  Posted vouchers never change, so the
carry-forward is undone by posting its red reversal into the reopened month.
That reversal is a voucher like any other and needs a reviewer ≠ its preparer
(the system): the acting admin when also a reviewer, else a reviewer named by
the admin (``reviewer=``), who must hold the role now.  The admin never
reviews by virtue of being admin (the permission table stays as it is).

**Disclosure sign-off (民主理财小组签字)**, :func:`sign_disclosure`: the
disclosure row of a closed month is recorded as a draft when its workbook is
generated (:func:`record_disclosure`, called by the closing run with the very
report it wrote, so the row carries the fingerprint the workbook prints: the
hash-chain head and a digest of every figure), or at sign-off when no
workbook was generated.  The sign-off checks that the figures are still the
books' (the digest), then publishes the row and freezes it: the database
refuses any change to a published row, and reopening the months it covers.
Reopening drops a month's draft rows.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property

from sqlalchemy import and_, delete, func, insert, select, update
from sqlalchemy.orm import Session

from juzhang import books, verify
from juzhang.agency import add_user
from juzhang.cash_count import cash_accounts
from juzhang.charts import ChartTemplate, load_chart
from juzhang.core.duty import Action, Role
from juzhang.core.period import (
    first_day,
    format_period,
    last_day,
    next_period,
    parse_period_range,
    period_range,
    previous_period,
)
from juzhang.core.voucher import Line, VoucherDraft
from juzhang.custody import posted_backing
from juzhang.errors import ConflictError, Problem, StateError, ValidationError
from juzhang.money import format_amount, format_fen, from_fen
from juzhang.reports.disclosure import Disclosure as DisclosureReport
from juzhang.reports.disclosure import disclosure as compute_disclosure
from juzhang.reports.ledger import read_balances, subtree
from juzhang.reports.reconciliation import BankReconciliation, bank_reconciliation
from juzhang.reports.trial_balance import trial_balance
from juzhang.storage.access import (
    AccountInfo,
    EntityInfo,
    accounts_of,
    audit,
    closed_periods,
    command,
    get_entity,
    get_user_id,
    next_id,
    now,
    require,
    roles_of,
)
from juzhang.storage.schema import (
    CashCount,
    CustodyEntry,
    Disclosure,
    User,
    Voucher,
    VoucherLine,
)

__all__ = [
    "CHECKS",
    "NOTES",
    "CloseContext",
    "CloseResult",
    "ReopenResult",
    "SignedDisclosure",
    "carry_forward_draft",
    "close_month",
    "disclosure_fingerprint",
    "ensure_system_user",
    "make_context",
    "record_disclosure",
    "reopen_month",
    "run_checks",
    "sign_disclosure",
]

RESTRICTED_INCOME = "限定性收入"
"""Name of the income detail accounts whose income is restricted (non-profit chart)."""

RESTRICTED_NET_ASSETS = "限定性净资产"
"""Name of the net-assets account restricted income is carried to (non-profit chart)."""

UNDISTRIBUTED = "未分配收益"
"""Name of the detail of 收益分配 the year end carries 本年收益 into, when 收益分配 has details."""


# --------------------------------------------------------------------------- context


@dataclass(frozen=True)
class CloseContext:
    """What the checks look at: one entity's month, with figures read once and cached.

    Balances are in fen, signed debit positive, at the end of ``period``.
    """

    session: Session
    entity: EntityInfo
    chart: ChartTemplate
    period: int
    accounts: Mapping[str, AccountInfo]

    @property
    def where(self) -> str:
        """``"C001 2026-09"``: where a problem of this close is."""
        return f"{self.entity.code} {format_period(self.period)}"

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
                Voucher.status == "posted",
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


def make_context(session: Session, entity: str, period: int) -> CloseContext:
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
            Voucher.status != "posted",
        )
        .order_by(Voucher.voucher_date, Voucher.id)
    )
    state = {"draft": ("未审核", "draft"), "reviewed": ("已审核未记账", "reviewed, not posted")}
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
    backing = posted_backing(ctx.session, ctx.entity.id)
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
            Voucher.status == "posted",
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
    """:func:`juzhang.verify.verify` finds nothing (numbering is :func:`check_numbering`'s)."""
    problems = []
    for check in verify.CHECKS:
        if check is not verify.check_numbering:
            problems.extend(check(ctx.session, ctx.entity))
    return problems


def _distribution_target(ctx: CloseContext) -> str | None:
    """The account the year end credits: 收益分配, or its detail 未分配收益 when it has details."""
    code = ctx.chart.result_distribution
    acc = ctx.accounts.get(code) if code else None
    if acc is None or acc.leaf:
        return code
    found = [a.code for a in ctx.accounts.values() if a.parent == code and a.name == UNDISTRIBUTED]
    return found[0] if len(found) == 1 else code


def _result_targets(ctx: CloseContext) -> list[str]:
    codes = [ctx.chart.current_year_result]
    target = _distribution_target(ctx)
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


# --------------------------------------------------------------------------- carry-forward


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
    target = _distribution_target(ctx)
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
def close_month(session: Session, entity: str, period: int, actor: str) -> CloseResult:
    """Close ``entity``'s month: run :data:`CHECKS`, carry forward, lock (结账).

    Returns the :class:`CloseResult`: when any check finds a problem, every
    problem is listed, ``closed`` is false and nothing has changed.

    Raises:
        SegregationOfDutiesError: the actor is not a reviewer of the entity.
        NotFoundError: unknown entity or actor.
        StateError: the month is closed already.
    """
    ent = get_entity(session, entity, lock=True)
    require(session, ent, actor, Action.CLOSE_PERIOD)
    if period in closed_periods(session, ent.id):
        raise StateError(f"{entity} {format_period(period)}", "已结账 closed", "结账 close")
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
    books.close_period(session, entity, actor, period)
    audit(
        session,
        ent.id,
        actor,
        "month.close",
        format_period(period),
        {"vouchers": labels, "result": format_fen(result)},
    )
    return CloseResult(ent.code, period, True, (), tuple(notes), tuple(labels), from_fen(result))


def ensure_system_user(session: Session) -> None:
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


def _post_machine(session: Session, ent: EntityInfo, reviewer: str, draft: VoucherDraft) -> str:
    vid = books.post_closing_voucher(session, ent.code, reviewer, draft)
    return books.get_voucher(session, ent.code, vid).label


# --------------------------------------------------------------------------- disclosure


def disclosure_fingerprint(session: Session, entity: str, first: int, last: int) -> tuple[int, str]:
    """Return ``(chain_seq, fingerprint)`` of the public disclosure of ``first..last`` now.

    The fingerprint is :attr:`juzhang.reports.disclosure.Disclosure.fingerprint`
    (entity, period, the hash-chain head and a digest of every figure the
    table shows), the one the disclosure workbook prints.

    Raises:
        NotFoundError: unknown entity.
        ValidationError: the range runs backwards or crosses a year.
    """
    report = compute_disclosure(session, entity, first, last)
    return report.chain_seq, report.fingerprint


def _figures_part(fingerprint: str) -> str:
    """The figure digest of a fingerprint (its last ``:`` part)."""
    return fingerprint.rsplit(":", 1)[-1]


def record_disclosure(session: Session, report: DisclosureReport) -> int:
    """Record a generated disclosure as the draft row of its range; return the row's id.

    A draft row takes the report's fingerprint and chain position (the latest
    generated workbook's); a published row is left as it is.  Every month of
    the range must be closed.

    Raises:
        NotFoundError: unknown entity.
        StateError: a month of the range is open.
    """
    ent = get_entity(session, report.entity, lock=True)
    _require_closed(session, ent, report.first, report.last)
    return _record(session, ent, report)


def _require_closed(session: Session, ent: EntityInfo, first: int, last: int) -> None:
    closed = closed_periods(session, ent.id)
    open_months = [p for p in period_range(first, last) if p not in closed]
    if open_months:
        months = ", ".join(format_period(p) for p in open_months)
        raise StateError(
            f"{ent.code} {_label(first, last)} 财务公开 disclosure",
            f"{months} 未结账 open",
            "记录或签字 record or sign (close the months first)",
        )


def _label(first: int, last: int) -> str:
    a, b = format_period(first), format_period(last)
    return a if a == b else f"{a}..{b}"


def _record(session: Session, ent: EntityInfo, report: DisclosureReport) -> int:
    row = session.execute(
        select(Disclosure.id, Disclosure.status).where(
            Disclosure.entity_id == ent.id,
            Disclosure.first_period == report.first,
            Disclosure.last_period == report.last,
        )
    ).first()
    values = {
        "fingerprint": report.fingerprint,
        "chain_seq": report.chain_seq,
        "generated_at": now(),
    }
    if row is not None:
        if row[1] == "draft":
            session.execute(
                update(Disclosure)
                .where(Disclosure.entity_id == ent.id, Disclosure.id == row[0])
                .values(**values)
            )
        return int(row[0])
    new_id = next_id(session, Disclosure.__table__, ent.id)  # type: ignore[arg-type]
    session.execute(
        insert(Disclosure).values(
            entity_id=ent.id,
            id=new_id,
            first_period=report.first,
            last_period=report.last,
            status="draft",
            **values,
        )
    )
    return new_id


@dataclass(frozen=True, slots=True)
class SignedDisclosure:
    """A published disclosure: its range, fingerprint and the sign-off."""

    entity: str
    id: int
    first: int
    last: int
    fingerprint: str
    signer: str
    name: str
    opinion: str
    date: dt.date


def _range(period_or_range: int | str | tuple[int, int]) -> tuple[int, int]:
    if isinstance(period_or_range, tuple):
        first, last = period_or_range
    elif isinstance(period_or_range, int):
        first = last = period_or_range
    else:
        first, last = parse_period_range(period_or_range)
    if last < first:
        raise ValidationError(
            f"期间 period {format_period(first)}..{format_period(last)}",
            "结束早于开始 / range runs backwards",
        )
    return first, last


@command
def sign_disclosure(
    session: Session,
    entity: str,
    period_or_range: int | str | tuple[int, int],
    actor: str,
    name: str | None,
    opinion: str,
    date: dt.date,
) -> SignedDisclosure:
    """Record the 民主理财小组's sign-off of a disclosure: it is then published and frozen.

    ``period_or_range`` is a month (202609, ``"2026-09"``) or a range
    (``"2026-07..2026-09"``, ``(202607, 202609)``) whose months are all
    closed.  The draft row recorded with the workbook
    (:func:`record_disclosure`) is signed when the figures it fingerprints
    are still the books' (the figure digest), and its fingerprint — the one
    the workbook prints — is frozen; without a draft row one is made from
    the books now.  ``name`` defaults to the actor's name.

    Raises:
        SegregationOfDutiesError: the actor is not a supervisor of the entity.
        ValidationError: no opinion, or a bad range.
        StateError: a month of the range is open, the disclosure is published
            already, or its figures changed since the workbook was generated.
    """
    ent = get_entity(session, entity, lock=True)
    uid = require(session, ent, actor, Action.SIGN_DISCLOSURE)
    first, last = _range(period_or_range)
    label = _label(first, last)
    what = f"{ent.code} {label} 财务公开 disclosure"
    if not opinion.strip():
        raise ValidationError(what, "请填写民主理财小组意见 / the opinion is required")
    _require_closed(session, ent, first, last)
    found = session.execute(
        select(Disclosure.id, Disclosure.status, Disclosure.fingerprint).where(
            Disclosure.entity_id == ent.id,
            Disclosure.first_period == first,
            Disclosure.last_period == last,
        )
    ).first()
    if found is not None and found[1] == "published":
        raise StateError(what, "已签字发布 published", "再签字 sign again")
    report = compute_disclosure(session, ent.code, first, last)
    if found is None:
        disclosure_id, frozen = _record(session, ent, report), report.fingerprint
    else:
        disclosure_id, frozen = int(found[0]), str(found[2])
        if _figures_part(frozen) != _figures_part(report.fingerprint):
            raise StateError(
                what,
                "公开表生成后数字已改变 / the figures changed since the workbook was generated",
                "签字 sign (generate the disclosure again)",
            )
    signer = name.strip() if name and name.strip() else _user_name(session, uid)
    session.execute(
        update(Disclosure)
        .where(Disclosure.entity_id == ent.id, Disclosure.id == disclosure_id)
        .values(
            status="published",
            signed_by=uid,
            signer_name=signer,
            opinion=opinion,
            signed_on=date,
        )
    )
    audit(
        session,
        ent.id,
        actor,
        "disclosure.sign",
        label,
        {"name": signer, "opinion": opinion, "date": date.isoformat(), "fingerprint": frozen},
    )
    return SignedDisclosure(
        ent.code, disclosure_id, first, last, frozen, actor, signer, opinion, date
    )


def _user_name(session: Session, uid: int) -> str:
    return str(session.execute(select(User.name).where(User.id == uid)).scalar_one())


# --------------------------------------------------------------------------- reopen


@dataclass(frozen=True, slots=True)
class ReopenResult:
    """The outcome of :func:`reopen_month`: the red reversals posted and who reviewed them."""

    entity: str
    period: int
    reversals: tuple[str, ...] = field(default=())
    reviewer: str | None = None


def _published_over(session: Session, entity_id: int, period: int) -> str | None:
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


def _closing_vouchers(session: Session, entity_id: int, period: int) -> list[int]:
    """Posted closing vouchers of the month not reversed yet, newest first."""
    reversed_ids = select(Voucher.reverses_id).where(
        Voucher.entity_id == entity_id, Voucher.reverses_id.is_not(None)
    )
    rows = session.execute(
        select(Voucher.id)
        .where(
            Voucher.entity_id == entity_id,
            Voucher.period == period,
            Voucher.status == "posted",
            Voucher.kind == "closing",
            Voucher.id.not_in(reversed_ids),
        )
        .order_by(Voucher.number.desc())
    )
    return [int(i) for (i,) in rows]


@command
def reopen_month(
    session: Session,
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
