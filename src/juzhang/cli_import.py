"""Command line for bank statements (银行对账单), registered by :func:`register`.

::

    juzhang import bank ENTITY FILE --account CODE [--profile NAME|--mapping FILE]
                                    [--rules FILE] [--window DAYS] [--dry-run]   bookkeeper
    juzhang custody accept-statement ENTITY [--all | LINE...] [--account CODE]  cashier
    juzhang statement draft ENTITY [--account CODE] [--rules FILE]            bookkeeper
    juzhang statement list ENTITY [--pending] [--account CODE]
    juzhang statement bank-account ENTITY ACCOUNT NUMBER [--name N] [--bank B]  set-up
    juzhang statement bank-accounts ENTITY

A thin layer over :mod:`juzhang.statements`: each command runs one
library call in one transaction (``--db`` and ``--as`` as for every command of
:mod:`juzhang.cli`).  ``import bank`` prints a summary table (with
``--dry-run`` the proposed vouchers too, and nothing is changed); when the
statement is refused every problem is printed as a table (file, row,
column, reason) and the exit status is 1.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Column, Table

from juzhang import cli_context
from juzhang import statements as statement
from juzhang.errors import Problem, ProblemsError
from juzhang.money import format_amount
from juzhang.statements import STATUS_ZH, ImportResult, format_spans

statement_app = typer.Typer(
    no_args_is_help=True, rich_markup_mode=None, help="银行对账单 / bank statement lines"
)

Entity = Annotated[str, typer.Argument(metavar="ENTITY", help="社区代码 / entity code")]
AccountOpt = Annotated[
    str | None, typer.Option("--account", metavar="CODE", help="银行科目 / bank account")
]
RulesOpt = Annotated[
    Path | None,
    typer.Option("--rules", metavar="FILE", dir_okay=False, help="分类规则 / rules (TOML)"),
]


# --------------------------------------------------------------------------- context


_options = cli_context.options
_actor = cli_context.actor
_session = cli_context.session


def _console() -> Console:
    return Console(highlight=False, width=160)


def _note(text: str) -> None:
    typer.echo(text, err=True)


_WHERE = re.compile(r"^(?P<file>.*?):(?P<row>\d+)(?::(?P<column>[A-Z]+(?:\(.*\))?))?(?P<rest>.*)$")


def problems_table(what: str, problems: Sequence[Problem]) -> Table:
    """Render problems as a table: file, row, column, reason (Chinese / English)."""
    table = Table(
        "文件 file",
        Column("行 row", justify="right"),
        "列 column",
        "原因 reason",
        title=f"{what}: {len(problems)} 个问题 / problem(s)",
        title_justify="left",
    )
    for problem in problems:
        found = _WHERE.match(problem.where)
        if found is None:
            table.add_row(problem.where, "", "", problem.message)
        else:
            rest = found["rest"].strip()
            reason = f"{rest}: {problem.message}" if rest else problem.message
            table.add_row(found["file"], found["row"], found["column"] or "", reason)
    return table


def _refuse(exc: ProblemsError) -> None:
    """Print a refusal's problems as a table on stderr and exit 1."""
    Console(stderr=True, highlight=False, width=160).print(problems_table(exc.what, exc.problems))
    raise typer.Exit(1)


# --------------------------------------------------------------------------- import bank


def import_bank(
    ctx: typer.Context,
    entity: Entity,
    file: Annotated[Path, typer.Argument(metavar="FILE", dir_okay=False, help="对账单 / file")],
    account: Annotated[
        str, typer.Option("--account", metavar="CODE", help="银行科目 / bank detail account")
    ],
    profile: Annotated[
        str | None, typer.Option("--profile", metavar="NAME", help="对账单格式 / bank layout")
    ] = None,
    mapping: Annotated[
        Path | None,
        typer.Option("--mapping", metavar="FILE", dir_okay=False, help="映射文件 / layout file"),
    ] = None,
    rules: RulesOpt = None,
    window: Annotated[
        int | None,
        typer.Option("--window", metavar="DAYS", min=0, help="匹配日记账天数 / match window"),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="只预览，不写入 / show, change nothing")
    ] = False,
) -> None:
    """Import a bank statement (bookkeeper): lines, matches and draft vouchers."""
    if profile is not None and mapping is not None:
        raise typer.BadParameter("--profile 与 --mapping 只能给一个 / give one of them")
    actor = _actor(ctx)
    try:
        with _session(ctx) as s:
            result = statement.import_statement(
                s,
                entity,
                actor,
                file,
                account=account,
                profile=profile,
                mapping=mapping,
                rules=rules,
                window_days=window,
                dry_run=dry_run,
            )
    except ProblemsError as exc:
        _refuse(exc)
        return
    console = _console()
    if dry_run:
        console.print(proposals_table(result))
    console.print(summary_table(result))
    for note in result.notes:
        _note(f"注意 / note: {note}")
    if dry_run:
        _note("预览，未写入 / dry run: nothing was changed")


