"""Lists for people and scripts: one renderer for every list command (``--format table|json|csv``).

A list is a sequence of rows and a tuple of :class:`Col` (key, heading,
kind).  :func:`emit` writes it to stdout as

* ``table``: a rich table for people; an amount, a date or a number is never
  cut (``no_wrap`` and a minimum width of its longest value), long text folds;
* ``json``: a list of objects keyed by the columns' keys (amounts as exact
  decimal strings, dates ISO 8601, ids as numbers);
* ``csv``: a header of keys and one line per row (RFC 4180, UTF-8);
* ``tsv``: plain tab-separated text with a header of keys, the default when
  stdout is not a terminal (so a pipe or a file never gets a squeezed table).

Without ``--format`` the list is a table on a terminal and ``tsv`` otherwise.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any

import typer

from juzhang.cli._common import console
from juzhang.money import format_amount

if TYPE_CHECKING:
    from rich.table import Table

__all__ = ["FORMATS", "Col", "ListFormat", "emit", "render"]

FORMATS = ("table", "json", "csv", "tsv")

ListFormat = Annotated[
    str | None,
    typer.Option(
        "--format",
        metavar="table|json|csv|tsv",
        help="输出格式（非终端默认 tsv） / output format (tsv when stdout is not a terminal)",
    ),
]


@dataclass(frozen=True, slots=True)
class Col:
    """A column: the key scripts read, the heading people read, and its kind.

    ``kind`` is ``text`` (folds when narrow), ``amount`` (right-aligned,
    ``28,500.00`` in a table, ``28500.00`` elsewhere), ``date`` or ``number``.
    """

    key: str
    heading: str
    kind: str = "text"


def _plain(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _shown(value: Any, kind: str) -> str:
    if kind == "amount" and isinstance(value, Decimal):
        return format_amount(value)
    if isinstance(value, bool):
        return "✓" if value else ""
    return _plain(value)


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def table_of(cols: Sequence[Col], rows: Sequence[Mapping[str, Any]], title: str | None) -> Table:
    """The rich table of a list: amounts, dates and numbers are never cut."""
    from rich.table import Column, Table  # noqa: PLC0415 — start-up time: JSON, CSV draw no table

    columns = []
    for c in cols:
        if c.kind == "text":
            columns.append(Column(c.heading, overflow="fold"))
            continue
        widest = max((len(_shown(r.get(c.key), c.kind)) for r in rows), default=0)
        columns.append(
            Column(
                c.heading,
                justify="right" if c.kind in ("amount", "number") else "left",
                no_wrap=True,
                min_width=max(widest, 1),
            )
        )
    table = Table(*columns, title=title)
    for r in rows:
        table.add_row(*(_shown(r.get(c.key), c.kind) for c in cols))
    return table


def render(
    cols: Sequence[Col], rows: Sequence[Mapping[str, Any]], fmt: str, title: str | None = None
) -> str:
    """Return a list as text in ``json``, ``csv`` or ``tsv`` (``table``: see :func:`emit`)."""
    if fmt == "json":
        data = [{c.key: _json_value(r.get(c.key)) for c in cols} for r in rows]
        return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    buffer = io.StringIO()
    if fmt == "csv":
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow([c.key for c in cols])
        writer.writerows([_plain(r.get(c.key)) for c in cols] for r in rows)
        return buffer.getvalue()
    lines = ["\t".join(c.key for c in cols)]
    for r in rows:
        cells = (_plain(r.get(c.key)).replace("\t", " ").replace("\n", " ") for c in cols)
        lines.append("\t".join(cells))
    return "\n".join(lines) + "\n"


def chosen_format(fmt: str | None) -> str:
    """The format asked for, else ``table`` on a terminal and ``tsv`` otherwise."""
    if fmt is None:
        return "table" if sys.stdout.isatty() else "tsv"
    if fmt not in FORMATS:
        raise typer.BadParameter(
            f"{fmt!r}: 应为 / expected {' | '.join(FORMATS)}", param_hint="--format"
        )
    return fmt


def emit(
    cols: Sequence[Col],
    rows: Sequence[Mapping[str, Any]],
    fmt: str | None = None,
    *,
    title: str | None = None,
) -> None:
    """Write a list to stdout in ``fmt`` (see the module's description)."""
    chosen = chosen_format(fmt)
    if chosen == "table":
        console().print(table_of(cols, rows, title))
        return
    sys.stdout.write(render(cols, rows, chosen))
