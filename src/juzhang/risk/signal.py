"""A risk signal (廉政风险提示) and the month's data the checks read (:class:`RiskContext`).

A signal is a value: which check raised it, the date and amount concerned,
a message in Chinese and English, and the vouchers, claims and journal
entries it is about, so the finance group (民主理财小组) and the sub-district
can look them up.  Signals never block anything; they are for people to look
at (the close shows their number as a note).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from juzhang.core.period import first_day, format_period, last_day
from juzhang.core.types import VoucherStatus
from juzhang.errors import Problem
from juzhang.money import from_fen
from juzhang.risk_config import RiskSettings
from juzhang.storage.access import AccountInfo, EntityInfo
from juzhang.storage.schema import Claim, CustodyEntry, Voucher, VoucherLine

__all__ = [
    "CHECK_TITLES",
    "ClaimRow",
    "EntryRow",
    "RiskContext",
    "RiskSignal",
    "invoice_numbers",
    "title_zh",
]

#: Each check's key → its title, ``"中文 / English"`` (:func:`title_zh` takes the Chinese).
CHECK_TITLES: Mapping[str, str] = {
    "duplicate_invoice": "发票重复报销 / invoice claimed twice",
    "split_claims": "拆分报销规避审批 / claims split under the approval threshold",
    "cash_payment": "大额现金支付 / cash payment above the settlement limit",
    "cash_on_hand": "库存现金超限额 / cash on hand above the limit",
    "undeposited": "现金收入未及时存行（坐收坐支） / cash receipts not deposited in time",
    "no_invoice": "无发票支出（白条） / expense without an invoice",
    "cadre_pay": "干部补贴奖金超标准或预算 / cadre pay above standard or budget",
    "round_sum": "整数金额按月重复支付 / round sums paid monthly",
}


def title_zh(check: str) -> str:
    """The Chinese title of a check (``大额现金支付``)."""
    return CHECK_TITLES.get(check, check).split(" / ")[0]


@dataclass(frozen=True, slots=True)
class RiskSignal:
    """One warning sign: the check, the date and amount, what it is about, and why.

    ``vouchers`` are ``"2026-09 记-0003"``; ``claims`` are claim ids
    (报账单行); ``entries`` are the cashier's journal entry ids (日记账).
    """

    check: str
    entity: str
    date: dt.date | None
    amount: Decimal | None
    message: str
    vouchers: tuple[str, ...] = ()
    claims: tuple[int, ...] = ()
    entries: tuple[int, ...] = ()

    @property
    def title(self) -> str:
        """The check's title (Chinese / English)."""
        return CHECK_TITLES.get(self.check, self.check)

    @property
    def concerns(self) -> str:
        """``凭证 2026-09 记-0003；报账单 #4 #5；日记账 #12``: what to look up."""
        parts = []
        if self.vouchers:
            parts.append("凭证 " + "、".join(self.vouchers))
        if self.claims:
            parts.append("报账单 " + " ".join(f"#{c}" for c in self.claims))
        if self.entries:
            parts.append("日记账 " + " ".join(f"#{e}" for e in self.entries))
        return "；".join(parts)

    def to_problem(self) -> Problem:
        """The signal as a :class:`~juzhang.errors.Problem` (``subject`` ``risk/<check>``)."""
        where = self.entity if self.date is None else f"{self.entity} {self.date.isoformat()}"
        more = f"（{self.concerns}）" if self.concerns else ""
        return Problem(where, f"{self.message}{more}", f"risk/{self.check}")

    def to_json(self) -> dict[str, Any]:
        """The signal as JSON (amount as a decimal string, date ISO)."""
        return {
            "check": self.check,
            "title": self.title,
            "entity": self.entity,
            "date": None if self.date is None else self.date.isoformat(),
            "amount": None if self.amount is None else str(self.amount),
            "message": self.message,
            "vouchers": list(self.vouchers),
            "claims": list(self.claims),
            "entries": list(self.entries),
        }


@dataclass(frozen=True, slots=True)
class ClaimRow:
    """A claim (报账单行) not returned, as the checks read it."""

    id: int
    batch: int
    row: int
    date: dt.date
    purpose: str
    amount: Decimal
    payment: str
    handler: str
    payee: str
    invoice_no: str
    decision_ref: str
    entry: int | None
    voucher: int | None


@dataclass(frozen=True, slots=True)
class EntryRow:
    """A cashier's journal entry (日记账), signed: money in positive."""

    id: int
    date: dt.date
    account: str
    custody: str
    amount: Decimal
    summary: str
    counterparty: str
    reference: str


# Words of a cash deposit or withdrawal the cashier writes before the voucher exists.
_TRANSFER_WORDS = (
    *("存入银行", "存银行", "存现", "缴存", "送存"),  # cash into the bank
    *("提现", "提取现金", "取现", "备用金"),  # cash out of the bank
)
_SPLIT = re.compile(r"[,，、;；/\n]+")


def invoice_numbers(text: str) -> list[str]:
    """The invoice numbers a claim's text holds: several are separated by , 、 ; / or lines.

    Spaces within a number are dropped and letters upper-cased, so
    ``" 044001900111 00001234"`` and ``"04400190011100001234"`` are the same number.
    """
    numbers = ("".join(part.split()).upper() for part in _SPLIT.split(text))
    return [n for n in numbers if n]


@dataclass(frozen=True)
class RiskContext:
    """One community's month as the risk checks read it, each part read once."""

    session: Session
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
