"""The risk checks (廉政风险提示): small functions ``check_x(ctx) -> list[RiskSignal]``.

Each looks at one community's month (:class:`~juzhang.risk.signal.RiskContext`)
with the community's thresholds (:mod:`juzhang.risk_config`) and returns the
signals it finds, each naming the vouchers, claims or journal entries
concerned.  :data:`RISK_CHECKS` lists them in the order reports show them; each
is testable alone.  None of them changes anything or blocks anything.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from decimal import Decimal

from sqlalchemy import func, select

from juzhang.budget import budget_plan, matches
from juzhang.core.period import format_period, period_of, previous_period
from juzhang.core.types import VoucherStatus
from juzhang.disclosure_config import DisclosureConfig, resolve_config, stored_config
from juzhang.money import format_amount, from_fen
from juzhang.risk.signal import (
    ClaimRow,
    EntryRow,
    RiskContext,
    RiskSignal,
    chunks,
    invoice_numbers,
)
from juzhang.storage.schema import CustodyEntry, Voucher, VoucherLine

__all__ = [
    "RISK_CHECKS",
    "RiskCheck",
    "check_cadre_pay",
    "check_cash_on_hand",
    "check_cash_payments",
    "check_duplicate_invoices",
    "check_no_invoice",
    "check_round_sums",
    "check_split_claims",
    "check_undeposited",
]

RiskCheck = Callable[[RiskContext], list[RiskSignal]]
ZERO = Decimal("0.00")


def _yuan(amount: Decimal) -> str:
    return f"{format_amount(amount)} 元"


# --------------------------------------------------------------------------- claims


def check_duplicate_invoices(ctx: RiskContext) -> list[RiskSignal]:
    """The same invoice number claimed more than once, across batches, months and years.

    Claims store their invoice number (发票号码, one or several in the cell);
    numbers are compared without spaces and case.  A number is reported in
    the month its second (or later) claim is dated, so each repeat once.

    Read: the month's claims, and of the earlier ones only the invoice
    numbers, then the claims whose numbers the month's carry
    (:meth:`~juzhang.risk.signal.RiskContext.earlier_claims_with`).
    """
    month = ctx.month_claims
    wanted = {n for c in month for n in invoice_numbers(c.invoice_no)}
    if not wanted:
        return []
    by_number: dict[str, list[ClaimRow]] = defaultdict(list)
    for claim in sorted((*ctx.earlier_claims_with(wanted), *month), key=lambda c: (c.date, c.id)):
        for number in dict.fromkeys(invoice_numbers(claim.invoice_no)):
            if number in wanted:
                by_number[number].append(claim)
    out = []
    for number, claims in sorted(by_number.items()):
        if len(claims) < 2 or not ctx.in_month(claims[-1].date):
            continue
        where = "；".join(f"#{c.id} {c.date} 第{c.batch}批第{c.row}行" for c in claims)
        out.append(
            RiskSignal(
                "duplicate_invoice",
                ctx.entity.code,
                claims[-1].date,
                sum((c.amount for c in claims), ZERO),
                f"发票号 {number} 报销 {len(claims)} 次（{where}）/ invoice {number} claimed"
                f" {len(claims)} times",
                ctx.claim_vouchers(tuple(claims)),
                tuple(c.id for c in claims),
            )
        )
    return out


def _clusters(claims: list[ClaimRow], days: int) -> Iterable[list[ClaimRow]]:
    """Runs of claims whose dates lie within ``days`` of the run's first."""
    i = 0
    while i < len(claims):
        j = i
        while j + 1 < len(claims) and (claims[j + 1].date - claims[i].date).days <= days:
            j += 1
        yield claims[i : j + 1]
        i = j + 1


def _split_groups(ctx: RiskContext, first: dt.date) -> dict[tuple[str, str], list[ClaimRow]]:
    s = ctx.settings
    small = [
        c for c in ctx.claims_from(first) if c.amount <= s.approval_threshold and not c.decision_ref
    ]
    groups: dict[tuple[str, str], list[ClaimRow]] = defaultdict(list)
    for claim in small:
        if claim.payee.strip():
            groups[("payee", claim.payee.strip())].append(claim)
        groups[("purpose", "".join(claim.purpose.split()))].append(claim)
    return groups


