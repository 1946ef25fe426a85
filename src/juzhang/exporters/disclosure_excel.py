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
  recorded); the residents' questions about earlier months and their answers
  (提问栏·回音栏, when there are any; open ones past due in red); the signature
  block with the 民主理财小组's opinion.

The **fingerprint** (:attr:`Disclosure.fingerprint`) is printed in every
page's footer (left; the page number is in the centre) and in a note under
the tables, and stored in the workbook's properties.  The board's **state**
(:attr:`Disclosure.state`) is printed on every page — in the title, the line
under it and the page header: a draft (a month still open) says
:data:`DRAFT_MARK` (草稿 · 未结账), a final board :data:`AWAITING`
(待民主理财小组审核签字), a published one carries the 民主理财小组's opinion, the
signer and the date in its signature block.

A **published** board written with its web page's address (``page_url``,
:func:`juzhang.exporters.qr.page_address`: the address and the fingerprint)
prints a QR code of it under the fingerprint note of 收支明细 (a picture, no
cell: verify-report's comparison of the visible cells is unchanged).

The check of a board against the books, :func:`verify_report`, is in
:mod:`juzhang.exporters.board_verify`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.chart.label import DataLabelList
from openpyxl.packaging.custom import StringProperty
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.pagebreak import Break

from juzhang.core.period import format_period, last_day
from juzhang.exporters.excel import (
    FONT_CHARSET,
    FONT_NAME,
    PAGE_FOOTER,
    Column,
    Head,
    Sheet,
    gc_paused,
    new_workbook,
    put_amount,
    put_text,
    save,
)
from juzhang.exporters.qr import PngImage, qr_picture
from juzhang.reports.disclosure import (
    Disclosure,
    Figure,
    SectionReport,
    debt_total,
    figure_key,
)

__all__ = [
    "AWAITING",
    "DRAFT_MARK",
    "FINGERPRINT_LABEL",
    "disclosure_workbook",
    "state_text",
    "title_text",
    "write_disclosure_workbook",
]

RATE_FORMAT = '0.0"%"'
_PROP = "juzhang."


def _date_text(date: dt.date | None) -> str:
    if date is None:
        return "____年__月__日"
    return f"{date.year}年{date.month}月{date.day}日"


FINGERPRINT_LABEL = "核验码 / fingerprint："
"""The label before the fingerprint in the note under the tables."""

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


def _items_sheet(
    wb: Workbook,
    d: Disclosure,
    figs: Mapping[str, Figure],
    w: _Writer,
    page_url: str | None = None,
) -> Sheet:
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
    if page_url is not None and d.state == "published":
        _qr_code(sheet, page_url)
    return sheet


QR_PIXELS = 170
"""The QR code's size on the sheet in pixels at 96 dpi: about 4.5 cm before the sheet is
fitted to A4, some 3 cm printed (modules of about 0.6 mm, which phones read; seen rendered
by LibreOffice under the fingerprint note, the page layout unchanged)."""


def _qr_code(sheet: Sheet, page_url: str) -> None:
    """The QR code of the web page (address and fingerprint) under the fingerprint note.

    A picture only, no cell: the visible cells verify-report compares stay
    those of the board without it (a board printed with or without a site
    address is the same board).
    """
    picture = qr_picture(page_url)
    image = PngImage(picture.png, QR_PIXELS, QR_PIXELS)
    sheet.blank()
    image.anchor = f"A{sheet.row + 1}"
    sheet.ws.add_image(image)
    sheet.blank(-(-QR_PIXELS // 20) + 1)  # rows of 15 pt (20 px) the picture covers, and one


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
    if d.questions:  # a board without questions is the board it always was
        with pager.long_block():
            _questions_block(sheet, d, figs, w, next(numbers), pager)
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


def _questions_block(
    sheet: Sheet,
    d: Disclosure,
    figs: Mapping[str, Figure],
    w: _Writer,
    number: str,
    pager: _Pager,
) -> None:
    """提问栏 and 回音栏: each question, then its answer; open ones past due in red."""

    def heading(more: str = "") -> None:
        _bold_note(sheet, f"{number}、居民提问与答复（提问栏·回音栏）{more}")
        sheet.header([Head("提问 / 答复", cols=4), "答复期限", "状态"])

    heading()
    red = Font(name=FONT_NAME, charset=FONT_CHARSET, size=11, color="FFC00000")
    for q in d.questions:
        pager.room(lambda: heading("（续）"))
        keys = {c: figure_key(q.key, c) for c in ("question", "due", "answer", "status")}
        row = sheet.line(
            [figs[keys["question"]].value, None, None, None, q.due_text, q.status_text],
            spans={0: 4},
            wrap_spans=True,
        )
        w.record(sheet, row, 0, figs[keys["question"]], "text")
        w.record(sheet, row, 4, figs[keys["due"]], "text")
        w.record(sheet, row, 5, figs[keys["status"]], "text")
        if q.status == "overdue":
            for col in (1, 5, 6):
                sheet.ws.cell(row=row, column=col).font = red
        pager.room(lambda: heading("（续）"))
        row = sheet.line(
            [figs[keys["answer"]].value, None, None, None, "", ""], spans={0: 4}, wrap_spans=True
        )
        w.record(sheet, row, 0, figs[keys["answer"]], "text")
    sheet.note(
        f"每项提问自登记之日起 {d.config.question_days} 天内答复；红字为逾期未答复。"
        f"统计截至 {_date_text(last_day(d.last))}。"
    )


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


def disclosure_workbook(d: Disclosure, page_url: str | None = None) -> Workbook:
    """Return the disclosure as a workbook (see the module docstring for its layout).

    ``page_url``: the address of the board's web page with its fingerprint
    (:func:`juzhang.exporters.qr.page_address`); a published board prints its
    QR code under the fingerprint note.
    """
    wb = new_workbook(d.title, entity=d.entity, subject="财务公开表")
    figs = _figures_by_key(d)
    w = _Writer()
    items = _items_sheet(wb, d, figs, w, page_url)
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
def write_disclosure_workbook(d: Disclosure, path: Path, page_url: str | None = None) -> Path:
    """Write the disclosure workbook to ``path``; return the path.

    ``page_url``: see :func:`disclosure_workbook` (the QR code of a published board).

    Raises:
        OSError: the file cannot be written.
    """
    save(disclosure_workbook(d, page_url), path)
    return path
