"""Checks (核对): the books against themselves, and a disclosure workbook against the books.

::

    juzhang verify [ENTITY]
    juzhang verify-report FILE [--json]

``verify`` recomputes the books and lists every problem; it exits 1 when there
are any.  ``verify-report`` exits 0 when the file matches the books, 1 when it
does not (the findings and every differing figure on stderr, the verdict on
stdout), and 1 with one line when the file is not a juzhang disclosure
workbook.  Both only read the books.
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
    """Check a disclosure workbook against the books (核验财务公开表); exit 1 if it differs."""
    with session(ctx, write=False) as s:
        result = verify_report(s, file)
    if as_json:
        typer.echo(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
    else:
        typer.echo(f"核验码 / fingerprint: {result.fingerprint}")
        for message in result.messages:
            typer.echo(message, err=not result.matches)
        for diff in result.differences:
            typer.echo(f"  - {diff}", err=True)
    if not result.matches:
        raise typer.Exit(1)
