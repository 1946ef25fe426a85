"""Checks (核对): the books against themselves, and a disclosure workbook against the books.

::

    juzhang verify [ENTITY] [--anchors DIR_OR_FILE ...]
    juzhang anchors export [--entities all|C001,C002] --out FILE
    juzhang verify-report FILE [--json]          (FILE: a board .xlsx or a page's .json)
    juzhang audit roles

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

``audit roles`` lists who holds which duty per community, in juzhang and (on
PostgreSQL) in the database's roles, and exits 1 when they differ or one
login holds both a custody and a books-side duty for one community.

All three only read the books.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from juzhang.anchors import check_anchors, export_anchors, read_anchors
from juzhang.cli._common import command_group, note, print_problems, session
from juzhang.errors import ValidationError
from juzhang.exporters.board_verify import verify_report
from juzhang.role_audit import audit_roles
from juzhang.verify import verify as verify_books


def verify(
    ctx: typer.Context,
    entity: Annotated[str | None, typer.Argument(metavar="ENTITY")] = None,
    anchors: Annotated[
        list[Path] | None,
        typer.Option(
            "--anchors",
            metavar="DIR_OR_FILE",
            help="公开的链头：锚点清单、财务公开表或其 JSON / published heads: an anchor list,"
            " boards or their JSON (repeatable)",
        ),
    ] = None,
) -> None:
    """Recompute the books and list every problem (核对); exit 1 when there are any.

    With ``--anchors`` the books must also still lead to every published chain head.
    """
    published = read_anchors(anchors) if anchors else []
    if entity is not None:
        published = [a for a in published if a.entity == entity]
    with session(ctx, write=False) as s:
        problems = verify_books(s, entity)
        problems += check_anchors(s, published)
    if anchors:
        note(f"已核对 {len(published)} 个锚点 / {len(published)} anchor(s) checked")
    if problems:
        typer.echo(f"发现 {len(problems)} 个问题 / {len(problems)} problem(s) found", err=True)
        print_problems(problems)
        raise typer.Exit(1)
    typer.echo(f"核对无误 / no problems: {entity or '全部 all'}")


def verify_report_command(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(
            metavar="FILE",
            exists=True,
            dir_okay=False,
            help="财务公开表 xlsx，或网上公开页的 JSON / a board (.xlsx) or a page's JSON",
        ),
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


anchors_app = command_group("链头锚点 / published chain heads kept outside the database")


@anchors_app.command("export")
def anchors_export(
    ctx: typer.Context,
    out_file: Annotated[Path, typer.Option("--out", metavar="FILE", help="JSON 文件 / JSON file")],
    entities: Annotated[
        str, typer.Option("--entities", help="all 或 C001,C002 / all or a comma-separated list")
    ] = "all",
) -> None:
    """Write the published chain heads as JSON (导出链头锚点) for the finance group to keep."""
    codes = (
        None if entities.strip() == "all" else [c.strip() for c in entities.split(",") if c.strip()]
    )
    with session(ctx, write=False) as s:
        data = export_anchors(s, codes)
    text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    try:
        out_file.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ValidationError(
            f"文件 file {out_file}", f"无法写入 / cannot write: {exc.strerror or exc}"
        ) from exc
    note(f"已导出 {len(data['anchors'])} 个锚点 / {len(data['anchors'])} anchor(s) → {out_file}")


audit_app = command_group("职责核对 / who holds which duty, in juzhang and in the database")


@audit_app.command("roles")
def audit_roles_command(ctx: typer.Context) -> None:
    """List each community's duties in juzhang and in the database; exit 1 on any difference.

    Also exit 1 when one login holds the cashier's duty and a books-side duty
    for one community (钱账分离).  On SQLite only juzhang's grants are listed.
    """
    with session(ctx, write=False) as s:
        result = audit_roles(s)
    for h in result.held:  # tab-separated: community, login, duty, database login, member
        db = "—" if h.db_member is None else ("✓" if h.db_member else "✗")
        typer.echo(f"{h.entity}\t{h.login}\t{h.role}\t{h.db_role or '—'}\t{db}")
    if result.problems:
        note(f"{len(result.problems)} 个问题 / problem(s):")
        print_problems(result.problems)
        raise typer.Exit(1)
    note("职责一致 / juzhang and the database agree")
