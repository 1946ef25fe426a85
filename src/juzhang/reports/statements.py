"""Financial statements (会计报表): the balance sheet and the income statement, per chart.

Each chart comes with its regulation's forms, and the forms are **data**: the
line items (行次, 项目), which accounts add or subtract on each line, and the
subtotals and totals live in TOML files next to this module
(``layouts/<chart>.<statement>.toml``), one per chart and statement:

* ``balance-sheet`` — 资产负债表, with an opening column (年初, or 期初 when asked
  for another starting month) and a closing column (期末);
* ``income`` — 收益及收益分配表 (rural charts) or 业务活动表 (non-profit chart), with
  a 本月 (or 本期) column and a 本年累计 column; the non-profit form splits each
  into 非限定性 / 限定性 / 合计.

An account is never identified by its code alone across charts: a layout names
the chart it belongs to and is checked against that chart when loaded.

JSON (``to_json()``), stable schema, amounts as decimal strings::

    {"entity", "entity_name", "chart", "statement": "balance-sheet"|"income",
     "title", "form", "period", "notes": [text], "columns": [{"key", "label", "part"}],
     "sections": [{"key", "label", "lines": [{"row", "item", "indent",
                   "values": {column key: amount} | null}]}],
     # balance sheet: "opening_period", "balanced", "difference": {column key: amount}
     # income statement: "current_period", "cumulative_period"}

``notes`` are the form's printed notes (附注): what a line was checked
against, and what the form does not compute.  A line that ``requires`` an
optional account (可增设科目) is left out for an entity without it.

Split columns have keys ``current.unrestricted``, ``current.restricted``,
``current.total`` (and the same for ``cumulative``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, and_, func, select

from juzhang import clock
from juzhang.core.period import format_period, next_period
from juzhang.core.types import Side, VoucherStatus
from juzhang.errors import ValidationError
from juzhang.money import from_fen
from juzhang.reports.layout import (
    PARTS,
    STATEMENTS,
    AccountTree,
    Figures,
    Layout,
    LayoutColumn,
    LayoutLine,
    LayoutSection,
    Term,
    evaluate,
    load_layout,
    parse_layout,
    parse_term,
    restricted_terms,
    total_terms,
)
from juzhang.reports.ledger import Balances, read_balances, year_start
from juzhang.storage.access import EntityInfo, accounts_of, get_entity
from juzhang.storage.schema import Voucher, VoucherLine

__all__ = [
    "STATEMENTS",
    "BalanceSheet",
    "IncomeStatement",
    "Layout",
    "LayoutColumn",
    "LayoutLine",
    "LayoutSection",
    "Statement",
    "StatementColumn",
    "StatementLine",
    "StatementSection",
    "Term",
    "balance_sheet",
    "income_statement",
    "load_layout",
    "parse_layout",
    "parse_term",
]


def _closing_moves(
    session: Connection, entity_id: int, first: int, last: int
) -> dict[str, dict[int, tuple[int, int]]]:
    """Debit and credit of posted closing vouchers (结转) per account and month."""
    rows = session.execute(
        select(
            VoucherLine.account_code,
            Voucher.period,
            VoucherLine.side,
            func.sum(VoucherLine.amount_fen),
        )
        .join(
            Voucher,
            and_(Voucher.entity_id == VoucherLine.entity_id, Voucher.id == VoucherLine.voucher_id),
        )
        .where(
            VoucherLine.entity_id == entity_id,
            Voucher.status == VoucherStatus.POSTED,
            Voucher.kind == "closing",
            Voucher.period >= first,
            Voucher.period <= last,
        )
        .group_by(VoucherLine.account_code, Voucher.period, VoucherLine.side)
    )
    out: dict[str, dict[int, tuple[int, int]]] = defaultdict(dict)
    for code, period, side, total in rows:
        d, c = out[code].get(int(period), (0, 0))
        out[code][int(period)] = (d + int(total), c) if side == Side.DEBIT else (d, c + int(total))
    return out


def _figures(
    balances: Balances,
    closing: Mapping[str, Mapping[int, tuple[int, int]]],
    codes: Sequence[str],
    first: int,
    last: int,
) -> Figures:
    """The figures of every code over ``first..last`` (movements without closing vouchers)."""
    opening, end, debit, credit = {}, {}, {}, {}
    after = next_period(last)
    for code in codes:
        opening[code] = balances.balance_before([code], first)
        end[code] = balances.balance_before([code], after)
        d, c = balances.flows([code], first, last)
        for p, (cd, cc) in closing.get(code, {}).items():
            if first <= p <= last:
                d -= cd
                c -= cc
        debit[code], credit[code] = d, c
    return Figures(opening, end, debit, credit)


# --------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class StatementColumn:
    """A figure column: ``key`` (e.g. ``closing``, ``current.restricted``), label, split part."""

    key: str
    label: str
    part: str | None


@dataclass(frozen=True, slots=True)
class StatementLine:
    """A line of a statement; ``values`` follow the statement's columns (``None``: heading)."""

    row: int | None
    item: str
    indent: int
    values: tuple[Decimal, ...] | None