def _starts_a_run_by(claims: list[ClaimRow], reach: dt.date, days: int) -> bool:
    """Whether the runs of ``claims`` from ``reach`` on are cut as from the group's first claim.

    True when no claim is dated from ``reach`` on, or when a claim at or
    before the first of them is more than ``days`` after the one before it
    (it starts a run however the earlier claims were cut).
    """
    k = next((i for i, c in enumerate(claims) if c.date >= reach), None)
    if k is None:
        return True
    return any((claims[i].date - claims[i - 1].date).days > days for i in range(1, k + 1))


def _split_window(ctx: RiskContext) -> dict[tuple[str, str], list[ClaimRow]]:
    """The groups of small claims from a window whose runs ending in the month are exact."""
    days = ctx.settings.split_days
    reach = ctx.start - dt.timedelta(days=days)  # a run ending in the month starts no earlier
    earliest = ctx.first_claim_date
    if earliest is None:
        return {}
    span = days + 1
    first = reach - dt.timedelta(days=span)
    while True:
        groups = _split_groups(ctx, first)
        if first <= earliest or all(_starts_a_run_by(g, reach, days) for g in groups.values()):
            return groups
        span *= 2
        first -= dt.timedelta(days=span)


def check_split_claims(ctx: RiskContext) -> list[RiskSignal]:
    """Claims split to stay under the approval threshold (化整为零).

    Claims to the same payee (the journal entry's 对方户名, else the claim's
    经手人) or for the same purpose (事由), each at or under
    ``approval_threshold`` and without a collective decision, dated within
    ``split_days`` of the first, whose sum crosses the threshold.  Reported
    in the month of the run's last claim.

    The runs are cut greedily from each group's first claim on, so where
    they start depends on the claims before; a claim more than
    ``split_days`` after the one before it in its group always starts a run.
    Read: the claims from ``split_days`` before the month, widened back
    (doubling) until every group with a claim that can be in a run ending
    in the month has such a start before that claim, or the window holds
    every claim (:func:`_split_window`).
    """
    s = ctx.settings
    groups = _split_window(ctx)
    seen: set[tuple[int, ...]] = set()
    out = []
    for (kind, key), claims in sorted(groups.items()):
        for run in _clusters(claims, s.split_days):
            total = sum((c.amount for c in run), ZERO)
            ids = tuple(c.id for c in run)
            if len(run) < 2 or total <= s.approval_threshold or ids in seen:
                continue
            if not ctx.in_month(run[-1].date):
                continue
            seen.add(ids)
            same = f"同一收款人 {key}" if kind == "payee" else f"同一事由 {key}"
            out.append(
                RiskSignal(
                    "split_claims",
                    ctx.entity.code,
                    run[-1].date,
                    total,
                    f"{same}：{run[0].date}至{run[-1].date} {len(run)} 笔共 {_yuan(total)}，"
                    f"单笔均未超过审批限额 {_yuan(s.approval_threshold)} / {len(run)} claims"
                    f" within {s.split_days} days sum above the approval threshold",
                    ctx.claim_vouchers(run_tuple := tuple(run)),
                    tuple(c.id for c in run_tuple),
                )
            )
    return out


def check_no_invoice(ctx: RiskContext) -> list[RiskSignal]:
    """Expenses without an invoice (白条) above ``no_invoice_threshold``.

    A claim of the month without an invoice number; and a posted voucher of
    the month that pays money out (a cash or bank line) for an expense, not
    made from a claim, with no attached originals (附件 0) and an expense
    debit above the threshold.  Vouchers that move no money (accruals,
    transfers between accounts) are left out: their originals are
    calculations, not invoices.
    """
    limit = ctx.settings.no_invoice_threshold
    out = [
        RiskSignal(
            "no_invoice",
            ctx.entity.code,
            c.date,
            c.amount,
            f"报账单 #{c.id}（{c.purpose}）{_yuan(c.amount)} 无发票号码 / claim without an"
            f" invoice number above {_yuan(limit)}",
            ctx.claim_vouchers((c,)),
            (c.id,),
            () if c.entry is None else (c.entry,),
        )
        for c in ctx.month_claims
        if ctx.in_month(c.date) and c.amount > limit and not invoice_numbers(c.invoice_no)
    ]
    expense = [code for code, a in ctx.accounts.items() if a.category == "expense"]
    # The month's vouchers first (by status and month), then their lines by id:
    # joined in one query, SQLite read every expense line of the history.
    dates = dict(
        ctx.session.execute(
            select(Voucher.id, Voucher.voucher_date).where(
                Voucher.entity_id == ctx.entity.id,
                Voucher.status == VoucherStatus.POSTED,
                Voucher.period == ctx.period,
                Voucher.kind == "normal",
                Voucher.attachments == 0,
            )
        ).all()
    )
    rows: list[tuple[int, dt.date, int]] = []
    for chunk in chunks(dates):
        rows.extend(
            (int(vid), dates[vid], int(fen))
            for vid, fen in ctx.session.execute(
                select(VoucherLine.voucher_id, func.sum(VoucherLine.amount_fen))
                .where(
                    VoucherLine.entity_id == ctx.entity.id,
                    VoucherLine.voucher_id.in_(chunk),
                    VoucherLine.side == "D",
                    VoucherLine.account_code.in_(expense),
                )
                .group_by(VoucherLine.voucher_id)
            )
        )
    rows.sort()
    found = [(vid, date, from_fen(int(fen))) for vid, date, fen in rows]
    found = [r for r in found if r[2] > limit]
    custody = ctx.custody_of(vid for vid, _d, _a in found)
    from_claims = ctx.claimed_vouchers(vid for vid, _d, _a in found)
    ctx.voucher_labels.load(vid for vid, _d, _a in found)
    for vid, date, amount in found:
        if vid in from_claims or amount <= limit or not custody.get(vid):
            continue
        label = ctx.voucher_labels.get(vid, str(vid))
        out.append(
            RiskSignal(
                "no_invoice",
                ctx.entity.code,
                date,
                amount,
                f"凭证 {label} 支出 {_yuan(amount)} 无附件（原始凭证）/ expense voucher with no"
                " attached originals",
                (label,),
            )
        )
    return out


