"""The form writer (表格): one printed form on one worksheet, its styles, page set-up and cells.

What every form has
-------------------

* a merged title (标题) across the table, a line with 编制单位 / the period /
  单位：元, a header of one or two rows with merged group headings, thin
  borders on every table cell, a signature line below;
* a CJK font (:data:`FONT_NAME` 宋体 with the GB2312 charset 134, so Excel
  on an English Windows still picks SimSun and LibreOffice a CJK serif);
* amounts as **numbers** with the format :data:`AMOUNT_FORMAT`
  (``#,##0.00``), red ink (font colour) for negative (红字) amounts;
* column widths computed from the content, a CJK character counting as two
  (:func:`text_width`), long 摘要 wrapped;
* A4 print set-up: landscape for the wide forms (科目余额表, 总账, 明细账,
  日记账, the two-sided 资产负债表, the claim form), portrait for the others and
  the voucher; fit to one page wide; the lines below the table kept with its
  last rows (no page holding only 试算平衡 or the signatures);
  the title and header rows repeated on every page (``print_title_rows``);
  the footer ``第 &P 页 共 &N 页``; the header frozen (``freeze_panes``).

Text is always text
-------------------

Every string is written as a typed string cell (``data_type = "s"``, an
inline string in the file): a 摘要 such as ``=1+1``, ``@SUM(A1)``, ``-cmd``,
``+86…`` or one starting with a tab or carriage return never becomes a
formula — the file has no ``<f>`` element for it.  Such cells also get the
``quotePrefix`` style, so Excel keeps them as text even when someone edits
the cell.  Control characters that XML cannot hold are replaced by U+FFFD,
and line ends are written as ``\\n`` (XML readers turn a bare carriage return
into a line feed anyway).

Exact amounts
-------------

openpyxl writes a ``Decimal`` through ``"%.16g" % value``, i.e. through a
binary float, which turns ``9395889312969.14`` into ``9395889312969.141``.
:func:`put_amount` therefore binds the cell as a number (``data_type "n"``)
and then stores the Decimal's exact fixed-point text as the cell's value, so
the file holds ``<v>9395889312969.14</v>``: the written figure is exactly the
books' figure.  (Excel itself keeps numbers as doubles once it reads them,
which is exact to the fen for every amount the books allow, below 10¹³ 元.)
Read back with openpyxl the cell is a float.

The form writer (reusable)
--------------------------

:class:`Sheet` writes one form on one worksheet, top to bottom; the report
writers below use nothing else, and later forms (the public disclosure, the
bank reconciliation) are meant to be written with it::

    wb = new_workbook("科目余额表", entity="C001")
    sheet = Sheet.add(wb, "科目余额表", [
        Column("text"), Column("text", wrap=True), Column("amount"), Column("amount"),
    ])
    sheet.title("科目余额表")                       # merged, 18 pt bold
    sheet.info("编制单位：幸福社区", "2026年9月", "单位：元")   # left / centre / right
    sheet.header(["科目编码", "科目名称", Head("本期发生额", cols=2)],
                 ["借方", "贷方"])                   # spans; cells under a
                                                     # row span are skipped
    sheet.line(["101", "库存现金", Decimal("1.00"), None])    # typed by column
    sheet.line(["", "合计", Decimal("1.00"), Decimal("1.00")], bold=True)
    sheet.note("试算平衡")                           # merged text below the table
    sheet.signatures([("会计主管", ""), ("制表", "李会计")])
    sheet.finish(landscape=True)                    # widths, print set-up, freeze
    save(wb, path)

:meth:`Sheet.line` takes one value per column (``str``, ``Decimal``,
``int``, ``date`` or ``None``), ``spans`` to merge a cell over the columns
to its right, ``indent`` per column and ``bold``; :meth:`Sheet.merge`
merges any block (e.g. a code down an account's rows); :meth:`Sheet.blank`
skips a row.  :func:`put_text` and :func:`put_amount` are the two cell
writers for anyone writing cells directly.
"""

from __future__ import annotations

import datetime as dt
import functools
import gc
import io
import math
import re
import unicodedata
import zipfile
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, ParamSpec, TypeAlias, TypeVar

