"""Command line for the public disclosure (财务公开) and the bank reconciliation.

::

    juzhang disclosure config show ENTITY       # the stored configuration (TOML), else the default
    juzhang disclosure config default ENTITY    # the default configuration (TOML, to edit)
    juzhang disclosure config set ENTITY FILE   # store FILE as ENTITY's configuration (reviewer)
    juzhang disclosure sign ENTITY --period YYYY-MM[..YYYY-MM] --opinion TEXT
                            [--name NAME] [--date DATE] [--out FILE] [--base-url URL]
                                                                        supervisor (民主理财小组)
    juzhang disclosure export ENTITY --period YYYY-MM[..YYYY-MM] [--out FILE] [--base-url URL]

``sign`` records the sign-off and writes the published workbook (the
signature block filled) where ``close`` wrote the month's board, replacing
it, or to ``--out``; ``export`` writes the published workbook again, from
the snapshot stored at sign-off, at any time.  With a site address
(``--base-url``, else the community's stored ``base_url``) the published
workbook prints the QR code of its web page (``juzhang publish``).

and the writers that ``juzhang report KIND`` calls for ``KIND`` ``disclosure``
and ``bank-reconciliation``::

    write_disclosure(session, entity, first, last, fmt, out)   -> Path
    write_reconciliation(session, entity, period, fmt, out)    -> Path

with ``fmt`` one of ``xlsx``, ``json``, ``csv`` (``render_disclosure`` and
``render_reconciliation`` return the JSON or CSV text instead of writing a
file, for printing to stdout).

(``juzhang verify-report``, which checks a written disclosure workbook against
the books, is in :mod:`juzhang.cli.verify`.)

CSV schemas (UTF-8 with a byte-order mark, ``\\r\\n``, amounts as decimal
strings, text cells that could become formulas prefixed with ``'``, as in
:mod:`juzhang.exporters.tabular`):

* disclosure: ``key, label, value`` — every figure of the table
  (:meth:`juzhang.reports.disclosure.Disclosure.figures`) in table order;
* bank reconciliation: ``account, account_name, section, source, id, date,
  summary, counterparty, reference, amount`` — per account the rows
  ``journal_balance``, ``ledger_balance``, ``journal_ledger_difference``,
  ``statement_balance``, one row per outstanding item in its category
  (``bank_in_not_booked``, ``bank_out_not_booked``, ``booked_in_not_bank``,
  ``booked_out_not_bank``; ``source`` ``statement`` or ``journal``), then
  ``adjusted_journal_balance``, ``adjusted_statement_balance`` and
  ``difference``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import Connection

from juzhang import clock
from juzhang.cli._common import Entity, actor, as_date, as_range, command_group, note, session
from juzhang.closing import sign_disclosure, write_published
from juzhang.core.period import format_period
from juzhang.disclosure_config import (
    check_base_url,
    config_toml,
    default_config,
    load_config,
    set_stored_config,
    stored_config,
)
from juzhang.errors import ValidationError
from juzhang.exporters.disclosure_excel import write_disclosure_workbook
from juzhang.exporters.reconciliation_excel import write_reconciliation_workbook
from juzhang.exporters.tabular import csv_text
from juzhang.reports.disclosure import Disclosure, disclosure
from juzhang.reports.reconciliation import BankReconciliation, bank_reconciliation

__all__ = [
    "FORMATS",
    "BaseUrl",
    "checked_base_url",
    "config_app",
    "disclosure_app",
    "disclosure_config_default",
    "disclosure_config_set",
    "disclosure_config_show",
    "disclosure_export",
    "disclosure_sign",
    "render_disclosure",
    "render_reconciliation",
    "write_disclosure",
    "write_reconciliation",
]

FORMATS = ("xlsx", "json", "csv")

CsvCell = str | Decimal | int | dt.date | None


def _check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise ValidationError(f"格式 format {fmt!r}", f"应为 / one of {', '.join(FORMATS)}")


def _csv(header: Sequence[str], rows: Sequence[Sequence[CsvCell]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(
            [
                ""
                if v is None
                else v.isoformat()
                if isinstance(v, dt.date)
                else csv_text(v)
                if isinstance(v, str)
                else str(v)
                for v in row
            ]
        )
    return buffer.getvalue()


def _disclosure_csv(d: Disclosure) -> str:
    return _csv(("key", "label", "value"), [(f.key, f.label, f.value) for f in d.figures()])


def _reconciliation_csv(rec: BankReconciliation) -> str:
    rows: list[tuple[CsvCell, ...]] = []
    for a in rec.accounts:

        def figure(section: str, amount: Decimal, code: str = a.code, name: str = a.name) -> None:
            rows.append((code, name, section, "", None, None, "", "", "", amount))

        figure("journal_balance", a.journal_balance)
        figure("ledger_balance", a.ledger_balance)
        figure("journal_ledger_difference", a.journal_ledger_difference)
        figure("statement_balance", a.statement_balance)
        for group in a.groups:
            for i in group.items:
                rows.append(
                    (
                        a.code,
                        a.name,
                        group.key,
                        i.source,
                        i.id,
                        i.date,
                        i.summary,
                        i.counterparty,
                        i.reference,
                        i.amount,
                    )
                )
        figure("adjusted_journal_balance", a.adjusted_journal_balance)
        figure("adjusted_statement_balance", a.adjusted_statement_balance)
        figure("difference", a.difference)
    header = (
        "account",
        "account_name",
        "section",
        "source",
        "id",
        "date",
        "summary",
        "counterparty",
        "reference",
        "amount",
    )
    return _csv(header, rows)


def _compute_disclosure(
    session: Connection, entity: str, first: int, last: int, config: Path | None
) -> Disclosure:
    cfg = load_config(config) if config is not None else None
    return disclosure(session, entity, first, last, config=cfg)


def render_disclosure(
    session: Connection,
    entity: str,
    first: int,
    last: int | None,
    fmt: str,
    *,
    config: Path | None = None,
) -> str:
    """Return the disclosure of ``first..last`` as JSON or CSV text.

    Raises:
        ValidationError: ``fmt`` is not json or csv, or the range is bad.
        NotFoundError: unknown entity.
        ProblemsError: the configuration file is bad or does not fit the entity.
    """
    if fmt not in ("json", "csv"):
        raise ValidationError(f"格式 format {fmt!r}", "应为 json 或 csv / json or csv")
    d = _compute_disclosure(session, entity, first, first if last is None else last, config)
    if fmt == "json":
        return json.dumps(d.to_json(), ensure_ascii=False, indent=2)
    return _disclosure_csv(d)


def render_reconciliation(
    session: Connection, entity: str, period: int, fmt: str, *, account: str | None = None
) -> str:
    """Return the bank reconciliation of ``period``'s end as JSON or CSV text.

    Raises:
        ValidationError: ``fmt`` is not json or csv.
        NotFoundError: unknown entity or bank account.
    """
    if fmt not in ("json", "csv"):
        raise ValidationError(f"格式 format {fmt!r}", "应为 json 或 csv / json or csv")
    rec = bank_reconciliation(session, entity, period, account=account)
    if fmt == "json":
        return json.dumps(rec.to_json(), ensure_ascii=False, indent=2)
    return _reconciliation_csv(rec)


def _default_path(stem: str, fmt: str) -> Path:
    return Path(f"{stem}.{fmt}")


def write_disclosure(
    session: Connection,
    entity: str,
    first: int,
    last: int | None,
    fmt: str,
    out: Path | None,
    *,
    config: Path | None = None,
) -> Path:
    """Write the disclosure (财务公开表) of ``first..last`` as xlsx, json or csv; return the path.

    ``out`` defaults to ``disclosure-<ENTITY>-<period>.<fmt>`` in the current
    folder; ``config`` is a disclosure configuration TOML file (default: the
    entity's stored configuration, else built from the chart).

    Raises:
        ValidationError: unknown format, or the range runs backwards or crosses a year.
        NotFoundError: unknown entity.
        ProblemsError: the configuration file is bad or does not fit the entity.
        OSError: the file cannot be written.
    """
    _check_format(fmt)
    last = first if last is None else last
    d = _compute_disclosure(session, entity, first, last, config)
    path = out or _default_path(f"disclosure-{d.entity}-{d.period_label}", fmt)
    if fmt == "xlsx":
        return write_disclosure_workbook(d, path)
    if fmt == "json":
        path.write_text(json.dumps(d.to_json(), ensure_ascii=False, indent=2) + "\n", "utf-8")
    else:
        with path.open("w", encoding="utf-8", newline="") as f:
            f.write("\ufeff" + _disclosure_csv(d))
    return path


def write_reconciliation(
    session: Connection,
    entity: str,
    period: int,
    fmt: str,
    out: Path | None,
    *,
    account: str | None = None,
) -> Path:
    """Write the bank reconciliation (银行存款余额调节表) as xlsx, json or csv; return the path.

    ``out`` defaults to ``bank-reconciliation-<ENTITY>-<YYYY-MM>.<fmt>``.

    Raises:
        ValidationError: unknown format.
        NotFoundError: unknown entity or bank account.
        OSError: the file cannot be written.
    """
    _check_format(fmt)
    rec = bank_reconciliation(session, entity, period, account=account)
    path = out or _default_path(f"bank-reconciliation-{rec.entity}-{format_period(period)}", fmt)
    if fmt == "xlsx":
        return write_reconciliation_workbook(rec, path)
    if fmt == "json":
        path.write_text(json.dumps(rec.to_json(), ensure_ascii=False, indent=2) + "\n", "utf-8")
    else:
        with path.open("w", encoding="utf-8", newline="") as f:
            f.write("\ufeff" + _reconciliation_csv(rec))
    return path


# --------------------------------------------------------------------------- commands


disclosure_app = command_group("财务公开 / public disclosure")

BaseUrl = Annotated[
    str | None,
    typer.Option(
        "--base-url",
        metavar="URL",
        help="网上公开的网址：表上印二维码（默认：社区配置的 base_url）/ the site's address:"
        " the board prints a QR code (default: the stored base_url)",
    ),
]


def checked_base_url(ctx: typer.Context, value: str | None) -> str | None:
    """Return ``--base-url`` as stored (no trailing ``/``).

    Exits 2 with the reason when it is not an address.
    """
    if value is None:
        return None
    try:
        return check_base_url(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), ctx, param_hint="--base-url") from exc


@disclosure_app.command("sign")
def disclosure_sign(
    ctx: typer.Context,
    entity: Entity,
    period: Annotated[str, typer.Option("--period", metavar="YYYY-MM[..YYYY-MM]")],
    opinion: Annotated[str, typer.Option("--opinion", help="民主理财小组意见 / the opinion")],
    name: Annotated[
        str | None, typer.Option("--name", help="签字人 / who signs (default: the acting user)")
    ] = None,
    date: Annotated[
        dt.date | None, typer.Option("--date", parser=as_date, metavar="DATE", help="签字日期")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            metavar="FILE",
            help="发布的公开表写到这里（默认：结账时写公开表的位置）/ where to write the"
            " published workbook (default: where close wrote the board)",
        ),
    ] = None,
    base_url: BaseUrl = None,
) -> None:
    """Sign the month's disclosure (民主理财小组签字), as the supervisor: it is then published.

    The published workbook, with the opinion, the signer and the date in its
    signature block, replaces the board ``close`` wrote (or goes to ``--out``).
    """
    months = as_range(period)
    who = actor(ctx)
    address = checked_base_url(ctx, base_url)
    with session(ctx) as s:
        signed = sign_disclosure(s, entity, months, who, name, opinion, date or clock.today())
        path = write_published(s, entity, (signed.first, signed.last), out, address)
    typer.echo(signed.fingerprint)
    note(f"发布的公开表 / published board: {path}")
    label = format_period(signed.first)
    if signed.last != signed.first:
        label += f"..{format_period(signed.last)}"
    note(
        f"财务公开已签字发布 / disclosure signed and published: {entity} {label}"
        f" ({signed.name}, {signed.date})"
    )


@disclosure_app.command("export")
def disclosure_export(
    ctx: typer.Context,
    entity: Entity,
    period: Annotated[str, typer.Option("--period", metavar="YYYY-MM[..YYYY-MM]")],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            metavar="FILE",
            help="默认 disclosure-ENTITY-PERIOD.xlsx / default disclosure-ENTITY-PERIOD.xlsx",
        ),
    ] = None,
    base_url: BaseUrl = None,
) -> None:
    """Write the published disclosure workbook again, from what was published (导出发布的公开表).

    With a site address (``--base-url``, else the stored ``base_url`` setting)
    the board prints the QR code of its web page (``juzhang publish``).
    """
    months = as_range(period)
    address = checked_base_url(ctx, base_url)
    with session(ctx, write=False) as s:
        target = out or Path(f"disclosure-{entity}-{period}.xlsx")
        path = write_published(s, entity, months, target, address)
    typer.echo(str(path))


config_app = command_group("财务公开配置 / disclosure settings")
disclosure_app.add_typer(config_app, name="config")


@config_app.command("show")
def disclosure_config_show(ctx: typer.Context, entity: Entity) -> None:
    """Print ENTITY's stored disclosure configuration (TOML); the default when none is stored."""
    with session(ctx, write=False) as s:
        stored = stored_config(s, entity)
        config = stored if stored is not None else default_config(s, entity)
    if stored is None:
        note(f"{entity} 没有存储的配置，以下为默认配置 / none stored: the default follows")
    typer.echo(config_toml(config), nl=False)


@config_app.command("default")
def disclosure_config_default(ctx: typer.Context, entity: Entity) -> None:
    """Print the default disclosure configuration of ENTITY (TOML, a file to edit)."""
    with session(ctx, write=False) as s:
        text = config_toml(default_config(s, entity))
    typer.echo(text, nl=False)


@config_app.command("set")
def disclosure_config_set(
    ctx: typer.Context,
    entity: Entity,
    file: Annotated[Path, typer.Argument(metavar="FILE", dir_okay=False, help="TOML 配置文件")],
) -> None:
    """Store FILE as ENTITY's disclosure configuration (reviewer); close and reports then use it."""
    config = load_config(file)
    who = actor(ctx)
    with session(ctx) as s:
        set_stored_config(s, entity, who, config)
    names = config.signatures
    note(
        f"财务公开配置已保存 / disclosure settings stored: {entity}"
        f" (书记 {names.secretary or '—'}, 主任 {names.director or '—'})"
    )
