"""The cashier's commands (出纳): cash and bank journals, statement lines, cash counts.

::

    juzhang custody add ENTITY DATE ACCOUNT AMOUNT SUMMARY [--counterparty X] [--reference R]
    juzhang custody list ENTITY [--period YYYY-MM]
    juzhang custody accept-statement ENTITY (LINE... | --all) [--account CODE]
    juzhang custody accept-statement --entities all|C001,C002 --all [--account CODE]
    juzhang cash count ENTITY DATE AMOUNT [--account CODE] [--note TEXT]

Money in is positive, money out negative.  Every command here but ``list``
is the cashier's (报账员) and needs ``--as``.
"""

from __future__ import annotations

import datetime as dt
import sys
from decimal import Decimal
from typing import Annotated

import typer
from sqlalchemy import Connection

from juzhang import custody
from juzhang import statements as statement
from juzhang.cash_count import record_cash_count
from juzhang.cli._batch import Entities, OptEntity, chosen_entities, run_batch
from juzhang.cli._common import (
    ARGS,
    BankAccount,
    Entity,
    OptPeriod,
    actor,
    as_date,
    as_money,
    command_group,
    note,
    session,
)
from juzhang.cli._listing import Col, ListFormat, emit
from juzhang.core.duty import Action
from juzhang.money import format_amount

SHOWN = 50
"""Lines accepted printed one a line (all of them with --verbose)."""

custody_app = command_group("出纳日记账 / the cashier's cash and bank journals")
cash_app = command_group("现金 / cash on hand")

Date = Annotated[dt.date, typer.Argument(parser=as_date, metavar="DATE")]
Amount = Annotated[Decimal, typer.Argument(parser=as_money, metavar="AMOUNT")]


@custody_app.command("add", context_settings=ARGS)
def custody_add(
    ctx: typer.Context,
    entity: Entity,
    date: Date,
    account: Annotated[str, typer.Argument(metavar="ACCOUNT")],
    amount: Amount,
    summary: Annotated[str, typer.Argument(metavar="SUMMARY")],
    counterparty: Annotated[str, typer.Option(help="对方 / counterparty")] = "",
    reference: Annotated[str, typer.Option(help="票据号 / reference")] = "",
) -> None:
    """Record a cash or bank journal entry (cashier): money in positive, out negative."""
    who = actor(ctx)
    with session(ctx) as s:
        entry = custody.record_entry(
            s,
            entity,
            who,
            date,
            account,
            amount,
            summary,
            counterparty=counterparty,
            reference=reference,
        )
    typer.echo(entry)
    note(f"已登记日记账 / custody entry recorded: #{entry}")


@custody_app.command("list")
def custody_list(
    ctx: typer.Context, entity: Entity, period: OptPeriod = None, fmt: ListFormat = None
) -> None:
    """List cash and bank journal entries (--format table|json|csv|tsv)."""
    with session(ctx, write=False) as s:
        entries = custody.list_entries(s, entity, period=period)
    rows = [
        {
            "id": e.id,
            "date": e.date,
            "account": e.account,
            "amount": e.amount,
            "summary": e.summary,
            "counterparty": e.counterparty,
            "booked": e.backed,
        }
        for e in entries
    ]
    emit(
        (
            Col("id", "#", "number"),
            Col("date", "日期 date", "date"),
            Col("account", "科目 account", "number"),
            Col("amount", "金额 amount", "amount"),
            Col("summary", "摘要 summary"),
            Col("counterparty", "对方"),
            Col("booked", "已入账 booked", "number"),
        ),
        rows,
        fmt,
    )


def accept_all(s: Connection, entity: str, who: str, account: str | None) -> str:
    """Accept every waiting statement line of one community (one step of ``--entities``)."""
    done = statement.accept_statement_bulk(s, entity, who, "all", account=account, shown=0)
    return f"已确认 / accepted: {done.count}"


@custody_app.command("accept-statement")
def custody_accept_statement(
    ctx: typer.Context,
    entity: OptEntity = None,
    lines: Annotated[list[int] | None, typer.Argument(metavar="LINE", show_default=False)] = None,
    every: Annotated[bool, typer.Option("--all", help="全部待确认行 / every line waiting")] = False,
    account: BankAccount = None,
    entities: Entities = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="每行一行 / print every line accepted")
    ] = False,
) -> None:
    """Accept statement lines into the bank journal (cashier): one entry per line.

    Prints ``LINE ENTRY`` for each line accepted, up to 50 lines or with
    ``--verbose``; above, the first 50 and how many more.
    """
    if every == bool(lines):
        raise typer.BadParameter(
            "请给出对账单行 ID 或 --all（二选一） / give LINE ids or --all, not both",
            ctx,
            param_hint="LINE",
        )
    codes = chosen_entities(ctx, entity, entities, Action.ACCEPT_STATEMENT)
    if codes is not None:
        if lines:
            raise typer.BadParameter("--entities 只能与 --all 同用 / with --all only", ctx)
        cashier = actor(ctx)
        run_batch(ctx, "确认对账单 accept", codes, lambda s, c: accept_all(s, c, cashier, account))
        return
    assert entity is not None
    who = actor(ctx)
    with session(ctx) as s:
        done = statement.accept_statement_bulk(
            s,
            entity,
            who,
            "all" if every else list(lines or []),
            account=account,
            shown=SHOWN if not verbose else sys.maxsize,
        )
    for item in done.first:
        typer.echo(f"{item.line} {item.entry}")
    if len(done.first) < done.count:
        typer.echo(f"… {done.count - len(done.first)} more (--verbose lists every line)")
    existing = done.existing
    note(
        f"已确认入银行日记账 / accepted into the bank journal: {done.count}"
        + (
            f" (其中 {existing} 笔已手工登记，已关联 / {existing} linked to entries already"
            " recorded)"
            if existing
            else ""
        )
        + "; 会计下一步 / next, the bookkeeper: juzhang statement draft"
    )


@cash_app.command("count", context_settings=ARGS)
def cash_count(
    ctx: typer.Context,
    entity: Entity,
    date: Date,
    amount: Amount,
    account: Annotated[
        str | None, typer.Option("--account", help="现金科目 / cash account")
    ] = None,
    note_text: Annotated[str, typer.Option("--note", help="备注 / note")] = "",
) -> None:
    """Record the cash counted on hand (现金盘点), as the cashier; prints the count's id."""
    who = actor(ctx)
    with session(ctx) as s:
        count_id = record_cash_count(s, entity, who, date, amount, account, note_text)
    typer.echo(count_id)
    note(f"已登记现金盘点 / cash count recorded: #{count_id} {date} {format_amount(amount)}")
