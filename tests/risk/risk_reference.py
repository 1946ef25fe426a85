"""The risk checks as they were before issue 18: every claim, entry and voucher of the history.

Kept as a reference for :mod:`tests.risk.test_risk_history`: the checks in
:mod:`juzhang.risk` now read only what the month needs, and must give exactly
the signals this straightforward reading of the whole history gives.
Verbatim from ``src/juzhang/risk/signal.py`` (the context) and
``src/juzhang/risk/checks.py`` at ``9461066`` (names changed: ``ReferenceContext``,
``REFERENCE_CHECKS``; :func:`reference_signals` is ``risk_report``'s loop).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property

from sqlalchemy import Connection, func, select

from juzhang.budget import budget_plan, matches
from juzhang.core.period import first_day, format_period, last_day, period_of, previous_period
from juzhang.core.types import VoucherStatus
from juzhang.disclosure_config import DisclosureConfig, resolve_config, stored_config
from juzhang.money import format_amount, from_fen
from juzhang.reports.custody_journal import cash_journal
from juzhang.risk.signal import _TRANSFER_WORDS, ClaimRow, EntryRow, RiskSignal, invoice_numbers
from juzhang.risk_config import RiskSettings, stored_risk_settings
from juzhang.storage.access import AccountInfo, EntityInfo, accounts_of, get_entity
from juzhang.storage.schema import Claim, CustodyEntry, Voucher, VoucherLine

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class ReferenceContext:
    """One community's month as the risk checks read it, each part read once."""

    session: Connection
    entity: EntityInfo
    period: int
    settings: RiskSettings
    accounts: Mapping[str, AccountInfo]

    @property
    def start(self) -> dt.date:
        """The month's first day."""
        return first_day(self.period)

    @property
    def end(self) -> dt.date:
        """The month's last day."""
        return last_day(self.period)

    @property
    def label(self) -> str:
        """``C001 2026-09``."""
        return f"{self.entity.code} {format_period(self.period)}"

    def in_month(self, date: dt.date) -> bool:
        """Whether ``date`` is in the month."""
        return self.start <= date <= self.end

    @cached_property
    def voucher_labels(self) -> dict[int, str]:
        """Posted voucher id → ``"2026-09 记-0003"``."""
        rows = self.session.execute(
            select(Voucher.id, Voucher.period, Voucher.word, Voucher.number).where(
                Voucher.entity_id == self.entity.id,
                Voucher.status == VoucherStatus.POSTED,
                Voucher.period <= self.period,
            )
        )
        return {i: f"{format_period(p)} {w}-{n:04d}" for i, p, w, n in rows if n is not None}

    @cached_property
    def entries(self) -> tuple[EntryRow, ...]:
        """Every cash and bank journal entry up to the month end, by date and id."""
        custody = {c: a.custody for c, a in self.accounts.items() if a.custody}
        rows = self.session.execute(
            select(
                CustodyEntry.id,
                CustodyEntry.entry_date,
                CustodyEntry.account_code,
                CustodyEntry.amount_fen,
                CustodyEntry.summary,
                CustodyEntry.counterparty,
                CustodyEntry.reference,
            )
            .where(CustodyEntry.entity_id == self.entity.id, CustodyEntry.period <= self.period)
            .order_by(CustodyEntry.entry_date, CustodyEntry.id)
        )
        return tuple(
            EntryRow(i, d, a, custody.get(a, ""), from_fen(f), s, c, r)
            for i, d, a, f, s, c, r in rows
        )

    @cached_property
    def entry_vouchers(self) -> dict[int, tuple[int, ...]]:
        """Journal entry id → the posted vouchers whose lines name it."""
        rows = self.session.execute(
            select(VoucherLine.custody_entry_id, VoucherLine.voucher_id)
            .join(
                Voucher,
                (Voucher.entity_id == VoucherLine.entity_id)
                & (Voucher.id == VoucherLine.voucher_id),
            )
            .where(
                VoucherLine.entity_id == self.entity.id,
                VoucherLine.custody_entry_id.is_not(None),
                Voucher.status == VoucherStatus.POSTED,
            )
        )
        out: dict[int, set[int]] = defaultdict(set)
        for entry, voucher in rows:
            if entry is not None:
                out[int(entry)].add(int(voucher))
        return {e: tuple(sorted(v)) for e, v in out.items()}

    @cached_property
    def voucher_custody(self) -> dict[int, frozenset[str]]:
        """Posted voucher id → the custody kinds (cash, bank) its lines touch."""
        custody = {c: a.custody for c, a in self.accounts.items() if a.custody}
        rows = self.session.execute(
            select(VoucherLine.voucher_id, VoucherLine.account_code)
            .join(
                Voucher,
                (Voucher.entity_id == VoucherLine.entity_id)
                & (Voucher.id == VoucherLine.voucher_id),
            )
            .where(
                VoucherLine.entity_id == self.entity.id,
                VoucherLine.account_code.in_(list(custody)),
                Voucher.status == VoucherStatus.POSTED,
            )
        )
        out: dict[int, set[str]] = defaultdict(set)
        for voucher, code in rows:
            out[int(voucher)].add(str(custody[code]))
        return {v: frozenset(k) for v, k in out.items()}

    def is_transfer(self, entry: EntryRow) -> bool:
        """Whether a cash entry moves money between cash and bank (存现, 提现).

        Its posted voucher has a bank line; an entry not booked yet is
        judged by its 摘要 (存入银行, 提现, 备用金 …).
        """
        vouchers = self.entry_vouchers.get(entry.id, ())
        if vouchers:
            return any("bank" in self.voucher_custody.get(v, ()) for v in vouchers)
        return any(w in entry.summary for w in _TRANSFER_WORDS)

    def labels_of(self, entry_ids: tuple[int, ...]) -> tuple[str, ...]:
        """The posted vouchers backing these journal entries, as labels."""
        found = {v for e in entry_ids for v in self.entry_vouchers.get(e, ())}
        return tuple(sorted(self.voucher_labels[v] for v in found if v in self.voucher_labels))

    @cached_property
    def claims(self) -> tuple[ClaimRow, ...]:
        """Every claim not returned, dated up to the month end, by date and id."""
        counterparty = {e.id: e.counterparty for e in self.entries}
        rows = self.session.execute(
            select(
                Claim.id,
                Claim.batch_id,
                Claim.row_no,
                Claim.claim_date,
                Claim.purpose,
                Claim.amount_fen,
                Claim.payment,
                Claim.handler,
                Claim.invoice_no,
                Claim.decision_ref,
                Claim.custody_entry_id,
                Claim.voucher_id,
            )
            .where(
                Claim.entity_id == self.entity.id,
                Claim.status != "returned",
                Claim.claim_date <= self.end,
            )
            .order_by(Claim.claim_date, Claim.id)
        )
        return tuple(
            ClaimRow(
                r[0],
                r[1],
                r[2],
                r[3],
                r[4],
                from_fen(r[5]),
                r[6],
                r[7],
                (counterparty.get(r[10], "") if r[10] is not None else "") or r[7],
                r[8],
                r[9],
                r[10],
                r[11],
            )
            for r in rows
        )

    def claim_vouchers(self, claims: tuple[ClaimRow, ...]) -> tuple[str, ...]:
        """The posted vouchers drafted from these claims, as labels."""
        found = {c.voucher for c in claims if c.voucher is not None}
        return tuple(sorted(self.voucher_labels[v] for v in found if v in self.voucher_labels))


