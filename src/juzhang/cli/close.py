"""Command line for the month-end (月末): closing run, cash count, disclosure sign-off.

Registered on the root command by :func:`register`::

    juzhang close --period YYYY-MM (--all | --entities C001,C002) [--out DIR] [--jobs N]
                                                                  reviewer (审核)
    juzhang cash count ENTITY DATE AMOUNT [--account CODE] [--note TEXT]   cashier (报账员)
    juzhang disclosure sign ENTITY --period YYYY-MM[..YYYY-MM] --opinion TEXT
                            [--name NAME] [--date DATE]           supervisor (民主理财小组)

(``juzhang reopen`` stays in :mod:`juzhang.cli` and calls
:func:`juzhang.closing.reopen_month`.)

A thin layer: ``--db`` and ``--as`` come from the root command of
:mod:`juzhang.cli`, whose root group turns a refusal into one line on stderr
and exit status 1; a usage error exits with 2.  ``close`` shows a progress
bar on stderr while it runs, then a summary table (entity, status, problems,
files) on stdout, and every problem on stderr, one line each; it exits 0 when
every entity's month is closed (now or before) with its files, 1 otherwise
(see :mod:`juzhang.closing_run` for re-runs, ``--jobs`` and SQLite).  Ctrl-C
stops the run: the communities being closed are rolled back, the ones
finished stay closed, and a re-run finishes the rest.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Column, Table

from juzhang.agency import list_entities
from juzhang.cash_count import record_cash_count
from juzhang.cli import _common as cli_context
from juzhang.closing import sign_disclosure
from juzhang.closing_run import CLOSED, EntityOutcome, RunSummary, close_all
from juzhang.core.period import format_period, parse_period, parse_period_range
from juzhang.errors import JuzhangError
from juzhang.money import format_amount, parse_money
from juzhang.voucher_file import parse_date

__all__ = ["register", "summary_table"]

cash_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None, help="现金 / cash on hand")

Entity = Annotated[str, typer.Argument(metavar="ENTITY", help="社区代码 / entity code")]

_STATUS_ZH = {
    "closed": "已结账 closed",
    "already closed": "此前已结账 already closed",
    "problems": "有问题 problems",
    "error": "失败 error",
}


# --------------------------------------------------------------------------- context


_options = cli_context.options
_actor = cli_context.actor
_session = cli_context.session


def _period(text: str) -> int:
    try:
        return parse_period(text)
    except JuzhangError as exc:
        raise typer.BadParameter(str(exc)) from None


def _range(text: str) -> tuple[int, int]:
    try:
        return parse_period_range(text)
    except JuzhangError as exc:
        raise typer.BadParameter(str(exc), param_hint="--period") from None


def _date(text: str) -> dt.date:
    try:
        return parse_date(text)
    except JuzhangError as exc:
        raise typer.BadParameter(str(exc)) from None


def _money(text: str) -> Decimal:
    try:
        return parse_money(text)
    except JuzhangError as exc:
        raise typer.BadParameter(str(exc)) from None


# --------------------------------------------------------------------------- close


def _entity_list(ctx: typer.Context, every: bool, entities: str | None) -> list[str] | None:
    codes = [c.strip() for c in (entities or "").split(",") if c.strip()]
    if every == bool(codes):
        raise typer.BadParameter(
            "请给出 --all 或 --entities C001,C002（二选一） / give --all or --entities, not both",
            ctx,
            param_hint="--all / --entities",
        )
    return None if every else codes


def summary_table(summary: RunSummary) -> Table:
    """Render a run's outcomes as a table: entity, status, problems, files, vouchers."""
    table = Table(
        "社区 entity",
        "状态 status",
        Column("问题 problems", justify="right"),
        Column("文件 files", justify="right"),
        "结转凭证 carry-forward",
        title=f"结账 closing {format_period(summary.period)}",
        caption=(
            f"{len(summary.outcomes)} 个社区 entities, {len(summary.failed)} 有问题 with problems,"
            f" {summary.seconds:.1f} s, --jobs {summary.jobs}"
        ),
    )
    for o in summary.outcomes:
        table.add_row(
            o.entity,
            _STATUS_ZH.get(o.status, o.status),
            str(len(o.problems)) if o.problems else "",
            str(len(o.files)),
            " ".join(o.vouchers),
        )
    return table