def summary_table(result: ImportResult) -> Table:
    """The import's figures as a two-column table."""
    title = "对账单导入预览 / import preview" if result.dry_run else "对账单已导入 / imported"
    table = Table("项目 item", Column("结果 result", overflow="fold"), title=title)
    rows = [
        ("文件 file", result.file),
        ("格式 profile", result.profile),
        ("科目 account", f"{result.account} ({result.own_account or '对账单未写账号 no number'})"),
        ("批次 batch", "" if result.batch_id is None else f"#{result.batch_id}"),
        ("读取行 rows read", str(result.rows_read)),
        ("新增 new lines", str(result.new_lines)),
        (
            "重复已跳过 duplicates skipped",
            f"{result.duplicates}"
            + (f" (行 rows {format_spans(result.duplicate_rows)})" if result.duplicates else ""),
        ),
        ("已制单 vouchers drafted", str(result.vouchers_drafted)),
        ("关联已有凭证 linked to vouchers", str(result.vouchers_linked)),
        (
            "待出纳确认 awaiting the cashier",
            f"{result.awaiting_cashier}"
            + (
                f" (对账单行 lines #{format_spans(result.awaiting_lines)})"
                if result.awaiting_cashier
                else ""
            ),
        ),
        ("先前行已制单 earlier lines drafted", str(result.pending_drafted)),
    ]
    for name, value in rows:
        table.add_row(name, value)
    return table


def proposals_table(result: ImportResult) -> Table:
    """The rows of a dry run and what would happen to each."""
    shown = len(result.proposals)
    caption = (
        f"只显示前 {shown} 行 / the first {shown} of {result.rows_read} rows"
        if shown < result.rows_read
        else None
    )
    table = Table(
        Column("行 row", justify="right"),
        "日期 date",
        "收/付",
        Column("金额 amount", justify="right"),
        "对方 counterparty",
        "状态 status",
        "对方科目 account",
        "摘要 summary",
        "规则 rule",
        Column("日记账 entry", justify="right"),
        title="拟制凭证 / proposed vouchers",
        caption=caption,
    )
    for p in result.proposals:
        table.add_row(
            str(p.row),
            p.date.isoformat(),
            "收 in" if p.direction == "in" else "付 out",
            format_amount(p.amount),
            p.counterparty,
            f"{STATUS_ZH[p.status]} {p.status.value}",
            p.account,
            p.summary or p.text,
            p.rule,
            "" if p.custody_entry is None else f"#{p.custody_entry}",
        )
    return table


# --------------------------------------------------------------------------- cashier


def custody_accept_statement(
    ctx: typer.Context,
    entity: Entity,
    lines: Annotated[list[int] | None, typer.Argument(metavar="LINE", show_default=False)] = None,
    every: Annotated[bool, typer.Option("--all", help="全部待确认行 / every line waiting")] = False,
    account: AccountOpt = None,
) -> None:
    """Accept statement lines into the bank journal (cashier): one entry per line."""
    if every == bool(lines):
        raise typer.BadParameter(
            "请给出对账单行 ID 或 --all（二选一） / give LINE ids or --all, not both",
            ctx,
            param_hint="LINE",
        )
    actor = _actor(ctx)
    with _session(ctx) as s:
        accepted = statement.accept_statement_lines(
            s, entity, actor, "all" if every else list(lines or []), account=account
        )
    for item in accepted:
        typer.echo(f"{item.line} {item.entry}")
    existing = sum(1 for item in accepted if not item.recorded)
    _note(
        f"已确认入银行日记账 / accepted into the bank journal: {len(accepted)}"
        + (
            f" (其中 {existing} 笔已手工登记，已关联 / {existing} linked to entries already"
            " recorded)"
            if existing
            else ""
        )
        + "; 会计下一步 / next, the bookkeeper: juzhang statement draft"
    )


