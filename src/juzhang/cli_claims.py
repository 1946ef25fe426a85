"""Command line for claim batches (报账单) and beancount files, registered by :func:`register`.

::

    juzhang template claims [--out FILE] [--force]                      the form to fill in
    juzhang import claims ENTITY FILE [--rules RULES.toml]              cashier (报账员)
    juzhang claims draft ENTITY [ID...]                                 bookkeeper (制单)
    juzhang claims list ENTITY [--pending | --returned | --drafted]
    juzhang import beancount ENTITY FILE --mapping MAP.toml [--opening] bookkeeper

A thin layer over :mod:`juzhang.claims` and
:mod:`juzhang.beancount_import`: each command runs one library call
in one transaction (``--db`` and ``--as`` as for every command of
:mod:`juzhang.cli`, whose root group turns refusals into one line on stderr
and exit status 1, every problem of a refused import listed).  A batch whose
claims are returned is *not* an error: the import succeeded, the returned
claims and their reasons are printed for the cashier, and the exit status is
0.  Importing a file that was imported before adds nothing and says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Column, Table

from juzhang import claims, cli_context
from juzhang.exporters.claims_template import write_claims_template
from juzhang.importers.claims_config import load_claims_config
from juzhang.money import format_amount

DEFAULT_TEMPLATE = Path("报账单模板.xlsx")

template_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None, help="模板 / templates")
claims_app = typer.Typer(
    no_args_is_help=True, rich_markup_mode=None, help="报账单 / the cashier's claim batches"
)

Entity = Annotated[str, typer.Argument(metavar="ENTITY", help="社区代码 / entity code")]
InFile = Annotated[
    Path, typer.Argument(metavar="FILE", dir_okay=False, help="要导入的文件 / file to import")
]


# --------------------------------------------------------------------------- context


_options = cli_context.options
_actor = cli_context.actor
_session = cli_context.session


def _console() -> Console:
    return Console(highlight=False)


def _note(text: str) -> None:
    typer.echo(text, err=True)


# --------------------------------------------------------------------------- template


@template_app.command("claims")
def template_claims(
    out: Annotated[
        Path, typer.Option("--out", dir_okay=False, help="输出文件 / output file (.xlsx)")
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
    _note(f"已写入报账单模板 / claim form written: {out}")


# --------------------------------------------------------------------------- import


def import_claims(
    ctx: typer.Context,
    entity: Entity,
    file: InFile,
    rules: Annotated[
        Path | None,
        typer.Option("--rules", dir_okay=False, help="报账规则 / claim rules (TOML)"),
    ] = None,
) -> None:
    """Import a claim batch (报账单) as the cashier: valid claims wait, the rest are returned."""
    config = load_claims_config(rules) if rules is not None else None
    actor = _actor(ctx)
    with _session(ctx) as s:
        result = claims.import_claims(s, entity, actor, file, config=config)
    if result.already_imported:
        typer.echo(
            f"已导入过，未做任何更改 / already imported as batch #{result.batch_id}:"
            f" nothing added ({result.file_name})"
        )
        return
    typer.echo(
        f"批次 batch #{result.batch_id} {result.file_name}: 待制单 pending {len(result.pending)},"
        f" 退回 returned {len(result.returned)}, 重复跳过 duplicates {len(result.duplicates)}"
    )
    if result.pending:
        _console().print(_claims_table("待制单 pending", result.pending))
    _print_reasons("退回报账员 / returned to the cashier", result.returned)
    for row, earlier in result.duplicates:
        _note(f"第 {row} 行与已提交的报账 #{earlier} 相同，已跳过 / row {row}: same as #{earlier}")
    for text in result.skipped:
        _note(text)


def import_beancount(
    ctx: typer.Context,
    entity: Entity,
    file: InFile,
    mapping: Annotated[
        Path, typer.Option("--mapping", dir_okay=False, help="科目对照 / account mapping (TOML)")
    ],
    opening: Annotated[
        bool, typer.Option("--opening", help="作为期初余额 / set opening balances")
    ] = False,
) -> None:
    """Import a beancount file as draft vouchers, or (--opening) as opening balances."""
    from juzhang import beancount_import
    from juzhang.importers.beancount_file import load_mapping

    rules = load_mapping(mapping)
    actor = _actor(ctx)
    with _session(ctx) as s:
        result = beancount_import.import_beancount(
            s, entity, actor, file, mapping=rules, opening=opening
        )
    if result.already_imported:
        typer.echo(
            f"已导入过，未做任何更改 / already imported as batch #{result.batch_id}:"
            f" nothing added ({result.file_name})"
        )
        return
    if opening:
        table = Table("科目 code", Column("期初余额 opening (借+ 贷-)", justify="right"))
        for code, amount in result.balances:
            table.add_row(code, format_amount(amount))
        _console().print(table)
        _note(f"已设置期初余额 / opening balances set: {len(result.balances)}")
        return
    for vid in result.voucher_ids:
        typer.echo(vid)
    _note(f"已制单 / drafted: {len(result.voucher_ids)} (batch #{result.batch_id})")


# --------------------------------------------------------------------------- claims


@claims_app.command("draft")
def claims_draft(
    ctx: typer.Context,
    entity: Entity,
    ids: Annotated[list[int] | None, typer.Argument(metavar="ID", show_default=False)] = None,
) -> None:
    """Turn pending claims into draft vouchers (制单), as the bookkeeper; prints the voucher ids."""
    actor = _actor(ctx)
    with _session(ctx) as s:
        vids = claims.draft_claims(s, entity, actor, ids or None)
    for vid in vids:
        typer.echo(vid)
    _note(f"已制单 / drafted: {len(vids)}" if vids else "没有待制单的报账 / no pending claims")


@claims_app.command("list")
def claims_list(
    ctx: typer.Context,
    entity: Entity,
    pending: Annotated[bool, typer.Option("--pending", help="待制单 / pending")] = False,
    returned: Annotated[bool, typer.Option("--returned", help="退回 / returned")] = False,
    drafted: Annotated[bool, typer.Option("--drafted", help="已制单 / drafted")] = False,
) -> None:
    """List claims with their status (and the reasons of returned ones)."""
    chosen = [s for s, on in (("pending", pending), ("returned", returned), ("drafted", drafted))
              if on]  # fmt: skip
    if len(chosen) > 1:
        raise typer.BadParameter(
            "--pending、--returned、--drafted 只能选一个 / choose one", param_hint="--pending"
        )
    with _session(ctx, write=False) as s:
        views = claims.list_claims(s, entity, status=chosen[0] if chosen else None)
    _console().print(_claims_table(f"{entity} 报账 claims", views))
    _print_reasons("退回原因 / reasons", [v for v in views if v.reasons])


_STATUS = {"pending": "待制单", "drafted": "已制单", "returned": "退回"}
_PAYMENT = {"cash": "现金", "bank": "银行"}


def _claims_table(title: str, views: Sequence[claims.ClaimView]) -> Table:
    table = Table(
        "#",
        "批次-行",
        Column("日期 date", min_width=10),
        Column("金额 amount", justify="right", min_width=8),
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


def _print_reasons(title: str, views: Sequence[claims.ClaimView]) -> None:
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


# --------------------------------------------------------------------------- registration


def _group(app: typer.Typer, name: str) -> typer.Typer | None:
    for info in app.registered_groups:
        if info.name == name and info.typer_instance is not None:
            return info.typer_instance
    return None


def register(app: typer.Typer, import_app: typer.Typer | None = None) -> typer.Typer:
    """Add these commands to the root ``app``; return the ``import`` group used.

    ``import claims`` and ``import beancount`` go into ``import_app``, else
    into the ``import`` group already registered on ``app``, else into a new
    ``import`` group registered here.  ``template`` and ``claims`` are added as
    groups of their own.
    """
    group = import_app or _group(app, "import")
    if group is None:
        group = typer.Typer(no_args_is_help=True, rich_markup_mode=None, help="导入 / imports")
        app.add_typer(group, name="import")
    group.command("claims")(import_claims)
    group.command("beancount")(import_beancount)
    app.add_typer(template_app, name="template")
    app.add_typer(claims_app, name="claims")
    return group
