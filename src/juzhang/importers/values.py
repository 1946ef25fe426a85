"""Cell values (单元格取值): dates, amounts, 借/贷 flags and text as banks write them.

A cell read from a file (:mod:`juzhang.importers.reader`) is one of the
:data:`Cell` types: text (``str``, always so for CSV), an exact ``Decimal`` for a
spreadsheet number, ``bool``, ``datetime``/``date``/``time`` for cells Excel
formats as dates, :class:`Uncalculated` for a formula cell that carries no
calculated value, or :class:`CellError` for an Excel error value (``#N/A``).
No cell is ever a ``float``: the readers turn spreadsheet numbers into
``Decimal`` from their text (XLSX) or from the shortest text that round-trips
the binary double (XLS, ``repr``), so nothing is lost on the way in.

The functions here read one cell each and raise
:class:`~juzhang.errors.ValidationError` (or :class:`~juzhang.errors.MoneyError`
for amounts) with the value and the reason in Chinese and English; the bank
statement reader turns those into :class:`~juzhang.errors.Problem` values that
name the file, row and column.

* **Text** (:func:`clean_text`): surrounding spaces, tabs, newlines, full-width
  spaces (U+3000), NBSP and zero-width marks are trimmed, and Excel's
  ``="0123"`` text-forcing wrapper is unwrapped; everything else is kept
  verbatim (``=SUM(A1)`` stays text: escaping happens at export, not here).
* **Amounts** (:func:`parse_amount`): ``"1,234.56"``, ``"¥1,234.56"``,
  ``"(123.00)"`` (negative), full-width digits, through
  :func:`juzhang.money.parse_money`; ``""``, ``"-"``, ``"--"``, ``"—"``,
  ``"——"`` mean *no amount* (``None``).  A spreadsheet number is first rounded
  to the 15 significant digits Excel itself keeps and shows (so a computed
  ``0.30000000000000004`` reads as ``0.30``), then must have at most two
  decimal places.
* **Dates** (:func:`parse_date`): ``20250101``, ``2025-01-01``, ``2025/1/1``,
  ``2025.1.1``, ``2025年1月1日``, each optionally followed by a time
  (``10:20:30``, ``10:20``, ``102030``, ``10时20分30秒``, ICBC's
  ``2025-01-01-10.20.30.123456``); Excel date cells; Excel serial numbers in the
  1900 system (with its phantom 1900-02-29, refused) or the 1904 system; an
  8-digit number as ``yyyymmdd``.  Dates outside 1950..2099 are refused as
  implausible for a bank statement.
* **Direction flags** (:func:`parse_direction`): 借 / 借方 / 借 Dr / Dr / D / 支 /
  支出 / 付 / 出 / 转出 mean money out (``"debit"``: the bank debits the
  account); 贷 / 贷方 / 贷 Cr / Cr / C / 收 / 收入 / 入 / 转入 mean money in
  (``"credit"``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Literal, TypeAlias

from juzhang.errors import MoneyError, ValidationError
from juzhang.money import FEN, MAX_AMOUNT, parse_money

__all__ = [
    "DATE_MAX",
    "DATE_MIN",
    "NO_AMOUNT",
    "WHITESPACE",
    "Cell",
    "CellError",
    "Direction",
    "Uncalculated",
    "cell_text",
    "clean_text",
    "excel_serial",
    "is_blank",
    "parse_amount",
    "parse_date",
    "parse_decimal_text",
    "parse_direction",
    "parse_time",
]


@dataclass(frozen=True, slots=True)
class Uncalculated:
    """A formula cell with no calculated (cached) value (公式未计算，没有结果值).

    Excel stores each formula's last result next to it; files written by
    programs that never calculated them carry the formula only.  Reading such a
    cell as empty or zero would silently lose money, so it is its own value and
    every parser here refuses it.
    """

    formula: str

    def __str__(self) -> str:
        return f"={self.formula}"


@dataclass(frozen=True, slots=True)
class CellError:
    """An Excel error value (单元格错误值) such as ``#N/A`` or ``#DIV/0!``."""

    code: str

    def __str__(self) -> str:
        return self.code


