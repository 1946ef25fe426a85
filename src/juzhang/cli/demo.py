"""The demo (演示): ``juzhang demo [--dir DIR]`` builds a small agency and shows what it made.

Three communities, a quarter of bookkeeping, closed and disclosed (see
:mod:`juzhang.demo`); the command prints a table of what each holds and where
the files are, and exits 1 when the demo's own check finds problems.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Column, Table

from juzhang.cli._common import console, print_problems
from juzhang.core.period import format_period
from juzhang.money import format_amount


def demo(
    directory: Annotated[Path, typer.Option("--dir", file_okay=False)] = Path("demo-out"),
) -> None:
    """Build a demo agency (three communities, a quarter, closed and disclosed) in DIR."""
    from juzhang.demo import build_demo  # noqa: PLC0415 — start-up time (heavy, used here only)

    result = build_demo(directory / "juzhang.db", directory)
    table = Table(
        "社区",
        "科目表 chart",
        Column("已结账 closed", no_wrap=True),
        Column("凭证", justify="right"),
        Column("日记账", justify="right"),
        Column("报账", justify="right"),
        Column("对账单", justify="right"),
        Column("文件", justify="right"),
        title="演示 demo: 三个社区，一个季度 / three communities, one quarter",
        caption="凭证 vouchers, 日记账 journal entries, 报账 claims (退回 returned),"
        " 对账单 statement lines, 文件 files",
    )
    for c in result.communities:
        closed = [format_period(p) for p in c.months_closed]
        months = f"{closed[0]}..{closed[-1][5:]}" if len(closed) > 1 else "".join(closed) or "-"
        claims = f"{c.claims_booked}" + (f"+{c.claims_returned}退回" if c.claims_returned else "")
        table.add_row(
            c.code,
            c.chart,
            months,
            str(c.vouchers),
            str(c.custody_entries),
            claims,
            str(c.statement_lines),
            str(len(c.files)),
        )
    console().print(table)
    verdict = f"{len(result.problems)} problem(s)" if result.problems else "无误 / no problems"
    typer.echo(
        f"红字冲销 reversal of {result.reversal}; 现金短款 cash short"
        f" {format_amount(result.cash_difference)} booked to 待处理财产损溢;"
        f" 核对 verify: {verdict}"
    )
    typer.echo(f"数据库 / database: {result.database}")
    typer.echo(f"输入文件 / inputs (statements, claim batches, rules): {result.out_dir / 'inputs'}")
    for c in result.communities:
        typer.echo(f"输出 / outputs {c.code} {c.name}: {result.out_dir / c.code}")
    typer.echo(
        f"试一试 / try: juzhang --db sqlite:///{result.database} voucher list"
        f" {result.communities[0].code} --period {format_period(result.periods[-1])}"
    )
    if result.problems:
        print_problems(result.problems)
        raise typer.Exit(1)
