"""XLSX workbooks (Office Open XML), read safely and as a stream (see :mod:`.reader`).

An XLSX file is a ZIP archive of XML parts.  Before anything is decompressed
the archive's directory is checked (:class:`~.reader.ReadLimits`): number of
members, total uncompressed size, and the compression ratio of every member
over 1 MiB, so a zip bomb is refused unopened; decompression is counted again
while reading.  The small parts (package and workbook relationships,
``workbook.xml``, ``styles.xml``) are parsed with :mod:`defusedxml` with DTDs
forbidden, which also forbids entity declarations and external references.

The worksheet and the shared-string table, which can hold millions of cells,
are read by a streaming scanner written for SpreadsheetML: the part is
decompressed and decoded in 4 MiB chunks, regrouped at ``</row>`` (``</si>``)
boundaries, and each row's cells are taken apart with one regular expression
whose first branch matches the shapes Excel and openpyxl write
(``<c r="B7" s="3" t="s"><v>12</v></c>``, inline strings) and whose second
branch handles everything else (namespace prefixes, other attributes,
formulas, rich text).  It never expands an entity other than XML's five and
numeric character references, refuses any ``<!DOCTYPE``/``<!ENTITY``
outright (billion laughs, XXE), and fails with the part and cell named on
anything it does not understand rather than guessing.

Values: numbers come from the cell's own text, so they are exact ``Decimal``
values that never pass through ``float``; a number whose cell style is a date
or time format becomes ``date``/``datetime``/``time`` (1900 or 1904 date
system from ``workbookPr``); shared and inline strings are unescaped
(including Excel's ``_xHHHH_``; phonetic runs are dropped); a formula cell
with no cached value becomes :class:`~.values.Uncalculated`; ``#N/A`` and
the like become :class:`~.values.CellError`.

Why not openpyxl or python-calamine (measured on this machine, 100,000 rows
× 9 columns): openpyxl's read-only mode falls back to the pure-Python XML
parser when defusedxml is installed (it is, and must be) and reads about
2,500 rows/s; python-calamine reads about 47,000 rows/s but builds the whole
sheet in memory first (800 MB for a million rows) and cannot tell a formula
without a value from an empty cell.  This scanner reads in the same range as
calamine at flat memory; the tests compare its output with both libraries on
the sample files.
"""

from __future__ import annotations

import codecs
import itertools
import posixpath
import re
import zipfile
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal, TypeAlias

import defusedxml.ElementTree as SafeET  # type: ignore[import-untyped]

from juzhang.errors import ValidationError
from juzhang.importers.table import (
    MAX_LINE_BYTES,
    MIB,
    READ_CHUNK,
    ReadLimits,
    Row,
    Table,
    choose_sheet,
    column_letter,
    fail,
    place,
    too_long,
    too_many_columns,
    too_many_rows,
)
from juzhang.importers.values import Cell, CellError, Uncalculated, excel_serial

__all__ = ["open_xlsx"]

# --------------------------------------------------------------------------- XLSX: archive

_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def _check_zip(archive: zipfile.ZipFile, name: str, limits: ReadLimits) -> None:
    members = archive.infolist()
    if len(members) > limits.max_zip_members:
        fail(name, f"压缩包成员过多 ({len(members)}) / too many archive members ({len(members)})")
    total = 0
    for member in members:
        if member.flag_bits & 0x1:
            fail(name, "文件已加密，请先去掉密码 / the workbook is encrypted: remove the password")
        total += member.file_size
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > MIB and ratio > limits.max_zip_ratio:
            fail(
                name,
                f"疑似压缩炸弹：{member.filename} 压缩比 {ratio:.0f}:1 超过上限 "
                f"{limits.max_zip_ratio}:1 / suspected zip bomb: {member.filename} expands "
                f"{ratio:.0f} times (limit {limits.max_zip_ratio})",
            )
    if total > limits.max_unzipped_bytes:
        fail(
            name,
            f"解压后过大 ({total} 字节，上限 {limits.max_unzipped_bytes}) / "
            f"uncompressed size {total} bytes exceeds the limit {limits.max_unzipped_bytes}",
        )


