"""A risk signal (廉政风险提示) and the month's data the checks read (:class:`RiskContext`).

A signal is a value: which check raised it, the date and amount concerned,
a message in Chinese and English, and the vouchers, claims and journal
entries it is about, so the finance group (民主理财小组) and the sub-district
can look them up.  Signals never block anything; they are for people to look
at (the close shows their number as a note).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from typing import Any

from sqlalchemy import ColumnElement, Connection, case, func, or_, select

from juzhang.core.period import first_day, format_period, last_day, previous_period
from juzhang.core.types import VoucherStatus
from juzhang.errors import Problem
from juzhang.money import from_fen
from juzhang.risk_config import RiskSettings
from juzhang.storage.access import AccountInfo, EntityInfo
from juzhang.storage.schema import Claim, CustodyEntry, OpeningBalance, Voucher, VoucherLine

__all__ = [
    "CHECK_TITLES",
    "ClaimRow",
    "EntryRow",
    "RiskContext",
    "RiskSignal",
    "VoucherLabels",
    "chunks",
    "invoice_numbers",
    "title_zh",
    "transfer_sql",
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


#: Ids per ``IN (…)`` list: well under SQLite's and PostgreSQL's limits on parameters.
_CHUNK = 500


def chunks(ids: Iterable[int]) -> Iterator[list[int]]:
    """``ids`` sorted, without repeats, in lists short enough for ``IN (…)``."""
    items = sorted(set(ids))
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]


class VoucherLabels(Mapping[int, str]):
    """Posted voucher id → ``"2026-09 记-0003"`` (vouchers up to the month, numbered ones).

    Read by id as the checks ask (:meth:`load` reads many at once), never the
    whole history: a voucher not posted, after the month or without a number
    is not in it, as before.
    """

    def __init__(self, session: Connection, entity_id: int, period: int) -> None:
        self._session, self._entity_id, self._period = session, entity_id, period
        self._known: dict[int, str | None] = {}

    def load(self, ids: Iterable[int]) -> None:
        """Read the labels of ``ids`` not read yet, in a few queries."""
        todo = [i for i in ids if i not in self._known]
        for chunk in chunks(todo):
            self._known.update(dict.fromkeys(chunk))
            rows = self._session.execute(
                select(Voucher.id, Voucher.period, Voucher.word, Voucher.number).where(
                    Voucher.entity_id == self._entity_id,
                    Voucher.id.in_(chunk),
                    Voucher.status == VoucherStatus.POSTED,
                    Voucher.period <= self._period,
                )
            )
            for i, p, w, n in rows:
                if n is not None:
                    self._known[int(i)] = f"{format_period(p)} {w}-{n:04d}"

    def __getitem__(self, voucher: int) -> str:
        self.load((voucher,))
        label = self._known[voucher]
        if label is None:
            raise KeyError(voucher)
        return label

    def __iter__(self) -> Iterator[int]:
        return (i for i, label in self._known.items() if label is not None)

    def __len__(self) -> int:
        return sum(1 for label in self._known.values() if label is not None)


@dataclass(frozen=True)
class RiskContext:
    """One community's month as the risk checks read it, each part read once.

    Only what the month needs is read (issue 18): the journal entries from
    :attr:`entries_from` on, the claims of a window (:meth:`claims_from`,
    :meth:`claims_by_id`), the vouchers and their custody kinds by id, and
    for the history before the window aggregates computed by the database
    (:meth:`cash_opening_fen`, :meth:`undeposited_before_fen`).
    """

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
    def voucher_labels(self) -> VoucherLabels:
        """Posted voucher id → ``"2026-09 记-0003"``, read by id (:class:`VoucherLabels`)."""
        return VoucherLabels(self.session, self.entity.id, self.period)

    def codes_of(self, custody: str) -> list[str]:
        """The accounts of a custody kind (``cash``, ``bank``), by code."""
        return sorted(c for c, a in self.accounts.items() if a.custody == custody)

    @cached_property
    def entries_from(self) -> dt.date:
        """The first day whose journal entries the checks read.

        The month; the ``deposit_days`` before it, whose cash receipts fall due
        in it (坐收坐支); with ``round_sum`` on, the ``round_months`` months
        ending with it.  What came before is read as aggregates.
        """
        first = self.start - dt.timedelta(days=self.settings.deposit_days)
        if self.settings.round_sum:
            period = self.period
            for _ in range(self.settings.round_months - 1):
                period = previous_period(period)
            first = min(first, first_day(period))
        return min(first, self.start)

    @cached_property
    def entries(self) -> tuple[EntryRow, ...]:
        """The cash and bank journal entries from :attr:`entries_from` on, by date and id.

        Every entry of the month's and earlier periods dated from that day:
        the account filter names every account (journal entries have one), so
        that the index on ``(entity, account, date)`` finds them (the one on
        the month would read the whole history before it).
        """
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
            .where(
                CustodyEntry.entity_id == self.entity.id,
                CustodyEntry.account_code.in_(sorted(self.accounts)),
                CustodyEntry.entry_date >= self.entries_from,
                # ``+ 0``: found by the date (the window), not by the month (all before it)
                CustodyEntry.period + 0 <= self.period,
            )
            .order_by(CustodyEntry.entry_date, CustodyEntry.id)
        )
        return tuple(
            EntryRow(i, d, a, custody.get(a, ""), from_fen(f), s, c, r)
            for i, d, a, f, s, c, r in rows
        )

    def _posted_lines(self, columns: tuple[Any, ...], *where: ColumnElement[bool]) -> Any:
        """``columns`` of the entity's posted voucher lines matching ``where``."""
        return self.session.execute(
            select(*columns)
            .join(
                Voucher,
                (Voucher.entity_id == VoucherLine.entity_id)
                & (Voucher.id == VoucherLine.voucher_id),
            )
            .where(
                VoucherLine.entity_id == self.entity.id,
                Voucher.status == VoucherStatus.POSTED,
                *where,
            )
        )

    @cached_property
    def entry_vouchers(self) -> dict[int, tuple[int, ...]]:
        """Journal entry id → the posted vouchers whose lines name it (the entries read)."""
        out: dict[int, set[int]] = defaultdict(set)
        for chunk in chunks(e.id for e in self.entries):
            rows = self._posted_lines(
                (VoucherLine.custody_entry_id, VoucherLine.voucher_id),
                VoucherLine.custody_entry_id.in_(chunk),
            )
            for entry, voucher in rows:
                if entry is not None:
                    out[int(entry)].add(int(voucher))
        return {e: tuple(sorted(v)) for e, v in out.items()}

    @cached_property
    def _custody_read(self) -> dict[int, frozenset[str]]:
        return {}

    def custody_of(self, vouchers: Iterable[int]) -> dict[int, frozenset[str]]:
        """Posted voucher id → the custody kinds (cash, bank) its lines touch, for ``vouchers``.

        Vouchers without a custody line (or not posted) are left out.
        """
        wanted = set(vouchers)
        known = self._custody_read
        custody = {c: a.custody for c, a in self.accounts.items() if a.custody}
        todo = [v for v in wanted if v not in known]
        for chunk in chunks(todo):
            found: dict[int, set[str]] = {v: set() for v in chunk}
            rows = self._posted_lines(
                (VoucherLine.voucher_id, VoucherLine.account_code),
                VoucherLine.voucher_id.in_(chunk),
                VoucherLine.account_code.in_(list(custody)),
            )
            for voucher, code in rows:
                found[int(voucher)].add(str(custody[code]))
            known.update({v: frozenset(k) for v, k in found.items()})
        return {v: known[v] for v in wanted if known[v]}

    @cached_property
    def voucher_custody(self) -> dict[int, frozenset[str]]:
        """Posted voucher id → custody kinds, for the vouchers naming the entries read."""
        return self.custody_of(v for vs in self.entry_vouchers.values() for v in vs)

    def is_transfer(self, entry: EntryRow) -> bool:
        """Whether a cash entry moves money between cash and bank (存现, 提现).

        Its posted voucher has a bank line; an entry not booked yet is
        judged by its 摘要 (存入银行, 提现, 备用金 …).  The same rule in SQL,
        for the entries before the window, is :func:`transfer_sql`.
        """
        vouchers = self.entry_vouchers.get(entry.id, ())
        if vouchers:
            return any("bank" in self.voucher_custody.get(v, ()) for v in vouchers)
        return any(w in entry.summary for w in _TRANSFER_WORDS)

    def labels_of(self, entry_ids: tuple[int, ...]) -> tuple[str, ...]:
        """The posted vouchers backing these journal entries, as labels."""
        found = {v for e in entry_ids for v in self.entry_vouchers.get(e, ())}
        _ = self._entry_labels_read  # every entry's vouchers at once, not signal by signal
        return tuple(sorted(self.voucher_labels[v] for v in found if v in self.voucher_labels))

    @cached_property
    def _entry_labels_read(self) -> bool:
        self.voucher_labels.load(v for vs in self.entry_vouchers.values() for v in vs)
        return True

    def cash_opening_fen(self) -> int:
        """The cash accounts' (末级) journal balance at the month start, in fen.

        Their opening balances and the sum of their entries of earlier
        periods: one aggregate, not the history's rows.
        """
        codes = [c for c, a in self.accounts.items() if a.custody == "cash" and a.leaf]
        if not codes:
            return 0
        opening = self.session.execute(
            select(func.coalesce(func.sum(OpeningBalance.amount_fen), 0)).where(
                OpeningBalance.entity_id == self.entity.id,
                OpeningBalance.account_code.in_(codes),
            )
        ).scalar_one()
        before = self.session.execute(
            select(func.coalesce(func.sum(CustodyEntry.amount_fen), 0)).where(
                CustodyEntry.entity_id == self.entity.id,
                CustodyEntry.account_code.in_(codes),
                CustodyEntry.period < self.period,
            )
        ).scalar_one()
        return int(opening) + int(before)

    def undeposited_before_fen(self, day: dt.date) -> int:
        """Cash received before ``day`` and not matched by the deposits before it (坐收坐支), fen.

        :func:`juzhang.risk.checks.check_undeposited` matches receipts to the
        deposits that follow them first in, first out, a deposit taking only
        receipts dated up to its own date.  Matched so far after deposit *k*
        is ``C_k = min(C_{k-1} + a_k, E_k)`` (``a_k`` its amount, ``E_k`` the
        receipts dated up to its date), that is ``A_k + min(0, min_j (E_j - A_j))``
        with ``A`` the deposits so far: one pass over the earlier entries,
        which the database does (a running sum and its minimum), returning
        one number.  The receipts still unmatched are the latest ones, all
        dated before ``day``; every deposit from ``day`` on may take them
        first, whichever they are, so their total is all the check needs.
        """
        cash = self.codes_of("cash")
        if not cash:
            return 0
        transfer = transfer_sql(self.codes_of("bank"))
        entries = (
            select(
                CustodyEntry.entry_date.label("day"),
                CustodyEntry.id.label("id"),
                CustodyEntry.amount_fen.label("fen"),
                transfer.label("transfer"),
            )
            .where(
                CustodyEntry.entity_id == self.entity.id,
                CustodyEntry.account_code.in_(cash),
                CustodyEntry.entry_date < day,
                CustodyEntry.period <= self.period,
            )
            .subquery()
        )
        receipt = (entries.c.fen > 0) & (entries.c.transfer == 0)
        deposit = (entries.c.fen < 0) & (entries.c.transfer == 1)
        flows = (
            select(
                entries.c.day,
                entries.c.id,
                entries.c.fen,
                case((deposit, 1), else_=0).label("is_deposit"),
            )
            .where(receipt | deposit)
            .subquery()
        )
        running = select(
            flows.c.fen,
            flows.c.is_deposit,
            func.sum(flows.c.fen)
            .over(order_by=(flows.c.day, flows.c.is_deposit, flows.c.id), rows=(None, 0))
            .label("x"),
        ).subquery()
        total, lowest = self.session.execute(
            select(
                func.coalesce(func.sum(running.c.fen), 0),
                func.min(case((running.c.is_deposit == 1, running.c.x))),
            )
        ).one()
        return int(total) - min(0, int(lowest or 0))

    def _counterparties(self, entry_ids: Iterable[int]) -> dict[int, str]:
        out: dict[int, str] = {}
        for chunk in chunks(entry_ids):
            out.update(
                self.session.execute(
                    select(CustodyEntry.id, CustodyEntry.counterparty).where(
                        CustodyEntry.entity_id == self.entity.id,
                        CustodyEntry.id.in_(chunk),
                        CustodyEntry.period <= self.period,
                    )
                ).all()
            )
        return out

    def _claim_rows(self, *where: ColumnElement[bool]) -> tuple[ClaimRow, ...]:
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
                *where,
            )
            .order_by(Claim.claim_date, Claim.id)
        ).all()
        counterparty = self._counterparties(r[10] for r in rows if r[10] is not None)
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

    @cached_property
    def _claims_read(self) -> dict[dt.date, tuple[ClaimRow, ...]]:
        return {}

    def claims_from(self, first: dt.date) -> tuple[ClaimRow, ...]:
        """The claims not returned dated from ``first`` to the month end, by date and id."""
        if first not in self._claims_read:
            self._claims_read[first] = self._claim_rows(Claim.claim_date >= first)
        return self._claims_read[first]

    @property
    def month_claims(self) -> tuple[ClaimRow, ...]:
        """The month's claims not returned, by date and id."""
        return self.claims_from(self.start)

    def claims_by_id(self, ids: Iterable[int]) -> tuple[ClaimRow, ...]:
        """The claims ``ids`` not returned, dated up to the month end, by date and id."""
        found: list[ClaimRow] = []
        for chunk in chunks(ids):
            found.extend(self._claim_rows(Claim.id.in_(chunk)))
        return tuple(sorted(found, key=lambda c: (c.date, c.id)))

    def earlier_claims_with(self, numbers: set[str]) -> tuple[ClaimRow, ...]:
        """The claims not returned dated before the month that carry one of the invoice ``numbers``.

        Reads the earlier claims' invoice cells only (two columns, the rows
        with a number), then the claims found.
        """
        if not numbers:
            return ()
        rows = self.session.execute(
            select(Claim.id, Claim.invoice_no).where(
                Claim.entity_id == self.entity.id,
                Claim.status != "returned",
                Claim.claim_date < self.start,
                Claim.invoice_no != "",
            )
        )
        ids = [i for i, text in rows if not numbers.isdisjoint(invoice_numbers(text))]
        return self.claims_by_id(ids)

    @cached_property
    def first_claim_date(self) -> dt.date | None:
        """The date of the earliest claim not returned (up to the month end), or ``None``."""
        return self.session.execute(
            select(func.min(Claim.claim_date)).where(
                Claim.entity_id == self.entity.id,
                Claim.status != "returned",
                Claim.claim_date <= self.end,
            )
        ).scalar_one()

    def claimed_vouchers(self, vouchers: Iterable[int]) -> set[int]:
        """Those of ``vouchers`` drafted from a claim not returned dated up to the month end."""
        out: set[int] = set()
        for chunk in chunks(vouchers):
            out.update(
                int(v)
                for (v,) in self.session.execute(
                    select(Claim.voucher_id).where(
                        Claim.entity_id == self.entity.id,
                        Claim.voucher_id.in_(chunk),
                        Claim.status != "returned",
                        Claim.claim_date <= self.end,
                    )
                )
                if v is not None
            )
        return out

    def decided_entries(self, entries: Iterable[int]) -> set[int]:
        """Those of journal ``entries`` whose claim (not returned, dated to the month end) cites
        a decision."""
        out: set[int] = set()
        for chunk in chunks(entries):
            rows = self.session.execute(
                select(Claim.custody_entry_id, Claim.decision_ref).where(
                    Claim.entity_id == self.entity.id,
                    Claim.custody_entry_id.in_(chunk),
                    Claim.status != "returned",
                    Claim.claim_date <= self.end,
                )
            )
            out.update(int(e) for e, ref in rows if ref and e is not None)
        return out

    def claim_vouchers(self, claims: tuple[ClaimRow, ...]) -> tuple[str, ...]:
        """The posted vouchers drafted from these claims, as labels."""
        found = {c.voucher for c in claims if c.voucher is not None}
        self.voucher_labels.load(found)
        return tuple(sorted(self.voucher_labels[v] for v in found if v in self.voucher_labels))


