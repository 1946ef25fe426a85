"""Reading tabular files safely (安全读取表格文件): CSV, XLSX and the old binary XLS.

Bank statements and claim batches arrive as files people did not write by hand
and juzhang did not make: CSVs saved by Chinese Excel in GBK, XLSX workbooks,
the binary .xls that banks still export.  :func:`open_table` opens one and
gives a :class:`Table` whose :meth:`Table.rows` *streams* :class:`Row` values
(row number as Excel shows it, and the cells), so a million-row file is read
with flat memory.  Nothing here knows about banks; :mod:`.bank` does.

Safety first, then speed:

* **What a file is** is decided by its content (magic bytes), not its
  extension: a ZIP is read as XLSX, an OLE2 compound file as XLS, anything
  else as delimited text.  HTML or XML saved as ``.xls`` and PDFs are refused
  with a message saying what to do; only ``.csv .txt .tsv .xls .xlsx .xlsm``
  are accepted at all.
* **CSV encoding** (:func:`detect_encoding`): a BOM (UTF-8, UTF-16) decides;
  otherwise the whole file must decode as strict UTF-8, else as strict
  GB18030 (a superset of GBK and GB2312).  There is no lossy fallback: a file
  that is neither is refused naming the byte offset and line of the first bad
  byte, and a file that decodes as UTF-8, Chinese text included, up to a
  broken character is refused as broken UTF-8 rather than re-read as GB18030
  mojibake (three CJK characters before the bad byte decide: GBK text almost
  never forms them by accident).  A NUL byte means a binary file and is
  refused.
* **CSV dialect** per file: delimiter (``, \\t ; |``) and quote character
  (``"`` or ``'``) chosen by how consistently each candidate splits the first
  rows, :class:`csv.Sniffer`'s guess winning ties; a quote left open at the
  end of the file is an error; spaces or a tab after a closing quote are
  dropped (:func:`_loose_quotes`), as the ``csv`` module reads them.
* **XLSX** (:mod:`.xlsx`): archive checked for zip bombs before opening, small
  parts parsed with defusedxml, worksheet and shared strings read by a
  streaming SpreadsheetML scanner that refuses DTDs; numbers exact from the
  cell text; a formula without a cached value becomes
  :class:`~juzhang.importers.values.Uncalculated`, never empty or zero.
* **XLS** (:mod:`.xls`): python-calamine, plus a BIFF scan for formulas
  stored without a result.

Limits (:class:`ReadLimits`) on file size, rows, columns, cell length and the
ZIP checks raise :class:`~juzhang.errors.ProblemsError` with one
:class:`~juzhang.errors.Problem` whose ``where`` is ``file[:row[:column]]``.
Every failure to read raises that way; a read either yields good rows or
stops with the reason.
"""

from __future__ import annotations

import codecs
import csv
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

from juzhang.importers.table import (
    DEFAULT_LIMITS,
    MAX_LINE_BYTES,
    READ_CHUNK,
    Kind,
    ReadLimits,
    Row,
    Table,
    column_letter,
    fail,
    place,
    too_long,
    too_many_columns,
    too_many_rows,
)

__all__ = [
    "DEFAULT_LIMITS",
    "Kind",
    "ReadLimits",
    "Row",
    "Table",
    "column_letter",
    "detect_encoding",
    "open_table",
]

# --------------------------------------------------------------------------- opening

