"""One step over many communities (``--entities all|C001,C002``): the loop batch commands share.

A command that takes ``ENTITY`` also takes ``--entities`` in its place
(:data:`Entities`); :func:`chosen_entities` reads the two and returns
``None`` for one community (the command does what it always did) or the
codes to act on.  ``all`` means every community where the acting person
holds a role that may do the step (:data:`juzhang.core.duty.PERMISSIONS`):
a bookkeeper with grants on two of three communities posts in those two.
:func:`run_batch` then runs the step once per community, each in its own
transaction (all-or-nothing per community: a refusal rolls that community
back and the loop goes on), with a progress bar on stderr when stderr is a
terminal, and prints a summary table (community, status, result) on stdout
and each problem on stderr.  Exit status as ``juzhang close``: 0 when every
community is done, 1 when some community needs attention; Ctrl-C stops the
loop (the community being worked on is rolled back, the ones done stay done).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Annotated

import typer
from sqlalchemy import Connection

from juzhang.agency import entities_for, list_entities
from juzhang.cli._common import actor, console, note, session, settings
from juzhang.cli._listing import Col, emit
from juzhang.core.duty import Action
from juzhang.errors import JuzhangError, ProblemsError

__all__ = ["Entities", "OptEntity", "Outcome", "batch_progress", "chosen_entities", "run_batch"]

Entities = Annotated[
    str | None,
    typer.Option(
        "--entities",
        metavar="all|C001,C002",
        help="多个社区（代替 ENTITY）/ many communities in place of ENTITY",
    ),
]
OptEntity = Annotated[
    str | None,
    typer.Argument(metavar="[ENTITY]", help="社区代码 / entity code", show_default=False),
]

Step = Callable[[Connection, str], str]
"""One community's work in its transaction: returns a short line for the summary table."""

DONE = "done"
FAILED = "failed"
NOT_RUN = "not run"
_STATUS_ZH = {DONE: "完成 done", FAILED: "有问题 problems", NOT_RUN: "未运行 not run"}


@dataclass(slots=True)
class Outcome:
    """What happened to one community."""

    entity: str
    status: str = NOT_RUN
    result: str = ""
    problems: list[str] = field(default_factory=list)


def chosen_entities(
    ctx: typer.Context, entity: str | None, entities: str | None, action: Action
) -> list[str] | None:
    """Return ``None`` for one ``ENTITY``, else the codes ``--entities`` names.

    Giving both, or neither, is a usage error (exit 2).

    ``all`` is every community where the acting person may do ``action``;
    a list is taken as written (each community still checks the role).
    """
    if (entity is None) == (entities is None):
        raise typer.BadParameter(
            "请给出 ENTITY 或 --entities（二选一） / give ENTITY or --entities, not both",
            ctx,
            param_hint="ENTITY / --entities",
        )
    if entities is None:
        return None
    if entities.strip().lower() == "all":
        who = settings(ctx).actor if action is Action.READ else actor(ctx)
        with session(ctx, write=False) as s:
            if who is None:  # reading needs no --as: every community
                return [code for code, _name, _chart in list_entities(s)]
            return entities_for(s, who, action)
    codes = [c.strip() for c in entities.split(",") if c.strip()]
    if not codes:
        raise typer.BadParameter("社区代码为空 / no entity codes", ctx, param_hint="--entities")
    return list(dict.fromkeys(codes))


def run_batch(
    ctx: typer.Context, what: str, codes: list[str], step: Step, *, write: bool = True
) -> list[Outcome]:
    """Run ``step`` for each community in its own transaction; print the summary; exit 1 on trouble.

    ``write=False`` opens read-only transactions (reports).  Returns the
    outcomes when every community is done (exit status 0).
    """
    outcomes = [Outcome(code) for code in codes]
    started = time.monotonic()
    interrupted = False
    try:
        with batch_progress(what, len(codes)) as advance:
            for outcome in outcomes:
                _one(ctx, outcome, step, write)
                advance(outcome.entity)
    except KeyboardInterrupt:
        interrupted = True
    _summary(what, outcomes, time.monotonic() - started)
    failed = [o for o in outcomes if o.status != DONE]
    if interrupted:
        note("已中断 / interrupted: 已完成的社区保留，重新运行完成其余 / re-run to finish the rest")
    if failed:
        raise typer.Exit(1)
    return outcomes


def _one(ctx: typer.Context, outcome: Outcome, step: Step, write: bool) -> None:
    try:
        with session(ctx, write=write) as s:
            outcome.result = step(s, outcome.entity)
    except ProblemsError as exc:
        outcome.status = FAILED
        outcome.problems = [exc.what, *(str(p) for p in exc.problems)]
    except JuzhangError as exc:
        outcome.status = FAILED
        outcome.problems = [str(exc)]
    except typer.Exit as exc:
        if exc.exit_code:
            outcome.status = FAILED
            outcome.problems = outcome.problems or [f"exit {exc.exit_code}"]
        else:
            outcome.status = DONE
    except Exception as exc:
        if not type(exc).__module__.startswith("sqlalchemy"):
            raise
        first = (str(getattr(exc, "orig", None) or exc).strip().splitlines() or [""])[0]
        outcome.status = FAILED
        outcome.problems = [f"数据库错误 / database error: {first}"]
    else:
        outcome.status = DONE


@contextmanager
def batch_progress(what: str, total: int) -> Iterator[Callable[[str], None]]:
    """A rich progress bar on stderr when it is a terminal; nothing otherwise."""
    if not sys.stderr.isatty():
        yield lambda _entity: None
        return
    from rich.progress import (  # noqa: PLC0415 — start-up time: only on a terminal
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task(what, total=total)
        yield lambda entity: bar.update(task, advance=1, description=f"{what} {entity}")


_SUMMARY = (
    Col("entity", "社区 entity", "number"),
    Col("status", "状态 status", "number"),
    Col("result", "结果 result"),
)


def _summary(what: str, outcomes: list[Outcome], seconds: float) -> None:
    done = sum(1 for o in outcomes if o.status == DONE)
    rows = [
        {
            "entity": o.entity,
            "status": _STATUS_ZH[o.status] if sys.stdout.isatty() else o.status,
            "result": o.result or (o.problems[0] if o.problems else ""),
        }
        for o in outcomes
    ]
    emit(_SUMMARY, rows, title=what)
    note(
        f"{what}: {len(outcomes)} 个社区 entities, {done} 完成 done,"
        f" {len(outcomes) - done} 有问题 with problems, {seconds:.1f} s"
    )
    for o in outcomes:
        for text in o.problems:
            prefix = "" if text.startswith(o.entity) else f"{o.entity}: "
            typer.echo(f"  - {prefix}{text}", err=True)
