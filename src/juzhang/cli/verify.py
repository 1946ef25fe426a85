"""Checks (核对): the books against themselves, and a disclosure workbook against the books.

::

    juzhang verify [ENTITY]
    juzhang verify-report FILE [--json]

``verify`` recomputes the books and lists every problem; it exits 1 when there
are any.  ``verify-report`` regenerates the board the file must be (from the
published snapshot of a signed month, from the books of a closed unsigned
one) and compares every visible cell; it exits

* 0 — the file is the published board and the books still agree with it;
* 1 — cells differ (each named ``sheet!A1: file ≠ expected`` on stderr), or
  the file is not a juzhang disclosure workbook, or cannot be read safely;
* 2 — the file is the published board, but the books changed since (a later
  change such as a budget adjustment, each figure listed; not tampering);
* 3 — a draft (草稿 · 未结账): the month is open, not the published board;
* 4 — the file matches the books but has not been signed (not published yet).

Both only read the books.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from juzhang.cli._common import print_problems, session
from juzhang.exporters.disclosure_excel import verify_report
from juzhang.verify import verify as verify_books


def verify(
    ctx: typer.Context,
    entity: Annotated[str | None, typer.Argument(metavar="ENTITY")] = None,
) -> None:
    """Recompute the books and list every problem (核对); exit 1 when there are any."""
    with session(ctx, write=False) as s:
        problems = verify_books(s, entity)
    if problems:
        typer.echo(f"发现 {len(problems)} 个问题 / {len(problems)} problem(s) found", err=True)
        print_problems(problems)
        raise typer.Exit(1)
    typer.echo(f"核对无误 / no problems: {entity or '全部 all'}")


def verify_report_command(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Argument(metavar="FILE", exists=True, dir_okay=False, help="财务公开表 xlsx")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出 / print JSON")] = False,
) -> None:
    """Check a disclosure workbook, every visible cell, against what was published (核验财务公开表).

    Exit 0: the published board, books agree; 1: cells differ; 2: the published
    board, the books changed since; 3: a draft; 4: matches the books, not signed yet.
    """
    with session(ctx, write=False) as s:
        result = verify_report(s, file)
    code = result.exit_code
    if as_json:
        typer.echo(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
    else:
        typer.echo(f"核验码 / fingerprint: {result.fingerprint}")
        for message in result.messages:
            typer.echo(message, err=code != 0)
        for diff in result.differences:
            typer.echo(f"  - {diff}", err=True)
        for change in result.book_changes:
            typer.echo(f"  ~ {change}", err=True)
    if code:
        raise typer.Exit(code)
