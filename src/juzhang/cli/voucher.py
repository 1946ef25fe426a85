"""Voucher commands (凭证): prepare, review, post, reverse, correct, list, print.

::

    juzhang voucher add ENTITY --file VOUCHER.json                  bookkeeper (制单)
    juzhang voucher review ENTITY (ID... | --all)                   reviewer (审核)
    juzhang voucher post ENTITY (ID... | --all)                     bookkeeper (记账)
    juzhang voucher reverse ENTITY NUMBER --period YYYY-MM [--date DATE]
    juzhang voucher correct ENTITY NUMBER --period YYYY-MM --file VOUCHER.json
    juzhang voucher list ENTITY [--period YYYY-MM] [--status STATUS]
    juzhang voucher print ENTITY NUMBER --period YYYY-MM --out FILE.xlsx

Ids go to stdout (one a line) so scripts can read them; the counts go to stderr.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Column, Table
from sqlalchemy.orm import Session

from juzhang import books
from juzhang.cli._common import (
    All,
    Entity,
    Ids,
    OptPeriod,
    Period,
    actor,
    as_date,
    as_number,
    command_group,
    note,
    out,
    out_file_callback,
    session,
)
from juzhang.core.period import format_period
from juzhang.core.voucher import STATUS_ZH, VoucherView
from juzhang.exporters import voucher_print
from juzhang.exporters.excel import write_voucher
from juzhang.money import format_amount
from juzhang.voucher_file import load_vouchers

voucher_app = command_group("凭证 / vouchers")

Number = Annotated[int, typer.Argument(parser=as_number, metavar="NUMBER")]
VoucherFile = Annotated[Path, typer.Option("--file", metavar="VOUCHER.json", dir_okay=False)]


def _check_choice(ctx: typer.Context, ids: list[int] | None, every: bool) -> None:
    """Require exactly one of a list of ids and ``--all`` (a usage error otherwise)."""
    if every == bool(ids):
        raise typer.BadParameter(
            "请给出凭证 ID 或 --all（二选一） / give IDs or --all, not both", ctx, param_hint="ID"
        )


def _chosen(s: Session, entity: str, ids: list[int] | None, status: str) -> list[int]:
    """Return the ids named, or (``--all``) every voucher of the entity in ``status``."""
    return ids or [v.id for v in books.list_vouchers(s, entity, status=status)]


@voucher_app.command("add")
def voucher_add(ctx: typer.Context, entity: Entity, file: VoucherFile) -> None:
    """Prepare vouchers from a JSON file (制单); prints the draft ids."""
    drafts = load_vouchers(file)
    who = actor(ctx)
    with session(ctx) as s:
        ids = books.draft_vouchers(s, entity, who, drafts)
    for i in ids:
        typer.echo(i)
    note(f"已制单 / drafted: {len(ids)}")


@voucher_app.command("review")
def voucher_review(ctx: typer.Context, entity: Entity, ids: Ids = None, every: All = False) -> None:
    """Review drafts (审核); the reviewer may not be the preparer."""
    _check_choice(ctx, ids, every)
    who = actor(ctx)
    with session(ctx) as s:
        chosen = _chosen(s, entity, ids, "draft")
        books.review_vouchers(s, entity, who, chosen)
    typer.echo(f"已审核 / reviewed: {len(chosen)}")


@voucher_app.command("post")
def voucher_post(ctx: typer.Context, entity: Entity, ids: Ids = None, every: All = False) -> None:
    """Post reviewed vouchers (记账); prints the numbers given."""
    _check_choice(ctx, ids, every)
    who = actor(ctx)
    with session(ctx) as s:
        chosen = _chosen(s, entity, ids, "reviewed")
        books.post_vouchers(s, entity, who, chosen)
        views = sorted((books.get_voucher(s, entity, i) for i in chosen), key=_order)
    for v in views:
        typer.echo(f"{format_period(v.period)} {v.label}")
    note(f"已记账 / posted: {len(views)}")


def _order(v: VoucherView) -> tuple[int, int, int]:
    return (v.period, v.number or 0, v.id)


@voucher_app.command("reverse")
def voucher_reverse(
    ctx: typer.Context,
    entity: Entity,
    number: Number,
    period: Period,
    date: Annotated[dt.date | None, typer.Option(parser=as_date, metavar="DATE")] = None,
) -> None:
    """Draft a red reversal (红字冲销) of a posted voucher; prints the draft id."""
    who = actor(ctx)
    with session(ctx) as s:
        vid = books.reverse_voucher(s, entity, who, period, number, date=date)
    typer.echo(vid)
    note(f"已制红字冲销凭证 / reversal drafted: #{vid} (review and post it next)")


@voucher_app.command("correct")
def voucher_correct(
    ctx: typer.Context, entity: Entity, number: Number, period: Period, file: VoucherFile
) -> None:
    """Draft the blue correcting voucher (订正) of a reversed voucher; prints its id."""
    drafts = load_vouchers(file)
    if len(drafts) != 1:
        raise typer.BadParameter("应为一张凭证 / expected exactly one voucher", param_hint="--file")
    who = actor(ctx)
    with session(ctx) as s:
        vid = books.draft_correction(s, entity, who, period, number, drafts[0])
    typer.echo(vid)


@voucher_app.command("list")
def voucher_list(
    ctx: typer.Context,
    entity: Entity,
    period: OptPeriod = None,
    status: Annotated[str | None, typer.Option(help="draft | reviewed | posted")] = None,
) -> None:
    """List vouchers."""
    with session(ctx, write=False) as s:
        views = books.list_vouchers(s, entity, period=period, status=status)
    table = Table(
        "ID",
        "凭证号",
        "日期 date",
        "状态",
        Column("金额 total", justify="right"),
        "摘要 summary",
        "制单",
        "审核",
    )
    for v in views:
        table.add_row(
            str(v.id),
            v.label,
            v.date.isoformat(),
            STATUS_ZH.get(v.status, v.status),
            format_amount(v.total),
            v.lines[0].summary if v.lines else "",
            v.prepared_by,
            v.reviewed_by or "",
        )
    out.print(table)


@voucher_app.command("print")
def voucher_print_command(
    ctx: typer.Context,
    entity: Entity,
    number: Number,
    period: Period,
    out_file: Annotated[
        Path, typer.Option("--out", dir_okay=False, metavar="FILE.xlsx", callback=out_file_callback)
    ],
) -> None:
    """Print a posted voucher (记账凭证) to an Excel form, with 大写金额 and the signatures."""
    with session(ctx, write=False) as s:
        vp = voucher_print(s, entity, period, number)
    write_voucher(vp, out_file)
    note(f"已写入 / written: {out_file} ({format_period(period)} {vp.label})")
