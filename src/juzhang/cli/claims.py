"""Claim batches (报账单): the form to fill in, and the claims once imported.

::

    juzhang template claims [--out FILE] [--force]                      the form to fill in
    juzhang claims draft (ENTITY [ID...] | --entities all|C001,C002)    bookkeeper (制单)
    juzhang claims list ENTITY [--pending | --returned | --drafted]

(``juzhang import claims`` is in :mod:`juzhang.cli.import_` and prints its
claims with :func:`claims_table` and :func:`print_reasons`.)  A thin layer over
:mod:`juzhang.claims`: each command runs one library call in one
transaction (``--db`` and ``--as`` as for every command of :mod:`juzhang.cli`,
whose root group turns refusals into one line on stderr and exit status 1).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Column, Table

from juzhang import claims
from juzhang.cli._batch import Entities, OptEntity, chosen_entities, run_batch
from juzhang.cli._common import (
    Entity,
    actor,
    command_group,
    console,
    note,
    out_file_callback,
    session,
)
from juzhang.cli._listing import Col, ListFormat, chosen_format, emit
from juzhang.core.duty import Action
from juzhang.exporters.claims_template import write_claims_template
from juzhang.money import format_amount

DEFAULT_TEMPLATE = Path("报账单模板.xlsx")

template_app = command_group("模板 / templates")
claims_app = command_group("报账单 / the cashier's claim batches")


# --------------------------------------------------------------------------- template


@template_app.command("claims")
def template_claims(
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            dir_okay=False,
            callback=out_file_callback,
            help="输出文件 / output file (.xlsx)",
        ),
    ] = DEFAULT_TEMPLATE,
    force: Annotated[bool, typer.Option("--force", help="覆盖已有文件 / overwrite")] = False,
) -> None:
    """Write the claim form (报账单模板) the cashier fills in."""
    if out.suffix.lower() != ".xlsx":
        raise typer.BadParameter("应为 .xlsx 文件 / expected an .xlsx file", param_hint="--out")
    if out.exists() and not force:
        raise typer.BadParameter(
            f"{out} 已存在，用 --force 覆盖 / exists: pass --force to overwrite",
            param_hint="--out",
        )
    write_claims_template(out)
    typer.echo(str(out))
    note(f"已写入报账单模板 / claim form written: {out}")


# --------------------------------------------------------------------------- claims


@claims_app.command("draft")
def claims_draft(
    ctx: typer.Context,
    entity: OptEntity = None,
    ids: Annotated[list[int] | None, typer.Argument(metavar="ID", show_default=False)] = None,
    entities: Entities = None,
) -> None:
    """Turn pending claims into draft vouchers (制单), as the bookkeeper; prints the voucher ids."""
    codes = chosen_entities(ctx, entity, entities, Action.DRAFT_VOUCHER)
    if codes is not None:
        if ids:
            raise typer.BadParameter("--entities 不能与 ID 同用 / not with IDs", ctx)
        keeper = actor(ctx)
        run_batch(
            ctx,
            "报账制单 claims draft",
            codes,
            lambda s, c: f"已制单 / drafted: {len(claims.draft_claims(s, c, keeper, None))}",
        )
        return
    assert entity is not None
    who = actor(ctx)
    with session(ctx) as s:
        vids = claims.draft_claims(s, entity, who, ids or None)
    for vid in vids:
        typer.echo(vid)
    note(f"已制单 / drafted: {len(vids)}" if vids else "没有待制单的报账 / no pending claims")


@claims_app.command("list")
def claims_list(
    ctx: typer.Context,
    entity: Entity,
    pending: Annotated[bool, typer.Option("--pending", help="待制单 / pending")] = False,
    returned: Annotated[bool, typer.Option("--returned", help="退回 / returned")] = False,
    drafted: Annotated[bool, typer.Option("--drafted", help="已制单 / drafted")] = False,
    fmt: ListFormat = None,
) -> None:
    """List claims with their status and the reasons of returned ones (--format …)."""
    chosen = [s for s, on in (("pending", pending), ("returned", returned), ("drafted", drafted))
              if on]  # fmt: skip
    if len(chosen) > 1:
        raise typer.BadParameter(
            "--pending、--returned、--drafted 只能选一个 / choose one", param_hint="--pending"
        )
    with session(ctx, write=False) as s:
        views = claims.list_claims(s, entity, status=chosen[0] if chosen else None)
    if chosen_format(fmt) == "table":
        console().print(claims_table(f"{entity} 报账 claims", views))
        print_reasons("退回原因 / reasons", [v for v in views if v.reasons])
        return
    rows = [
        {
            "id": v.id,
            "batch": v.batch,
            "row": v.row,
            "date": v.date,
            "amount": v.amount,
            "purpose": v.purpose,
            "account": v.account or v.category,
            "payment": v.payment,
            "status": v.status,
            "voucher": v.voucher,
            "reasons": "; ".join(str(r) for r in v.reasons),
        }
        for v in views
    ]
    emit(
        tuple(
            Col(key, key, kind)
            for key, kind in (
                ("id", "number"),
                ("batch", "number"),
                ("row", "number"),
                ("date", "date"),
                ("amount", "amount"),
                ("purpose", "text"),
                ("account", "number"),
                ("payment", "number"),
                ("status", "number"),
                ("voucher", "number"),
                ("reasons", "text"),
            )
        ),
        rows,
        fmt,
    )


_STATUS = {"pending": "待制单", "drafted": "已制单", "returned": "退回"}
_PAYMENT = {"cash": "现金", "bank": "银行"}


def claims_table(title: str, views: Sequence[claims.ClaimView]) -> Table:
    """Render claims as a table: id, batch-row, date, amount, purpose, account, status."""
    table = Table(
        "#",
        "批次-行",
        Column("日期 date", min_width=10, no_wrap=True),
        Column("金额 amount", justify="right", min_width=8, no_wrap=True),
        "事由 purpose",
        "科目 account",
        "支付",
        "状态",
        "凭证",
        title=title,
    )
    for v in views:
        table.add_row(
            str(v.id),
            f"{v.batch}-{v.row}",
            v.date.isoformat(),
            format_amount(v.amount),
            v.purpose,
            v.account or v.category,
            _PAYMENT.get(v.payment, v.payment),
            _STATUS.get(v.status, v.status),
            f"#{v.voucher}" if v.voucher else "",
        )
    return table


def print_reasons(title: str, views: Sequence[claims.ClaimView]) -> None:
    """Print each returned claim and its reasons, one reason a line (they are long)."""
    if not views:
        return
    typer.echo(title)
    for v in views:
        typer.echo(
            f"  #{v.id} 批次 batch {v.batch} 第{v.row}行 row {v.row}: {v.date.isoformat()}"
            f" {format_amount(v.amount)} {v.purpose}"
        )
        for reason in v.reasons:
            typer.echo(f"    - {reason}")
