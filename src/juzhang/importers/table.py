"""Tables (表格): the rows a file reader yields, the limits it keeps, its refusals.

The shared vocabulary of :mod:`.reader` (CSV and the opening of any table
file), :mod:`.xlsx` and :mod:`.xls`: :class:`Row` and :class:`Table`,
:class:`ReadLimits`, Excel column letters, and the one way a read is refused
(:func:`fail`: a :class:`~juzhang.errors.ProblemsError` with one problem
naming ``file[:row[:column]]``).  The readers import this module; it imports
none of them, so the arrows run one way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Literal, NamedTuple, NoReturn, TypeAlias

from juzhang.errors import Problem, ProblemsError
from juzhang.importers.values import Cell

__all__ = [
    "DEFAULT_LIMITS",
    "MAX_LINE_BYTES",
    "MIB",
    "READ_CHUNK",
    "Kind",
    "ReadLimits",
    "Row",
    "Table",
    "choose_sheet",
    "column_letter",
    "fail",
    "place",
    "too_long",
    "too_many_columns",
    "too_many_rows",
]

MIB = 1 << 20
"""One mebibyte."""

READ_CHUNK = 4 * MIB
"""Bytes read from a file at a time."""

MAX_LINE_BYTES = 64 * MIB
"""The longest line (or XML token) a reader accepts."""


@dataclass(frozen=True, slots=True)
class ReadLimits:
    """Limits that protect a read from files too large or crafted to hurt (读取限制).

    * ``max_file_bytes`` — size of the file on disk;
    * ``max_rows`` / ``max_columns`` — rows read and the highest column used;
    * ``max_cell_chars`` — characters in one cell (Excel's own limit is 32,767);
    * ``max_unzipped_bytes`` — total uncompressed size of an XLSX archive;
    * ``max_zip_ratio`` — uncompressed / compressed size of any archive member
      over 1 MiB (real workbooks compress 5-15 times, zip bombs ~1000);
    * ``max_zip_members`` — members in an XLSX archive;
    * ``max_part_bytes`` — the small XLSX parts parsed whole (workbook,
      relationships, styles);
    * ``max_problems`` — problems collected before a statement read stops.
    """

    max_file_bytes: int = 512 * MIB
    max_rows: int = 2_000_000
    max_columns: int = 256
    max_cell_chars: int = 32_767
    max_unzipped_bytes: int = 1024 * MIB
    max_zip_ratio: int = 100
    max_zip_members: int = 1_000
    max_part_bytes: int = 16 * MIB
    max_problems: int = 1_000


DEFAULT_LIMITS = ReadLimits()

Kind: TypeAlias = Literal["csv", "xlsx", "xls"]


class Row(NamedTuple):
    """One row of a table: its number as Excel shows it (1-based) and its cells.

    Cells are :data:`~juzhang.importers.values.Cell` values, ``""`` for empty;
    trailing empty cells may be missing.
    """

    number: int
    cells: tuple[Cell, ...]


def column_letter(index: int) -> str:
    """Return the Excel column letters for a 0-based column index (0 → ``A``, 27 → ``AB``)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def place(name: str, row: int | None = None, column: int | None = None) -> str:
    if row is None:
        return name
    if column is None:
        return f"{name}:{row}"
    return f"{name}:{row}:{column_letter(column)}"


def fail(where: str, message: str) -> NoReturn:
    name = where.split(":", 1)[0]
    raise ProblemsError(f"无法读取 / cannot read {name}", [Problem(where, message, "file")])


class Table:
    """An opened table file; :meth:`rows` streams its rows.

    ``kind`` is what the content is (``"csv"``, ``"xlsx"``, ``"xls"``);
    ``encoding``, ``delimiter`` and ``quotechar`` are set for CSV, ``sheet`` and ``date1904``
    for workbooks.  Use as a context manager (or call :meth:`close`).
    """

    def __init__(
        self,
        source: Path,
        name: str,
        kind: Kind,
        produce: Callable[[], Iterator[Row]],
        *,
        encoding: str | None = None,
        delimiter: str | None = None,
        quotechar: str | None = None,
        sheet: str | None = None,
        date1904: bool = False,
        closer: Callable[[], None] | None = None,
    ) -> None:
        self.source = source
        self.name = name
        self.kind: Kind = kind
        self.encoding = encoding
        self.delimiter = delimiter
        self.quotechar = quotechar
        self.sheet = sheet
        self.date1904 = date1904
        self._produce = produce
        self._closer = closer

    def rows(self) -> Iterator[Row]:
        """Stream the rows, first to last.

        Raises :class:`~juzhang.errors.ProblemsError` (one problem naming file,
        row and column) when the file breaks a limit or turns out unreadable
        part way through; rows already yielded stay valid.
        """
        return self._produce()

    def close(self) -> None:
        """Release the file (idempotent)."""
        if self._closer is not None:
            self._closer()
            self._closer = None

    def __enter__(self) -> Table:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def too_many_rows(limits: ReadLimits) -> str:
    return f"行数超过上限 {limits.max_rows} / more than {limits.max_rows} rows"


def too_many_columns(count: int, limits: ReadLimits) -> str:
    return (
        f"列数 {count} 超过上限 {limits.max_columns} / "
        f"{count} columns, more than the limit {limits.max_columns}"
    )


def too_long(length: int, limits: ReadLimits) -> str:
    return (
        f"单元格过长 ({length} 字符，上限 {limits.max_cell_chars}) / "
        f"cell of {length} characters, longer than the limit {limits.max_cell_chars}"
    )


def choose_sheet(
    sheets: list[tuple[str, str, bool]], sheet: int | str | None, name: str
) -> tuple[str, str, bool]:
    if not sheets:
        fail(name, "工作簿里没有工作表 / the workbook has no worksheet")
    if sheet is None:
        return next((s for s in sheets if not s[2]), sheets[0])
    if isinstance(sheet, int):
        if 0 <= sheet < len(sheets):
            return sheets[sheet]
    else:
        for entry in sheets:
            if entry[0] == sheet:
                return entry
    names = "、".join(s[0] for s in sheets)
    fail(name, f"没有工作表 {sheet!r} (有: {names}) / no worksheet {sheet!r}")