_EXTENSIONS = frozenset({".csv", ".txt", ".tsv", ".xls", ".xlsx", ".xlsm"})
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def open_table(
    path: str | Path,
    *,
    limits: ReadLimits = DEFAULT_LIMITS,
    sheet: int | str | None = None,
    name: str | None = None,
) -> Table:
    """Open a CSV, XLSX or XLS file for streaming its rows.

    ``sheet`` picks a worksheet by 0-based index or name (default: the first
    visible worksheet); ``name`` is how problems name the file (default: the
    file name).  Returns a :class:`Table`.  Raises
    :class:`~juzhang.errors.ProblemsError` with one problem when the file is
    missing, empty, of an unsupported type, over a limit, not decodable, a
    zip bomb, carries a DTD, or otherwise cannot be read.
    """
    source = Path(path)
    shown = name or source.name
    if source.suffix.lower() not in _EXTENSIONS:
        fail(
            shown,
            f"不支持的文件类型 {source.suffix or '(无扩展名)'}，应为 .csv .txt .xls .xlsx / "
            "unsupported file type: expected .csv, .txt, .xls or .xlsx",
        )
    try:
        size = source.stat().st_size
        with source.open("rb") as handle:
            head = handle.read(512)
    except FileNotFoundError:
        fail(shown, "文件不存在 / file not found")
    except OSError as exc:
        fail(shown, f"无法打开文件 / cannot open the file: {exc.strerror or exc}")
    if size == 0:
        fail(shown, "空文件 / the file is empty")
    if size > limits.max_file_bytes:
        fail(
            shown,
            f"文件过大 ({size} 字节，上限 {limits.max_file_bytes}) / "
            f"file too large: {size} bytes, limit {limits.max_file_bytes}",
        )
    kind = _content_kind(shown, head)
    if kind == "xlsx":
        from juzhang.importers.xlsx import open_xlsx  # noqa: PLC0415 — start-up time (heavy, used here only)

        return open_xlsx(source, shown, limits, sheet)
    if kind == "xls":
        from juzhang.importers.xls import open_xls  # noqa: PLC0415 — start-up time (heavy, used here only)

        return open_xls(source, shown, limits, sheet)
    return _open_csv(source, shown, limits)


def _content_kind(name: str, head: bytes) -> Kind:
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "xlsx"
    if head.startswith(_OLE_MAGIC):
        return "xls"
    if head.startswith(b"%PDF"):
        fail(name, "这是 PDF 文件，不是表格 / this is a PDF, not a table: export CSV or Excel")
    text = head.lstrip(b"\xef\xbb\xbf\xff\xfe\x00 \t\r\n").lower()
    if text.startswith(b"<"):
        fail(
            name,
            "这是 HTML/XML 网页格式的文件 (常被银行存为 .xls)，请用 Excel 打开后另存为 .xlsx / "
            "an HTML or XML file (banks often save these as .xls): open it in Excel and "
            "save as .xlsx",
        )
    if head.startswith(b"PK"):
        fail(name, "ZIP 文件已损坏 / a damaged ZIP archive")
    return "csv"


# --------------------------------------------------------------------------- CSV


@dataclass(frozen=True, slots=True)
class _Bad:
    offset: int
    line: int
    data: bytes
    cjk_before: int  # CJK characters decoded before the bad byte


def detect_encoding(path: str | Path, *, name: str | None = None) -> str:
    """Return the text encoding of a CSV file: a BOM's, else strict UTF-8, else GB18030.

    Returns ``"utf-8-sig"``, ``"utf-16"``, ``"utf-8"`` or ``"gb18030"`` after
    decoding the whole file strictly (streaming, flat memory).  Raises
    :class:`~juzhang.errors.ProblemsError` naming the byte offset and line of
    the first byte that decodes in neither, of a broken UTF-8 character in an
    otherwise UTF-8 file, or of a NUL byte (a binary file).
    """
    source = Path(path)
    shown = name or source.name
    with source.open("rb") as handle:
        head = handle.read(4)
    if head.startswith(codecs.BOM_UTF8):
        _check(shown, _first_bad(source, "utf-8", shown), "UTF-8 (BOM)")
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        _check_utf16(source, shown)
        return "utf-16"
    bad = _first_bad(source, "utf-8", shown)
    if bad is None:
        return "utf-8"
    if bad.cjk_before >= _CJK_ENOUGH:
        fail(
            f"{shown}:{bad.line}",
            f"UTF-8 编码的文件在第 {bad.offset} 字节处有损坏的字符 (字节 {bad.data.hex(' ')}) / "
            f"broken UTF-8 at byte offset {bad.offset} (bytes {bad.data.hex(' ')}); "
            "the file is not re-read as GB18030 to avoid garbled text",
        )
    bad_gb = _first_bad(source, "gb18030", shown)
    if bad_gb is None:
        return "gb18030"
    fail(
        f"{shown}:{bad_gb.line}",
        "文件编码无法识别：既不是 UTF-8 (第 "
        f"{bad.offset} 字节 {bad.data.hex(' ')}) 也不是 GB18030/GBK (第 {bad_gb.offset} 字节 "
        f"{bad_gb.data.hex(' ')}) / unknown encoding: not UTF-8 (byte offset {bad.offset}) "
        f"nor GB18030/GBK (byte offset {bad_gb.offset})",
    )