from openpyxl import Workbook
from openpyxl.cell.cell import Cell, MergedCell
from openpyxl.drawing.spreadsheet_drawing import SpreadsheetDrawing
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._writer import WorksheetWriter
from openpyxl.worksheet.cell_range import CellRange
from openpyxl.worksheet.merge import MergedCellRange
from openpyxl.worksheet.page import PageMargins
from openpyxl.worksheet.pagebreak import Break
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.writer.excel import ExcelWriter

from juzhang.exporters.tabular import FORMULA_PREFIXES
from juzhang.money import format_amount

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
    "gc_paused",
    "new_workbook",
    "put_amount",
    "put_text",
    "save",
    "text_width",
]

FONT_NAME = "宋体"
"""The forms' font (SimSun); :data:`FONT_CHARSET` makes it findable under either name."""
FONT_CHARSET = 134
"""GB2312: tells Excel and LibreOffice the font is a Chinese one (fallback to any CJK font)."""
AMOUNT_FORMAT = "#,##0.00"
"""Number format of every amount cell."""
YUAN_FORMAT = '"¥"#,##0.00'
"""Number format of amounts printed with the ¥ sign (voucher totals)."""
DATE_FORMAT = "yyyy-mm-dd"
"""Number format of date cells."""
PAGE_FOOTER = "第 &P 页 共 &N 页"
"""Page footer: page number and page count."""

P = ParamSpec("P")
R = TypeVar("R")

Value: TypeAlias = str | Decimal | int | dt.date | None
"""A value :meth:`Sheet.line` writes; its column's kind decides the format."""

_KINDS = frozenset({"text", "amount", "yuan", "number", "date", "center"})
_THIN = Side(style="thin", color="000000")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # what openpyxl refuses in a cell
_CELL_CHARS = 32_767  # the most a cell holds; openpyxl cuts longer text there too
_SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\]")
_BODY_SIZE = 10.5  # 五号
_WIDTH_FACTOR = 1.1  # a 宋体 half-width character against Excel's width unit
_PADDING = 2.0
_LINE_HEIGHT = 14.0  # points per line of 10.5 pt text
_A4 = (595.0, 842.0)  # points, portrait width and height
_MARGINS = (0.5 + 0.5, 0.6 + 0.7)  # inches: left + right, top + bottom (see Sheet.finish)
_KEEP_ROWS = 3  # table rows kept on the page of the lines below the table
_UNIT_POINTS = (7.3,)  # points per column width unit, measured on LibreOffice renderings


@functools.cache
def _font(size: float = _BODY_SIZE, bold: bool = False, red: bool = False, **extra: Any) -> Font:
    return Font(
        name=FONT_NAME,
        charset=FONT_CHARSET,
        size=size,
        bold=bold,
        color="FF0000" if red else None,
        **extra,
    )


def text_width(text: str) -> int:
    """Return the display width of ``text``: CJK (wide) characters count two, others one.

    For text of several lines, the widest line.
    """
    if text.isascii():
        return max((len(line) for line in text.splitlines()), default=0)
    return _wide_width(text)


@functools.lru_cache(maxsize=4096)  # forms repeat their names, accounts and summaries
def _wide_width(text: str) -> int:
    return max(
        (
            sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line)
            for line in text.splitlines() or [""]
        ),
        default=0,
    )


def put_text(cell: Any, text: str) -> None:
    """Write ``text`` into ``cell`` as a string, never as a formula (see the module docstring)."""
    if _text_value(cell, text):
        cell.quotePrefix = True


def _text_value(cell: Any, text: str) -> bool:
    """Set the cell's text; return whether it needs the quote prefix (it starts like a formula)."""
    clean = _ILLEGAL.sub("\ufffd", text).replace("\r\n", "\n").replace("\r", "\n")
    cell._value = clean[:_CELL_CHARS]  # noqa: SLF001  openpyxl: set directly: openpyxl's setter would check it again
    cell.data_type = "s"  # openpyxl would take "=…" for a formula and "#N/A" for an error
    return clean.startswith((*FORMULA_PREFIXES, "\n"))


def put_amount(cell: Any, amount: Decimal, number_format: str = AMOUNT_FORMAT) -> None:
    """Write ``amount`` into ``cell`` as a number, exactly (see the module docstring)."""
    cell.value = amount  # binds the numeric type ("n")
    cell._value = format(amount, "f")  # noqa: SLF001  openpyxl: written as is: no detour through a binary float
    cell.number_format = number_format


