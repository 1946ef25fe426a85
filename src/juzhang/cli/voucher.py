"""Voucher commands (凭证): prepare, review, post, reverse, correct, list, print.

::

    juzhang voucher add ENTITY --file VOUCHER.json                  bookkeeper (制单)
    juzhang voucher review (ENTITY (ID... | --all) | --entities all|C001,C002 --all)  reviewer
    juzhang voucher post (ENTITY (ID... | --all) | --entities all|C001,C002 --all)    bookkeeper
    juzhang voucher reverse ENTITY NUMBER --period YYYY-MM [--date DATE]
    juzhang voucher correct ENTITY NUMBER --period YYYY-MM --file VOUCHER.json
    juzhang voucher list ENTITY [--period YYYY-MM] [--status STATUS] [--format F]
    juzhang voucher show ENTITY NUMBER --period YYYY-MM [--format F]
    juzhang voucher print ENTITY NUMBER --period YYYY-MM --out FILE.xlsx

Ids go to stdout (one a line) so scripts can read them; the counts go to stderr.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated, Literal

import typer
from sqlalchemy import Connection

from juzhang import books
from juzhang.cli._batch import Entities, OptEntity, chosen_entities, run_batch
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
    out_file_callback,
    session,
)
from juzhang.cli._listing import Col, ListFormat, chosen_format, emit, render
from juzhang.core.duty import Action
from juzhang.core.period import format_period
from juzhang.core.voucher import STATUS_ZH
from juzhang.money import format_amount

voucher_app = command_group("凭证 / vouchers")

Number = Annotated[int, typer.Argument(parser=as_number, metavar="NUMBER")]
VoucherFile = Annotated[Path, typer.Option("--file", metavar="VOUCHER.json", dir_okay=False)]


def _check_choice(ctx: typer.Context, ids: list[int] | None, every: bool) -> None:
    """Require exactly one of a list of ids and ``--all`` (a usage error otherwise)."""
    if every == bool(ids):
        raise typer.BadParameter(
            "请给出凭证 ID 或 --all（二选一） / give IDs or --all, not both", ctx, param_hint="ID"
        )


def _chosen(ids: list[int] | None) -> list[int] | Literal["all"]:
    """The ids named, or ``"all"`` (``--all``): the library selects them, a chunk at a time."""
    return ids or "all"


SHOWN = 50
"""Up to this many vouchers posted, each is printed; above, one line per month (unless -v)."""

Verbose = Annotated[
    bool, typer.Option("--verbose", "-v", help="每张凭证一行 / one line per voucher")
]


@voucher_app.command("add")
def voucher_add(ctx: typer.Context, entity: Entity, file: VoucherFile) -> None:
    """Prepare vouchers from a JSON file (制单); prints the draft ids."""
    from juzhang.voucher_file import load_vouchers  # noqa: PLC0415 — start-up time (pydantic)

    drafts = load_vouchers(file)
    who = actor(ctx)
    with session(ctx) as s:
        ids = books.draft_vouchers(s, entity, who, drafts)
    for i in ids:
        typer.echo(i)
    note(f"已制单 / drafted: {len(ids)}")


def _batch(
    ctx: typer.Context,
    action: Action,
    entity: str | None,
    entities: str | None,
    ids: list[int] | None,
    every: bool,
) -> list[str] | None:
    """The communities of ``--entities`` (each with ``--all``), or ``None`` for one ENTITY."""
    _check_choice(ctx, ids, every)
    codes = chosen_entities(ctx, entity, entities, action)
    if codes is not None and ids:
        raise typer.BadParameter("--entities 只能与 --all 同用 / with --all only", ctx)
    return codes


def review_all(s: Connection, entity: str, who: str) -> str:
    """Review every draft of one community (one step of ``--entities``)."""
    done = books.review_bulk(s, entity, who, "all")
    return f"已审核 / reviewed: {done}"


def post_all(s: Connection, entity: str, who: str) -> str:
    """Post every reviewed voucher of one community (one step of ``--entities``)."""
    posted = books.post_reviewed(s, entity, who, "all")
    return f"已记账 / posted: {posted.count}"


@voucher_app.command("review")
def voucher_review(
    ctx: typer.Context,
    entity: OptEntity = None,
    ids: Ids = None,
    every: All = False,
    entities: Entities = None,
) -> None:
    """Review drafts (审核); the reviewer may not be the preparer."""
    codes = _batch(ctx, Action.REVIEW_VOUCHER, entity, entities, ids, every)
    if codes is not None:
        who = actor(ctx)
        run_batch(ctx, "审核 review", codes, lambda s, code: review_all(s, code, who))
        return
    assert entity is not None
    who = actor(ctx)
    with session(ctx) as s:
        done = books.review_bulk(s, entity, who, _chosen(ids))
    typer.echo(f"已审核 / reviewed: {done}")


@voucher_app.command("post")
def voucher_post(
    ctx: typer.Context,
    entity: OptEntity = None,
    ids: Ids = None,
    every: All = False,
    entities: Entities = None,
    verbose: Verbose = False,
) -> None:
    """Post reviewed vouchers (记账); prints the numbers given.

    One line per voucher (``2026-09 记-0001``) up to 50 vouchers or with
    ``--verbose``; above, one line per month with the run of numbers given
    (``2026-09 记-0001 … 记-5000``).
    """
    codes = _batch(ctx, Action.POST_VOUCHER, entity, entities, ids, every)
    if codes is not None:
        who = actor(ctx)
        run_batch(ctx, "记账 post", codes, lambda s, code: post_all(s, code, who))
        return
    assert entity is not None
    who = actor(ctx)
    with session(ctx) as s:
        posted = books.post_reviewed(s, entity, who, _chosen(ids))
    if verbose or posted.count <= SHOWN:
        for period, label in posted.labels():
            typer.echo(f"{format_period(period)} {label}")
    else:
        for period, first, last in posted.spans:
            word = posted.word
            typer.echo(f"{format_period(period)} {word}-{first:04d} … {word}-{last:04d}")
    note(f"已记账 / posted: {posted.count}")


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
    from juzhang.voucher_file import load_vouchers  # noqa: PLC0415 — start-up time (pydantic)

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
    fmt: ListFormat = None,
) -> None:
    """List vouchers (--format table|json|csv|tsv)."""
    with session(ctx, write=False) as s:
        views = books.list_vouchers(s, entity, period=period, status=status)
    rows = [
        {
            "id": v.id,
            "period": format_period(v.period),
            "number": v.label,
            "date": v.date,
            "status": v.status,
            "status_zh": STATUS_ZH.get(v.status, v.status),
            "total": v.total,
            "summary": v.lines[0].summary if v.lines else "",
            "prepared_by": v.prepared_by,
            "reviewed_by": v.reviewed_by or "",
        }
        for v in views
    ]
    emit(_LIST, rows, fmt)


_LIST = (
    Col("id", "ID", "number"),
    Col("number", "凭证号", "number"),
    Col("date", "日期 date", "date"),
    Col("status_zh", "状态", "number"),
    Col("status", "status", "number"),
    Col("total", "金额 total", "amount"),
    Col("summary", "摘要 summary"),
    Col("prepared_by", "制单", "number"),
    Col("reviewed_by", "审核", "number"),
    Col("period", "期间 period", "date"),
)
_LINES = (
    Col("line", "行", "number"),
    Col("summary", "摘要 summary"),
    Col("account", "科目 account", "number"),
    Col("debit", "借方 debit", "amount"),
    Col("credit", "贷方 credit", "amount"),
    Col("custody_entry", "日记账", "number"),
)


@voucher_app.command("show")
def voucher_show(
    ctx: typer.Context, entity: Entity, number: Number, period: Period, fmt: ListFormat = None
) -> None:
    """Show a posted voucher with its lines (--format table|json|csv|tsv)."""
    with session(ctx, write=False) as s:
        v = books.find_voucher(s, entity, period, number)
    lines = [
        {
            "line": ln.line_no,
            "summary": ln.summary,
            "account": ln.account,
            "debit": ln.debit,
            "credit": ln.credit,
            "custody_entry": ln.custody_entry,
        }
        for ln in v.lines
    ]
    chosen = chosen_format(fmt)
    if chosen == "json":
        head = {
            "id": v.id,
            "entity": v.entity,
            "period": format_period(v.period),
            "number": v.label,
            "date": v.date.isoformat(),
            "status": v.status,
            "kind": v.kind,
            "attachments": v.attachments,
            "prepared_by": v.prepared_by,
            "reviewed_by": v.reviewed_by,
            "posted_by": v.posted_by,
            "total": str(v.total),
            "lines": json.loads(render(_LINES, lines, "json")),
        }
        typer.echo(json.dumps(head, ensure_ascii=False, indent=2))
        return
    if chosen == "table":
        note(
            f"{v.entity} {format_period(v.period)} {v.label} {v.date.isoformat()}"
            f" 制单 {v.prepared_by} 审核 {v.reviewed_by or ''} 记账 {v.posted_by or ''}"
            f" 合计 {format_amount(v.total)}"
        )
    emit(_LINES, lines, chosen)


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
    from juzhang.exporters import voucher_print  # noqa: PLC0415 — start-up time (report code)
    from juzhang.exporters.excel import write_voucher  # noqa: PLC0415 — start-up time (openpyxl)

    with session(ctx, write=False) as s:
        vp = voucher_print(s, entity, period, number)
    write_voucher(vp, out_file)
    note(f"已写入 / written: {out_file} ({format_period(period)} {vp.label})")