@dataclass(frozen=True, slots=True)
class StatementSection:
    """A part of a statement with its lines."""

    key: str
    label: str
    lines: tuple[StatementLine, ...]


@dataclass(frozen=True, slots=True)
class Statement:
    """A computed statement: what balance sheets and income statements share.

    ``notes`` are printed under the form (what is not computed, and why).
    """

    entity: str
    entity_name: str
    chart: str
    statement: str
    title: str
    form: str
    columns: tuple[StatementColumn, ...]
    sections: tuple[StatementSection, ...]
    notes: tuple[str, ...]

    def line(self, row: int) -> StatementLine:
        """Return the line with this 行次 (KeyError when absent)."""
        for section in self.sections:
            for ln in section.lines:
                if ln.row == row:
                    return ln
        raise KeyError(row)

    def value(self, row: int, column: str) -> Decimal:
        """Return the figure of line ``row`` in column ``column`` (KeyError when absent)."""
        keys = [c.key for c in self.columns]
        if column not in keys:
            raise KeyError(column)
        values = self.line(row).values
        assert values is not None  # numbered lines always carry figures
        return values[keys.index(column)]

    def _json(self) -> dict[str, Any]:
        keys = [c.key for c in self.columns]
        return {
            "entity": self.entity,
            "entity_name": self.entity_name,
            "chart": self.chart,
            "statement": self.statement,
            "title": self.title,
            "form": self.form,
            "notes": list(self.notes),
            "columns": [{"key": c.key, "label": c.label, "part": c.part} for c in self.columns],
            "sections": [
                {
                    "key": s.key,
                    "label": s.label,
                    "lines": [
                        {
                            "row": ln.row,
                            "item": ln.item,
                            "indent": ln.indent,
                            "values": None
                            if ln.values is None
                            else {k: str(v) for k, v in zip(keys, ln.values, strict=True)},
                        }
                        for ln in s.lines
                    ],
                }
                for s in self.sections
            ],
        }


@dataclass(frozen=True, slots=True)
class BalanceSheet(Statement):
    """资产负债表: balances at the start of ``opening_period`` and at the end of ``period``."""

    period: int
    opening_period: int
    total_assets_row: int
    total_claims_row: int

    def difference(self, column: str) -> Decimal:
        """资产总计 minus 负债和所有者权益（净资产）总计 in one column (0 when balanced)."""
        return self.value(self.total_assets_row, column) - self.value(self.total_claims_row, column)

    @property
    def balanced(self) -> bool:
        """Whether assets equal liabilities plus equity (net assets) in every column."""
        return all(self.difference(c.key) == 0 for c in self.columns)

    def to_json(self) -> dict[str, Any]:
        """Return the documented JSON form (see the module docstring)."""
        out = self._json()
        out["period"] = format_period(self.period)
        out["opening_period"] = format_period(self.opening_period)
        out["balanced"] = self.balanced
        out["difference"] = {c.key: str(self.difference(c.key)) for c in self.columns}
        return out


@dataclass(frozen=True, slots=True)
class IncomeStatement(Statement):
    """收益及收益分配表 / 业务活动表: ``first..last`` (本月/本期) and the year to ``last``."""

    first: int
    last: int
    year_first: int

    def to_json(self) -> dict[str, Any]:
        """Return the documented JSON form (see the module docstring)."""
        out = self._json()
        a, b = format_period(self.first), format_period(self.last)
        out["period"] = b
        out["current_period"] = a if a == b else f"{a}..{b}"
        out["cumulative_period"] = f"{format_period(self.year_first)}..{b}"
        return out


def _lines(
    layout: Layout, per_column: Sequence[dict[int, int]], tree: AccountTree
) -> tuple[StatementSection, ...]:
    return tuple(
        StatementSection(
            s.key,
            s.label,
            tuple(
                StatementLine(
                    ln.row,
                    ln.item,
                    ln.indent,
                    None
                    if ln.row is None
                    else tuple(from_fen(values[ln.row]) for values in per_column),
                )
                for ln in s.lines
                if ln.requires is None or ln.requires in tree.accounts
            ),
        )
        for s in layout.sections
    )


def _setup(
    session: Connection, entity: str, statement: str
) -> tuple[EntityInfo, Layout, AccountTree]:
    ent = get_entity(session, entity)
    layout = load_layout(ent.chart, statement)
    return ent, layout, AccountTree(accounts_of(session, ent.id))