def new_workbook(title: str, *, entity: str = "", subject: str = "") -> Workbook:
    """Return an empty workbook (no sheet yet) with its document properties set."""
    wb = Workbook()
    wb.remove(wb.active)
    wb.properties.title = title
    wb.properties.subject = subject or title
    wb.properties.creator = "juzhang 居账"
    if entity:
        wb.properties.keywords = entity
    return wb


class _InMemoryWriter(ExcelWriter):  # type: ignore[misc]  # openpyxl has no type hints
    """openpyxl's writer with each worksheet's XML kept in memory, not in a temporary file.

    openpyxl writes every worksheet into a file in the temporary folder,
    copies it into the archive and removes it; with four workbooks per
    community the close spent more on those files (created, read, removed:
    4.6 ms a removal on a busy disk) than on some of the sheets.  The rest is
    openpyxl 3.1's ``ExcelWriter.write_worksheet`` as it is (not write-only).
    """

    def write_worksheet(self, ws: Any) -> None:
        if self.workbook.write_only:  # not ours: openpyxl's own way
            super().write_worksheet(ws)
            return
        ws._drawing = SpreadsheetDrawing()  # noqa: SLF001  openpyxl: as its writer does
        ws._drawing.charts = ws._charts  # noqa: SLF001
        ws._drawing.images = ws._images  # noqa: SLF001
        writer = WorksheetWriter(ws, out=io.BytesIO())
        writer.write()
        ws._rels = writer._rels  # noqa: SLF001
        self._archive.writestr(ws.path[1:], writer.out.getvalue())
        self.manifest.append(ws)