def close(
    ctx: typer.Context,
    period: Annotated[int, typer.Option("--period", parser=_period, metavar="YYYY-MM")],
    every: Annotated[bool, typer.Option("--all", help="全部社区 / every entity")] = False,
    entities: Annotated[
        str | None,
        typer.Option("--entities", metavar="C001,C002", help="社区代码 / entity codes"),
    ] = None,
    out: Annotated[
        Path, typer.Option("--out", metavar="DIR", file_okay=False, help="输出目录 / output folder")
    ] = Path("closing"),
    jobs: Annotated[
        int, typer.Option("--jobs", min=1, metavar="N", help="并行进程数 / worker processes")
    ] = 1,
) -> None:
    """Close a month (月末结账) for many communities and write their reports (reviewer)."""
    codes = _entity_list(ctx, every, entities)
    actor = _actor(ctx)
    url = _options(ctx)[0]
    if codes is None:  # --all: every entity, listed now so the progress bar knows the total
        with _session(ctx, write=False) as s:
            codes = [code for code, _name, _chart in list_entities(s)]
    err = Console(stderr=True, highlight=False)
    with Progress(
        TextColumn("结账 closing {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as progress:
        task = progress.add_task(format_period(period), total=len(codes))

        def done(outcome: EntityOutcome) -> None:
            progress.update(
                task, advance=1, description=f"{format_period(period)} {outcome.entity}"
            )

        summary = close_all(url, period, codes, out, jobs, actor=actor, on_done=done)
    Console(highlight=False).print(summary_table(summary))
    for note in summary.notes:
        typer.echo(note, err=True)
    for outcome in summary.failed:
        for problem in outcome.problems:
            text = str(problem)
            prefix = "" if text.startswith(outcome.entity) else f"{outcome.entity}: "
            typer.echo(f"  - {prefix}{text}", err=True)
    closed = sum(1 for o in summary.outcomes if o.status == CLOSED)
    typer.echo(
        f"已结账 / closed {closed}, 有问题 / with problems {len(summary.failed)};"
        f" 输出 / output: {out}",
        err=True,
    )
    if not summary.ok:
        raise typer.Exit(1)


# --------------------------------------------------------------------------- cash count


@cash_app.command("count", context_settings={"ignore_unknown_options": True})
def cash_count(
    ctx: typer.Context,
    entity: Entity,
    date: Annotated[dt.date, typer.Argument(parser=_date, metavar="DATE")],
    amount: Annotated[Decimal, typer.Argument(parser=_money, metavar="AMOUNT")],
    account: Annotated[
        str | None, typer.Option("--account", help="现金科目 / cash account")
    ] = None,
    note: Annotated[str, typer.Option("--note", help="备注 / note")] = "",
) -> None:
    """Record the cash counted on hand (现金盘点), as the cashier; prints the count's id."""
    actor = _actor(ctx)
    with _session(ctx) as s:
        count_id = record_cash_count(s, entity, actor, date, amount, account, note)
    typer.echo(count_id)
    typer.echo(
        f"已登记现金盘点 / cash count recorded: #{count_id} {date} {format_amount(amount)}",
        err=True,
    )


# --------------------------------------------------------------------------- disclosure sign


def disclosure_sign(
    ctx: typer.Context,
    entity: Entity,
    period: Annotated[str, typer.Option("--period", metavar="YYYY-MM[..YYYY-MM]")],
    opinion: Annotated[str, typer.Option("--opinion", help="民主理财小组意见 / the opinion")],
    name: Annotated[
        str | None, typer.Option("--name", help="签字人 / who signs (default: the acting user)")
    ] = None,
    date: Annotated[
        dt.date | None, typer.Option("--date", parser=_date, metavar="DATE", help="签字日期")
    ] = None,
) -> None:
    """Sign the month's disclosure (民主理财小组签字), as the supervisor: it is then published."""
    months = _range(period)
    actor = _actor(ctx)
    with _session(ctx) as s:
        signed = sign_disclosure(s, entity, months, actor, name, opinion, date or dt.date.today())
    typer.echo(signed.fingerprint)
    label = format_period(signed.first)
    if signed.last != signed.first:
        label += f"..{format_period(signed.last)}"
    typer.echo(
        f"财务公开已签字发布 / disclosure signed and published: {entity} {label}"
        f" ({signed.name}, {signed.date})",
        err=True,
    )


# --------------------------------------------------------------------------- registration


def _group(app: typer.Typer, name: str) -> typer.Typer | None:
    for info in app.registered_groups:
        if info.name == name and info.typer_instance is not None:
            return info.typer_instance
    return None


def register(app: typer.Typer, disclosure_app: typer.Typer | None = None) -> None:
    """Add ``close``, ``cash count`` and ``disclosure sign`` to the root ``app``.

    ``disclosure sign`` goes into ``disclosure_app``, else into the
    ``disclosure`` group already registered on ``app``, else into a new one.
    """
    app.command("close")(close)
    app.add_typer(cash_app, name="cash", help="现金 / cash on hand")
    group = disclosure_app or _group(app, "disclosure")
    if group is None:
        group = typer.Typer(
            no_args_is_help=True, rich_markup_mode=None, help="财务公开 / public disclosure"
        )
        app.add_typer(group, name="disclosure")
    group.command("sign")(disclosure_sign)