def _member(archive: zipfile.ZipFile, path: str) -> zipfile.ZipInfo | None:
    try:
        return archive.getinfo(path)
    except KeyError:
        lowered = path.lower()
        return next((m for m in archive.infolist() if m.filename.lower() == lowered), None)


def _read_part(archive: zipfile.ZipFile, path: str, name: str, limits: ReadLimits) -> bytes | None:
    member = _member(archive, path)
    if member is None:
        return None
    if member.file_size > limits.max_part_bytes:
        fail(name, f"{path} 过大 / {path} is too large ({member.file_size} bytes)")
    try:
        with archive.open(member) as handle:
            data = handle.read(limits.max_part_bytes + 1)
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError) as exc:
        fail(name, f"压缩包损坏 / damaged archive ({path}): {exc}")
    if len(data) > limits.max_part_bytes:
        fail(name, f"{path} 过大 / {path} is too large")
    return data


def _parse_xml(data: bytes, path: str, name: str) -> Any:
    """Parse a small XML part with defusedxml: no DTD, no entities, no external references."""
    try:
        return SafeET.fromstring(data, forbid_dtd=True)
    except SafeET.ParseError as exc:
        fail(name, f"{path} 不是有效的 XML / {path} is not well-formed XML: {exc}")
    except ValueError as exc:  # defusedxml's DTDForbidden, EntitiesForbidden, ...
        fail(
            name,
            f"{path} 含有 DTD 或实体声明，已拒绝 (防 billion-laughs/XXE 攻击) / "
            f"{path} declares a DTD or entities, refused: {type(exc).__name__}",
        )


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _rel_targets(
    archive: zipfile.ZipFile, rels_path: str, base: str, name: str, limits: ReadLimits
) -> dict[str, tuple[str, str]]:
    """Map relationship id → (type suffix, member path) from a .rels part."""
    data = _read_part(archive, rels_path, name, limits)
    if data is None:
        return {}
    targets: dict[str, tuple[str, str]] = {}
    for rel in _parse_xml(data, rels_path, name):
        target = rel.get("Target", "")
        kind = rel.get("Type", "").rsplit("/", 1)[-1]
        if rel.get("TargetMode") == "External":
            continue
        path = (
            target[1:]
            if target.startswith("/")
            else posixpath.normpath(posixpath.join(base, target))
        )
        targets[rel.get("Id", "")] = (kind, path)
    return targets


@dataclass(frozen=True, slots=True)
class _Workbook:
    sheet_name: str
    sheet_path: str
    strings_path: str | None
    styles_path: str | None
    date1904: bool


def _workbook(
    archive: zipfile.ZipFile, name: str, limits: ReadLimits, sheet: int | str | None
) -> _Workbook:
    sheets, extra, date1904 = _book(archive, name, limits)
    chosen = choose_sheet(sheets, sheet, name)
    return _Workbook(
        chosen[0], chosen[1], extra.get("sharedStrings"), extra.get("styles"), date1904
    )


def _book(
    archive: zipfile.ZipFile, name: str, limits: ReadLimits
) -> tuple[list[tuple[str, str, bool]], dict[str, str], bool]:
    """The worksheets (name, part, hidden), the other parts by kind, and the 1904 flag."""
    root_rels = _rel_targets(archive, "_rels/.rels", "", name, limits)
    book_path = next(
        (path for kind, path in root_rels.values() if kind == "officeDocument"), "xl/workbook.xml"
    )
    data = _read_part(archive, book_path, name, limits)
    if data is None:
        fail(
            name,
            "ZIP 压缩包里没有 Excel 工作簿 (不是 .xlsx 文件) / a ZIP archive without a "
            "workbook: not an .xlsx file",
        )
    root = _parse_xml(data, book_path, name)
    base = posixpath.dirname(book_path)
    rels_path = posixpath.join(base, "_rels", posixpath.basename(book_path) + ".rels")
    rels = _rel_targets(archive, rels_path, base, name, limits)
    date1904 = False
    sheets: list[tuple[str, str, bool]] = []
    for element in root.iter():
        tag = _local(element.tag)
        if tag == "workbookPr":
            date1904 = element.get("date1904", "0").lower() in ("1", "true")
        elif tag == "sheet":
            rid = next((v for k, v in element.attrib.items() if _local(k) == "id"), "")
            kind, path = rels.get(rid, ("", ""))
            if kind == "worksheet":
                hidden = element.get("state", "visible") != "visible"
                sheets.append((element.get("name", ""), path, hidden))
    extra = {kind: path for kind, path in rels.values()}
    return sheets, extra, date1904