def _check(name: str, bad: _Bad | None, label: str) -> None:
    if bad is not None:
        fail(
            f"{name}:{bad.line}",
            f"{label} 编码错误，第 {bad.offset} 字节 ({bad.data.hex(' ')}) / "
            f"invalid {label} at byte offset {bad.offset}",
        )


def _first_bad(source: Path, encoding: str, name: str) -> _Bad | None:
    """Decode the file in line-aligned chunks; return the first undecodable byte, if any."""
    offset, line, cjk = 0, 1, 0
    pending = b""
    with source.open("rb") as handle:
        while True:
            block = handle.read(READ_CHUNK)
            data = pending + block
            if block:
                cut = data.rfind(b"\n") + 1
                if cut == 0:
                    if len(data) > MAX_LINE_BYTES:
                        fail(f"{name}:{line}", "行过长 / a line longer than 64 MiB")
                    pending = data
                    continue
                chunk, pending = data[:cut], data[cut:]
            else:
                chunk, pending = data, b""
            if chunk:
                if b"\x00" in chunk:
                    _refuse_nul(name, chunk, offset, line)
                try:
                    text = chunk.decode(encoding)
                except UnicodeDecodeError as exc:
                    before = chunk[: exc.start]
                    if cjk < _CJK_ENOUGH:
                        cjk += _count_cjk(before.decode(encoding))
                    return _Bad(
                        offset + exc.start,
                        line + before.count(b"\n"),
                        chunk[exc.start : exc.start + 4],
                        cjk,
                    )
                if cjk < _CJK_ENOUGH and not chunk.isascii():
                    cjk += _count_cjk(text)
                offset += len(chunk)
                line += chunk.count(b"\n")
            if not block:
                return None


_CJK = re.compile("[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]")
_CJK_ENOUGH = 3


def _count_cjk(text: str) -> int:
    """CJK characters in ``text``, counting no further than :data:`_CJK_ENOUGH`."""
    count = 0
    for _ in zip(range(_CJK_ENOUGH), _CJK.finditer(text), strict=False):
        count += 1
    return count


def _refuse_nul(name: str, chunk: bytes, offset: int, line: int) -> NoReturn:
    at = chunk.find(b"\x00")
    line_at = line + chunk[:at].count(b"\n")
    fail(
        f"{name}:{line_at}",
        f"第 {offset + at} 字节是 NUL，这是二进制文件，不是文本表格 / "
        f"NUL byte at offset {offset + at}: a binary file, not a text table",
    )


def _check_utf16(source: Path, name: str) -> None:
    decoder = codecs.getincrementaldecoder("utf-16")("strict")
    offset, line = 0, 1
    with source.open("rb") as handle:
        while True:
            block = handle.read(READ_CHUNK)
            try:
                text = decoder.decode(block, final=not block)
            except UnicodeDecodeError as exc:
                at = offset + exc.start - len(decoder.getstate()[0])
                fail(
                    f"{name}:{line}", f"UTF-16 编码错误，第 {at} 字节 / invalid UTF-16 at byte {at}"
                )
            if "\x00" in text:
                fail(f"{name}:{line}", "含有 NUL 字符：二进制文件 / NUL character: a binary file")
            offset += len(block)
            line += text.count("\n")
            if not block:
                return


_DELIMITERS = ",\t;|"


_QUOTES = ('"', "'")


def _sniff_dialect(sample: str) -> tuple[str, str]:
    """Pick (delimiter, quote character) for a CSV sample.

    Every candidate (``, \\t ; |`` × ``" '``) is scored by how many rows share
    the most common width (above 1); :class:`csv.Sniffer`'s guess wins ties,
    then the double quote.  A sample with one column reads as comma-separated.
    """
    lines = [line for line in sample.splitlines() if line.strip()][:200]
    try:
        dialect = csv.Sniffer().sniff("\n".join(lines[:50]), delimiters=_DELIMITERS)
        guess: tuple[str, str] | None = (dialect.delimiter, dialect.quotechar or '"')
    except csv.Error:
        guess = None
    scores = {
        (delimiter, quote): (_consistency(lines, delimiter, quote), (delimiter, quote) == guess,
                             quote == '"')
        for delimiter in _DELIMITERS
        for quote in _QUOTES
    }  # fmt: skip
    best = max(scores, key=lambda candidate: scores[candidate])
    return best if scores[best][0] > (0, 0) else (",", '"')


