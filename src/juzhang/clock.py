"""The clock (今天): the books know today's date.

A month can be closed only after its last day, nothing can be dated after
today, and reports are for months that have begun.  "Today" is the calendar
date in the agency's time zone, :data:`TIMEZONE` (Asia/Shanghai, 北京时间),
whatever time zone the machine runs in.

Tests and the demo fix the date:

* in Python, ``with clock.fixed(date): ...`` (or :func:`set_today`, and
  ``set_today(None)`` to go back to the real date);
* for a separate process (the ``juzhang`` command in a subprocess test, the
  demo's scripted month), the environment variable :data:`ENV_TODAY`
  (``JUZHANG_TODAY=2027-06-30``).  It is a **test and demo facility**, not a
  setting: the command line prints a warning on stderr whenever it is in
  force (:func:`override_warning`), so it cannot silently fake dates.

The override set in Python wins over the environment variable.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from contextlib import contextmanager
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from juzhang.errors import ValidationError

__all__ = [
    "ENV_TODAY",
    "TIMEZONE",
    "fixed",
    "future_problem",
    "now",
    "override_warning",
    "require_report_months",
    "set_today",
    "today",
]

TIMEZONE = "Asia/Shanghai"
"""The agency's time zone; the date changes at midnight Beijing time."""

ENV_TODAY = "JUZHANG_TODAY"
"""Environment variable fixing today's date (``YYYY-MM-DD``), for tests and the demo only."""

_fixed: dt.date | None = None


def _zone() -> dt.tzinfo:
    try:
        return ZoneInfo(TIMEZONE)
    except ZoneInfoNotFoundError:  # no tz database on the machine: China has no DST
        return dt.timezone(dt.timedelta(hours=8), "CST")


def _from_env() -> dt.date | None:
    text = os.environ.get(ENV_TODAY, "").strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValidationError(
            f"{ENV_TODAY}={text!r}", "应为 YYYY-MM-DD / expected YYYY-MM-DD"
        ) from None


def now() -> dt.datetime:
    """Return the current time in :data:`TIMEZONE` (the real clock, never fixed)."""
    return dt.datetime.now(_zone())


def today() -> dt.date:
    """Return today's date: the fixed date if one is set, else the date in :data:`TIMEZONE`.

    Raises:
        ValidationError: :data:`ENV_TODAY` is set but is not a date.
    """
    if _fixed is not None:
        return _fixed
    return _from_env() or now().date()


def set_today(date: dt.date | None) -> None:
    """Fix today's date for this process (``None``: back to the real date)."""
    global _fixed
    _fixed = date


@contextmanager
def fixed(date: dt.date) -> Iterator[dt.date]:
    """Fix today's date inside the ``with`` block, then restore what was before."""
    before = _fixed
    set_today(date)
    try:
        yield date
    finally:
        set_today(before)


def future_problem(date: dt.date, on: dt.date | None = None) -> str | None:
    """Return why ``date`` cannot be booked on ``on`` (default: :func:`today`), or ``None``.

    Nothing that happened can be dated after today: an entry, a voucher or a
    cash count dated in the future is refused with this message.
    """
    on = today() if on is None else on
    if date <= on:
        return None
    return f"日期 {date} 晚于今天 {on} / dated after today ({on})"


def require_report_months(entity: str, start_period: int, first: int, last: int) -> None:
    """Refuse a report for months before the books start or after the current month.

    A report of a month before ``start_period`` would show the opening
    balances as if they had been there; one after today's month shows a
    month that has not begun.

    Raises:
        ValidationError: ``first`` is before the books start, or ``last`` is
            after the month of :func:`today`.
    """
    current = today().year * 100 + today().month
    if first < start_period:
        raise ValidationError(
            f"{entity} 报表期间 report period {_label(first)}",
            f"早于建账月份 {_label(start_period)}"
            f" / before the books start ({_label(start_period)})",
        )
    if last > current:
        raise ValidationError(
            f"{entity} 报表期间 report period {_label(last)}",
            f"晚于本月 {_label(current)}（今天 {today()}）"
            f" / after the current month {_label(current)} (today is {today()})",
        )


def _label(period: int) -> str:
    return f"{period // 100:04d}-{period % 100:02d}"


def override_warning() -> str | None:
    """Return the warning the command line prints when :data:`ENV_TODAY` fixes the date.

    ``None`` when the variable is not set, or when a date fixed in Python
    (:func:`fixed`, :func:`set_today`) is in force instead of it.
    """
    text = os.environ.get(ENV_TODAY, "").strip()
    if not text or _fixed is not None:
        return None
    return (
        f"注意：{ENV_TODAY}={text} 固定了今天的日期（仅供测试和演示）"
        f" / warning: {ENV_TODAY}={text} fixes today's date (a test and demo facility)"
    )