def _yuan(amount: Decimal) -> str:
    return f"{format_amount(amount)} 元"


# --------------------------------------------------------------------------- claims


def check_duplicate_invoices(ctx: ReferenceContext) -> list[RiskSignal]:
    """The same invoice number claimed more than once, across batches, months and years.

    Claims store their invoice number (发票号码, one or several in the cell);
    numbers are compared without spaces and case.  A number is reported in
    the month its second (or later) claim is dated, so each repeat once.
    """
    by_number: dict[str, list[ClaimRow]] = defaultdict(list)
    for claim in ctx.claims:
        for number in dict.fromkeys(invoice_numbers(claim.invoice_no)):
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


def check_split_claims(ctx: ReferenceContext) -> list[RiskSignal]:
    """Claims split to stay under the approval threshold (化整为零).

    Claims to the same payee (the journal entry's 对方户名, else the claim's
    经手人) or for the same purpose (事由), each at or under
    ``approval_threshold`` and without a collective decision, dated within
    ``split_days`` of the first, whose sum crosses the threshold.  Reported
    in the month of the run's last claim.
    """
    s = ctx.settings
    small = [c for c in ctx.claims if c.amount <= s.approval_threshold and not c.decision_ref]
    groups: dict[tuple[str, str], list[ClaimRow]] = defaultdict(list)
    for claim in small:
        if claim.payee.strip():
            groups[("payee", claim.payee.strip())].append(claim)
        groups[("purpose", "".join(claim.purpose.split()))].append(claim)
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


def check_no_invoice(ctx: ReferenceContext) -> list[RiskSignal]:
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
        for c in ctx.claims
        if ctx.in_month(c.date) and c.amount > limit and not invoice_numbers(c.invoice_no)
    ]
    from_claims = {c.voucher for c in ctx.claims if c.voucher is not None}
    expense = [code for code, a in ctx.accounts.items() if a.category == "expense"]
    rows = ctx.session.execute(
        select(Voucher.id, Voucher.voucher_date, func.sum(VoucherLine.amount_fen))
        .join(
            VoucherLine,
            (VoucherLine.entity_id == Voucher.entity_id) & (VoucherLine.voucher_id == Voucher.id),
        )
        .where(
            Voucher.entity_id == ctx.entity.id,
            Voucher.period == ctx.period,
            Voucher.status == VoucherStatus.POSTED,
            Voucher.kind == "normal",
            Voucher.attachments == 0,
            VoucherLine.side == "D",
            VoucherLine.account_code.in_(expense),
        )
        .group_by(Voucher.id, Voucher.voucher_date)
        .order_by(Voucher.id)
    )
    for vid, date, fen in rows:
        amount = from_fen(int(fen))
        if vid in from_claims or amount <= limit or not ctx.voucher_custody.get(vid):
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


