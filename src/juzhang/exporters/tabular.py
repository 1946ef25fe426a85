"""JSON and CSV exports of every report, with documented, stable schemas.

**JSON** is each result's own ``to_json()`` (documented in
:mod:`juzhang.reports.trial_balance`, :mod:`juzhang.reports.ledger` and
:mod:`juzhang.reports.statements`), written as UTF-8 with ``ensure_ascii``
off and an indent of 2.  Amounts are decimal strings with two places
(``"-350.00"``), balances signed debit positive.  The trial balance has, per
account, ``code``, ``name``, ``level``, ``opening_balance``, ``debit``,
``credit`` and ``closing_balance``, and ``totals`` with ``balanced``.

**CSV** is one table per report: one header row of the column keys below, then
one row per line of the report, in the report's order.  Files are UTF-8 with
a byte-order mark (so a Chinese Excel opens them as UTF-8), comma separated,
``\\r\\n`` line ends, quoted where needed (RFC 4180).  Amounts are decimal
strings with two places and a ``-`` sign, never thousands separators; an
absent amount (the empty side of a line) is an empty cell; booleans are
``true``/``false``; dates ``YYYY-MM-DD``; periods ``YYYY-MM``.

*CSV injection*: a **text** cell (a name, 摘要, counterparty, …) that starts
with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is written with a
leading apostrophe (``'=1+1``) so that a spreadsheet opening the file never
evaluates it as a formula.  This is done **only in CSV** (an xlsx cell is
typed text and needs no escape; JSON is data) and never to amounts, so
``-350.00`` stays a number.  A reader that wants the original text drops one
leading apostrophe from text cells that start with ``'`` followed by one of
those characters.

Columns per report:

* trial balance (科目余额表): ``code, name, level, opening_balance, debit,
  credit, closing_balance`` — every account at every level (as in JSON);
* general ledger (总账): ``code, name, kind, period, summary, debit, credit,
  direction, balance`` — per first-level account an ``opening`` row, then per
  month a ``month_total`` (本月合计) and a ``year_total`` (本年累计) row;
* subsidiary ledger (明细账): ``kind, period, date, voucher, account,
  summary, debit, credit, direction, balance`` — the JSON rows (``kind``
  ``opening``/``line``/``month_total``/``year_total``);
* cash and bank journals (现金/银行日记账): ``account, account_name, kind,
  period, date, entry, vouchers, summary, counterparty, reference, receipt,
  payment, balance, backed, ledger_balance, difference`` — per account an
  ``opening`` row, the ``entry`` rows of each month and its ``month_total``
  and ``year_total`` rows; ``ledger_balance`` (the ledger's balance of the
  account) and ``difference`` (journal minus ledger) are filled on
  ``month_total`` rows; ``vouchers`` lists the posted vouchers backing an
  entry as ``YYYY-MM 记-0001``, separated by ``; ``; ``backed`` is filled on
  entries only;
* balance sheet and income statement: ``section, row, item, indent`` and one
  column per figure column of the statement, keyed as in JSON (``opening``,
  ``closing``; ``current``, ``cumulative``; or ``current.unrestricted`` …);
  a heading has an empty ``row`` and empty figures.

Balances in CSV are signed debit positive, as in JSON (the Excel forms show
them as 借/贷 and a magnitude instead).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from juzhang.core.period import format_period
from juzhang.exporters.json_text import render_json, write_json
from juzhang.reports.ledger import (
    CustodyJournal,
    CustodyJournalAccount,
    GeneralLedger,
    SubsidiaryLedger,
    VoucherRef,
    direction,
)
from juzhang.reports.statements import Statement
from juzhang.reports.trial_balance import TrialBalance

if TYPE_CHECKING:
    from juzhang.exporters.shared import Report

__all__ = [
    "FORMULA_PREFIXES",
    "Cell",
    "CsvTable",
    "JournalRow",
    "csv_table",
    "csv_text",
    "journal_rows",
    "render_csv",
    "render_json",
    "voucher_refs",
    "write_csv",
    "write_json",
]

Cell: TypeAlias = str | Decimal | int | bool | dt.date | None
"""A typed cell value before it is written as text."""

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
"""Text starting with one of these could become a formula in a spreadsheet."""


def csv_text(text: str) -> str:
    """Return ``text`` safe for a CSV cell: a leading apostrophe before a formula prefix."""
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def _cell_text(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return csv_text(value)


@dataclass(frozen=True, slots=True)
class CsvTable:
    """A report flattened to one table: column keys and typed rows."""

    header: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]


# --------------------------------------------------------------------------- JSON


# --------------------------------------------------------------------------- CSV


def render_csv(report: Report, *, bom: bool = False) -> str:
    """Return the report as CSV text (see the module docstring), with a BOM when asked."""
    table = csv_table(report)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(table.header)
    for row in table.rows:
        writer.writerow([_cell_text(v) for v in row])
    return ("\ufeff" if bom else "") + buffer.getvalue()


def write_csv(report: Report, path: Path) -> None:
    """Write the report as CSV to ``path``: UTF-8 with a byte-order mark.

    Raises:
        OSError: the file cannot be written.
    """
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write(render_csv(report, bom=True))


def csv_table(report: Report) -> CsvTable:
    """Flatten a report into its CSV table (typed cells; see the module docstring).

    Raises:
        TypeError: not a report this module knows.
    """
    if isinstance(report, TrialBalance):
        return _trial_balance(report)
    if isinstance(report, GeneralLedger):
        return _general_ledger(report)
    if isinstance(report, SubsidiaryLedger):
        return _subsidiary_ledger(report)
    if isinstance(report, CustodyJournal):
        return _custody_journal(report)
    if isinstance(report, Statement):
        return _statement(report)
    raise TypeError(f"not a report: {type(report).__name__}")


def _trial_balance(tb: TrialBalance) -> CsvTable:
    header = ("code", "name", "level", "opening_balance", "debit", "credit", "closing_balance")
    rows = tuple(
        (r.code, r.name, r.level, r.opening_balance, r.debit, r.credit, r.closing_balance)
        for r in tb.rows
    )
    return CsvTable(header, rows)


def _general_ledger(gl: GeneralLedger) -> CsvTable:
    header = (
        "code",
        "name",
        "kind",
        "period",
        "summary",
        "debit",
        "credit",
        "direction",
        "balance",
    )
    rows: list[tuple[Cell, ...]] = []
    for a in gl.accounts:
        rows.append(
            (
                a.code,
                a.name,
                "opening",
                format_period(gl.first),
                a.opening_label,
                None,
                None,
                direction(a.opening_balance),
                a.opening_balance,
            )
        )
        for m in a.months:
            p = format_period(m.period)
            rows.append(
                (
                    a.code,
                    a.name,
                    "month_total",
                    p,
                    "本月合计",
                    m.debit,
                    m.credit,
                    m.direction,
                    m.closing_balance,
                )
            )
            rows.append(
                (
                    a.code,
                    a.name,
                    "year_total",
                    p,
                    "本年累计",
                    m.ytd_debit,
                    m.ytd_credit,
                    m.direction,
                    m.closing_balance,
                )
            )
    return CsvTable(header, tuple(rows))


def _subsidiary_ledger(sl: SubsidiaryLedger) -> CsvTable:
    header = (
        "kind",
        "period",
        "date",
        "voucher",
        "account",
        "summary",
        "debit",
        "credit",
        "direction",
        "balance",
    )
    rows = tuple(
        (
            r.kind,
            format_period(r.period),
            r.date,
            r.voucher,
            r.account,
            r.summary,
            r.debit,
            r.credit,
            r.direction,
            r.balance,
        )
        for r in sl.rows
    )
    return CsvTable(header, rows)


# --------------------------------------------------------------------------- custody journals


@dataclass(frozen=True, slots=True)
class JournalRow:
    """A row of a cash or bank journal as the forms print it (Excel and CSV share it).

    ``kind`` is ``opening``, ``entry``, ``month_total`` (本月合计) or
    ``year_total`` (本年累计).  ``ledger_balance`` and ``difference`` (journal
    minus ledger, 账账核对) are set on ``month_total`` rows; ``backed`` and
    ``entry`` on entries.
    """

    kind: str
    period: int
    summary: str
    balance: Decimal
    date: dt.date | None = None
    entry: int | None = None
    vouchers: tuple[VoucherRef, ...] = ()
    counterparty: str = ""
    reference: str = ""
    receipt: Decimal | None = None
    payment: Decimal | None = None
    backed: bool | None = None
    ledger_balance: Decimal | None = None
    difference: Decimal | None = None


def voucher_refs(refs: Sequence[VoucherRef], *, period: int | None = None, sep: str = "; ") -> str:
    """Return ``"2026-09 记-0003; 2026-10 记-0005"``; refs in ``period`` show the label only."""
    return sep.join(
        r.voucher if r.period == period else f"{format_period(r.period)} {r.voucher}" for r in refs
    )


def journal_rows(journal: CustodyJournal, account: CustodyJournalAccount) -> list[JournalRow]:
    """Return the rows of one account's journal: opening, entries, monthly totals.

    Each month's entries are followed by its 本月合计 and 本年累计 rows.
    """
    label = "上年结转" if journal.first % 100 == 1 else "期初余额"
    rows = [JournalRow("opening", journal.first, label, account.opening_balance)]
    by_period: dict[int, list[JournalRow]] = {}
    for e in account.entries:
        by_period.setdefault(e.period, []).append(
            JournalRow(
                "entry",
                e.period,
                e.summary,
                e.balance,
                date=e.date,
                entry=e.id,
                vouchers=e.vouchers,
                counterparty=e.counterparty,
                reference=e.reference,
                receipt=e.receipt,
                payment=e.payment,
                backed=e.backed,
            )
        )
    for m in account.months:
        rows.extend(by_period.get(m.period, []))
        rows.append(
            JournalRow(
                "month_total",
                m.period,
                "本月合计",
                m.closing_balance,
                receipt=m.receipts,
                payment=m.payments,
                ledger_balance=m.ledger_closing_balance,
                difference=m.difference,
            )
        )
        rows.append(
            JournalRow(
                "year_total",
                m.period,
                "本年累计",
                m.closing_balance,
                receipt=m.ytd_receipts,
                payment=m.ytd_payments,
            )
        )
    return rows


def _custody_journal(journal: CustodyJournal) -> CsvTable:
    header = (
        "account",
        "account_name",
        "kind",
        "period",
        "date",
        "entry",
        "vouchers",
        "summary",
        "counterparty",
        "reference",
        "receipt",
        "payment",
        "balance",
        "backed",
        "ledger_balance",
        "difference",
    )
    rows: list[tuple[Cell, ...]] = []
    for a in journal.accounts:
        for r in journal_rows(journal, a):
            rows.append(
                (
                    a.code,
                    a.name,
                    r.kind,
                    format_period(r.period),
                    r.date,
                    r.entry,
                    voucher_refs(r.vouchers),
                    r.summary,
                    r.counterparty,
                    r.reference,
                    r.receipt,
                    r.payment,
                    r.balance,
                    r.backed,
                    r.ledger_balance,
                    r.difference,
                )
            )
    return CsvTable(header, tuple(rows))


# --------------------------------------------------------------------------- statements


def _statement(st: Statement) -> CsvTable:
    keys = tuple(c.key for c in st.columns)
    header = ("section", "row", "item", "indent", *keys)
    rows: list[tuple[Cell, ...]] = []
    for section in st.sections:
        for ln in section.lines:
            values: tuple[Cell, ...] = (
                tuple(None for _ in keys) if ln.values is None else tuple(ln.values)
            )
            rows.append((section.key, ln.row, ln.item, ln.indent, *values))
    return CsvTable(header, tuple(rows))