def _consistency(lines: list[str], delimiter: str, quote: str) -> tuple[int, int]:
    """(rows sharing the most common width, that width) for widths above 1."""
    try:
        rows = csv.reader(lines, delimiter=delimiter, quotechar=quote)
        widths = Counter(len(row) for row in rows if row)
    except csv.Error:
        return (0, 0)
    candidates = [(count, width) for width, count in widths.items() if width > 1]
    return max(candidates, default=(0, 0))


def _loose_quotes(lines: Iterable[str], delimiter: str, quote: str) -> Iterator[str]:
    """Lines with the spaces (and tabs) between a closing quote and the delimiter dropped.

    ``"a"\t,"b"`` (HSBC HK and WeChat exports) reads as ``a,b``, as Python's
    ``csv`` module reads it without ``strict``; any other text after a closing
    quote is still an error.  A closing quote is an odd run of quotes inside a
    cell (an even run there is escaped quotes), or an even run from the start
    of a cell (``""`` is an empty quoted cell).
    """
    blanks = " " if delimiter == "\t" else " \t"
    d, q = re.escape(delimiter), re.escape(quote)
    closing = f"(?<=[^{q}{d}\r\n])((?:{q}{q})*{q})"  # an odd run inside a cell
    whole = f"(?:(?<=[{d}])|^)((?:{q}{q})+)"  # a quoted cell from its start: "" or """"
    pattern = re.compile(f"(?:{closing}|{whole})[{blanks}]+(?=[{d}\r\n]|$)")
    needles = tuple(quote + blank for blank in blanks)
    for line in lines:
        yield pattern.sub(_quotes_only, line) if any(n in line for n in needles) else line


def _quotes_only(match: re.Match[str]) -> str:
    return match.group(1) or match.group(2)


def _open_csv(source: Path, name: str, limits: ReadLimits) -> Table:
    encoding = detect_encoding(source, name=name)
    with source.open(encoding=encoding, newline="") as handle:
        sample = handle.read(64 * 1024)
    delimiter, quote = _sniff_dialect(sample)

    def produce() -> Iterator[Row]:
        number = 0
        with source.open(encoding=encoding, errors="strict", newline="") as handle:
            lines = _loose_quotes(handle, delimiter, quote)
            reader = csv.reader(lines, delimiter=delimiter, quotechar=quote, strict=True)
            try:
                for cells in reader:
                    number += 1
                    _check_csv_row(name, number, cells, limits)
                    yield Row(number, tuple(cells))
            except csv.Error as exc:
                _csv_error(name, number + 1, exc, limits)
            except UnicodeDecodeError as exc:  # the file changed since it was checked
                fail(place(name, number + 1), f"编码错误 / cannot decode: {exc.reason}")

    return Table(
        source, name, "csv", produce, encoding=encoding, delimiter=delimiter, quotechar=quote
    )


def _check_csv_row(name: str, number: int, cells: list[str], limits: ReadLimits) -> None:
    if number > limits.max_rows:
        fail(place(name, number), too_many_rows(limits))
    if len(cells) > limits.max_columns:
        fail(place(name, number, limits.max_columns), too_many_columns(len(cells), limits))
    if cells and max(map(len, cells)) > limits.max_cell_chars:
        column = next(i for i, cell in enumerate(cells) if len(cell) > limits.max_cell_chars)
        fail(place(name, number, column), too_long(len(cells[column]), limits))


def _csv_error(name: str, number: int, exc: csv.Error, limits: ReadLimits) -> NoReturn:
    text = str(exc)
    if "field larger than field limit" in text:
        fail(place(name, number), too_long(csv.field_size_limit(), limits))
    if "unexpected end of data" in text or "EOF" in text:
        fail(
            place(name, number),
            "引号没有闭合，文件可能被截断 / "
            "a quoted cell is never closed: the file may be truncated",
        )
    fail(place(name, number), f"CSV 格式错误 / malformed CSV: {text}")
