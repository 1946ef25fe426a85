"""Excel forms (Excel 报表): every report and the voucher print, as Chinese accountants know them.

The only module besides the importers' reader that imports openpyxl (STYLE.md
habit 8).  Each report result of :mod:`juzhang.reports` becomes a workbook
laid out like the printed form (see :func:`report_workbook`), and a posted
voucher becomes a 记账凭证 (:func:`voucher_workbook`).

The form writer itself — styles, page set-up, cell writers and :class:`Sheet`
— is :mod:`juzhang.exporters.form` (how every form looks, text that is always
text, exact amounts); the report forms are :mod:`juzhang.exporters.report_sheets`.
This module picks the form of a report (:func:`report_workbook`,
:func:`write_report`) and re-exports both, so callers import from here.
"""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook

from juzhang.exporters import Report
from juzhang.exporters.form import (
    AMOUNT_FORMAT,
    DATE_FORMAT,
    FONT_CHARSET,
    FONT_NAME,
    PAGE_FOOTER,
    YUAN_FORMAT,
    Column,
    Head,
    Sheet,
    Value,
    gc_paused,
    new_workbook,
    put_amount,
    put_text,
    save,
    text_width,
)
from juzhang.exporters.report_sheets import (
    custody_journal_workbook,
    general_ledger_workbook,
    statement_workbook,
    subsidiary_ledger_workbook,
    trial_balance_workbook,
    voucher_workbook,
    write_voucher,
)
from juzhang.reports.ledger import CustodyJournal, GeneralLedger, SubsidiaryLedger
from juzhang.reports.statements import BalanceSheet, IncomeStatement
from juzhang.reports.trial_balance import TrialBalance

__all__ = [
    "AMOUNT_FORMAT",
    "DATE_FORMAT",
    "FONT_CHARSET",
    "FONT_NAME",
    "PAGE_FOOTER",
    "YUAN_FORMAT",
    "Column",
    "Head",
    "Sheet",
    "Value",
    "custody_journal_workbook",
    "gc_paused",
    "general_ledger_workbook",
    "new_workbook",
    "put_amount",
    "put_text",
    "report_workbook",
    "save",
    "statement_workbook",
    "subsidiary_ledger_workbook",
    "text_width",
    "trial_balance_workbook",
    "voucher_workbook",
    "write_report",
    "write_voucher",
]


def report_workbook(
    report: Report, *, entity_name: str = "", all_accounts: bool = False
) -> Workbook:
    """Return the form of any report result.

    ``entity_name`` and ``all_accounts`` are used by the trial balance only
    (its result carries the entity's code, not its name).

    Raises:
        TypeError: not a report this module knows.
    """
    if isinstance(report, TrialBalance):
        return trial_balance_workbook(report, entity_name=entity_name, all_accounts=all_accounts)
    if isinstance(report, GeneralLedger):
        return general_ledger_workbook(report)
    if isinstance(report, SubsidiaryLedger):
        return subsidiary_ledger_workbook(report)
    if isinstance(report, CustodyJournal):
        return custody_journal_workbook(report)
    if isinstance(report, (BalanceSheet, IncomeStatement)):
        return statement_workbook(report)
    raise TypeError(f"not a report: {type(report).__name__}")


@gc_paused
def write_report(
    report: Report, path: Path, *, entity_name: str = "", all_accounts: bool = False
) -> None:
    """Write the form of a report to ``path`` (xlsx).

    Raises:
        TypeError: not a report this module knows.
        OSError: the file cannot be written.
    """
    save(report_workbook(report, entity_name=entity_name, all_accounts=all_accounts), path)
