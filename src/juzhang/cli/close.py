"""Closing months (结账): the month-end run, one month at a time, and reopening.

::

    juzhang close --period YYYY-MM (--all | --entities C001,C002) [--out DIR] [--jobs N]
                  [--config FILE]                                 reviewer (审核)
    juzhang period close ENTITY --period YYYY-MM [--out DIR]      reviewer
                                     (the same as close --entities ENTITY)
    juzhang reopen ENTITY --period YYYY-MM --reason TEXT [--reviewer LOGIN]   admin

(The cash count is in :mod:`juzhang.cli.custody`, the supervisors' sign-off
``juzhang disclosure sign`` in :mod:`juzhang.cli.disclosure`.)

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

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Column, Table

from juzhang import closing
from juzhang.agency import list_entities
from juzhang.cli._common import (
    Entity,
    Period,
    actor,
    command_group,
    console,
    note,
    out_folder_callback,
    session,
    settings,
)
from juzhang.closing_run import ALREADY, CLOSED, EntityOutcome, RunSummary, close_all
from juzhang.core.period import format_period
from juzhang.disclosure_config import load_config

__all__ = ["close", "period_app", "reopen", "summary_table"]

period_app = command_group("会计期间 / periods")

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        metavar="FILE",
        exists=True,
        dir_okay=False,
        help="本次的财务公开配置 TOML（默认：已存配置） / settings for this run only",
    ),
]

_STATUS_ZH = {
    "closed": "已结账 closed",
    "already closed": "此前已结账 already closed",
    "problems": "有问题 problems",
    "error": "失败 error",
}


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
    period: Period,
    every: Annotated[bool, typer.Option("--all", help="全部社区 / every entity")] = False,
    entities: Annotated[
        str | None,
        typer.Option("--entities", metavar="C001,C002", help="社区代码 / entity codes"),
    ] = None,
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            metavar="DIR",
            file_okay=False,
            callback=out_folder_callback,
            help="输出目录 / output folder",
        ),
    ] = Path("closing"),
    jobs: Annotated[
        int, typer.Option("--jobs", min=1, metavar="N", help="并行进程数 / worker processes")
    ] = 1,
    config: ConfigOption = None,
) -> None:
    """Close a month (月末结账) for many communities and write their reports (reviewer).

    The disclosure boards follow each community's stored settings (``juzhang
    disclosure config set``); ``--config FILE`` gives one for this run only.
    """
    codes = _entity_list(ctx, every, entities)
    one_off = load_config(config) if config is not None else None
    who = actor(ctx)
    url = settings(ctx).url
    if codes is None:  # --all: every entity, listed now so the progress bar knows the total
        with session(ctx, write=False) as s:
            codes = [code for code, _name, _chart in list_entities(s)]
    err = console(stderr=True)
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

        summary = close_all(url, period, codes, out, jobs, actor=who, on_done=done, config=one_off)
    console().print(summary_table(summary))
    for text in summary.notes:
        note(text)
    for outcome in summary.outcomes:  # a re-run says what it completed, or that nothing was due
        if outcome.status == ALREADY:
            for said in outcome.notes:
                note(f"  · {said}")
    for outcome in summary.outcomes:  # risk signals: warnings, never blocking
        for warning in outcome.warnings:
            typer.echo(f"  ! {warning}", err=True)
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


# --------------------------------------------------------------------------- one month


@period_app.command("close")
def period_close(
    ctx: typer.Context,
    entity: Entity,
    period: Period,
    out: Annotated[
        Path, typer.Option("--out", metavar="DIR", file_okay=False, help="输出目录 / output folder")
    ] = Path("closing"),
    config: ConfigOption = None,
) -> None:
    """Close one community's month (月末结账): the same full close as ``close --entities ENTITY``.

    There is one way to lock a month: the checks, the carry-forward, the lock
    and the month's files, exactly as ``juzhang close`` does them.
    """
    close(ctx, period, every=False, entities=entity, out=out, jobs=1, config=config)


def reopen(
    ctx: typer.Context,
    entity: Entity,
    period: Period,
    reason: Annotated[str, typer.Option(help="原因 / why")],
    reviewer: Annotated[
        str | None, typer.Option(help="审核冲销结转凭证的人 / reviews the carry-forward's reversal")
    ] = None,
) -> None:
    """Reopen the last closed month (反结账): admin, with a reason; undoes the carry-forward."""
    who = actor(ctx)
    with session(ctx) as s:
        done = closing.reopen_month(s, entity, period, who, reason, reviewer=reviewer)
    typer.echo(f"已反结账 / reopened: {entity} {format_period(period)}")
    if done.reversals:
        note(f"结转凭证已红字冲销 / carry-forward reversed: {' '.join(done.reversals)}")