# --------------------------------------------------------------------------- statement lines


@statement_app.command("draft")
def statement_draft(
    ctx: typer.Context, entity: Entity, account: AccountOpt = None, rules: RulesOpt = None
) -> None:
    """Draft vouchers for lines the cashier has accepted since they were imported."""
    actor = _actor(ctx)
    with _session(ctx) as s:
        done = statement.draft_pending(s, entity, actor, account=account, rules=rules)
    typer.echo(f"已制单 / drafted: {done.drafted}; 关联已有凭证 / linked: {done.linked}")
    if done.vouchers:
        _note(f"凭证 / vouchers #{format_spans(done.vouchers)}")
    for item in done.waiting:
        _note(f"注意 / note: {item}")


@statement_app.command("list")
def statement_list(
    ctx: typer.Context,
    entity: Entity,
    pending: Annotated[bool, typer.Option("--pending", help="只列待处理 / waiting only")] = False,
    account: AccountOpt = None,
) -> None:
    """List stored statement lines and where each stands."""
    with _session(ctx, write=False) as s:
        views = statement.list_statement_lines(s, entity, account=account, pending=pending)
    table = Table(
        Column("#", justify="right"),
        "科目",
        "日期 date",
        "收/付",
        Column("金额 amount", justify="right"),
        "对方 counterparty",
        "摘要 summary",
        "流水号 serial",
        Column("日记账", justify="right"),
        Column("凭证", justify="right"),
        "状态 status",
    )
    for v in views:
        table.add_row(
            str(v.id),
            v.account,
            v.date.isoformat(),
            "收" if v.direction == "in" else "付",
            format_amount(v.amount),
            v.counterparty,
            " ".join(t for t in (v.summary, v.purpose) if t),
            v.serial,
            "" if v.custody_entry is None else f"#{v.custody_entry}",
            "" if v.voucher is None else f"#{v.voucher}",
            f"{STATUS_ZH[v.status]} {v.status.value}",
        )
    _console().print(table)


@statement_app.command("bank-account")
def statement_bank_account(
    ctx: typer.Context,
    entity: Entity,
    account: Annotated[str, typer.Argument(metavar="ACCOUNT", help="银行科目 / bank account")],
    number: Annotated[str, typer.Argument(metavar="NUMBER", help="银行账号 / account number")],
    name: Annotated[str, typer.Option(help="户名 / account holder")] = "",
    bank: Annotated[str, typer.Option(help="开户行 / bank")] = "",
) -> None:
    """Record the bank's account number behind a bank detail account (set-up)."""
    with _session(ctx) as s:
        statement.set_bank_account(s, entity, account, number, name=name, bank=bank)
    typer.echo(f"已登记 / recorded: {entity} {account} {number}")


@statement_app.command("bank-accounts")
def statement_bank_accounts(ctx: typer.Context, entity: Entity) -> None:
    """List the bank account numbers recorded for a community."""
    with _session(ctx, write=False) as s:
        rows = statement.bank_accounts(s, entity)
    table = Table("科目 account", "账号 number", "户名 name", "开户行 bank")
    for row in rows:
        table.add_row(row.account, row.number, row.name, row.bank)
    _console().print(table)


# --------------------------------------------------------------------------- registration


def _group(app: typer.Typer, name: str) -> typer.Typer | None:
    for info in app.registered_groups:
        if info.name == name and info.typer_instance is not None:
            return info.typer_instance
    return None


def register(app: typer.Typer, custody_app: typer.Typer | None = None) -> None:
    """Add these commands to the root ``app``.

    ``import bank`` goes into the ``import`` group (made here when there is
    none yet), ``accept-statement`` into ``custody_app`` (else the ``custody``
    group of ``app``), and ``statement`` is added as a group of its own.
    """
    group = _group(app, "import")
    if group is None:
        group = typer.Typer(no_args_is_help=True, rich_markup_mode=None, help="导入 / imports")
        app.add_typer(group, name="import")
    group.command("bank")(import_bank)
    cashier = custody_app or _group(app, "custody")
    if cashier is None:
        raise RuntimeError("juzhang.cli has no custody group")
    cashier.command("accept-statement")(custody_accept_statement)
    app.add_typer(statement_app, name="statement")
