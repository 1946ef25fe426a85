"""Command line for the risk signals (廉政风险提示)::

    juzhang risk report ENTITY --period YYYY-MM [--format xlsx|json] [--out FILE]
    juzhang risk report --entities all|C001,C002 --period YYYY-MM [--format xlsx|json] [--out FILE]
    juzhang risk config show ENTITY
    juzhang risk config set ENTITY FILE          (reviewer)

``report`` runs every check (:data:`juzhang.risk.RISK_CHECKS`) on each
community's month with its stored thresholds and writes one file for all of
them: JSON (stdout without ``--out``) or the A4 Excel form
(:mod:`juzhang.exporters.risk_excel`; without ``--out``
``risk-ENTITY-PERIOD.xlsx``, ``risk-all-PERIOD.xlsx`` for ``--entities``).
Without ``--format`` the format follows ``--out``'s suffix, else JSON.
Signals never change anything and the command exits 0 whatever it finds.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from juzhang.cli._batch import Entities, OptEntity, chosen_entities
from juzhang.cli._common import Entity, OutFile, Period, actor, command_group, note, session
from juzhang.core.duty import Action
from juzhang.core.period import format_period
from juzhang.errors import ValidationError
from juzhang.risk_config import (
    load_risk_settings,
    risk_settings_toml,
    set_risk_settings,
    stored_risk_settings,
)

__all__ = ["risk_app"]

risk_app = command_group("廉政风险提示 / risk signals")
config_app = command_group("风险提示设置 / risk thresholds")
risk_app.add_typer(config_app, name="config")

Format = Annotated[str | None, typer.Option("--format", metavar="xlsx|json")]


def output_format(fmt: str | None, out: Path | None) -> str:
    """``xlsx`` or ``json``: as asked, else from ``--out``'s suffix, else ``json``.

    Raises:
        ValidationError: another format.
    """
    chosen = fmt or (out.suffix.lstrip(".").lower() if out is not None else "json")
    if chosen not in ("xlsx", "json"):
        raise ValidationError(f"格式 format {chosen!r}", "应为 xlsx 或 json / xlsx or json")
    return chosen


@risk_app.command("report")
def risk_report_command(
    ctx: typer.Context,
    period: Period,
    entity: OptEntity = None,
    entities: Entities = None,
    fmt: Format = None,
    out: OutFile = None,
) -> None:
    """Write the risk signals of one or many communities' month (xlsx or json)."""
    from juzhang.risk import risk_report  # noqa: PLC0415 — report code loads on use

    chosen = output_format(fmt, out)
    codes = chosen_entities(ctx, entity, entities, Action.READ)
    names = codes if codes is not None else [entity or ""]
    reports = []
    with session(ctx, write=False) as s:
        for code in names:
            try:
                reports.append(risk_report(s, code, period))
            except ValidationError as exc:
                if codes is None:  # one community asked for: its refusal is the answer
                    raise
                note(f"未列入 / left out: {code}: {exc}")
    if chosen == "json":
        data = {
            "period": format_period(period),
            "communities": [r.to_json() for r in reports],
        }
        text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
        if out is None:
            typer.echo(text, nl=False)
            return
        out.write_text(text, encoding="utf-8")
    else:
        from juzhang.exporters.risk_excel import write_risk_workbook  # noqa: PLC0415

        label = entity if codes is None else "all"
        out = out or Path(f"risk-{label}-{format_period(period)}.xlsx")
        write_risk_workbook(reports, period, out)
    total = sum(len(r.signals) for r in reports)
    note(f"廉政风险提示 / risk signals: {len(reports)} 个社区 communities, {total} 条 → {out}")


@config_app.command("show")
def risk_config_show(ctx: typer.Context, entity: Entity) -> None:
    """Print ENTITY's risk thresholds (TOML; the defaults when none are stored)."""
    with session(ctx, write=False) as s:
        settings = stored_risk_settings(s, entity)
    typer.echo(risk_settings_toml(settings), nl=False)


@config_app.command("set")
def risk_config_set(
    ctx: typer.Context,
    entity: Entity,
    file: Annotated[Path, typer.Argument(metavar="FILE", dir_okay=False, help="TOML 设置文件")],
) -> None:
    """Store FILE as ENTITY's risk thresholds (reviewer)."""
    settings = load_risk_settings(file)
    with session(ctx) as s:
        set_risk_settings(s, entity, actor(ctx), settings)
    note(f"风险提示设置已保存 / risk thresholds stored: {entity}")
