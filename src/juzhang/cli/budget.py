"""Command line for the annual budget (年度预算 / 财务计划).

::

    juzhang budget set ENTITY YEAR --file budget.toml
    juzhang budget adjust ENTITY YEAR --file budget.toml --decision "居民会议决议 …" --reason TEXT
    juzhang budget show ENTITY YEAR [--format text|json]

``set`` records the plan the community approved (年初预算); ``adjust`` records
the whole budget after a change, naming the collective decision that made it.
Each is a new version; nothing recorded is ever changed (see
:mod:`juzhang.budget`).  ``show`` prints the lines in force with 年初预算, 调整
and 调整后预算, and the versions.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from juzhang.budget import adjust_budget, budget_history, budget_plan, set_budget
from juzhang.budget_file import read_budget_file
from juzhang.cli._common import Entity, actor, command_group, note, session
from juzhang.errors import ValidationError

__all__ = ["budget_app"]

budget_app = command_group("年度预算 / annual budget")

Year = Annotated[int, typer.Argument(metavar="YEAR", help="年度 / year")]
File = Annotated[
    Path, typer.Option("--file", metavar="FILE", help="预算文件 budget.toml / the budget file")
]


@budget_app.command("set")
def budget_set(ctx: typer.Context, entity: Entity, year: Year, file: File) -> None:
    """Record the year's budget (年初预算) from FILE."""
    lines = read_budget_file(file)
    with session(ctx) as s:
        count = set_budget(s, entity, actor(ctx), year, lines)
    note(f"预算已记录 / budget recorded: {entity} {year}, {count} 项 lines")


@budget_app.command("adjust")
def budget_adjust(
    ctx: typer.Context,
    entity: Entity,
    year: Year,
    file: File,
    decision: Annotated[
        str, typer.Option("--decision", help="集体决策 / the decision (居民会议决议 …)")
    ],
    reason: Annotated[str, typer.Option("--reason", help="调整理由 / why")],
) -> None:
    """Record an adjustment (预算调整): FILE holds the whole budget after it."""
    lines = read_budget_file(file)
    with session(ctx) as s:
        version = adjust_budget(
            s, entity, actor(ctx), year, lines, decision=decision, reason=reason
        )
    note(f"预算调整已记录 / budget adjustment recorded: {entity} {year} 第{version}版 version")


@budget_app.command("show")
def budget_show(
    ctx: typer.Context,
    entity: Entity,
    year: Year,
    fmt: Annotated[str, typer.Option("--format", metavar="text|json")] = "text",
) -> None:
    """Print the budget in force: 年初预算, 调整, 调整后预算 per line, and the versions."""
    if fmt not in ("text", "json"):
        raise ValidationError(f"格式 format {fmt!r}", "应为 text 或 json / text or json")
    with session(ctx, write=False) as s:
        plan = budget_plan(s, entity, year)
        history = budget_history(s, entity, year)
    if fmt == "json":
        out: dict[str, Any] = {
            "entity": entity,
            "year": year,
            "lines": [
                {
                    "name": p.name,
                    "kind": p.kind,
                    "accounts": list(p.accounts),
                    "initial": str(p.initial),
                    "adjustment": str(p.adjustment),
                    "adjusted": str(p.adjusted),
                }
                for p in plan
            ],
            "versions": [
                {
                    "version": v.version,
                    "kind": v.kind,
                    "decision": v.decision,
                    "reason": v.reason,
                    "actor": v.actor,
                    "created_at": v.created_at.isoformat(),
                }
                for v in history
            ],
        }
        typer.echo(json.dumps(out, ensure_ascii=False, indent=2))
        return
    if not plan:
        typer.echo(f"{entity} {year}: 尚无预算 / no budget")
        return
    typer.echo(f"{entity} {year}年度预算 budget  (年初预算 / 调整 / 调整后预算)")
    for p in plan:
        kind = "收入" if p.kind == "income" else "支出"
        typer.echo(
            f"  {p.name}（{kind} {','.join(p.accounts)}）"
            f"  {p.initial:,.2f}  {p.adjustment:+,.2f}  {p.adjusted:,.2f}"
        )
    for v in history:
        what = "调整 adjust" if v.kind == "adjust" else "编制 set"
        extra = f"  {v.decision}；{v.reason}" if v.kind == "adjust" else ""
        typer.echo(f"  第{v.version}版 v{v.version} {what} {v.created_at:%Y-%m-%d %H:%M}{extra}")
