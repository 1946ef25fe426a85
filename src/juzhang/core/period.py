"""Accounting periods (会计期间): one calendar month per period.

A period is kept as an ``int`` ``YYYYMM`` (202609) inside the library, named
:data:`~juzhang.core.types.Period` where it is made, and written ``"2026-09"``
for people.  The functions take any ``int`` ``YYYYMM`` (a column read from the
database is a plain ``int``) and return a ``Period``.
"""

from __future__ import annotations

import datetime as dt
import re

from juzhang.core.types import Period
from juzhang.errors import ValidationError

_PERIOD_RE = re.compile(r"^(\d{4})-?(\d{2})$")

ACCEPTED = "YYYY-MM（如 2026-11）或 YYYYMM（如 202611） / YYYY-MM (e.g. 2026-11) or YYYYMM"
"""The forms a period is written in, for messages."""


def parse_period(text: str | int) -> Period:
    """Parse ``"2026-09"``, ``"202609"`` or 202609.

    Only these forms are read: ``2026-1``, ``2026.11``, ``2026/9`` or
    ``2026年11月`` are refused with a message giving the accepted form, so a
    month is never read differently from what its writer meant.

    Returns:
        The period as ``YYYYMM``.

    Raises:
        ValidationError: not a month in an accepted form.
    """
    if isinstance(text, int) and not isinstance(text, bool):
        year, month = divmod(text, 100)
    else:
        m = _PERIOD_RE.match(str(text).strip())
        if not m:
            raise ValidationError(f"期间 period {text!r}", f"应写作 / write it as {ACCEPTED}")
        year, month = int(m.group(1)), int(m.group(2))
    if not (1900 <= year <= 9999 and 1 <= month <= 12):
        raise ValidationError(f"期间 period {text!r}", "不是有效月份 / not a valid month")
    return Period(year * 100 + month)


def format_period(period: int) -> str:
    """Return ``"2026-09"`` for 202609."""
    return f"{period // 100:04d}-{period % 100:02d}"


def period_of(date: dt.date) -> Period:
    """Return the period a date falls in."""
    return Period(date.year * 100 + date.month)


def next_period(period: int) -> Period:
    """Return the month after ``period``."""
    year, month = divmod(period, 100)
    return Period((year + 1) * 100 + 1 if month == 12 else period + 1)


def previous_period(period: int) -> Period:
    """Return the month before ``period``."""
    year, month = divmod(period, 100)
    return Period((year - 1) * 100 + 12 if month == 1 else period - 1)


def period_range(first: int, last: int) -> list[Period]:
    """Return every period from ``first`` to ``last`` inclusive."""
    out: list[Period] = []
    p = Period(first)
    while p <= last:
        out.append(p)
        p = next_period(p)
    return out


def first_day(period: int) -> dt.date:
    """Return the first day of the period."""
    return dt.date(period // 100, period % 100, 1)


def last_day(period: int) -> dt.date:
    """Return the last day of the period."""
    return first_day(next_period(period)) - dt.timedelta(days=1)


def parse_period_range(text: str) -> tuple[Period, Period]:
    """Parse ``"2026-01..2026-03"`` or a single ``"2026-09"`` into (first, last).

    Raises:
        ValidationError: not a month or the range runs backwards.
    """
    if ".." in text:
        a, b = text.split("..", 1)
        first, last = parse_period(a), parse_period(b)
    else:
        first = last = parse_period(text)
    if last < first:
        raise ValidationError(f"期间 period {text!r}", "结束早于开始 / range runs backwards")
    return first, last


_DATE_RE = re.compile(r"^\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*$")


def parse_date(text: str) -> dt.date:
    """Read a date: ``2026-09-05``, ``20260905``, ``2026/9/5``, ``2026.9.5`` or ``2026年9月5日``.

    Raises:
        ValidationError: not a date.
    """
    value = text.strip()
    try:
        if value.isdigit() and len(value) == 8:
            return dt.date(int(value[:4]), int(value[4:6]), int(value[6:]))
        m = _DATE_RE.match(value)
        if m:
            return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValidationError(
            f"日期 date {text!r}", "不是有效日期 / not a valid date (YYYY-MM-DD)"
        ) from None