def transfer_sql(bank: list[str]) -> ColumnElement[int]:
    """SQL, 1 or 0: :meth:`RiskContext.is_transfer` of a ``custody_entry`` row (built once)."""
    return _transfer_sql(tuple(bank))


@functools.lru_cache(maxsize=64)
def _transfer_sql(bank: tuple[str, ...]) -> ColumnElement[int]:
    """SQL, 1 or 0: :meth:`RiskContext.is_transfer` of a ``custody_entry`` row.

    1 when a posted voucher names the entry and one of them has a line on a
    bank account (``bank``); with no posted voucher naming it, when its 摘要
    holds one of the transfer words.
    """
    named_table, other_table = VoucherLine.__table__.alias(), VoucherLine.__table__.alias()
    named, other = named_table.c, other_table.c
    # NULL when no posted voucher names the entry, else 1 when one has a bank line
    has_bank = (
        select(other.voucher_id)
        .where(
            other.entity_id == named.entity_id,
            other.voucher_id == named.voucher_id,
            other.account_code.in_(bank),
        )
        .exists()
    )
    bank_line = (
        select(func.max(case((has_bank, 1), else_=0)))
        .select_from(named_table)
        .join(Voucher, (Voucher.entity_id == named.entity_id) & (Voucher.id == named.voucher_id))
        .where(
            named.entity_id == CustodyEntry.entity_id,
            named.custody_entry_id == CustodyEntry.id,
            Voucher.status == VoucherStatus.POSTED,
        )
        .scalar_subquery()
    )
    words = or_(*(CustodyEntry.summary.contains(w, autoescape=True) for w in _TRANSFER_WORDS))
    return func.coalesce(bank_line, case((words, 1), else_=0))
