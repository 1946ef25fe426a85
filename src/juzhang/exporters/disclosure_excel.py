"""The disclosure workbook (财务公开表) and its check against the books (verify-report).

:func:`disclosure_workbook` writes a :class:`~juzhang.reports.disclosure.Disclosure`
as the table a community posts on its board, with the form writer of
:mod:`juzhang.exporters.excel` (:class:`~juzhang.exporters.excel.Sheet`:
merged title, boxed cells, 宋体, ``#,##0.00``, text always text, widths from
the content, A4 fit to width, header rows repeated, page numbers, frozen
header).  Two sheets, both A4 portrait:

* **收支明细** — the title, 公开单位 / period / 单位：元, the dates posted and up
  to, then every item (序号, 日期, 凭证号, 摘要/用途, 收入, 支出, 经办人, 备注), 本期合计,
  本年累计 and both totals in capitals, and the signature lines;
* **汇总及专项** — cash and bank (期初, 收入, 支出, 期末; 本期 and 本年累计); income
  and expenditure by category side by side (本期, 本年累计) and a bar chart of
  expenditure by category; each special section (居民干部补贴、奖金, 救灾救济款物,
  各种费用的收缴, 一事一议…); 大额支出; 债权债务; 预算执行 (when a budget is
  recorded); the signature block with the 民主理财小组's opinion.

The **fingerprint** (:attr:`Disclosure.fingerprint`) is printed in every
page's footer (left; the page number is in the centre) and in a note under
the tables, and stored in the workbook's properties.  The board's **state**
(:attr:`Disclosure.state`) is printed on every page — in the title, the line
under it and the page header: a draft (a month still open) says
:data:`DRAFT_MARK` (草稿 · 未结账), a final board :data:`AWAITING`
(待民主理财小组审核签字), a published one carries the 民主理财小组's opinion, the
signer and the date in its signature block.

:func:`verify_report` trusts nothing in a file but its visible cells.  It
reads the workbook through the importers' guarded reader
(:func:`juzhang.importers.reader.open_table`, :data:`READ_LIMITS`: zip and
rows bombs refused in seconds), takes the entity and the months from the
printed fingerprint, regenerates the board the file must be — from the
snapshot stored at sign-off for a published month, from the books for a
closed unsigned one — and compares every visible cell of every sheet, text
and numbers, formatting ignored; each differing cell is named.  For a
published board it says separately whether the books still give the
published figures (a later change such as a budget adjustment is reported as
such, not as tampering).  A board of an open month is a draft.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import functools
import itertools
import re
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.chart.label import DataLabelList
from openpyxl.packaging.custom import StringProperty
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.pagebreak import Break
from sqlalchemy import select
from sqlalchemy.orm import Session

from juzhang.core.period import format_period, parse_period, period_range
from juzhang.errors import JuzhangError, ValidationError
from juzhang.exporters.excel import (
    FONT_CHARSET,
    FONT_NAME,
    PAGE_FOOTER,
    Column,
    Sheet,
    gc_paused,
    new_workbook,
    put_amount,
    put_text,
    save,
)
from juzhang.importers.reader import ReadLimits, column_letter, open_table
from juzhang.importers.table import MIB
from juzhang.importers.xlsx import list_sheets
from juzhang.reports.disclosure import (
    Disclosure,
    Figure,
    SectionReport,
    debt_total,
    disclosure,
    figure_key,
)
from juzhang.storage.access import closed_periods, get_entity
from juzhang.storage.schema import Voucher

__all__ = [
    "AWAITING",
    "DRAFT_MARK",
    "READ_LIMITS",
    "CellDifference",
    "FigureDifference",
    "PrintedFingerprint",
    "VerifyResult",
    "disclosure_workbook",
    "read_fingerprint",
    "state_text",
    "title_text",
    "verify_report",
    "write_disclosure_workbook",
]

RATE_FORMAT = '0.0"%"'
_PROP = "juzhang."


def _date_text(date: dt.date | None) -> str:
    if date is None:
        return "____年__月__日"
    return f"{date.year}年{date.month}月{date.day}日"


DRAFT_MARK = "草稿 · 未结账"
"""What a board of an open month says on every page (title, page header, fingerprint note)."""

AWAITING = "待民主理财小组审核签字"
"""What a final board (closed, not signed yet) says on every page."""


def title_text(d: Disclosure) -> str:
    """The board's title as printed: a draft's carries :data:`DRAFT_MARK`."""
    return f"{d.title}（{DRAFT_MARK}）" if d.state == "draft" else d.title


def state_text(d: Disclosure) -> str:
    """The board's state in words, printed under the title and in every page's header."""
    if d.state == "draft":
        return f"{DRAFT_MARK}：数字可能变动，不得张贴"
    if d.state == "published":
        return f"民主理财小组已审核签字（{_date_text(d.signatures.signed_on)}）"
    return AWAITING


# --------------------------------------------------------------------------- writing


@dataclass
class _Writer:
    """Writes figures and remembers where each went."""

    places: list[tuple[str, str, str, str, str]] = field(default_factory=list)

    def record(self, sheet: Sheet, row: int, col: int, figure: Figure, kind: str) -> None:
        cell = sheet.ws.cell(row=row, column=col + 1)
        self.places.append((figure.key, sheet.ws.title, cell.coordinate, kind, figure.label))
        if kind == "rate":
            cell.number_format = RATE_FORMAT


def _bold_note(sheet: Sheet, text: str, size: float = 12) -> int:
    row = sheet.note(text)
    cell = sheet.ws.cell(row=row, column=1)
    cell.font = Font(name=FONT_NAME, charset=FONT_CHARSET, size=size, bold=True)
    sheet.ws.row_dimensions[row].height = 22
    return row


def _figures_by_key(d: Disclosure) -> dict[str, Figure]:
    return {f.key: f for f in d.figures()}


def _items_sheet(wb: Workbook, d: Disclosure, figs: Mapping[str, Figure], w: _Writer) -> Sheet:
    sheet = Sheet.add(
        wb,
        "收支明细",
        [
            Column("number", min_width=5),
            Column("date", min_width=11),
            Column("center", min_width=9),
            Column("text", min_width=18, max_width=34, wrap=True),
            Column("amount", min_width=11),
            Column("amount", min_width=11),
            Column("center", min_width=7, max_width=12, wrap=True),
            Column("text", min_width=8, max_width=26, wrap=True),
        ],
    )
    sheet.title(title_text(d))
    sheet.info(f"公开单位：{d.community}", d.period_text, "单位：元")
    sheet.info(
        f"公开时间：{_date_text(d.posted_on)}",
        state_text(d),
        f"公开期至：{_date_text(d.posted_until)}",
    )
    sheet.header(["序号", "日期", "凭证号", "摘要/用途", "收入", "支出", "经办人", "备注"])
    for item in d.items:
        row = sheet.line(
            [
                item.no,
                item.date,
                item.voucher,
                item.summary,
                item.income,
                item.expense,
                item.handler,
                item.remark,
            ]
        )
        for col, column in ((4, "income"), (5, "expense")):
            key = figure_key(item.key, column)
            if key in figs:
                w.record(sheet, row, col, figs[key], "amount")
    if not d.items:
        sheet.line(["", None, "", "本期无收支 / no income or expenditure", None, None, "", ""])
    for label, column in (("本期合计", "current"), ("本年累计", "ytd")):
        row = sheet.line(
            [
                label,
                None,
                None,
                None,
                _amount(figs[figure_key("total/income", column)]),
                _amount(figs[figure_key("total/expense", column)]),
                "",
                "",
            ],
            bold=True,
            spans={0: 4},
        )
        sheet.ws.cell(row=row, column=1).alignment = Alignment(horizontal="center")
        w.record(sheet, row, 4, figs[figure_key("total/income", column)], "amount")
        w.record(sheet, row, 5, figs[figure_key("total/expense", column)], "amount")
    for kind, label in (
        ("income", "本期收入合计（人民币大写）"),
        ("expense", "本期支出合计（人民币大写）"),
    ):
        fig = figs[figure_key(f"total/{kind}", "capitals")]
        row = sheet.line(
            [label, None, None, None, str(fig.value), None, None, None],
            spans={0: 4, 4: 4},
        )
        sheet.ws.cell(row=row, column=1).alignment = Alignment(horizontal="center")
        sheet.ws.cell(row=row, column=5).alignment = Alignment(horizontal="left")
        w.record(sheet, row, 4, fig, "text")
    sheet.blank()
    _signature_lines(sheet, d)
    _fingerprint_note(sheet, d)
    return sheet


def _signature_lines(sheet: Sheet, d: Disclosure) -> None:
    s = d.signatures
    blank = "__________"
    sheet.signatures(
        [
            ("书记", s.secretary or blank),
            ("主任", s.director or blank),
            ("报账员", s.cashier or blank),
            ("代理会计", s.bookkeeper or blank),
        ]
    )
    sheet.note(f"民主理财小组（签字）：{'、'.join(s.group) or '______________'}")
    if d.state == "published" and s.opinion:
        sheet.note(
            f"民主理财小组意见：{s.opinion}　　签字人：{s.signer or '、'.join(s.group)}"
            f"　　日期：{_date_text(s.signed_on)}"
        )
        return
    waiting = "（草稿，结账后审核）" if d.state == "draft" else f"（{AWAITING}）"
    sheet.note(f"民主理财小组意见：{waiting}______________　　日期：____年__月__日")


def _fingerprint_note(sheet: Sheet, d: Disclosure) -> None:
    tail = (
        f"{DRAFT_MARK}，不是发布的公开表 / draft, not the published board"
        if d.state == "draft"
        else "核验：juzhang verify-report 本文件"
    )
    row = sheet.note(
        f"{FINGERPRINT_LABEL}{d.fingerprint}（账簿链第 {d.chain_seq} 笔；{tail}）",
        size=8,
    )
    sheet.ws.row_dimensions[row].height = 24


def _summary_sheet(wb: Workbook, d: Disclosure, figs: Mapping[str, Figure], w: _Writer) -> Sheet:
    sheet = Sheet.add(
        wb,
        "汇总及专项",
        [
            Column("text", min_width=16, max_width=30, wrap=True),
            Column("amount", min_width=12, max_width=16),
            Column("amount", min_width=12, max_width=16),
            Column("amount", min_width=14, max_width=20, wrap=True),
            Column("amount", min_width=12, max_width=16),
            Column("amount", min_width=12, max_width=16),
        ],
    )
    mark = f"（{DRAFT_MARK}）" if d.state == "draft" else ""
    sheet.title(f"{d.community}{d.period_text}财务收支汇总及专项公开表{mark}", size=16)
    sheet.info(f"公开单位：{d.community}", d.period_text, "单位：元")
    sheet.info("", state_text(d), "")
    title_rows = sheet.row
    pager = _Pager(sheet, title_rows)
    with pager.block():
        _funds_block(sheet, d, figs, w)
    with pager.block():
        _categories_block(sheet, d, figs, w)
        _chart(sheet, d)
    numbers = map(_cn_number, itertools.count(3))
    for section in d.sections:
        size = 2 + max(1, len(section.rows)) + (2 if section.opening is None else 4)
        if pager.fits(size):
            with pager.block():
                _section_block(sheet, section, figs, w, next(numbers))
        else:  # longer than a page: split, the heading and header again on each page
            with pager.long_block():
                _section_block(sheet, section, figs, w, next(numbers), pager)
    if pager.fits(2 + max(1, len(d.large_items))):
        with pager.block():
            _large_block(sheet, d, figs, w, next(numbers))
    else:
        with pager.long_block():
            _large_block(sheet, d, figs, w, next(numbers), pager)
    with pager.block():
        _debts_block(sheet, d, figs, w, next(numbers))
    if d.budget:
        with pager.block():
            _budget_block(sheet, d, figs, w, next(numbers))
    with pager.block():
        sheet.blank()
        _signature_lines(sheet, d)
        _fingerprint_note(sheet, d)
    sheet.header_rows = (1, title_rows)  # repeat the title on every page, not a block's header
    return sheet


PAGE_ROWS = 56
"""Rows of the default height that fit on one printed A4 page of the summary sheet (about)."""


class _Pager:
    """Keeps each block of the summary sheet on one page where it fits (manual page breaks).

    LibreOffice and Excel fit the sheet to the page width; at that scale
    about :data:`PAGE_ROWS` rows fit on a page, the repeated title rows
    included.  A block that would run over the end of the page starts a new
    one.  A block longer than a page (:meth:`long_block`) is split instead:
    at each page end the pager breaks the page and the block writes its
    heading and column header again (…（续）), so every page of a section
    has its header.
    """

    def __init__(self, sheet: Sheet, title_rows: int) -> None:
        self.sheet = sheet
        self.title_rows = title_rows
        self.used = sheet.row  # rows on the current page so far
        self._counted: int | None = None  # in a long block: the last row counted in used

    @contextlib.contextmanager
    def block(self) -> Iterator[None]:
        start = self.sheet.row + 1
        yield
        size = self.sheet.row - start + 1
        if self.used + size > PAGE_ROWS and self.title_rows + size <= PAGE_ROWS:
            self.sheet.ws.row_breaks.append(Break(id=start - 1))
            self.used = self.title_rows + size
        else:
            self.used += size

    def fits(self, rows: int) -> bool:
        """Whether a block of ``rows`` rows fits on one page (then :meth:`block` keeps it whole)."""
        return self.title_rows + rows <= PAGE_ROWS

    @contextlib.contextmanager
    def long_block(self) -> Iterator[None]:
        """A block longer than a page: it calls :meth:`room` before each of its table rows."""
        if self.used + 8 > PAGE_ROWS:  # not even its header and a few rows: start a new page
            self.sheet.ws.row_breaks.append(Break(id=self.sheet.row))
            self.used = self.title_rows
        self._counted = self.sheet.row
        try:
            yield
        finally:
            self.used += self.sheet.row - self._counted
            self._counted = None

    def room(self, repeat: Callable[[], None]) -> None:
        """Before a table row of a long block: at the page end, break and call ``repeat``."""
        if self._counted is None:
            return
        self.used += self.sheet.row - self._counted
        self._counted = self.sheet.row
        if self.used + 1 > PAGE_ROWS:
            self.sheet.ws.row_breaks.append(Break(id=self.sheet.row))
            self.used = self.title_rows
            repeat()
            self.used += self.sheet.row - self._counted
            self._counted = self.sheet.row


def _cn_number(n: int) -> str:
    """Return ``n`` (1–99) in Chinese numerals for a block heading: 三, 十二, 二十一."""
    digits = "零一二三四五六七八九"
    tens, ones = divmod(n, 10)
    if tens == 0:
        return digits[ones]
    head = "十" if tens == 1 else f"{digits[tens]}十"
    return head + (digits[ones] if ones else "")


def _amount(fig: Figure | None) -> Decimal | None:
    """The value of an amount figure (None when absent)."""
    if fig is None:
        return None
    assert isinstance(fig.value, Decimal)
    return fig.value


def _funds_block(sheet: Sheet, d: Disclosure, figs: Mapping[str, Figure], w: _Writer) -> None:
    _bold_note(sheet, "一、资金收支情况（现金和银行存款）")
    for heads, columns in (
        (
            ["项目（本期）", "期初余额", "本期收入", "本期支出", "期末余额", "备注"],
            ("opening", "income", "expense", "closing"),
        ),
        (
            ["项目（本年累计）", "年初余额", "本年收入", "本年支出", "期末余额", "备注"],
            ("ytd_opening", "ytd_income", "ytd_expense", "closing"),
        ),
    ):
        sheet.header(heads)
        for f in (*d.funds, d.fund_total):
            keys = [figure_key(f.key, c) for c in columns]
            row = sheet.line(
                [f.name, *(_amount(figs[k]) for k in keys), ""], bold=f.key_name == "total"
            )
            for col, (key, column) in enumerate(zip(keys, columns, strict=True), 1):
                if column != "closing" or columns[0] == "opening":  # closing: recorded once
                    w.record(sheet, row, col, figs[key], "amount")


def _categories_block(sheet: Sheet, d: Disclosure, figs: Mapping[str, Figure], w: _Writer) -> None:
    _bold_note(sheet, "二、收支分类汇总")
    sheet.header(["收入项目", "本期", "本年累计", "支出项目", "本期", "本年累计"])
    incomes, expenses = d.income_categories, d.expense_categories
    for i in range(max(len(incomes), len(expenses))):
        inc = incomes[i] if i < len(incomes) else None
        exp = expenses[i] if i < len(expenses) else None
        row = sheet.line(
            [
                inc.name if inc else "",
                inc.current if inc else None,
                inc.ytd if inc else None,
                exp.name if exp else "",
                exp.current if exp else None,
                exp.ytd if exp else None,
            ]
        )
        for cat, col, column in (
            (inc, 1, "current"),
            (inc, 2, "ytd"),
            (exp, 4, "current"),
            (exp, 5, "ytd"),
        ):
            if cat is not None:
                w.record(sheet, row, col, figs[figure_key(cat.key, column)], "amount")
    keys = [
        figure_key("total/income", "current"),
        figure_key("total/income", "ytd"),
        figure_key("total/expense", "current"),
        figure_key("total/expense", "ytd"),
    ]
    row = sheet.line(
        [
            "收入合计",
            _amount(figs[keys[0]]),
            _amount(figs[keys[1]]),
            "支出合计",
            _amount(figs[keys[2]]),
            _amount(figs[keys[3]]),
        ],
        bold=True,
    )
    for col, key in zip((1, 2, 4, 5), keys, strict=True):
        w.record(sheet, row, col, figs[key], "amount")


CHART_COLUMN = 8
"""First of the two hidden columns (H, I) holding the chart's data: non-zero categories only."""