Cell: TypeAlias = str | Decimal | bool | datetime | date | time | Uncalculated | CellError
"""One cell as the readers give it (never a float)."""

Direction: TypeAlias = Literal["debit", "credit"]
"""Money out of the account (``"debit"``, 借/支出) or into it (``"credit"``, 贷/收入)."""

DATE_MIN = date(1950, 1, 1)
DATE_MAX = date(2099, 12, 31)

NO_AMOUNT: frozenset[str] = frozenset(
    {"", "-", "--", "---", "—", "——", "－", "－－", "―", "――", "─", "-.--"}
)
"""Texts that mean *no amount* in an amount column (empty, dashes)."""

WHITESPACE = " \t\r\n\v\f\u00a0\u3000\u2002\u2003\u2009\u200b\u200c\u200d\u2060\ufeff"
"""Trimmed from both ends of text: ASCII whitespace, NBSP, ideographic space (U+3000), BOM,
zero-width marks."""
_TRIM = WHITESPACE
_EXCEL_TEXT = re.compile(r'="([^"]*)"')


# --------------------------------------------------------------------------- text


def cell_text(cell: Cell) -> str:
    """Return the cell written as text, verbatim (nothing trimmed), for keeping the raw row.

    Numbers are written in plain notation (``Decimal("1E+2")`` → ``"100"``),
    booleans as ``TRUE``/``FALSE``, dates and times in ISO form
    (``2025-01-01 10:20:30``), an uncalculated formula as ``=FORMULA`` and an
    error value as its code.  Never raises.
    """
    if isinstance(cell, str):
        return cell
    if isinstance(cell, bool):
        return "TRUE" if cell else "FALSE"
    if isinstance(cell, Decimal):
        text = str(cell)
        return format(cell, "f") if "E" in text else text
    if isinstance(cell, datetime):
        return cell.isoformat(sep=" ")
    if isinstance(cell, date | time):
        return cell.isoformat()
    return str(cell)


def clean_text(cell: Cell) -> str:
    """Return the cell as trimmed text (the one cleanup text gets on import).

    Trims spaces, tabs, newlines, full-width spaces (U+3000), NBSP and zero-width
    marks at both ends and unwraps Excel's ``="…"`` text-forcing wrapper
    (``="6222021234"`` → ``6222021234``); inner text is kept verbatim.
    Raises :class:`ValidationError` for an uncalculated formula or an Excel
    error value.
    """
    if isinstance(cell, str):
        text = cell.strip(_TRIM)
        if text.startswith('="'):
            match = _EXCEL_TEXT.fullmatch(text)
            if match is not None:
                text = match[1].strip(_TRIM)
        return text
    _refuse_special(cell)
    return cell_text(cell)


def is_blank(cell: Cell) -> bool:
    """Return True for an empty cell or one holding only whitespace (never raises)."""
    return isinstance(cell, str) and not cell.strip(_TRIM)


def _refuse_special(cell: Cell) -> None:
    if isinstance(cell, Uncalculated):
        raise ValidationError(
            repr(str(cell)),
            "公式没有计算结果，请在 Excel 中重新计算并保存 / "
            "formula without a calculated value: recalculate and save the file in Excel",
        )
    if isinstance(cell, CellError):
        raise ValidationError(repr(cell.code), "单元格是 Excel 错误值 / the cell is an Excel error")


def _fold(text: str) -> str:
    """Full-width digits and punctuation to ASCII (NFKC), for dates and flags."""
    return unicodedata.normalize("NFKC", text) if not text.isascii() else text


# --------------------------------------------------------------------------- amounts

_PLAIN_AMOUNT = re.compile(r"-?[0-9]{1,13}(?:\.[0-9]{1,2})?")
_CENTS_AMOUNT = re.compile(r"-?[0-9]{1,13}\.[0-9]{2}")
_ZERO = Decimal("0.00")


