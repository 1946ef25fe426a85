"""The bank reconciliation workbook (银行存款余额调节表), one sheet per bank account.

The classic two-sided form (DOMAIN §6), A4 portrait, written with the form
writer of :mod:`juzhang.exporters.excel`::

    项目                      日期   金额   | 项目                      日期   金额
    银行日记账余额                   x      | 银行对账单余额                   y
    加：银行已收、企业未收            Σ      | 加：企业已收、银行未收            Σ
      each item                 date  a     |   each item                 date  a
    减：银行已付、企业未付            Σ      | 减：企业已付、银行未付            Σ
      each item                 date  a     |   each item                 date  a
    调节后余额                       x'     | 调节后余额                       y'

headed by the bank (开户银行) and its account number (银行账号) as recorded
with :func:`juzhang.statements.set_bank_account`, followed, wholly in Chinese
(the printed form carries no English), by the verdict (相符, or the
difference), the ledger's balance and the journal − ledger difference
(账账核对), the pairs matched by amount and date rather than by link, the
reminder that the statement is a check and
never a basis for entries, and the signature line (出纳, 会计, 审核).
"""

from __future__ import annotations

from itertools import zip_longest
from pathlib import Path

from openpyxl import Workbook

from juzhang.exporters.excel import Column, Sheet, gc_paused, new_workbook, save
from juzhang.exporters.excel import Value as CellValue
from juzhang.reports.reconciliation import (
    AccountReconciliation,
    BankReconciliation,
    OutstandingGroup,
    OutstandingItem,
)

__all__ = ["reconciliation_workbook", "write_reconciliation_workbook"]


def _item_cells(item: OutstandingItem | None) -> list[CellValue]:
    if item is None:
        return ["", None, None]
    text = item.summary or ("对账单" if item.source == "statement" else "日记账")
    if item.counterparty:
        text += f"（{item.counterparty}）"
    return [f"  {text}", item.date, item.amount]


def _group_rows(sheet: Sheet, sign: str, left: OutstandingGroup, right: OutstandingGroup) -> None:
    sheet.line(
        [f"{sign}：{left.label}", None, left.total, f"{sign}：{right.label}", None, right.total],
        bold=True,
    )
    for a, b in zip_longest(left.items, right.items):
        sheet.line([*_item_cells(a), *_item_cells(b)])


def _account_sheet(wb: Workbook, rec: BankReconciliation, a: AccountReconciliation) -> None:
    sheet = Sheet.add(
        wb,
        f"{a.code} {a.name}",
        [
            Column("text", min_width=20, max_width=34, wrap=True),
            Column("date", min_width=11),
            Column("amount", min_width=12),
            Column("text", min_width=20, max_width=34, wrap=True),
            Column("date", min_width=11),
            Column("amount", min_width=12),
        ],
    )
    sheet.title(rec.title)
    as_of = f"{rec.as_of.year}年{rec.as_of.month}月{rec.as_of.day}日"
    sheet.info(f"编制单位：{rec.entity_name or rec.entity}", as_of, "单位：元")
    sheet.info(
        f"开户银行：{a.bank_name or '（未登记）'}",
        f"银行账号：{a.bank_number or '（未登记）'}",
        f"科目：{a.code} {a.name}",
    )
    sheet.header(["项目", "日期", "金额", "项目", "日期", "金额"])
    sheet.line(
        [
            "银行日记账余额",
            None,
            a.journal_balance,
            "银行对账单余额",
            a.statement_date,
            a.statement_balance,
        ],
        bold=True,
    )
    _group_rows(sheet, "加", a.bank_in_not_booked, a.booked_in_not_bank)
    _group_rows(sheet, "减", a.bank_out_not_booked, a.booked_out_not_bank)
    sheet.line(
        [
            "调节后余额",
            None,
            a.adjusted_journal_balance,
            "调节后余额",
            None,
            a.adjusted_statement_balance,
        ],
        bold=True,
    )
    for text in _notes(a):
        sheet.note(text)
    sheet.blank()
    sheet.signatures([("出纳", ""), ("会计", ""), ("审核", "")])
    sheet.finish(landscape=False)


def _notes(a: AccountReconciliation) -> list[str]:
    """The lines printed under the table, wholly in Chinese (the form is a printed document)."""
    notes = [
        "调节后余额相符。" if a.agrees else f"调节后余额不符，差额 {a.difference:,.2f} 元。",
    ]
    if not a.has_statement:
        notes.append("尚无银行对账单记录：对账单余额取期初余额。")
    elif a.statement_basis == "movements":
        notes.append("对账单无余额列：对账单余额按期初余额加发生额计算。")
    notes.append(
        f"账簿（总账）余额 {a.ledger_balance:,.2f} 元；"
        f"日记账与总账差额 {a.journal_ledger_difference:,.2f} 元。"
    )
    if a.fallback_matches:
        pairs = "；".join(
            f"对账单第{m.statement_line}笔↔日记账第{m.custody_entry}笔 {m.amount:,.2f} 元"
            for m in a.fallback_matches
        )
        notes.append(f"按金额和日期匹配：{pairs}。")
    notes.append("本表只作核对之用，不作记账依据。")
    return notes


def reconciliation_workbook(rec: BankReconciliation) -> Workbook:
    """Return the reconciliation statement as a workbook, one sheet per bank account."""
    wb = new_workbook(rec.title, entity=rec.entity, subject=rec.title)
    for a in rec.accounts:
        _account_sheet(wb, rec, a)
    if not rec.accounts:
        sheet = Sheet.add(wb, rec.title, [Column("text", min_width=40)])
        sheet.title(rec.title)
        sheet.note("没有银行存款科目。")
        sheet.finish(landscape=False, freeze=False)
    return wb


@gc_paused
def write_reconciliation_workbook(rec: BankReconciliation, path: Path) -> Path:
    """Write the reconciliation workbook to ``path``; return the path.

    Raises:
        OSError: the file cannot be written.
    """
    save(reconciliation_workbook(rec), path)
    return path