def balance_sheet(
    session: Connection, entity: str, period: int, *, since: int | None = None
) -> BalanceSheet:
    """Compute the balance sheet (资产负债表) of ``entity`` at the end of ``period``.

    The opening column holds the balances at the start of ``since``; by default
    the start of ``period``'s year (年初), or the month the books start if that
    is later.  The form is the entity's chart's layout.  A column takes its
    ``alt_label`` when it covers another range than the form's: the opening
    column when ``since`` is given, the closing column (年末数 on 村会01表) for a
    month other than December (期末数).

    Raises:
        NotFoundError: unknown entity.
        ValidationError: ``since`` is after ``period``, or ``period`` is before
            the books start or after the current month.
    """
    ent, layout, tree = _setup(session, entity, "balance-sheet")
    clock.require_report_months(ent.code, ent.start_period, period, period)
    default = year_start(period, ent.start_period)
    first = default if since is None else since
    if first > period:
        raise ValidationError(
            f"期间 period {format_period(first)}..{format_period(period)}",
            "结束早于开始 / range runs backwards",
        )
    balances = read_balances(session, ent.id, period)
    codes = sorted(tree.accounts)
    figures = _figures(balances, {}, codes, first, period)
    points = {
        "opening": Figures({}, figures.opening, {}, {}),
        "closing": Figures({}, figures.closing, {}, {}),
    }
    per_column = [evaluate(layout, total_terms, tree.valuer(points[c.key])) for c in layout.columns]
    full = {"opening": first == default, "closing": period % 100 == 12}
    columns = tuple(
        StatementColumn(c.key, c.label if full[c.key] else c.alt_label, None)
        for c in layout.columns
    )
    assert layout.total_assets is not None and layout.total_claims is not None
    return BalanceSheet(
        entity=ent.code,
        entity_name=ent.name,
        chart=ent.chart,
        statement=layout.statement,
        title=layout.title,
        form=layout.form,
        columns=columns,
        sections=_lines(layout, per_column, tree),
        notes=layout.notes,
        period=period,
        opening_period=first,
        total_assets_row=layout.total_assets,
        total_claims_row=layout.total_claims,
    )


def income_statement(
    session: Connection, entity: str, period: int, *, since: int | None = None
) -> IncomeStatement:
    """Compute the income statement (收益及收益分配表 / 业务活动表) of ``entity``.

    Columns: 本月 (the month ``period``; 本期 ``since..period`` when ``since`` is
    given) and 本年累计 (from January, or the month the books start if later,
    to ``period``).  Closing vouchers (kind ``closing``) are left out of the
    movements, so carried-forward income still shows.  With the non-profit
    form each column is split 非限定性 / 限定性 / 合计.

    Raises:
        NotFoundError: unknown entity.
        ValidationError: ``since`` is after ``period``, or the range is before
            the books start or after the current month.
    """
    ent, layout, tree = _setup(session, entity, "income")
    first = period if since is None else since
    clock.require_report_months(ent.code, ent.start_period, min(first, period), period)
    if first > period:
        raise ValidationError(
            f"期间 period {format_period(first)}..{format_period(period)}",
            "结束早于开始 / range runs backwards",
        )
    year_first = year_start(period, ent.start_period)
    ranges = {"current": (first, period), "cumulative": (year_first, period)}
    balances = read_balances(session, ent.id, period)
    closing = _closing_moves(session, ent.id, min(first, year_first), period)
    codes = sorted(tree.accounts)
    per_column: list[dict[int, int]] = []
    columns: list[StatementColumn] = []
    for col in layout.columns:
        a, b = ranges[col.key]
        figures = _figures(balances, closing, codes, a, b)
        label = col.label if col.key == "cumulative" or a == b else col.alt_label
        total = evaluate(layout, total_terms, tree.valuer(figures))
        if layout.split is None:
            per_column.append(total)
            columns.append(StatementColumn(col.key, label, None))
            continue
        restricted = evaluate(layout, restricted_terms, tree.valuer(figures))
        unrestricted = {row: total[row] - restricted[row] for row in total}
        for part, label_part, values in zip(
            PARTS, layout.split, (unrestricted, restricted, total), strict=True
        ):
            per_column.append(values)
            columns.append(StatementColumn(f"{col.key}.{part}", label, label_part))
    return IncomeStatement(
        entity=ent.code,
        entity_name=ent.name,
        chart=ent.chart,
        statement=layout.statement,
        title=layout.title,
        form=layout.form,
        columns=tuple(columns),
        sections=_lines(layout, per_column, tree),
        notes=layout.notes,
        first=first,
        last=period,
        year_first=year_first,
    )