def parse_amount(cell: Cell) -> Decimal | None:
    """Read an amount of money from a cell; ``None`` when the cell holds no amount.

    Text goes through :func:`juzhang.money.parse_money` (``"1,234.56"``,
    ``"¥12"``, ``"(123.00)"`` negative, full-width digits) after
    :func:`clean_text`; empty text and dashes (:data:`NO_AMOUNT`) give ``None``.
    A spreadsheet number (``Decimal``) is rounded to 15 significant digits as
    Excel keeps them, then read exactly.  Returns a two-place ``Decimal``.
    Raises :class:`MoneyError` for text or numbers that are not money (letters,
    a third decimal place, exponents, NaN) and :class:`ValidationError` for a
    date, boolean, uncalculated formula or error value.
    """
    if isinstance(cell, str):
        text = cell.strip(_TRIM)
        if not text:
            return None
        if _CENTS_AMOUNT.fullmatch(text):  # fast path: the common "1234.56"
            amount = Decimal(text)
            return amount if amount else _ZERO
        if _PLAIN_AMOUNT.fullmatch(text):
            amount = Decimal(text)
            return _ZERO if amount == 0 else amount.quantize(FEN)
        text = clean_text(text)
        if text in NO_AMOUNT:
            return None
        return parse_money(text)
    if isinstance(cell, bool):
        raise ValidationError(repr(cell), "布尔值不是金额 / a TRUE/FALSE cell is not an amount")
    if isinstance(cell, Decimal):
        try:
            exact = cell.quantize(FEN)
        except InvalidOperation:  # too large for the context: the slow path says why
            exact = None
        if exact is not None and exact == cell and -MAX_AMOUNT <= exact <= MAX_AMOUNT:
            return exact if exact else _ZERO
        return parse_money(_excel_precision(cell))
    if isinstance(cell, date | time):
        raise ValidationError(
            repr(cell_text(cell)), "日期单元格不是金额 / a date cell is not an amount"
        )
    _refuse_special(cell)
    raise MoneyError(cell, "不是金额 / not an amount")  # pragma: no cover - Cell is exhausted


def _excel_precision(number: Decimal) -> Decimal:
    """Round a spreadsheet number to the 15 significant digits Excel keeps and shows."""
    if not number.is_finite():
        raise MoneyError(number, "不是数 / NaN or Infinity is not an amount")
    digits = number.as_tuple().digits
    if len(digits) <= 15:
        return number
    return Decimal(format(number, ".15g")).normalize()


# --------------------------------------------------------------------------- dates

_DATE_PREFIX = re.compile(
    r"(?P<y>[0-9]{4})(?:"
    r"(?P<sep>[-/.])(?P<m>[0-9]{1,2})(?P=sep)(?P<d>[0-9]{1,2})"
    r"|\s*年\s*(?P<m2>[0-9]{1,2})\s*月\s*(?P<d2>[0-9]{1,2})\s*日?"
    r"|(?P<m3>[0-9]{2})(?P<d3>[0-9]{2}))"
)
_TIME = re.compile(
    r"(?P<h>[0-9]{1,2})\s*[:.时]\s*(?P<m>[0-9]{2})\s*"
    r"(?:[:.分]\s*(?P<s>[0-9]{2})\s*秒?(?:[.,](?P<f>[0-9]{1,6}))?|分)?"
    r"|(?P<h2>[0-9]{2})(?P<m2>[0-9]{2})(?P<s2>[0-9]{2})?"
)
_ISO = re.compile(r"([0-9]{4})-?([0-9]{2})-?([0-9]{2})(?:[ T]([0-9]{2}):([0-9]{2}):([0-9]{2}))?")
_SERIAL_TEXT = re.compile(r"[0-9]{5}(?:\.[0-9]+)?")
_DAY = Decimal(86400)