def list_sheets(source: Path, name: str, limits: ReadLimits) -> list[tuple[str, bool]]:
    """Return the worksheets of an XLSX file, in order: (name, hidden).

    The archive is checked as :func:`open_xlsx` checks it (zip bombs, member
    counts, DTDs in the parts read).

    Raises:
        ProblemsError: as :func:`open_xlsx`.
    """
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        fail(name, f"ZIP 压缩包损坏，不是有效的 .xlsx / a damaged ZIP archive: {exc}")
    with archive:
        _check_zip(archive, name, limits)
        sheets, _extra, _date1904 = _book(archive, name, limits)
    return [(sheet_name, hidden) for sheet_name, _path, hidden in sheets]


# --------------------------------------------------------------------------- XLSX: styles

_DATE_FORMAT_IDS = frozenset({14, 15, 16, 17, 27, 28, 29, 30, 31, 36, 50, 51, 52, 53, 54, 57, 58})
_DATETIME_FORMAT_IDS = frozenset({22})
_TIME_FORMAT_IDS = frozenset({18, 19, 20, 21, 32, 33, 34, 35, 45, 46, 47, 55, 56})
_FORMAT_LITERALS = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]|_.|\*.')

_DateKind: TypeAlias = Literal["date", "datetime", "time"] | None


def _format_kind(code: str) -> _DateKind:
    """Classify a number format code: a date, a date and time, a time, or a number."""
    section = _FORMAT_LITERALS.sub("", code.split(";", 1)[0]).lower()
    has_date = "y" in section or "d" in section
    has_time = "h" in section or "s" in section
    if has_date and has_time:
        return "datetime"
    if has_date or ("m" in section and not has_time and "general" not in section):
        return "date"
    return "time" if has_time else None


def _styles(
    archive: zipfile.ZipFile, path: str | None, name: str, limits: ReadLimits
) -> tuple[_DateKind, ...]:
    data = _read_part(archive, path, name, limits) if path else None
    if data is None:
        return ()
    root = _parse_xml(data, path or "styles", name)
    custom: dict[int, _DateKind] = {}
    kinds: list[_DateKind] = []
    for element in root.iter():
        if _local(element.tag) == "numFmt":
            custom[_int(element.get("numFmtId"))] = _format_kind(element.get("formatCode", ""))
    for element in root:
        if _local(element.tag) != "cellXfs":
            continue
        for xf in element:
            number = _int(xf.get("numFmtId"))
            if number in custom:
                kinds.append(custom[number])
            elif number in _DATETIME_FORMAT_IDS:
                kinds.append("datetime")
            elif number in _DATE_FORMAT_IDS:
                kinds.append("date")
            else:
                kinds.append("time" if number in _TIME_FORMAT_IDS else None)
    return tuple(kinds)


def _int(text: str | None) -> int:
    try:
        return int(text or "0")
    except ValueError:
        return -1


# --------------------------------------------------------------------------- XLSX: XML text

