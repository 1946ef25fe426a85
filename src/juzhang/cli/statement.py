"""Bank statement lines (银行对账单行) after their import, and the bank account numbers.

::

    juzhang statement draft (ENTITY | --entities all|C001,C002) [--account CODE] [--rules FILE]
    juzhang statement list ENTITY [--pending] [--account CODE]
    juzhang statement bank-account ENTITY ACCOUNT NUMBER [--name N] [--bank B]  set-up
    juzhang statement bank-accounts ENTITY

(``juzhang import bank`` is in :mod:`juzhang.cli.import_`, the cashier's
``juzhang custody accept-statement`` in :mod:`juzhang.cli.custody`.)
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy import Connection

from juzhang import statements as statement
from juzhang.cli._batch import Entities, OptEntity, chosen_entities, run_batch
from juzhang.cli._common import (
    WIDE,
    BankAccount,
    Entity,
    Rules,
    actor,
    command_group,
    console,
    note,
    session,
)
from juzhang.cli._listing import Col, ListFormat, emit
from juzhang.core.duty import Action
from juzhang.statements import STATUS_ZH, format_spans

statement_app = command_group("银行对账单 / bank statement lines")


def draft_all(s: Connection, entity: str, who: str, account: str | None, rules: Path | None) -> str:
    """Draft the accepted lines of one community (one step of ``--entities``)."""
    done = statement.draft_pending(s, entity, who, account=account, rules=rules)
    waiting = f"; 待处理 / waiting: {len(done.waiting)}" if done.waiting else ""
    return f"已制单 / drafted: {done.drafted}; 关联 / linked: {done.linked}{waiting}"


@statement_app.command("draft")
def statement_draft(
    ctx: typer.Context,
    entity: OptEntity = None,
    account: BankAccount = None,
    rules: Rules = None,
    entities: Entities = None,
) -> None:
    """Draft vouchers for lines the cashier has accepted since they were imported."""
    codes = chosen_entities(ctx, entity, entities, Action.DRAFT_VOUCHER)
    if codes is not None:
        keeper = actor(ctx)
        run_batch(ctx, "制单 draft", codes, lambda s, c: draft_all(s, c, keeper, account, rules))
        return
    assert entity is not None
    who = actor(ctx)
    with session(ctx) as s:
        done = statement.draft_pending(s, entity, who, account=account, rules=rules)
    typer.echo(f"已制单 / drafted: {done.drafted}; 关联已有凭证 / linked: {done.linked}")
    if done.vouchers:
        note(f"凭证 / vouchers #{format_spans(done.vouchers)}")
    for item in done.waiting:
        note(f"注意 / note: {item}")


@statement_app.command("list")
def statement_list(
    ctx: typer.Context,
    entity: Entity,
    pending: Annotated[bool, typer.Option("--pending", help="只列待处理 / waiting only")] = False,
    account: BankAccount = None,
    fmt: ListFormat = None,
) -> None:
    """List stored statement lines and where each stands (--format table|json|csv|tsv)."""
    with session(ctx, write=False) as s:
        views = statement.list_statement_lines(s, entity, account=account, pending=pending)
    rows = [
        {
            "id": v.id,
            "account": v.account,
            "date": v.date,
            "direction": v.direction,
            "amount": v.amount,
            "counterparty": v.counterparty,
            "summary": " ".join(t for t in (v.summary, v.purpose) if t),
            "serial": v.serial,
            "custody_entry": v.custody_entry,
            "voucher": v.voucher,
            "status": v.status.value,
            "status_zh": STATUS_ZH[v.status],
        }
        for v in views
    ]
    emit(
        (
            Col("id", "#", "number"),
            Col("account", "科目", "number"),
            Col("date", "日期 date", "date"),
            Col("direction", "收/付 in/out", "number"),
            Col("amount", "金额 amount", "amount"),
            Col("counterparty", "对方 counterparty"),
            Col("summary", "摘要 summary"),
            Col("serial", "流水号 serial"),
            Col("custody_entry", "日记账", "number"),
            Col("voucher", "凭证", "number"),
            Col("status_zh", "状态", "number"),
            Col("status", "status", "number"),
        ),
        rows,
        fmt,
    )


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
    with session(ctx) as s:
        statement.set_bank_account(s, entity, account, number, name=name, bank=bank)
    typer.echo(f"已登记 / recorded: {entity} {account} {number}")


@statement_app.command("bank-accounts")
def statement_bank_accounts(ctx: typer.Context, entity: Entity) -> None:
    """List the bank account numbers recorded for a community."""
    with session(ctx, write=False) as s:
        rows = statement.bank_accounts(s, entity)
    table = Table("科目 account", "账号 number", "户名 name", "开户行 bank")
    for row in rows:
        table.add_row(row.account, row.number, row.name, row.bank)
    console(width=WIDE).print(table)