def parse_date(cell: Cell, *, date1904: bool = False) -> tuple[date, time | None]:
    """Read a date, and the time of day when the cell has one.

    Returns ``(date, time)`` with ``time`` ``None`` when the cell gives no time
    (or exactly midnight in an Excel date cell, which is how Excel stores a
    date without time).  ``date1904`` selects the workbook's 1904 date system
    for serial numbers.  Raises :class:`ValidationError` naming the value and
    the reason for empty cells, unknown layouts, impossible dates (2025-02-30,
    1900-02-29), dates outside 1950..2099, and formula or error cells.
    """
    if isinstance(cell, datetime):
        moment = cell
    elif isinstance(cell, date):
        return _plausible(cell, cell), None
    elif isinstance(cell, str):
        return _date_from_text(cell, date1904)
    elif isinstance(cell, Decimal) and not isinstance(cell, bool):
        moment = _date_from_number(cell, date1904)
    elif isinstance(cell, time):
        raise ValidationError(repr(cell_text(cell)), "只有时间，没有日期 / a time without a date")
    elif isinstance(cell, bool):
        raise ValidationError(repr(cell), "布尔值不是日期 / a TRUE/FALSE cell is not a date")
    else:
        _refuse_special(cell)
        raise ValidationError(repr(cell), "不是日期 / not a date")  # pragma: no cover
    day = _plausible(cell, moment.date())
    clock = moment.time()
    return day, (None if clock == time(0) else clock)


def _date_from_text(cell: str, date1904: bool) -> tuple[date, time | None]:
    if _ISO.fullmatch(cell):  # fast path: 2025-01-01, 20250101, 2025-01-01 10:20:30
        try:
            moment = datetime.fromisoformat(cell)
        except ValueError:
            pass  # the slow path names the reason
        else:
            found = moment.date()
            if DATE_MIN <= found <= DATE_MAX:
                clock = moment.time()
                return found, (clock if len(cell) > 10 else None)
    text = _fold(clean_text(cell))
    if not text:
        raise ValidationError("''", "日期为空 / the date is empty")
    if _SERIAL_TEXT.fullmatch(text):
        moment = _date_from_number(Decimal(text), date1904)
        clock = moment.time()
        return _plausible(cell, moment.date()), (None if clock == time(0) else clock)
    match = _DATE_PREFIX.match(text)
    if match is None:
        raise ValidationError(repr(cell), "不是可识别的日期 / not a recognised date")
    month = match["m"] or match["m2"] or match["m3"]
    day = match["d"] or match["d2"] or match["d3"]
    try:
        value = date(int(match["y"]), int(month), int(day))
    except ValueError:
        raise ValidationError(repr(cell), "日期不存在 / no such date") from None
    rest = text[match.end() :].lstrip(" \tT-")
    return _plausible(cell, value), (_time_from_text(cell, rest) if rest else None)


def _date_from_number(number: Decimal, date1904: bool) -> datetime:
    integral = number == number.to_integral_value()
    if integral and 19_000_101 <= number <= 21_001_231:  # 20250101 typed as a number
        text = str(int(number))
        try:
            return datetime(int(text[:4]), int(text[4:6]), int(text[6:]))
        except ValueError:
            raise ValidationError(repr(text), "日期不存在 / no such date") from None
    return excel_serial(number, date1904=date1904)


def excel_serial(serial: Decimal, *, date1904: bool = False) -> datetime:
    """Convert an Excel serial date number to a ``datetime`` (to the second).

    In the 1900 system (the default) serial 1 is 1900-01-01 and Excel counts a
    1900-02-29 that never existed (serial 60, refused); from serial 61 on the
    count is shifted by that day.  In the 1904 system serial 0 is 1904-01-01.
    The fraction is the time of day.  Raises :class:`ValidationError` for
    serials that are negative, zero in the 1900 system, 60, or past 9999-12-31.
    """
    if not serial.is_finite() or serial < 0 or serial >= 2_958_466:
        raise ValidationError(repr(str(serial)), "不是 Excel 日期序号 / not an Excel date serial")
    days = int(serial)
    seconds = int(((serial - days) * _DAY).to_integral_value(ROUND_HALF_EVEN))
    if date1904:
        base = datetime(1904, 1, 1)
    elif days == 0:
        raise ValidationError(repr(str(serial)), "Excel 日期序号 0 不是日期 / serial 0 is no date")
    elif days == 60:
        raise ValidationError(
            repr(str(serial)),
            "1900-02-29 不存在 (Excel 1900 闰年错误) / 1900-02-29 does not exist (Excel's bug)",
        )
    else:
        base = datetime(1899, 12, 31) if days < 60 else datetime(1899, 12, 30)
    try:
        return base + timedelta(days=days, seconds=seconds)
    except OverflowError:  # pragma: no cover - bounded above
        raise ValidationError(repr(str(serial)), "日期超出范围 / date out of range") from None