# --------------------------------------------------------------------------- cash


def _what(e: EntryRow) -> str:
    return f"{e.summary}，{e.counterparty}" if e.counterparty else e.summary


def check_cash_payments(ctx: RiskContext) -> list[RiskSignal]:
    """Cash payments above ``cash_settlement_limit`` that should have gone by bank.

    Money out of a cash account in the month, deposits into the bank left out.
    """
    limit = ctx.settings.cash_settlement_limit
    return [
        RiskSignal(
            "cash_payment",
            ctx.entity.code,
            e.date,
            -e.amount,
            f"现金支付 {_yuan(-e.amount)}（{_what(e)}）"
            f"超过现金结算起点 {_yuan(limit)}，应通过银行转账 / cash payment above the"
            " settlement limit",
            ctx.labels_of((e.id,)),
            entries=(e.id,),
        )
        for e in ctx.entries
        if e.custody == "cash"
        and ctx.in_month(e.date)
        and -e.amount > limit
        and not ctx.is_transfer(e)
    ]


def check_cash_on_hand(ctx: RiskContext) -> list[RiskSignal]:
    """Cash on hand above the 库存现金限额 at day end for over ``cash_limit_days`` days running.

    The day-end balance of all cash accounts together, as the cash journal
    has it (the month's opening balance — the accounts' opening balances and
    the sum of their earlier entries, one aggregate — and the month's
    entries); a run of days within the month longer than the allowed number
    is one signal.
    """
    s = ctx.settings
    codes = [c for c, a in ctx.accounts.items() if a.custody == "cash" and a.leaf]
    balance = from_fen(ctx.cash_opening_fen())
    moves: dict[dt.date, Decimal] = defaultdict(lambda: ZERO)
    ids: dict[dt.date, list[int]] = defaultdict(list)
    for entry_id, date, fen in ctx.session.execute(
        select(CustodyEntry.id, CustodyEntry.entry_date, CustodyEntry.amount_fen).where(
            CustodyEntry.entity_id == ctx.entity.id,
            CustodyEntry.account_code.in_(codes),
            CustodyEntry.period == ctx.period,
        )
    ):
        moves[date] += from_fen(int(fen))
        ids[date].append(int(entry_id))
    runs: list[list[tuple[dt.date, Decimal]]] = []
    day = ctx.start
    current: list[tuple[dt.date, Decimal]] = []
    while day <= ctx.end:
        balance += moves.get(day, ZERO)
        if balance > s.cash_limit:
            current.append((day, balance))
        elif current:
            runs.append(current)
            current = []
        day += dt.timedelta(days=1)
    if current:
        runs.append(current)
    out = []
    for run in runs:
        if len(run) <= s.cash_limit_days:
            continue
        top = max(b for _, b in run)
        entries = tuple(sorted({i for d, _ in run for i in ids.get(d, ())}))
        first, last = run[0][0], run[-1][0]
        out.append(
            RiskSignal(
                "cash_on_hand",
                ctx.entity.code,
                first,
                top,
                f"{first}至{last} 连续 {len(run)} 天日终库存现金超过限额 {_yuan(s.cash_limit)}"
                f"（最高 {_yuan(top)}）/ cash on hand above the limit for {len(run)} days",
                ctx.labels_of(entries),
                entries=entries,
            )
        )
    return out