def check_cash_payments(ctx: ReferenceContext) -> list[RiskSignal]:
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


def check_cash_on_hand(ctx: ReferenceContext) -> list[RiskSignal]:
    """Cash on hand above the 库存现金限额 at day end for over ``cash_limit_days`` days running.

    The day-end balance of all cash accounts together, from the cash journal
    (the month's opening balance and its entries); a run of days within the
    month longer than the allowed number is one signal.
    """
    s = ctx.settings
    journal = cash_journal(ctx.session, ctx.entity.code, ctx.period)
    balance = sum((a.opening_balance for a in journal.accounts), ZERO)
    moves: dict[dt.date, Decimal] = defaultdict(lambda: ZERO)
    ids: dict[dt.date, list[int]] = defaultdict(list)
    for account in journal.accounts:
        for entry in account.entries:
            moves[entry.date] += (entry.receipt or ZERO) - (entry.payment or ZERO)
            ids[entry.date].append(entry.id)
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


def check_undeposited(ctx: ReferenceContext) -> list[RiskSignal]:
    """Cash received and not deposited within ``deposit_days`` days (坐收坐支).

    Cash receipts (money into a cash account, withdrawals from the bank left
    out) are matched first in, first out with the deposits into the bank
    that follow them; a receipt not covered by deposits made within the
    allowed days is a signal, in the month its deadline falls.
    """
    days = ctx.settings.deposit_days
    cash = [e for e in ctx.entries if e.custody == "cash"]
    receipts = [e for e in cash if e.amount > 0 and not ctx.is_transfer(e)]
    deposits = [e for e in cash if e.amount < 0 and ctx.is_transfer(e)]
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
    for receipt in receipts:
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


def _cadre_accounts(ctx: ReferenceContext) -> tuple[str, ...]:
    config = stored_config(ctx.session, ctx.entity.code) or DisclosureConfig(ctx.entity.chart)
    resolved = resolve_config(config, ctx.entity.chart, ctx.accounts)
    for section in resolved.sections or ():
        if section.key == "subsidies":
            return section.accounts
    return ()


def _posted_lines(ctx: ReferenceContext, prefixes: tuple[str, ...], first: int) -> list[tuple]:  # type: ignore[type-arg]
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


def check_cadre_pay(ctx: ReferenceContext) -> list[RiskSignal]:
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
                    tuple(sorted(ctx.voucher_labels[v] for v in vouchers)),
                )
            )
    return out


def check_round_sums(ctx: ReferenceContext) -> list[RiskSignal]:
    """Round sums paid to the same payee month after month without a contract (off by default).

    With ``round_sum`` on: payments (cash or bank, transfers left out) of a
    multiple of ``round_unit`` to the same 对方户名 and of the same amount in
    each of the ``round_months`` months ending with this one, none carrying
    a reference (合同号 in the entry's 票据号, or a claim's decision).
    """
    s = ctx.settings
    if not s.round_sum:
        return []
    with_decision = {c.entry for c in ctx.claims if c.decision_ref and c.entry is not None}
    months = [ctx.period]
    while len(months) < s.round_months:
        months.append(previous_period(months[-1]))
    groups: dict[tuple[str, Decimal], list[EntryRow]] = defaultdict(list)
    for e in ctx.entries:
        if (
            e.amount < 0
            and e.counterparty.strip()
            and (-e.amount) % s.round_unit == 0
            and not e.reference.strip()
            and e.id not in with_decision
            and not (e.custody == "cash" and ctx.is_transfer(e))
            and period_of(e.date) in months
        ):
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


REFERENCE_CHECKS = (
    check_duplicate_invoices,
    check_split_claims,
    check_cash_payments,
    check_cash_on_hand,
    check_undeposited,
    check_no_invoice,
    check_cadre_pay,
    check_round_sums,
)


def reference_signals(
    session: Connection, entity: str, period: int, settings: RiskSettings | None = None
) -> tuple[RiskSignal, ...]:
    """Every signal of the month, check by check, as ``risk_report`` gave them before issue 18."""
    ent = get_entity(session, entity)
    if settings is None:
        settings = stored_risk_settings(session, ent.code)
    ctx = ReferenceContext(session, ent, period, settings, accounts_of(session, ent.id))
    return tuple(s for check in REFERENCE_CHECKS for s in check(ctx))
