"""Exports (导出): the books as a beancount file.

::

    juzhang export beancount (ENTITY | --all) [--out FILE] [--check]

``export beancount`` writes the books of one entity or of all
(:mod:`juzhang.exporters.beancount`) to ``--out`` or stdout; ``--check``
then loads the file with beancount and exits 1 listing every error.  It only
reads the books.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from juzhang.cli._common import OutFile, command_group, note, session
from juzhang.exporters.beancount import (
    ExportSummary,
    check_beancount,
    export_beancount,
    write_beancount,
)

export_app = command_group("导出 / exports")


@export_app.command("beancount")
def export_beancount_command(
    ctx: typer.Context,
    entity: Annotated[str | None, typer.Argument(metavar="ENTITY")] = None,
    every: Annotated[bool, typer.Option("--all", help="全部社区 / every entity")] = False,
    out_file: OutFile = None,
    check: Annotated[
        bool, typer.Option("--check", help="用 beancount 校验 / check with beancount")
    ] = False,
) -> None:
    """Export the books of one entity (or --all) as a beancount file (bean-check, Fava)."""
    if every == (entity is not None):
        raise typer.BadParameter(
            "请给出社区代码或 --all（二选一） / give ENTITY or --all, not both",
            ctx,
            param_hint="ENTITY",
        )
    entities = None if every else [str(entity)]
    if out_file is None and not check:
        with session(ctx, write=False) as s:
            summary = write_beancount(s, sys.stdout, entities)
        _exported(summary)
        return
    with tempfile.TemporaryDirectory(prefix="juzhang-") as tmp:
        path = out_file or Path(tmp) / "books.beancount"
        with session(ctx, write=False) as s:
            summary = export_beancount(s, path, entities)
        if out_file is not None:
            note(f"已写入 / written: {out_file}")
        _exported(summary)
        errors = check_beancount(path) if check else []
        if out_file is None:
            sys.stdout.write(path.read_text(encoding="utf-8"))
    if errors:
        note(f"beancount 校验失败 / check failed: {len(errors)} 个错误 / error(s)")
        for line in errors:
            note(f"  - {line}")
        raise typer.Exit(1)
    if check:
        note("beancount 校验通过 / check passed")


def _exported(summary: ExportSummary) -> None:
    note(
        f"导出 / exported: {len(summary.entities)} 个社区 entities,"
        f" {summary.accounts} 科目 accounts, {summary.transactions} 笔凭证 transactions,"
        f" {summary.balances} 个余额断言 balances"
    )