_PREFIX = r"(?:[A-Za-z_][\w.-]*:)?"
_ATTR = re.compile(r"([\w:.-]+)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")
_REF = re.compile(r"([A-Za-z]{1,3})([0-9]+)")
_V_RE = re.compile(rf"<{_PREFIX}v(?:\s[^>]*)?(?:/>|>(.*?)</{_PREFIX}v\s*>)", re.S)
_F_RE = re.compile(rf"<{_PREFIX}f\b(?:[^>]*?)(?:/>|>(.*?)</{_PREFIX}f\s*>)", re.S)
_IS_RE = re.compile(rf"<{_PREFIX}is\b[^>]*?(?:/>|>(.*?)</{_PREFIX}is\s*>)", re.S)
_T_RE = re.compile(rf"<{_PREFIX}t\b[^>]*?(?:/>|>(.*?)</{_PREFIX}t\s*>)", re.S)
_RPH_RE = re.compile(rf"<{_PREFIX}(rPh|phoneticPr)\b.*?(?:/>|</{_PREFIX}\1\s*>)", re.S)
_SST_ROOT = re.compile(r"<([A-Za-z_][\w.-]*:)?sst\b")
_SI_RE = re.compile(rf"<{_PREFIX}si\b[^>]*?(?:/>|>(.*?)</{_PREFIX}si\s*>)", re.S)
_ENTITY = re.compile(r"&(?:#x([0-9A-Fa-f]{1,6})|#([0-9]{1,7})|([A-Za-z][\w.-]*));")
_PREDEFINED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}
_X_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")
_COMMENT = re.compile(r"<!--.*?-->|<\?.*?\?>", re.S)
_CDATA = re.compile(r"<!\[CDATA\[(.*?)\]\]>", re.S)


class _XmlError(Exception):
    """Raised inside the scanner; turned into a problem naming the part."""


def _unescape(text: str) -> str:
    if "&" not in text:
        return text

    def replace(match: re.Match[str]) -> str:
        hexa, decimal, entity = match.groups()
        if entity is not None:
            if entity not in _PREDEFINED:
                raise _XmlError(f"未定义的实体 &{entity}; / undefined entity &{entity};")
            return _PREDEFINED[entity]
        code = int(hexa, 16) if hexa is not None else int(decimal)
        if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            raise _XmlError(f"无效字符引用 / invalid character reference {match[0]}")
        return chr(code)

    result = _ENTITY.sub(replace, text)
    if "&" in _ENTITY.sub("", text):
        raise _XmlError("裸露的 & / a bare '&' in XML text")
    return result


def _unescape_string(text: str) -> str:
    """XML text of a string cell: entities, then Excel's _xHHHH_ escapes."""
    text = _unescape(text)
    return _x_unescape(text) if "_x" in text else text


def _x_unescape(text: str) -> str:
    """Excel's ``_xHHHH_`` escapes (text that has no XML entities)."""
    return _X_ESCAPE.sub(lambda m: chr(int(m[1], 16)), text)


def _inline_text(body: str) -> str:
    if "<rPh" in body or "phoneticPr" in body:
        body = _RPH_RE.sub("", body)
    return "".join(_unescape_string(m[1] or "") for m in _T_RE.finditer(body))


def _xml_text_chunks(
    archive: zipfile.ZipFile, member: zipfile.ZipInfo, name: str, limits: ReadLimits
) -> Iterator[str]:
    """Decompress and decode a part in chunks, refusing DTDs; bounded by the archive limits."""
    total = 0
    try:
        with archive.open(member) as handle:
            first = handle.read(READ_CHUNK)
            encoding = "utf-16" if first.startswith((b"\xff\xfe", b"\xfe\xff")) else "utf-8"
            decoder = codecs.getincrementaldecoder(encoding)("strict")
            block = first
            while True:
                total += len(block)
                if total > limits.max_unzipped_bytes:
                    fail(name, f"{member.filename} 解压后过大 / {member.filename} expands too far")
                text = decoder.decode(block, final=not block)
                if "<!" in text and ("<!DOCTYPE" in text or "<!ENTITY" in text):
                    fail(
                        name,
                        f"{member.filename} 含有 DTD 或实体声明，已拒绝 (防 billion-laughs/XXE) / "
                        f"{member.filename} declares a DTD or entities: refused",
                    )
                yield text
                if not block:
                    return
                block = handle.read(READ_CHUNK)
    except UnicodeDecodeError as exc:
        fail(name, f"{member.filename} 编码错误 / {member.filename} is not valid UTF-8: {exc}")
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError) as exc:
        fail(name, f"压缩包损坏 / damaged archive ({member.filename}): {exc}")


def _complete(chunks: Iterator[str], close_tag: str, name: str) -> Iterator[str]:
    """Regroup text chunks so each piece ends right after a ``close_tag`` (whole elements)."""
    pending = ""
    for chunk in chunks:
        pending += chunk
        cut = pending.rfind(close_tag)
        if cut < 0:
            if len(pending) > MAX_LINE_BYTES:
                fail(name, "XML 元素过大 / an XML element larger than 64 MiB")
            continue
        end = cut + len(close_tag)
        piece, pending = pending[:end], pending[end:]
        yield _cleanup(piece)
    if pending:
        yield _cleanup(pending)