def _plausible(cell: object, value: date) -> date:
    if not DATE_MIN <= value <= DATE_MAX:
        shown = cell_text(cell) if isinstance(cell, str | Decimal | date | time) else str(cell)
        raise ValidationError(
            repr(shown),
            f"日期 {value.isoformat()} 不合理 (应在 {DATE_MIN.year}–{DATE_MAX.year} 年之间) / "
            f"implausible date {value.isoformat()}",
        )
    return value


def parse_time(cell: Cell) -> time | None:
    """Read a time of day from a cell; ``None`` for an empty cell.

    Accepts ``10:20:30``, ``10:20``, ``102030``, ``10.20.30.123456``,
    ``10时20分30秒``, Excel time cells and day fractions (``0.5`` is noon).
    Raises :class:`ValidationError` for anything else.
    """
    if isinstance(cell, time):
        return cell
    if isinstance(cell, datetime):
        return cell.time()
    if isinstance(cell, Decimal) and 0 <= cell < 1:
        seconds = int((cell * _DAY).to_integral_value(ROUND_HALF_EVEN))
        return time(*_clock(min(seconds, 86399)))
    if isinstance(cell, str):
        text = _fold(clean_text(cell))
        return _time_from_text(cell, text) if text else None
    _refuse_special(cell)
    raise ValidationError(repr(cell_text(cell)), "不是时间 / not a time of day")


def _clock(seconds: int) -> tuple[int, int, int]:
    minutes, second = divmod(seconds, 60)
    hour, minute = divmod(minutes, 60)
    return hour, minute, second


def _time_from_text(cell: object, text: str) -> time:
    match = _TIME.fullmatch(text)
    if match is None:
        raise ValidationError(repr(cell), "不是可识别的时间 / not a recognised time of day")
    hour = match["h"] or match["h2"]
    minute = match["m"] or match["m2"]
    second = match["s"] or match["s2"] or "0"
    micro = (match["f"] or "").ljust(6, "0") or "0"
    try:
        return time(int(hour), int(minute), int(second), int(micro))
    except ValueError:
        raise ValidationError(repr(cell), "时间不存在 / no such time of day") from None


# --------------------------------------------------------------------------- 借/贷

_FLAG_NOISE = re.compile(r"[\s/()\[\]\-_.:]")
_DEBIT_FLAGS = frozenset(
    {"借", "借方", "借dr", "dr", "d", "debit", "支", "支出", "付", "付出", "出", "转出", "支取"}
)
_CREDIT_FLAGS = frozenset(
    {"贷", "贷方", "贷cr", "cr", "c", "credit", "收", "收入", "入", "转入", "存入"}
)


def parse_direction(cell: Cell) -> Direction | None:
    """Read a 借/贷 (debit/credit) flag; ``None`` for an empty cell.

    ``"debit"`` is money out of the account as the bank books it (借, 借方,
    借 Dr, Dr, D, 支, 支出, 付, 出, 转出, 支取), ``"credit"`` money in (贷,
    贷方, 贷 Cr, Cr, C, 收, 收入, 入, 转入, 存入); case, spaces and full-width
    forms do not matter.  Raises :class:`ValidationError` for anything else.
    """
    text = clean_text(cell)
    if not text:
        return None
    key = _FLAG_NOISE.sub("", _fold(text)).lower()
    if key in _DEBIT_FLAGS:
        return "debit"
    if key in _CREDIT_FLAGS:
        return "credit"
    raise ValidationError(
        repr(text), "不是借贷标志 (借/贷, Dr/Cr, 收/支) / not a debit/credit flag"
    )


def parse_decimal_text(text: str) -> Decimal:
    """Read a spreadsheet number written as text (``"1234.5"``, ``"1.5E-3"``) exactly.

    Raises :class:`ValidationError` if the text is not a finite number.
    """
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValidationError(repr(text), "不是数字 / not a number") from None
    if not number.is_finite():
        raise ValidationError(repr(text), "不是数字 / not a number")
    return number