def check_undeposited(ctx: RiskContext) -> list[RiskSignal]:
    """Cash received and not deposited within ``deposit_days`` days (坐收坐支).

    Cash receipts (money into a cash account, withdrawals from the bank left
    out) are matched first in, first out with the deposits into the bank
    that follow them; a receipt not covered by deposits made within the
    allowed days is a signal, in the month its deadline falls.

    Read: the entries from ``deposit_days`` before the month (the receipts
    falling due in it and every deposit that may cover them); the receipts
    before those still unmatched enter the matching as one receipt of their
    total (:meth:`~juzhang.risk.signal.RiskContext.undeposited_before_fen`),
    dated before every deposit read and matched first, as they were.
    """
    days = ctx.settings.deposit_days
    cash = [e for e in ctx.entries if e.custody == "cash"]
    receipts = [e for e in cash if e.amount > 0 and not ctx.is_transfer(e)]
    deposits = [e for e in cash if e.amount < 0 and ctx.is_transfer(e)]
    carried = ctx.undeposited_before_fen(ctx.entries_from)
    if carried:
        before = ctx.entries_from - dt.timedelta(days=1)
        receipts.insert(0, EntryRow(0, before, "", "cash", from_fen(carried), "", "", ""))
    left = {r.id: r.amount for r in receipts}  # not deposited yet
    in_time = {r.id: ZERO for r in receipts}  # deposited within the allowed days
    pending = 0
    for dep in deposits:
        amount = -dep.amount
        while amount > 0 and pending < len(receipts) and receipts[pending].date <= dep.date:
            receipt = receipts[pending]
            take = min(amount, left[receipt.id])
            left[receipt.id] -= take
            amount -= take
            if (dep.date - receipt.date).days <= days:
                in_time[receipt.id] += take
            if left[receipt.id] == 0:
                pending += 1
    out = []
    for receipt in receipts[1:] if carried else receipts:
        deadline = receipt.date + dt.timedelta(days=days)
        missing = receipt.amount - in_time[receipt.id]
        if missing <= 0 or not ctx.in_month(deadline):
            continue
        out.append(
            RiskSignal(
                "undeposited",
                ctx.entity.code,
                receipt.date,
                missing,
                f"{receipt.date} 收到现金 {_yuan(receipt.amount)}（{receipt.summary}），"
                f"{days} 天内未存入银行 {_yuan(missing)} / cash received not deposited within"
                f" {days} days",
                ctx.labels_of((receipt.id,)),
                entries=(receipt.id,),
            )
        )
    return out


# --------------------------------------------------------------------------- cadres, round sums


def _cadre_accounts(ctx: RiskContext) -> tuple[str, ...]:
    config = stored_config(ctx.session, ctx.entity.code) or DisclosureConfig(ctx.entity.chart)
    resolved = resolve_config(config, ctx.entity.chart, ctx.accounts)
    for section in resolved.sections or ():
        if section.key == "subsidies":
            return section.accounts
    return ()


def _posted_lines(ctx: RiskContext, prefixes: tuple[str, ...], first: int) -> list[tuple]:  # type: ignore[type-arg]
    codes = [c for c in ctx.accounts if matches(c, prefixes)]
    return list(
        ctx.session.execute(
            select(
                Voucher.id,
                Voucher.voucher_date,
                VoucherLine.account_code,
                VoucherLine.summary,
                VoucherLine.side,
                VoucherLine.amount_fen,
            )
            .join(
                VoucherLine,
                (VoucherLine.entity_id == Voucher.entity_id)
                & (VoucherLine.voucher_id == Voucher.id),
            )
            .where(
                Voucher.entity_id == ctx.entity.id,
                Voucher.status == VoucherStatus.POSTED,
                Voucher.kind != "closing",
                Voucher.period >= first,
                Voucher.period <= ctx.period,
                VoucherLine.account_code.in_(codes),
            )
            .order_by(Voucher.voucher_date, Voucher.id, VoucherLine.line_no)
        )
    )


def _labels(ctx: RiskContext, vouchers: set[int]) -> tuple[str, ...]:
    ctx.voucher_labels.load(vouchers)
    return tuple(sorted(ctx.voucher_labels[v] for v in vouchers))