def _cleanup(text: str) -> str:
    if "<!--" in text or "<?" in text:
        text = _COMMENT.sub("", text)
    if "<![CDATA[" in text:
        text = _CDATA.sub(lambda m: m[1].replace("&", "&amp;").replace("<", "&lt;"), text)
    return text


class _SharedStrings:
    """The shared-string table: a list, then (past 262,144 strings) compact joined blocks."""

    _LIST = 262_144
    _BLOCK = 4096

    def __init__(self, name: str, limits: ReadLimits) -> None:
        self._name = name
        self._limits = limits
        self.head: list[str] = []
        self._blocks: list[tuple[str, array[int]]] = []
        self._texts: list[str] = []
        self.count = 0
        self.long = False  # some string is longer than the cell limit

    def add(self, text: str) -> None:
        if len(text) > self._limits.max_cell_chars:
            self.long = True
        self.count += 1
        if self.count <= self._LIST:
            self.head.append(text)
            return
        self._texts.append(text)
        if len(self._texts) == self._BLOCK:
            self._seal()

    def _seal(self) -> None:
        offsets = array("L", [0])
        total = 0
        for text in self._texts:
            total += len(text)
            offsets.append(total)
        self._blocks.append(("".join(self._texts), offsets))
        self._texts = []

    def finish(self) -> None:
        if self._texts:
            self._seal()

    def text(self, index_text: str) -> str:
        """The string whose index is written in a cell; a missing index is refused."""
        index = _int(index_text)
        if 0 <= index < len(self.head):
            return self.head[index]
        if not self._LIST <= index < self.count:
            fail(
                self._name,
                f"共享字符串编号 {index_text!r} 不存在 / shared string {index_text!r} missing",
            )
        block, at = divmod(index - self._LIST, self._BLOCK)
        text, offsets = self._blocks[block]
        return text[offsets[at] : offsets[at + 1]]


def _shared_strings(
    archive: zipfile.ZipFile, path: str | None, name: str, limits: ReadLimits
) -> _SharedStrings:
    table = _SharedStrings(name, limits)
    member = _member(archive, path) if path else None
    if member is None:
        return table
    try:
        chunks = _xml_text_chunks(archive, member, name, limits)
        first = next(chunks, "")
        root = _SST_ROOT.search(first)
        close_tag = f"</{(root[1] or '') if root else ''}si>"
        for piece in _complete(itertools.chain([first], chunks), close_tag, name):
            for match in _SI_RE.finditer(piece):
                body = match[1] or ""
                if body.startswith("<t>") and body.endswith("</t>") and body.count("<") == 2:
                    table.add(_unescape_string(body[3:-4]))
                else:
                    table.add(_inline_text(body))
                if table.count > limits.max_rows * limits.max_columns:
                    fail(name, "共享字符串过多 / too many shared strings")
    except _XmlError as exc:
        fail(name, f"{path}: {exc}")
    table.finish()
    return table


# --------------------------------------------------------------------------- XLSX: sheet

_COLUMNS: dict[str, int] = {column_letter(i): i for i in range(26 * 27)}


def _column_index(letters: str) -> int:
    index = _COLUMNS.get(letters)
    if index is None:
        index = 0
        for ch in letters.upper():
            index = index * 26 + ord(ch) - 64
        index -= 1
    return index


# One cell: the common shapes first (``<c r="B7" s="3" t="s"><v>12</v></c>``, inline
# strings as openpyxl writes them), read without further work; anything else
# (prefixes, other attributes, formulas, rich text) by the general alternative.
_CELL_RE = re.compile(
    r'<c r="([A-Z]{1,3})[0-9]+"(?: s="([0-9]+)")?(?: t="(s|n|str|inlineStr)")?'
    r'(?:/>|>(?:<v>([^<&]*)</v>|<is><t(?: xml:space="preserve")?>([^<&]*)</t></is>)?</c>)'
    rf"|<{_PREFIX}c\b([^>]*?)(?:/>|>(.*?)</{_PREFIX}c\s*>)",
    re.S,
)
_ROW_NUMBER = re.compile(r"""\sr\s*=\s*["']?([0-9]+)""")
_NAN = Decimal("NaN")
_ROOT = re.compile(r"<([A-Za-z_][\w.-]*:)?worksheet\b")
_TAG_FOLLOW = frozenset(" \t\r\n>/")


