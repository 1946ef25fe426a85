"""Exports (导出): the books as a beancount file.

::

    juzhang export beancount (ENTITY | --all) [--out FILE] [--check]
    juzhang export beancount --entities all|C001,C002 --out DIR [--check]

``export beancount`` writes the books of one entity or of all
(:mod:`juzhang.exporters.beancount`) to ``--out`` or stdout; ``--check``
then loads the file with beancount and exits 1 listing every error.  With
``--entities`` each community goes to its own file ``DIR/ENTITY.beancount``
(:mod:`juzhang.cli._batch`: a summary table, exit 1 if any community
failed).  It only reads the books.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import Connection

from juzhang.cli._batch import Entities, chosen_entities, run_batch
from juzhang.cli._common import command_group, note, session
from juzhang.core.duty import Action
from juzhang.errors import Problem, ProblemsError
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
    out_file: Annotated[
        Path | None,
        typer.Option("--out", help="文件；--entities 时为目录 / file; with --entities a folder"),
    ] = None,
    check: Annotated[
        bool, typer.Option("--check", help="用 beancount 校验 / check with beancount")
    ] = False,
    entities: Entities = None,
) -> None:
    """Export the books of one entity (or --all) as a beancount file (bean-check, Fava)."""
    if entities is not None:
        if every:
            raise typer.BadParameter("--all 与 --entities 二选一 / not both", ctx)
        _export_many(ctx, entity, entities, out_file, check)
        return
    if every == (entity is not None):
        raise typer.BadParameter(
            "请给出社区代码或 --all（二选一） / give ENTITY or --all, not both",
            ctx,
            param_hint="ENTITY",
        )
    codes = None if every else [str(entity)]
    if out_file is None and not check:
        with session(ctx, write=False) as s:
            summary = write_beancount(s, sys.stdout, codes)
        _exported(summary)
        return
    with tempfile.TemporaryDirectory(prefix="juzhang-") as tmp:
        path = out_file or Path(tmp) / "books.beancount"
        with session(ctx, write=False) as s:
            summary = export_beancount(s, path, codes)
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


def _export_many(
    ctx: typer.Context, entity: str | None, entities: str, folder: Path | None, check: bool
) -> None:
    codes = chosen_entities(ctx, entity, entities, Action.READ) or []
    if folder is None or (folder.exists() and not folder.is_dir()):
        raise typer.BadParameter(
            "--entities 需要 --out DIR（目录） / --entities needs --out DIR (a folder)",
            param_hint="--out",
        )
    folder.mkdir(parents=True, exist_ok=True)

    def one(s: Connection, code: str) -> str:
        path = folder / f"{code}.beancount"
        summary = export_beancount(s, path, [code])
        errors = check_beancount(path) if check else []
        if errors:
            raise ProblemsError(
                f"beancount 校验失败 / check failed: {path}",
                [Problem(str(path), line) for line in errors],
            )
        return f"{path}: {summary.transactions} 笔凭证 transactions"

    run_batch(ctx, "导出 export beancount", codes, one, write=False)


def _exported(summary: ExportSummary) -> None:
    note(
        f"导出 / exported: {len(summary.entities)} 个社区 entities,"
        f" {summary.accounts} 科目 accounts, {summary.transactions} 笔凭证 transactions,"
        f" {summary.balances} 个余额断言 balances"
    )