def check_cadre_pay(ctx: RiskContext) -> list[RiskSignal]:
    """Payments to cadres (居民干部补贴、奖金) above the approved standard or the budget line.

    The accounts are those of the board's 居民干部补贴、奖金 section (the
    disclosure configuration).  A payment of the month above
    ``cadre_standard`` (when set), and a budget line covering them whose
    spending of the year so far exceeds it (调整后预算).
    """
    prefixes = _cadre_accounts(ctx)
    if not prefixes:
        return []
    year_first = ctx.period // 100 * 100 + 1
    lines = _posted_lines(ctx, prefixes, year_first)
    out = []
    standard = ctx.settings.cadre_standard
    if standard > 0:
        for vid, date, code, summary, side, fen in lines:
            amount = from_fen(int(fen))
            if side != "D" or period_of(date) != ctx.period or amount <= standard:
                continue
            label = ctx.voucher_labels.get(vid, str(vid))
            out.append(
                RiskSignal(
                    "cadre_pay",
                    ctx.entity.code,
                    date,
                    amount,
                    f"{ctx.accounts[code].name}：{summary} {_yuan(amount)} 超过核定标准"
                    f" {_yuan(standard)} / cadre payment above the approved standard",
                    (label,),
                )
            )
    for plan in budget_plan(ctx.session, ctx.entity.code, ctx.period // 100):
        if plan.kind != "expense" or not any(
            matches(p, plan.accounts) or matches(a, (p,)) for p in prefixes for a in plan.accounts
        ):
            continue
        spent = ZERO
        vouchers: set[int] = set()
        for vid, _date, code, _summary, side, fen in _posted_lines(ctx, plan.accounts, year_first):
            if matches(code, prefixes):
                spent += from_fen(int(fen)) * (1 if side == "D" else -1)
                vouchers.add(vid)
        if spent > plan.adjusted and any(
            period_of(d) == ctx.period for _v, d, c, *_ in lines if matches(c, plan.accounts)
        ):
            out.append(
                RiskSignal(
                    "cadre_pay",
                    ctx.entity.code,
                    None,
                    spent,
                    f"预算项目“{plan.name}”本年已支出 {_yuan(spent)}，超过预算"
                    f" {_yuan(plan.adjusted)} / cadre pay above its budget line",
                    _labels(ctx, vouchers),
                )
            )
    return out


def check_round_sums(ctx: RiskContext) -> list[RiskSignal]:
    """Round sums paid to the same payee month after month without a contract (off by default).

    With ``round_sum`` on: payments (cash or bank, transfers left out) of a
    multiple of ``round_unit`` to the same 对方户名 and of the same amount in
    each of the ``round_months`` months ending with this one, none carrying
    a reference (合同号 in the entry's 票据号, or a claim's decision).
    """
    s = ctx.settings
    if not s.round_sum:
        return []
    months = [ctx.period]
    while len(months) < s.round_months:
        months.append(previous_period(months[-1]))
    candidates = [
        e
        for e in ctx.entries
        if e.amount < 0
        and e.counterparty.strip()
        and (-e.amount) % s.round_unit == 0
        and not e.reference.strip()
        and period_of(e.date) in months
    ]
    with_decision = ctx.decided_entries(e.id for e in candidates)
    groups: dict[tuple[str, Decimal], list[EntryRow]] = defaultdict(list)
    for e in candidates:
        if e.id not in with_decision and not (e.custody == "cash" and ctx.is_transfer(e)):
            groups[(e.counterparty.strip(), -e.amount)].append(e)
    out = []
    for (payee, amount), entries in sorted(groups.items()):
        if {period_of(e.date) for e in entries} != set(months):
            continue
        ids = tuple(e.id for e in entries)
        out.append(
            RiskSignal(
                "round_sum",
                ctx.entity.code,
                entries[-1].date,
                amount,
                f"连续 {len(months)} 个月（{format_period(months[-1])}至"
                f"{format_period(months[0])}）"
                f"每月向 {payee} 支付整数金额 {_yuan(amount)}，无合同或决议依据 / the same round"
                " sum paid monthly without a contract reference",
                ctx.labels_of(ids),
                entries=ids,
            )
        )
    return out


#: The checks in the order reports show them.
RISK_CHECKS: tuple[RiskCheck, ...] = (
    check_duplicate_invoices,
    check_split_claims,
    check_cash_payments,
    check_cash_on_hand,
    check_undeposited,
    check_no_invoice,
    check_cadre_pay,
    check_round_sums,
)
