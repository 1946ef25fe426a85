"""Set-up commands (建账): the database, communities, people, roles, accounts, opening balances.

::

    juzhang db upgrade
    juzhang entity add CODE NAME [--chart KEY] [--start YYYY-MM]
    juzhang entity list
    juzhang user add LOGIN NAME
    juzhang grant LOGIN ROLE ENTITY
    juzhang account add ENTITY CODE NAME
    juzhang opening set ENTITY ACCOUNT AMOUNT [ACCOUNT AMOUNT ...]    bookkeeper (--as)

All but ``opening set`` are operator commands and need no ``--as``.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy.engine import make_url

from juzhang import agency, books, clock
from juzhang.charts import DEFAULT_CHART
from juzhang.cli._common import (
    ARGS,
    Entity,
    actor,
    as_chart,
    as_money,
    as_period,
    command_group,
    note,
    out,
    session,
    settings,
)
from juzhang.core.duty import Role
from juzhang.core.period import format_period, period_of
from juzhang.money import format_amount
from juzhang.storage.engine import make_engine, upgrade

db_app = command_group("数据库 / the database")
entity_app = command_group("社区 / communities (entities)")
user_app = command_group("用户 / people")
account_app = command_group("科目 / accounts")
opening_app = command_group("期初余额 / opening balances")


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context) -> None:
    """Create or upgrade the database schema (建库/升级)."""
    url = settings(ctx).url
    engine = make_engine(url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    shown = make_url(url).render_as_string(hide_password=True)
    typer.echo(f"数据库已是最新 / database is up to date: {shown}")


@entity_app.command("add")
def entity_add(
    ctx: typer.Context,
    code: Annotated[str, typer.Argument(metavar="CODE")],
    name: Annotated[str, typer.Argument(metavar="NAME")],
    chart: Annotated[
        str, typer.Option(parser=as_chart, help="rural-2023 | rural-2004 | npo-2004")
    ] = DEFAULT_CHART,
    start: Annotated[
        int | None, typer.Option(parser=as_period, metavar="YYYY-MM", help="建账月份 / first month")
    ] = None,
) -> None:
    """Add a community (社区) with the accounts of its chart."""
    first = start if start is not None else period_of(clock.today())
    with session(ctx) as s:
        agency.add_entity(s, code, name, chart=chart, start_period=first)
    typer.echo(f"已建立 / created {code} {name} ({chart}, {format_period(first)})")


@entity_app.command("list")
def entity_list(ctx: typer.Context) -> None:
    """List the communities."""
    with session(ctx, write=False) as s:
        rows = agency.list_entities(s)
    table = Table("代码 code", "名称 name", "科目表 chart")
    for row in rows:
        table.add_row(*row)
    out.print(table)


@user_app.command("add")
def user_add(
    ctx: typer.Context,
    login: Annotated[str, typer.Argument(metavar="LOGIN")],
    name: Annotated[str, typer.Argument(metavar="NAME")],
) -> None:
    """Add a person (用户)."""
    with session(ctx) as s:
        agency.add_user(s, login, name)
    typer.echo(f"已添加用户 / user added: {login} {name}")


def grant(
    ctx: typer.Context,
    login: Annotated[str, typer.Argument(metavar="LOGIN")],
    role: Annotated[Role, typer.Argument(metavar="ROLE")],
    entity: Entity,
) -> None:
    """Grant a role for a community (授权); 钱账分离 is checked."""
    with session(ctx) as s:
        agency.grant(s, login, role, entity)
    typer.echo(f"已授权 / granted: {login} {role.value} {entity}")


@account_app.command("add")
def account_add(
    ctx: typer.Context,
    entity: Entity,
    code: Annotated[str, typer.Argument(metavar="CODE")],
    name: Annotated[str, typer.Argument(metavar="NAME")],
) -> None:
    """Add a detail account (明细科目); the parent comes from the code (51301 → 513)."""
    with session(ctx) as s:
        books.add_account(s, entity, code, name)
    typer.echo(f"已添加科目 / account added: {entity} {code} {name}")


def _pairs(items: Sequence[str]) -> dict[str, Decimal]:
    if not items or len(items) % 2:
        raise typer.BadParameter("应为 ACCOUNT AMOUNT 成对 / expected ACCOUNT AMOUNT pairs")
    balances: dict[str, Decimal] = {}
    for code, amount in zip(items[::2], items[1::2], strict=True):
        if code in balances:
            raise typer.BadParameter(f"科目 {code} 重复 / account {code} given twice")
        balances[code] = as_money(amount)
    return balances


@opening_app.command("set", context_settings=ARGS)
def opening_set(
    ctx: typer.Context,
    entity: Entity,
    pairs: Annotated[list[str], typer.Argument(metavar="ACCOUNT AMOUNT")],
) -> None:
    """Set opening balances (期初余额): debit positive, credit negative."""
    balances = _pairs(pairs)
    who = actor(ctx)
    with session(ctx) as s:
        books.set_opening(s, entity, who, balances)
        diff = books.opening_difference(s, entity)
    typer.echo(f"期初余额已保存 / opening balances saved: {len(balances)}")
    if diff:
        amount = format_amount(diff)
        note(f"注意：期初借贷不平，相差 {amount} / note: not balanced, off by {amount}")
