"""What the writers share: the :data:`Report` union, period text, the voucher print.

Re-exported by :mod:`juzhang.exporters` (lazily: see there).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeAlias

from sqlalchemy import Connection, select

from juzhang.books import find_voucher
from juzhang.reports.ledger import CustodyJournal, GeneralLedger, SubsidiaryLedger
from juzhang.reports.statements import BalanceSheet, IncomeStatement
from juzhang.reports.trial_balance import TrialBalance
from juzhang.storage.access import AccountInfo, accounts_of, get_entity
from juzhang.storage.schema import User

__all__ = [
    "Report",
    "VoucherPrint",
    "VoucherPrintLine",
    "account_path",
    "period_text",
    "voucher_print",
]

Report: TypeAlias = (
    TrialBalance
    | GeneralLedger
    | SubsidiaryLedger
    | CustodyJournal
    | BalanceSheet
    | IncomeStatement
)
"""Every report result the writers accept."""


def period_text(first: int, last: int | None = None) -> str:
    """Return a period for a printed form: ``"2026年9月"`` or ``"2026年9月至2026年10月"``."""
    a = f"{first // 100}年{first % 100}月"
    if last is None or last == first:
        return a
    return f"{a}至{last // 100}年{last % 100}月"


def account_path(accounts: dict[str, AccountInfo], code: str) -> list[AccountInfo]:
    """Return the account ``code`` and its ancestors, first-level account first.

    Raises:
        KeyError: ``code`` (or a parent) is not an account of ``accounts``.
    """
    path = [accounts[code]]
    while path[0].parent is not None:
        path.insert(0, accounts[path[0].parent])
    return path


@dataclass(frozen=True, slots=True)
class VoucherPrintLine:
    """One line of a printed voucher.

    ``general`` is the first-level account (总账科目, ``"513 管理费用"``);
    ``detail`` the detail account below it (明细科目, ``"51301 办公费"``; the
    names of every level below the first joined by ``—``), empty for a line on
    a first-level account.  A red line (红字) carries a negative amount.
    """

    summary: str
    account: str
    general: str
    detail: str
    debit: Decimal | None
    credit: Decimal | None


@dataclass(frozen=True, slots=True)
class VoucherPrint:
    """A posted voucher as a printed 记账凭证 shows it (pure data).

    People are shown by name (the login when a person has no name on file);
    ``supervisor`` (会计主管) is not recorded by the books and is left blank
    for a signature by hand.  ``total`` is the debit total (合计), negative for
    a red voucher.
    """

    entity: str
    entity_name: str
    date: dt.date
    period: int
    word: str
    number: int
    attachments: int
    kind: str
    lines: tuple[VoucherPrintLine, ...]
    total: Decimal
    prepared_by: str
    reviewed_by: str
    posted_by: str
    cashier: str
    supervisor: str
    hash: str

    @property
    def label(self) -> str:
        """``"记-0003"``."""
        return f"{self.word}-{self.number:04d}"

    @property
    def number_text(self) -> str:
        """``"记字第 0003 号"``, as the form prints it."""
        return f"{self.word}字第 {self.number:04d} 号"


def voucher_print(session: Connection, entity: str, period: int, number: int) -> VoucherPrint:
    """Read the posted voucher ``number`` of ``period`` for printing.

    Raises:
        NotFoundError: unknown entity, or no posted voucher with that number.
    """
    ent = get_entity(session, entity)
    view = find_voucher(session, entity, period, number)
    accounts = accounts_of(session, ent.id)
    logins = {p for p in (view.prepared_by, view.reviewed_by, view.posted_by, view.cashier) if p}
    names = dict(
        session.execute(select(User.login, User.name).where(User.login.in_(sorted(logins)))).all()
    )

    def person(login: str | None) -> str:
        return "" if not login else str(names.get(login) or login)

    lines = []
    for ln in view.lines:
        path = account_path(accounts, ln.account) if ln.account in accounts else []
        top = path[0] if path else None
        general = f"{top.code} {top.name}" if top else ln.account
        detail = ""
        if len(path) > 1:
            detail = f"{path[-1].code} " + "—".join(a.name for a in path[1:])
        lines.append(VoucherPrintLine(ln.summary, ln.account, general, detail, ln.debit, ln.credit))
    assert view.number is not None  # find_voucher returns posted vouchers only
    return VoucherPrint(
        entity=ent.code,
        entity_name=ent.name,
        date=view.date,
        period=view.period,
        word=view.word,
        number=view.number,
        attachments=view.attachments,
        kind=view.kind,
        lines=tuple(lines),
        total=view.total,
        prepared_by=person(view.prepared_by),
        reviewed_by=person(view.reviewed_by),
        posted_by=person(view.posted_by),
        cashier=person(view.cashier),
        supervisor="",
        hash=view.hash or "",
    )