def save(wb: Workbook, path: Path) -> None:
    """Save the workbook to ``path`` (as ``Workbook.save``, its sheets written in memory).

    Raises:
        OSError: the file cannot be written.
    """
    with zipfile.ZipFile(str(path), "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        wb.properties.modified = dt.datetime.now(tz=dt.UTC).replace(tzinfo=None)
        _InMemoryWriter(wb, archive).write_data()


def gc_paused(fn: Callable[P, R]) -> Callable[P, R]:
    """Run ``fn`` with Python's cyclic garbage collector paused (for the ``write_*`` functions).

    Building and saving a form makes tens of thousands of small openpyxl
    objects, none of them garbage cycles, and the collections they trigger
    took up to a third of a disclosure workbook's time, at random.  The
    collector runs again as soon as the file is written.
    """

    @functools.wraps(fn)
    def paused(*args: P.args, **kwargs: P.kwargs) -> R:
        if not gc.isenabled():
            return fn(*args, **kwargs)
        gc.disable()
        try:
            return fn(*args, **kwargs)
        finally:
            gc.enable()

    return paused


def _sheet_name(name: str) -> str:
    clean = _SHEET_NAME_BAD.sub("_", name).strip("'") or "Sheet"
    return clean[:31]


# --------------------------------------------------------------------------- the form writer


@dataclass(frozen=True, slots=True)
class Column:
    """A column of a form.

    ``kind``: ``text`` (left aligned), ``center`` (centred text), ``amount``
    (a number in :data:`AMOUNT_FORMAT`), ``yuan`` (a number in
    :data:`YUAN_FORMAT`), ``number`` (an integer such as 行次, centred) or
    ``date``.  The width is computed from the content and kept within
    ``min_width``..``max_width`` (Excel width units); ``wrap`` wraps long text.
    """

    kind: str = "text"
    min_width: float = 4.0
    max_width: float = 60.0
    wrap: bool = False

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise ValueError(f"column kind {self.kind!r}")


@dataclass(frozen=True, slots=True)
class Head:
    """A header cell spanning ``cols`` columns and ``rows`` header rows."""

    text: str
    cols: int = 1
    rows: int = 1


class Sheet:
    """One form on one worksheet, written top to bottom (see the module docstring)."""

    def __init__(self, ws: Any, columns: Sequence[Column]) -> None:
        """Write a form on worksheet ``ws`` with these columns."""
        if not columns:
            raise ValueError("a form needs columns")
        self.ws = ws
        self.columns = tuple(columns)
        self.row = 0
        self.header_rows: tuple[int, int] | None = None
        self.table_end = 0  # the last table row written by line()
        self._need = [0.0] * len(self.columns)
        self._heights: dict[int, float] = {}  # row -> least height (points)
        # (row, first and last column index of the cell or merged block, text)
        self._wrapped: list[tuple[int, int, int, str]] = []
        self._styles: dict[tuple[Any, ...], Any] = {}  # style key -> openpyxl StyleArray
        self._edges: dict[tuple[Any, ...], Any] = {}  # (border id, edges) -> StyleArray | None

    @classmethod
    def add(cls, wb: Workbook, name: str, columns: Sequence[Column]) -> Sheet:
        """Add a worksheet named ``name`` (cleaned, ≤ 31 characters) and return its form."""
        return cls(wb.create_sheet(_sheet_name(name)), columns)

    @property
    def width(self) -> int:
        """The number of columns."""
        return len(self.columns)

    def widths(self) -> list[float]:
        """Return the column widths (Excel units) the content written so far needs."""
        return [
            min(max(math.ceil(need * _WIDTH_FACTOR) + _PADDING, c.min_width), c.max_width)
            for need, c in zip(self._need, self.columns, strict=True)
        ]

    # ------------------------------------------------------------ low level

    def merge(self, first_row: int, first_col: int, last_row: int, last_col: int) -> None:
        """Merge a block of cells (1-based, inclusive); the top-left cell's value and style stay."""
        if (first_row, first_col) == (last_row, last_col):
            return
        # What openpyxl's merge_cells does — the other cells become MergedCells and
        # those on the edge take the top-left cell's border on that edge — with the
        # edge styles made once per form instead of merged side by side per cell.
        ws = self.ws
        block = CellRange(min_row=first_row, min_col=first_col, max_row=last_row, max_col=last_col)
        ws.merged_cells.add(MergedCellRange(ws, block.coord))
        top = ws.cell(row=first_row, column=first_col)
        for row in range(first_row, last_row + 1):
            for col in range(first_col, last_col + 1):
                if (row, col) == (first_row, first_col):
                    continue
                cell = MergedCell(ws, row=row, column=col)
                ws._cells[(row, col)] = cell  # noqa: SLF001  openpyxl: placing a merged cell without its per-cell checks
                edges = (row == first_row, col == first_col, col == last_col, row == last_row)
                if any(edges) and (style := self._edge_style(cell, top, edges)) is not None:
                    cell._style = StyleArray(style)  # noqa: SLF001  openpyxl: one shared style array per edge kind

    def _edge_style(self, cell: Any, top: Any, edges: tuple[bool, bool, bool, bool]) -> Any:
        """The style of a merged cell on these edges; ``None`` where they have no border."""
        key = (top._style.borderId, edges)  # noqa: SLF001  openpyxl: the border id, no style object built
        if key not in self._edges:
            border = top.border
            sides = {
                name: side
                for name, on in zip(("top", "left", "right", "bottom"), edges, strict=True)
                if on and (side := getattr(border, name)) is not None and side.style is not None
            }
            if sides:
                cell.border = Border(**sides)
            self._edges[key] = StyleArray(cell._style) if sides else None  # noqa: SLF001  openpyxl style cache
        return self._edges[key]

    def height(self, row: int, points: float) -> None:
        """Give ``row`` at least this height; wrapped text may make it taller at :meth:`finish`."""
        self._heights[row] = max(points, self._heights.get(row, 0.0))

    def _put(
        self,
        row: int,
        col: int,
        value: Value,
        *,
        bold: bool = False,
        indent: int = 0,
        border: bool = True,
        measure: bool = True,
        number_format: str | None = None,
    ) -> Any:
        # The hot path of every form (a disclosure writes about 6,000 cells): the
        # cell is made and filled directly, as openpyxl's ws.cell() and value
        # setter would, without their per-call checks (row in range, type
        # dispatch, illegal characters: _text_value has removed those already).
        column = self.columns[col]
        cell = Cell(self.ws, row=row, column=col + 1)
        self.ws._cells[(row, col + 1)] = cell  # noqa: SLF001  openpyxl: a cell placed directly (speed, #bench)
        horizontal = "left"
        width = 0
        red = quote = wrap = False
        fmt = "General"
        if isinstance(value, Decimal):
            fmt = number_format or (YUAN_FORMAT if column.kind == "yuan" else AMOUNT_FORMAT)
            cell._value = format(value, "f")  # noqa: SLF001  openpyxl: written as is: no detour through a float
            horizontal = "right"
            width = len(format_amount(value)) + (fmt == YUAN_FORMAT) + bold  # bold is wider
            red = value < 0
        elif isinstance(value, str):
            quote = _text_value(cell, value)
            horizontal = "center" if column.kind in ("center", "number", "date") else "left"
            width = text_width(value) + 2 * indent
            wrap = column.wrap or "\n" in value
            if measure and wrap:
                self._wrapped.append((row, col, col, value))
        elif isinstance(value, dt.date):
            cell.value = value
            fmt = DATE_FORMAT
            horizontal = "center"
            width = 10
        elif isinstance(value, int) and not isinstance(value, bool):
            cell._value = value  # noqa: SLF001  openpyxl: the value written as is
            horizontal = "center"
            width = len(str(value))
        key = (fmt, quote, bold, red, horizontal, wrap, indent, border)
        cached = self._styles.get(key)
        if cached is not None:  # setting styles one by one re-hashes them: slow for big forms
            cell._style = StyleArray(cached)  # noqa: SLF001  openpyxl: copy a cached style array (speed)
        else:
            if fmt != "General":
                cell.number_format = fmt
            if quote:
                cell.quotePrefix = True
            cell.font = _font(bold=bold, red=red)
            cell.alignment = Alignment(
                horizontal=horizontal, vertical="center", wrap_text=wrap or None, indent=indent
            )
            if border:
                cell.border = _BOX
            self._styles[key] = StyleArray(cell._style)  # noqa: SLF001  openpyxl style cache
        if measure and width > self._need[col]:
            self._need[col] = width
        return cell

    def _parts(self, count: int) -> list[tuple[int, int]]:
        """Split the columns into ``count`` groups of about equal width (1-based, inclusive)."""
        n = self.width
        if count >= n:
            return [(i, i) for i in range(1, n + 1)]
        widths = self.widths()
        cum = [0.0]
        for w in widths:
            cum.append(cum[-1] + w)
        bounds = [0]
        for j in range(1, count):
            target = cum[-1] * j / count
            choices = range(bounds[-1] + 1, n - (count - j) + 1)
            bounds.append(min(choices, key=lambda i: abs(cum[i] - target)))
        bounds.append(n)
        return [(bounds[i] + 1, bounds[i + 1]) for i in range(count)]

    # ------------------------------------------------------------ the parts of a form

    def title(self, text: str, *, size: float = 18, underline: str | None = None) -> int:
        """Write the merged, bold, centred title row; return its row number."""
        self.row += 1
        cell = self.ws.cell(row=self.row, column=1)
        put_text(cell, text)
        cell.font = _font(size=size, bold=True, underline=underline)
        cell.alignment = Alignment(horizontal="center", vertical="center")
        self.merge(self.row, 1, self.row, self.width)
        self.height(self.row, size * 2)
        return self.row

    def info(self, left: str = "", center: str = "", right: str = "") -> int:
        """Write a line above the table: left, centre and right parts (编制单位 / 期间 / 单位)."""
        self.row += 1
        texts = [left, center, right]
        parts = self._parts(3)
        if len(parts) < 3:  # fewer than three columns: everything in one cell
            parts, texts = [(1, self.width)], ["  ".join(t for t in texts if t)]
        for (a, b), text, align in zip(parts, texts, ("left", "center", "right"), strict=False):
            cell = self.ws.cell(row=self.row, column=a)
            put_text(cell, text)
            cell.font = _font()
            cell.alignment = Alignment(horizontal=align, vertical="center")
            self.merge(self.row, a, self.row, b)
        self.height(self.row, 18)
        return self.row

    def header(self, *rows: Sequence[str | Head]) -> tuple[int, int]:
        """Write the header rows (bold, centred, boxed); return their first and last row.

        Each row lists its cells left to right; a :class:`Head` spans columns
        and rows, and positions covered by a span from a row above are skipped.
        The first header of a form is the one repeated on every page and
        frozen; a later call heads a sub-table further down.
        """
        first = self.row + 1
        taken: set[tuple[int, int]] = set()
        for i, items in enumerate(rows):
            r = first + i
            col = 1
            for item in items:
                head = item if isinstance(item, Head) else Head(item)
                while (r, col) in taken:
                    col += 1
                if col + head.cols - 1 > self.width:
                    raise ValueError(f"header row {i + 1} is wider than the form")
                for rr in range(r, r + head.rows):
                    for cc in range(col, col + head.cols):
                        taken.add((rr, cc))
                        self._put(rr, cc - 1, None, bold=True, measure=False)
                cell = self._put(r, col - 1, head.text, bold=True, measure=head.cols == 1)
                cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
                self.merge(r, col, r + head.rows - 1, col + head.cols - 1)
                col += head.cols
            self.height(r, 20)
        last = first + len(rows) - 1
        self.row = last
        if self.header_rows is None:  # the form's own header; later ones head sub-tables
            self.header_rows = (first, last)
        return first, last

    def line(
        self,
        values: Sequence[Value],
        *,
        bold: bool | Collection[int] = False,
        indent: Mapping[int, int] | None = None,
        spans: Mapping[int, int] | None = None,
        formats: Mapping[int, str] | None = None,
        height: float = 18,
        wrap_spans: bool = False,
    ) -> int:
        """Write one boxed table row, one value per column; return its row number.

        ``bold`` is the whole row or the indexes (0-based) of bold cells;
        ``indent`` maps a column index to an indent level; ``spans`` maps a
        column index to the number of columns its cell covers (the values of
        the covered columns are ignored); ``formats`` maps a column index to a
        number format other than the column's; ``height`` is the least row
        height in points (wrapped text makes the row taller); with
        ``wrap_spans`` a text spanning columns wraps within its merged width and
        the row takes the lines it needs (a long sentence in a table).
        """
        if len(values) != self.width:
            raise ValueError(f"{len(values)} values for {self.width} columns")
        self.row += 1
        spans = spans or {}
        covered = {c for start, n in spans.items() for c in range(start + 1, start + n)}
        for col, value in enumerate(values):
            strong = bold if isinstance(bold, bool) else col in bold
            if col in covered:
                self._put(self.row, col, None, bold=strong, measure=False)
                continue
            self._put(
                self.row,
                col,
                value,
                bold=strong,
                indent=(indent or {}).get(col, 0),
                measure=spans.get(col, 1) == 1,
                number_format=(formats or {}).get(col),
            )
        for start, n in spans.items():
            self.merge(self.row, start + 1, self.row, start + n)
            value = values[start]
            if wrap_spans and n > 1 and isinstance(value, str):
                cell = self.ws.cell(row=self.row, column=start + 1)
                cell.alignment = Alignment(horizontal="left", vertical="center", wrap_text=True)
                self._wrapped.append((self.row, start, start + n - 1, value))
        self.height(self.row, height)
        self.table_end = self.row
        return self.row

    def blank(self, count: int = 1) -> None:
        """Leave ``count`` rows empty."""
        self.row += count

    def note(self, text: str, *, size: float = _BODY_SIZE, align: str = "left") -> int:
        """Write a merged line of text below the table (no border); return its row number."""
        self.row += 1
        cell = self.ws.cell(row=self.row, column=1)
        put_text(cell, text)
        cell.font = _font(size=size)
        cell.alignment = Alignment(horizontal=align, vertical="center", wrap_text=True)
        self.merge(self.row, 1, self.row, self.width)
        self.height(self.row, max(16.0, size * 1.6))
        self._wrapped.append((self.row, 0, self.width - 1, text))  # a long note takes more lines
        return self.row

    def signatures(self, people: Sequence[tuple[str, str]]) -> int:
        """Write the signature line: ``会计主管：name`` parts spread evenly over the width."""
        self.row += 1
        texts = [f"{label}：{name}" for label, name in people]
        parts = self._parts(len(texts))
        if len(parts) < len(texts):  # more people than columns: share the last cell
            keep = len(parts) - 1
            texts = [*texts[:keep], "  ".join(texts[keep:])]
        for (a, b), text in zip(parts, texts, strict=True):
            cell = self.ws.cell(row=self.row, column=a)
            put_text(cell, text)
            cell.font = _font()
            cell.alignment = Alignment(horizontal="left", vertical="center")
            self.merge(self.row, a, self.row, b)
        self.height(self.row, 28)
        return self.row

    def print_scale(self, *, landscape: bool, unit: float = _UNIT_POINTS[0]) -> float:
        """Return about how much fitting the columns to the A4 page width shrinks the form (≤ 1).

        An estimate: ``unit`` is the points a column width unit takes on paper
        before scaling (Excel with the forms' font about 5.6, LibreOffice,
        measured on the rendered forms, about 7.3; see :data:`_UNIT_POINTS`).
        Used to size rows that must print at a least height and to find
        where the pages break.
        """
        paper = _A4[1] if landscape else _A4[0]
        room = paper - _MARGINS[0] * 72
        points = sum(w * unit + 4 for w in self.widths())
        return min(1.0, room / points) if points else 1.0

    def _tail_alone(self, landscape: bool, heights: Mapping[int, float], unit: float) -> int:
        """The page's first row when the lines below the table would not fit after it, else 0."""
        assert self.header_rows is not None
        scale = self.print_scale(landscape=landscape, unit=unit)
        paper = _A4[0] if landscape else _A4[1]
        page = (paper - _MARGINS[1] * 72 - 24) / scale  # less the footer; in unscaled points
        titles = sum(heights.get(r, 15.0) for r in range(1, self.header_rows[1] + 1))
        manual = {b.id for b in self.ws.row_breaks.brk}  # a page ends after each of these rows
        used = 0.0
        start = 1
        for row in range(1, self.table_end + 1):
            h = heights.get(row, 15.0)
            if used + h > page or row - 1 in manual:
                start, used = row, titles
            used += h
        tail = sum(heights.get(r, 15.0) for r in range(self.table_end + 1, self.row + 1))
        return 0 if used + tail <= page * 0.97 else start

    def _keep_tail(self, landscape: bool, heights: Mapping[int, float]) -> None:
        """Keep the lines below the table with its last rows (no page holding only a note).

        Walks the pages as the printer will (estimated, for Excel's and for
        LibreOffice's column widths: :meth:`print_scale`; the repeated title
        rows on every page; the manual page breaks already set) and, when the
        lines below the table would not fit after its last row with some room
        to spare, breaks the page before the table's last :data:`_KEEP_ROWS`
        rows instead.
        """
        if self.header_rows is None or not self.table_end or self.row <= self.table_end:
            return
        body = self.header_rows[1] + 1
        keep = max(body, self.table_end - _KEEP_ROWS + 1)
        for unit in _UNIT_POINTS:
            start = self._tail_alone(landscape, heights, unit)
            if start and keep > start:
                self.ws.row_breaks.append(Break(id=keep - 1))
                return

    def finish(self, *, landscape: bool, freeze: bool = True) -> None:
        """Set column widths and row heights from the content, the A4 print set-up, the freeze.

        The rows from the title to the last header row repeat on every page;
        the lines below the table (notes, signatures) never print alone on a
        page (:meth:`_keep_tail`).
        """
        widths = self.widths()
        for i, width in enumerate(widths):
            self.ws.column_dimensions[get_column_letter(i + 1)].width = width
        heights = dict(self._heights)
        for row, first, last, text in self._wrapped:
            room = max(sum(widths[first : last + 1]) - 1.5, 1.0)  # a CJK character: two units
            lines = sum(max(1, math.ceil(text_width(part) / room)) for part in text.split("\n"))
            heights[row] = max(heights.get(row, 0.0), lines * _LINE_HEIGHT + 4)
        for row, points in heights.items():
            dimension = self.ws.row_dimensions[row]
            if dimension.height is None or dimension.height < points:  # set directly: kept
                dimension.height = points
        self._keep_tail(landscape, heights)
        ws = self.ws
        ws.page_setup.paperSize = ws.PAPERSIZE_A4
        ws.page_setup.orientation = "landscape" if landscape else "portrait"
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0  # as many pages down as needed
        ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
        ws.print_options.horizontalCentered = True
        ws.page_margins = PageMargins(left=0.5, right=0.5, top=0.6, bottom=0.7, footer=0.3)
        ws.oddFooter.center.text = PAGE_FOOTER
        ws.oddFooter.center.size = 9
        ws.oddFooter.center.font = f"{FONT_NAME},常规"
        if self.header_rows is not None:
            ws.print_title_rows = f"1:{self.header_rows[1]}"
            if freeze:
                ws.freeze_panes = f"A{self.header_rows[1] + 1}"