@dataclass(slots=True)
class _SheetReader:
    name: str
    limits: ReadLimits
    strings: _SharedStrings
    styles: tuple[_DateKind, ...]
    date1904: bool
    date_styles: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        self.date_styles = frozenset(str(i) for i, kind in enumerate(self.styles) if kind)

    def rows(self, chunks: Iterator[str]) -> Iterator[Row]:
        """Stream the rows of the worksheet text (decoded chunks of the sheet part)."""
        first = next(chunks, "")
        root = _ROOT.search(first)
        prefix = (root[1] or "") if root else ""
        open_tag, close_tag = f"<{prefix}row", f"</{prefix}row>"
        pieces = _complete(itertools.chain([first], chunks), close_tag, self.name)
        count, last = 0, 0
        max_rows = self.limits.max_rows
        for piece in pieces:
            position = 0
            while (start := piece.find(open_tag, position)) >= 0:
                after = start + len(open_tag)
                tag_end = piece.find(">", after)
                if tag_end < 0 or piece[after] not in _TAG_FOLLOW:
                    if tag_end < 0:
                        fail(self.name, "工作表 XML 不完整 / the worksheet XML is truncated")
                    position = after
                    continue
                attrs = piece[after:tag_end]
                if attrs.endswith("/"):
                    body = ""
                    position = tag_end + 1
                else:
                    close = piece.find(close_tag, tag_end)
                    if close < 0:
                        fail(self.name, "工作表 XML 不完整 / the worksheet XML is truncated")
                    body = piece[tag_end + 1 : close]
                    position = close + len(close_tag)
                number_match = _ROW_NUMBER.search(attrs)
                number = int(number_match[1]) if number_match else last + 1
                last = number
                count += 1
                if count > max_rows:
                    fail(place(self.name, number), too_many_rows(self.limits))
                yield Row(number, self._cells(number, body) if body else ())

    def _cells(self, number: int, body: str) -> tuple[Cell, ...]:
        cells: list[Cell] = []
        column = -1
        shared = self.strings.head
        shared_count = len(shared)
        date_styles = self.date_styles
        columns = _COLUMNS
        for letters, style, kind, text, inline, attrs, inner in _CELL_RE.findall(body):
            value: Cell
            if letters:
                column = columns.get(letters, -1)
                if column < 0:
                    column = _column_index(letters)
                if not text:
                    if not inline:
                        continue
                    value = _x_unescape(inline) if "_x" in inline else inline
                elif kind == "s":
                    try:
                        index = int(text)
                    except ValueError:
                        index = -1
                    in_head = 0 <= index < shared_count
                    value = shared[index] if in_head else self.strings.text(text)
                elif kind == "str":
                    value = _x_unescape(text) if "_x" in text else text
                elif style and style in date_styles:
                    value = self._number(number, column, text, int(style))
                else:
                    try:
                        value = Decimal(text)
                    except InvalidOperation:
                        value = _NAN
                    if not value.is_finite():
                        value = self._number(number, column, text, 0)
            else:
                style, kind, column = self._slow_attrs(attrs, column)
                if not inner:
                    continue
                value = self._value(number, column, inner, kind or "n", _int(style))
            width = len(cells)
            if column == width:
                cells.append(value)
            elif column > width:
                if column >= self.limits.max_columns:
                    fail(
                        place(self.name, number, column),
                        too_many_columns(column + 1, self.limits),
                    )
                cells.extend([""] * (column - width))
                cells.append(value)
            else:
                cells[column] = value
        while cells and cells[-1] == "":
            cells.pop()
        if cells and self.strings.long:
            self._check_lengths(number, cells)
        return tuple(cells)

    def _check_lengths(self, number: int, cells: list[Cell]) -> None:
        for column, value in enumerate(cells):
            if isinstance(value, str) and len(value) > self.limits.max_cell_chars:
                fail(place(self.name, number, column), too_long(len(value), self.limits))

    @staticmethod
    def _slow_attrs(attrs: str, previous: int) -> tuple[str | None, str | None, int]:
        values = {key.rsplit(":", 1)[-1]: a or b for key, a, b in _ATTR.findall(attrs)}
        ref = _REF.fullmatch(values.get("r", ""))
        column = _column_index(ref[1]) if ref else previous + 1
        return values.get("s"), values.get("t"), column

    def _value(self, number: int, column: int, inner: str, kind: str, style: int) -> Cell:
        v_match = _V_RE.search(inner)
        text = (v_match[1] or "") if v_match else None
        f_match = _F_RE.search(inner)
        try:
            formula = _unescape(f_match[1] or "") if f_match else None
            value = self._convert(number, column, kind, text, formula, inner, style)
        except _XmlError as exc:
            fail(place(self.name, number, column), str(exc))
        if isinstance(value, str) and len(value) > self.limits.max_cell_chars:
            fail(place(self.name, number, column), too_long(len(value), self.limits))
        return value

    def _convert(
        self,
        number: int,
        column: int,
        kind: str,
        text: str | None,
        formula: str | None,
        inner: str,
        style: int,
    ) -> Cell:
        if formula is not None and (text is None or (text == "" and kind in ("n", "b", "e"))):
            return Uncalculated(formula)
        if kind == "n":
            return self._number(number, column, text, style) if text else ""
        if kind == "s":
            return self.strings.text(text or "")
        if kind == "inlineStr":
            is_match = _IS_RE.search(inner)
            return _inline_text(is_match[1] or "") if is_match else ""
        if kind == "str":
            return _unescape_string(text or "")
        if kind == "b":
            return (text or "").strip() in ("1", "true")
        if kind == "e":
            return CellError(_unescape(text or ""))
        where = place(self.name, number, column)
        if kind == "d":
            try:
                return datetime.fromisoformat(_unescape(text or "").strip())
            except ValueError:
                fail(where, f"日期单元格无效 / invalid date cell {text!r}")
        fail(where, f"未知的单元格类型 t={kind!r} / unknown cell type")

    def _number(self, number: int, column: int, text: str, style: int) -> Cell:
        try:
            value = Decimal(text.strip())
        except InvalidOperation:
            value = Decimal("NaN")
        if not value.is_finite():
            fail(
                place(self.name, number, column),
                f"数值单元格无效 / invalid number cell {text!r}",
            )
        date_kind = self.styles[style] if 0 <= style < len(self.styles) else None
        if date_kind is None:
            return value
        try:
            moment = excel_serial(value, date1904=self.date1904)
        except ValidationError:
            return value
        if date_kind == "date":
            return moment.date()
        if date_kind == "time" and value < 1:
            return moment.time()
        return moment


def open_xlsx(source: Path, name: str, limits: ReadLimits, sheet: int | str | None) -> Table:
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        fail(name, f"ZIP 压缩包损坏，不是有效的 .xlsx / a damaged ZIP archive: {exc}")
    try:
        _check_zip(archive, name, limits)
        book = _workbook(archive, name, limits, sheet)
        styles = _styles(archive, book.styles_path, name, limits)
        strings = _shared_strings(archive, book.strings_path, name, limits)
        member = _member(archive, book.sheet_path)
        if member is None:
            fail(name, f"工作表 {book.sheet_path} 缺失 / worksheet part missing")
    except BaseException:
        archive.close()
        raise
    reader = _SheetReader(name, limits, strings, styles, book.date1904)
    sheet_member = member

    def produce() -> Iterator[Row]:
        chunks = _xml_text_chunks(archive, sheet_member, name, limits)
        try:
            yield from reader.rows(chunks)
        except _XmlError as exc:
            fail(name, f"{book.sheet_path}: {exc}")

    return Table(
        source,
        name,
        "xlsx",
        produce,
        sheet=book.sheet_name,
        date1904=book.date1904,
        closer=archive.close,
    )