def _axis_top(largest: Decimal) -> float:
    """A round axis end about a third above ``largest``, leaving room for the value labels."""
    target = float(max(largest, Decimal(1))) * 1.35
    step = 10 ** max(len(str(int(target))) - 2, 0)
    return float(-(-target // step) * step)


def _chart(sheet: Sheet, d: Disclosure) -> None:
    """A bar chart of the period's expenditure by category (non-zero ones), below the summary.

    The chart reads a copy of the categories in hidden columns H:I (outside
    the printed table), so categories without expenditure do not crowd it.
    """
    rows = [(c.name, c.current) for c in d.expense_categories if c.current != 0]
    if not rows:
        return
    ws = sheet.ws
    top = sheet.row + 1
    for i, (name, amount) in enumerate(reversed(rows)):  # a bar chart draws bottom-up
        put_text(ws.cell(row=top + i, column=CHART_COLUMN), name)
        # whole yuan in the labels (the table has the fen); LibreOffice wraps longer ones
        put_amount(ws.cell(row=top + i, column=CHART_COLUMN + 1), amount, "#,##0")
    for col in (CHART_COLUMN, CHART_COLUMN + 1):
        ws.column_dimensions[get_column_letter(col)].hidden = True
    bottom = top + len(rows) - 1
    chart = BarChart()
    chart.type = "bar"
    chart.style = 10
    chart.title = f"{d.period_text}支出分类（元）"
    chart.legend = None
    chart.visible_cells_only = False
    chart.y_axis.numFmt = "#,##0"
    chart.y_axis.majorGridlines = None
    chart.y_axis.scaling.min = 0
    chart.y_axis.scaling.max = _axis_top(max(amount for _name, amount in rows))
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    data = Reference(ws, min_col=CHART_COLUMN + 1, min_row=top, max_row=bottom)
    labels = Reference(ws, min_col=CHART_COLUMN, min_row=top, max_row=bottom)
    chart.add_data(data, titles_from_data=False)
    chart.set_categories(labels)
    chart.dataLabels = DataLabelList()
    chart.dataLabels.showVal = True
    for flag in ("showSerName", "showCatName", "showLegendKey", "showPercent"):
        setattr(chart.dataLabels, flag, False)
    chart.width = 18.0
    chart.height = max(5.0, 2.5 + 1.0 * len(rows))
    sheet.blank()
    ws.add_chart(chart, f"A{sheet.row + 1}")
    sheet.blank(int(chart.height * 2) + 1)  # the chart covers these rows (about 0.5 cm each)


def _section_block(
    sheet: Sheet,
    s: SectionReport,
    figs: Mapping[str, Figure],
    w: _Writer,
    number: str,
    pager: _Pager | None = None,
) -> None:
    def heading(more: str = "") -> None:
        _bold_note(sheet, f"{number}、{s.title}{more}")
        sheet.header(["摘要", "日期", "凭证号", "科目", s.debit_label, s.credit_label])

    heading()
    for r in s.rows:
        if pager is not None:
            pager.room(lambda: heading("（续）"))
        row = sheet.line([r.summary, r.date, r.voucher, r.account_name, r.debit, r.credit])
        for col, column in ((4, "debit"), (5, "credit")):
            key = figure_key(s.line_key(r), column)
            if key in figs:
                w.record(sheet, row, col, figs[key], "amount")
    if not s.rows:
        sheet.line(["本期无", None, "", "", None, None])
    total = f"{s.row_key}/total"
    lines = [("本期合计", "debit", "credit"), ("本年累计", "ytd_debit", "ytd_credit")]
    if s.opening is not None:
        lines += [("期初余额", "opening", ""), ("期末余额", "closing", "")]
    for label, dk, ck in lines:
        d_fig, c_fig = figs.get(figure_key(total, dk)), figs.get(figure_key(total, ck))
        row = sheet.line(
            [label, None, None, None, _amount(d_fig), _amount(c_fig)], bold=True, spans={0: 4}
        )
        for col, fig in ((4, d_fig), (5, c_fig)):
            if fig is not None:
                w.record(sheet, row, col, fig, "amount")


def _large_block(
    sheet: Sheet,
    d: Disclosure,
    figs: Mapping[str, Figure],
    w: _Writer,
    number: str,
    pager: _Pager | None = None,
) -> None:
    def heading(more: str = "") -> None:
        _bold_note(sheet, f"{number}、大额支出（单笔超过 {d.large_threshold:,.2f} 元）{more}")
        sheet.header(["摘要/用途", "日期", "凭证号", "经办人", "支出", "备注"])

    heading()
    for item in d.large_items:
        if pager is not None:
            pager.room(lambda: heading("（续）"))
        key = figure_key(item.key.replace("item/", "large/", 1), "expense")
        row = sheet.line(
            [item.summary, item.date, item.voucher, item.handler, _amount(figs[key]), item.remark]
        )
        w.record(sheet, row, 4, figs[key], "amount")
    if not d.large_items:
        sheet.line(["本期无", None, "", "", None, ""])


def _debts_block(
    sheet: Sheet, d: Disclosure, figs: Mapping[str, Figure], w: _Writer, number: str
) -> None:
    _bold_note(sheet, f"{number}、债权债务")
    sheet.header(["科目", "期初余额", "本期增加", "本期减少", "期末余额", "备注"])
    columns = ("opening", "increase", "decrease", "closing")
    for group, rows, label in (
        ("receivables", d.receivables, "债权（应收款项）"),
        ("payables", d.payables, "债务（应付款项）"),
    ):
        for r in (*rows, debt_total(group, rows)):
            total = r.code.startswith("total/")
            keys = [figure_key(r.key, c) for c in columns]
            row = sheet.line(
                [f"{label}合计" if total else r.name, *(_amount(figs[k]) for k in keys), ""],
                bold=total,
            )
            for col, key in enumerate(keys, 1):
                w.record(sheet, row, col, figs[key], "amount")


def _budget_block(
    sheet: Sheet, d: Disclosure, figs: Mapping[str, Figure], w: _Writer, number: str
) -> None:
    _bold_note(sheet, f"{number}、预算执行情况（{d.last // 100}年度）")
    sheet.header(["预算项目", "年初预算", "调整", "调整后预算", "本年实际", "执行率（%）"])
    columns = ("initial", "adjustment", "budget", "ytd", "rate")
    for b in d.budget:
        kind = "收入" if b.kind == "income" else "支出"
        found = [figs.get(figure_key(b.key, c)) for c in columns]
        row = sheet.line([f"{b.name}（{kind}）", *(_amount(f) for f in found)])
        for col, (column, fig) in enumerate(zip(columns, found, strict=True), 1):
            if fig is not None:
                w.record(sheet, row, col, fig, "rate" if column == "rate" else "amount")


# --------------------------------------------------------------------------- the workbook


def _properties(wb: Workbook, d: Disclosure) -> dict[str, str]:
    values = {
        "fingerprint": d.fingerprint,
        "entity": d.entity,
        "first": format_period(d.first),
        "last": format_period(d.last),
        "chain_seq": str(d.chain_seq),
        "chain_hash": d.chain_hash,
        "digest": d.digest,
        "posted_on": d.posted_on.isoformat(),
        "posted_until": d.posted_until.isoformat(),
    }
    for name, value in values.items():
        wb.custom_doc_props.append(StringProperty(name=_PROP + name, value=value))
    wb.properties.description = f"财务公开表核验码 fingerprint {d.fingerprint}"
    wb.properties.keywords = f"财务公开 {d.entity} {d.fingerprint}"
    return values


def _footer(sheet: Sheet, d: Disclosure) -> None:
    header = sheet.ws.oddHeader
    header.center.text = state_text(d)
    header.center.size = 9
    header.center.font = f"{FONT_NAME},常规"
    footer = sheet.ws.oddFooter
    footer.left.text = f"核验码 {d.fingerprint}"
    footer.left.size = 7
    footer.left.font = f"{FONT_NAME},常规"
    footer.center.text = PAGE_FOOTER
    footer.right.text = (
        DRAFT_MARK if d.state == "draft" else f"公开期至 {_date_text(d.posted_until)}"
    )
    footer.right.size = 7
    footer.right.font = f"{FONT_NAME},常规"


def disclosure_workbook(d: Disclosure) -> Workbook:
    """Return the disclosure as a workbook (see the module docstring for its layout)."""
    wb = new_workbook(d.title, entity=d.entity, subject="财务公开表")
    figs = _figures_by_key(d)
    w = _Writer()
    items = _items_sheet(wb, d, figs, w)
    items.finish(landscape=False)
    summary = _summary_sheet(wb, d, figs, w)
    summary.finish(landscape=False)
    for sheet in (items, summary):
        _footer(sheet, d)
    missing = set(figs) - {p[0] for p in w.places}
    if missing:  # every figure is on the table; a bug otherwise
        raise AssertionError(f"figures not written: {sorted(missing)[:5]}")
    _properties(wb, d)
    wb.active = 0
    return wb


@gc_paused
def write_disclosure_workbook(d: Disclosure, path: Path) -> Path:
    """Write the disclosure workbook to ``path``; return the path.

    Raises:
        OSError: the file cannot be written.
    """
    save(disclosure_workbook(d), path)
    return path


# --------------------------------------------------------------------------- verifying

FINGERPRINT_LABEL = "核验码 / fingerprint："
"""The text before the fingerprint in the note under each sheet's tables."""

_FINGERPRINT = re.compile(
    re.escape(FINGERPRINT_LABEL)
    + r"([^:\s（]+):([0-9]{4}-[0-9]{2}(?:\.\.[0-9]{4}-[0-9]{2})?)"
    + r":([0-9]+):([0-9a-f]{16}):([0-9a-f]{16})"
)

READ_LIMITS = ReadLimits(
    max_file_bytes=32 * MIB,
    max_rows=100_000,
    max_columns=64,
    max_unzipped_bytes=128 * MIB,
    max_zip_members=200,
)
"""Limits for reading a board given to verify-report: far above any real board
(a board of thousands of items is a few MB and some thousand rows), far below
what hurts."""

EXIT_PUBLISHED = 0
EXIT_DIFFERS = 1
EXIT_BOOKS_CHANGED = 2
EXIT_DRAFT = 3
EXIT_UNSIGNED = 4


@dataclass(frozen=True, slots=True)
class CellDifference:
    """A visible cell whose value is not the expected board's (None: empty on that side)."""

    sheet: str
    cell: str
    in_file: str | None
    expected: str | None

    def __str__(self) -> str:
        return (
            f"{self.sheet}!{self.cell}: 文件 file {self.in_file!r}"
            f" ≠ 应为 expected {self.expected!r}"
        )


@dataclass(frozen=True, slots=True)
class FigureDifference:
    """A figure that differs between the published board and the books now."""

    key: str
    label: str
    published: str | None
    in_books: str | None

    def __str__(self) -> str:
        return (
            f"{self.label} [{self.key}]: 公开 published {self.published}"
            f" → 账簿 books {self.in_books}"
        )


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """What :func:`verify_report` found.

    ``state``: ``draft`` (a month of the board is open, or the file is a
    draft-marked board), ``final`` (closed, not signed yet: compared with the
    board regenerated from the books) or ``published`` (compared with the
    board regenerated from the published snapshot).  ``differences``: every
    visible cell whose value differs.  ``books_agree``: the books still give
    the published figures (``book_changes`` lists those that changed since:
    a legitimate later change, not tampering).  :attr:`exit_code` is what
    ``juzhang verify-report`` exits with.
    """

    path: str
    fingerprint: str
    entity: str
    period: str
    state: str
    matches: bool
    differences: tuple[CellDifference, ...] = ()
    books_agree: bool = True
    book_changes: tuple[FigureDifference, ...] = ()
    cells_checked: int = 0
    title: str = ""
    snapshot: bool = False

    @property
    def exit_code(self) -> int:
        """0 published and books agree, 1 differs, 2 published but books changed, 3 draft,
        4 matches the books but not signed yet."""
        if self.state == "draft":
            return EXIT_DRAFT
        if not self.matches:
            return EXIT_DIFFERS
        if self.state == "final":
            return EXIT_UNSIGNED
        return EXIT_PUBLISHED if self.books_agree else EXIT_BOOKS_CHANGED

    @property
    def messages(self) -> tuple[str, ...]:
        """The findings in words, most important first."""
        if self.state == "draft":
            return (
                f"草稿，不是发布的公开表（{self.entity} {self.period} 未结账或文件为草稿）"
                " / draft, not the published board",
            )
        out = []
        if not self.matches:
            out.append(
                f"{len(self.differences)} 个单元格与"
                f"{'发布的公开表' if self.state == 'published' else '账簿生成的公开表'}不符，"
                "文件被改动或不是该月的公开表 / "
                f"{len(self.differences)} cell(s) differ from the "
                f"{'published board' if self.state == 'published' else 'board the books give'}:"
                " the file was altered or is not this month's board"
            )
        elif self.state == "published":
            out.append("与发布的公开表一致 / the file is the published board")
        else:
            out.append(
                f"与账簿一致，{AWAITING}，尚未发布 / the file matches the books;"
                " not signed by the finance group yet (not published)"
            )
        if self.state == "published" and not self.books_agree:
            out.append(
                f"账簿自发布后已变动：{len(self.book_changes)} 个数字与发布时不同"
                "（如预算调整；这是之后的合法变动，不是篡改） / the books changed since"
                f" publication: {len(self.book_changes)} figure(s) differ (a later change,"
                " e.g. a budget adjustment; not tampering)"
            )
        elif self.state == "published":
            out.append("账簿仍与发布的数字一致 / the books still agree with the published figures")
        return tuple(out)

    def to_json(self) -> dict[str, Any]:
        """A JSON form of the result."""
        return {
            "path": self.path,
            "fingerprint": self.fingerprint,
            "entity": self.entity,
            "period": self.period,
            "state": self.state,
            "matches": self.matches,
            "books_agree": self.books_agree,
            "exit_code": self.exit_code,
            "cells_checked": self.cells_checked,
            "differences": [
                {"sheet": x.sheet, "cell": x.cell, "in_file": x.in_file, "expected": x.expected}
                for x in self.differences
            ],
            "book_changes": [
                {"key": x.key, "label": x.label, "published": x.published, "in_books": x.in_books}
                for x in self.book_changes
            ],
            "messages": list(self.messages),
        }


def _not_ours(path: Path, why: str) -> ValidationError:
    return ValidationError(
        f"文件 file {path}", f"不是居账生成的财务公开表 / not a juzhang disclosure workbook: {why}"
    )


@dataclass(frozen=True, slots=True)
class _Board:
    """A workbook's sheets in order (name, hidden) and the non-empty cells of the visible ones."""

    sheets: tuple[tuple[str, bool], ...]
    cells: Mapping[str, Mapping[str, str]]


def _text(value: object) -> str:
    """A cell's value as compared: numbers exact (8000 = 8000.00), dates ISO, text as is."""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value else "0"
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    return str(value)


def _read_board(path: Path) -> _Board:
    """Read every visible cell of a workbook through the importers' guarded reader.

    Raises:
        ProblemsError: the file is not a readable XLSX, or breaks :data:`READ_LIMITS`
            (a zip bomb, a rows bomb, too large).
        ValidationError: not an XLSX workbook.
    """
    name = path.name
    with open_table(path, limits=READ_LIMITS, name=name) as first:
        if first.kind != "xlsx":
            raise _not_ours(path, "不是 .xlsx 工作簿 / not an .xlsx workbook")
    sheets = tuple(list_sheets(path, name, READ_LIMITS))
    cells: dict[str, dict[str, str]] = {}
    for index, (sheet_name, hidden) in enumerate(sheets):
        if hidden or sheet_name in cells:
            continue
        grid: dict[str, str] = {}
        with open_table(path, limits=READ_LIMITS, sheet=index, name=name) as table:
            for row in table.rows():
                for column, value in enumerate(row.cells):
                    text = _text(value)
                    if text != "":
                        grid[f"{column_letter(column)}{row.number}"] = text
        cells[sheet_name] = grid
    return _Board(sheets, cells)


def _board_of(d: Disclosure) -> _Board:
    """The board ``d`` gives, read back the way a file is read."""
    with tempfile.TemporaryDirectory(prefix="juzhang-verify-") as folder:
        path = write_disclosure_workbook(d, Path(folder) / "expected.xlsx")
        return _read_board(path)


@dataclass(frozen=True, slots=True)
class PrintedFingerprint:
    """The fingerprint printed on a board: entity, range, chain position and digests."""

    text: str
    entity: str
    first: int
    last: int
    chain_seq: int
    chain_hash: str
    digest: str


def _printed_fingerprint(board: _Board, path: Path) -> PrintedFingerprint:
    for sheet_name, _hidden in board.sheets:
        for text in board.cells.get(sheet_name, {}).values():
            found = _FINGERPRINT.search(text)
            if found is None:
                continue
            entity, period, seq, head, digest = found.groups()
            a, _sep, b = period.partition("..")
            try:
                first, last = parse_period(a), parse_period(b or a)
            except (ValueError, JuzhangError) as exc:
                raise _not_ours(path, f"核验码无效 / bad fingerprint ({exc})") from exc
            fingerprint = ":".join(found.groups())
            return PrintedFingerprint(fingerprint, entity, first, last, int(seq), head, digest)
    raise _not_ours(path, "表上没有核验码 / no fingerprint printed on the board")


def read_fingerprint(path: Path) -> dict[str, str]:
    """Return the fingerprint printed on a disclosure workbook (``fingerprint``, ``entity``…).

    Raises:
        ValidationError: the file is not a juzhang disclosure workbook.
        ProblemsError: the file cannot be read safely.
    """
    fp = _printed_fingerprint(_read_board(path), path)
    return {
        "fingerprint": fp.text,
        "entity": fp.entity,
        "first": format_period(fp.first),
        "last": format_period(fp.last),
        "chain_seq": str(fp.chain_seq),
        "chain_hash": fp.chain_hash,
        "digest": fp.digest,
    }


def _chain_hash(session: Session, entity: str, seq: int, prefix: str) -> str | None:
    """The full hash of the chain's voucher ``seq`` when it starts with ``prefix``."""
    if seq == 0:
        return "0" * 64 if prefix == "0" * 16 else None
    ent = get_entity(session, entity)
    head = session.execute(
        select(Voucher.hash).where(Voucher.entity_id == ent.id, Voucher.chain_seq == seq)
    ).scalar_one_or_none()
    return str(head) if head is not None and str(head).startswith(prefix) else None


def _compare(file: _Board, expected: _Board) -> tuple[list[CellDifference], int]:
    differences: list[CellDifference] = []
    checked = 0
    hidden = {name for name, h in file.sheets if h}
    for sheet_name, _h in expected.sheets:
        want = expected.cells.get(sheet_name, {})
        if sheet_name not in file.cells:
            why = "隐藏 hidden" if sheet_name in hidden else "缺少 missing"
            differences.append(CellDifference(sheet_name, "*", f"<{why}>", "<sheet>"))
            continue
        have = file.cells[sheet_name]
        for cell in sorted(set(want) | set(have), key=_cell_order):
            checked += 1
            if want.get(cell) != have.get(cell):
                differences.append(CellDifference(sheet_name, cell, have.get(cell), want.get(cell)))
    for sheet_name in file.cells:
        if sheet_name not in expected.cells:
            differences.append(CellDifference(sheet_name, "*", "<sheet>", "<不应有 none>"))
    return differences, checked


def _cell_order(cell: str) -> tuple[int, int, str]:
    letters = cell.rstrip("0123456789")
    return int(cell[len(letters) :] or 0), len(letters), letters


def _figure_changes(published: Disclosure, now: Disclosure) -> list[FigureDifference]:
    before = {f.key: f for f in published.figures()}
    after = {f.key: f for f in now.figures()}
    out = []
    for key in sorted(set(before) | set(after)):
        b, a = before.get(key), after.get(key)
        if (b and str(b.value)) != (a and str(a.value)):
            label = (b or a).label if (b or a) is not None else key  # type: ignore[union-attr]
            out.append(
                FigureDifference(
                    key,
                    label,
                    None if b is None else str(b.value),
                    None if a is None else str(a.value),
                )
            )
    return out


def verify_report(session: Session, path: Path) -> VerifyResult:
    """Check a disclosure workbook: every visible cell against the board it must be.

    The entity and the months come from the fingerprint printed on the board.
    A board of a month still open (or one marked 草稿) is a draft.  A published
    month's board is regenerated from the snapshot stored at sign-off, a
    closed unsigned one's from the books; then every visible cell of every
    sheet is compared, text and numbers, formatting ignored.  For a published
    board the books are compared with the published figures too.  Nothing
    the workbook carries besides its visible cells is trusted.

    Raises:
        ValidationError: the file is not a juzhang disclosure workbook.
        ProblemsError: the file cannot be read safely (too large, a zip or rows bomb).
        NotFoundError: the fingerprint names an entity these books do not have.
    """
    board = _read_board(path)
    fp = _printed_fingerprint(board, path)
    ent = get_entity(session, fp.entity)
    label = format_period(fp.first)
    if fp.last != fp.first:
        label += f"..{format_period(fp.last)}"
    title = next(iter(board.cells.get(board.sheets[0][0], {}).values()), "")
    base = functools.partial(
        VerifyResult, path=str(path), fingerprint=fp.text, entity=ent.code, period=label
    )
    closed = closed_periods(session, ent.id)
    is_draft = any(DRAFT_MARK in text for grid in board.cells.values() for text in grid.values())
    if is_draft or any(p not in closed for p in period_range(fp.first, fp.last)):
        return base(state="draft", matches=False, title=title)
    from juzhang.closing.signoff import published_disclosure  # noqa: PLC0415 — closing imports us

    published = published_disclosure(session, ent.code, (fp.first, fp.last))
    if published is not None:
        expected, state = published, "published"
        now = disclosure(
            session,
            ent.code,
            fp.first,
            fp.last,
            config=published.config,
            posted_on=published.posted_on,
            posted_until=published.posted_until,
        )
        changes = _figure_changes(published, now)
    else:
        now = disclosure(session, ent.code, fp.first, fp.last)
        expected, state, changes = now, now.state, []
        full = _chain_hash(session, ent.code, fp.chain_seq, fp.chain_hash)
        if full is not None:  # the head the file was made at, when the chain holds it
            expected = dataclasses.replace(now, chain_seq=fp.chain_seq, chain_hash=full)
    differences, checked = _compare(board, _board_of(expected))
    return base(
        state=state,
        matches=not differences,
        differences=tuple(differences),
        books_agree=not changes,
        book_changes=tuple(changes),
        cells_checked=checked,
        title=title,
        snapshot=published is not None,
    )
