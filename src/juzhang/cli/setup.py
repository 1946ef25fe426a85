"""Set-up commands (建账): the database, communities, people, roles, accounts, opening balances.

::

    juzhang db upgrade
    juzhang db backup --out FILE [--force]
    juzhang db restore --from FILE [--force]
    juzhang entity add CODE NAME [--chart KEY] [--start YYYY-MM]
    juzhang entity list [--format F]
    juzhang user add LOGIN NAME
    juzhang user list [--format F]
    juzhang grant [add] LOGIN ROLE ENTITY
    juzhang grant revoke LOGIN ROLE ENTITY
    juzhang grant list [--login LOGIN] [--entity CODE] [--format F]
    juzhang account add ENTITY CODE NAME
    juzhang account add-optional ENTITY CODE                        可增设科目 (161, 171, 241)
    juzhang account list ENTITY [--format F]
    juzhang opening set ENTITY ACCOUNT AMOUNT [ACCOUNT AMOUNT ...]    bookkeeper (--as)

All but ``opening set`` are operator commands and need no ``--as``.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy.engine import make_url
from typer.core import TyperGroup

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
    print_problems,
    session,
    settings,
)
from juzhang.cli._listing import Col, ListFormat, chosen_format, emit
from juzhang.core.duty import ROLE_NAMES_ZH, Role
from juzhang.core.period import format_period, period_of
from juzhang.money import format_amount
from juzhang.storage.access import accounts_of, get_entity
from juzhang.storage.backup import PG_ADVICE, backup_sqlite, restore_sqlite, sqlite_path
from juzhang.storage.engine import make_engine, upgrade
from juzhang.verify import verify as verify_books

db_app = command_group("数据库 / the database")
entity_app = command_group("社区 / communities (entities)")
user_app = command_group("用户 / people")
account_app = command_group("科目 / accounts")
opening_app = command_group("期初余额 / opening balances")


class _GrantGroup(TyperGroup):
    """``juzhang grant LOGIN ROLE ENTITY`` as before: a first word not a subcommand means add."""

    default_command = "add"

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = [self.default_command, *args]
        return super().parse_args(ctx, args)


grant_app = typer.Typer(
    cls=_GrantGroup,
    no_args_is_help=True,
    rich_markup_mode=None,
    help="授权 / role grants: add (the default), revoke, list",
)


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


#: ``db backup`` on PostgreSQL writes nothing and exits with this status (see PG_ADVICE).
EXIT_USE_PG_DUMP = 3


@db_app.command("backup")
def db_backup(
    ctx: typer.Context,
    out_file: Annotated[Path, typer.Option("--out", metavar="FILE", help="备份文件 / backup file")],
    force: Annotated[bool, typer.Option("--force", help="覆盖已有文件 / replace a file")] = False,
) -> None:
    """Back up the database (备份): SQLite with its online backup API, WAL included.

    On PostgreSQL nothing is written: it prints how to use pg_dump and exits 3.
    """
    url = settings(ctx).url
    database = sqlite_path(url)
    if database is None:
        typer.echo(PG_ADVICE, err=True)
        raise typer.Exit(EXIT_USE_PG_DUMP)
    backup_sqlite(database, out_file, force=force)
    typer.echo(f"已备份 / backed up: {database} → {out_file}")


@db_app.command("restore")
def db_restore(
    ctx: typer.Context,
    from_file: Annotated[
        Path, typer.Option("--from", metavar="FILE", help="备份文件 / backup file")
    ],
    force: Annotated[
        bool, typer.Option("--force", help="覆盖现有数据库 / replace the database")
    ] = False,
) -> None:
    """Restore a SQLite backup into the configured database (恢复), then verify it.

    Exits 1 when the restored books have problems (listed).  On PostgreSQL it
    prints how to use pg_restore and exits 3.
    """
    url = settings(ctx).url
    database = sqlite_path(url)
    if database is None:
        typer.echo(PG_ADVICE, err=True)
        raise typer.Exit(EXIT_USE_PG_DUMP)
    restore_sqlite(from_file, database, force=force)
    typer.echo(f"已恢复 / restored: {from_file} → {database}")
    with session(ctx, write=False) as s:
        problems = verify_books(s)
    if problems:
        typer.echo(f"发现 {len(problems)} 个问题 / {len(problems)} problem(s) found", err=True)
        print_problems(problems)
        raise typer.Exit(1)
    typer.echo("核对无误 / no problems: 全部 all")


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
def entity_list(ctx: typer.Context, fmt: ListFormat = None) -> None:
    """List the communities (--format table|json|csv|tsv)."""
    with session(ctx, write=False) as s:
        rows = agency.list_entities(s)
    cols = (
        Col("code", "代码 code", "number"),
        Col("name", "名称 name"),
        Col("chart", "科目表 chart"),
    )
    emit(cols, [dict(zip(("code", "name", "chart"), row, strict=True)) for row in rows], fmt)


@user_app.command("list")
def user_list(ctx: typer.Context, fmt: ListFormat = None) -> None:
    """List the people (--format table|json|csv|tsv)."""
    with session(ctx, write=False) as s:
        rows = agency.list_users(s)
    cols = (Col("login", "登录名 login", "number"), Col("name", "姓名 name"))
    emit(cols, [{"login": login, "name": name} for login, name in rows], fmt)


@user_app.command("add")
def user_add(
    ctx: typer.Context,
    login: Annotated[str, typer.Argument(metavar="LOGIN")],
    name: Annotated[str, typer.Argument(metavar="NAME")],
    db_login: Annotated[
        bool,
        typer.Option(
            "--db-login",
            help="PostgreSQL: 同时建立此人的数据库登录 / also create the person's database login",
        ),
    ] = False,
    operator: Annotated[
        bool,
        typer.Option(
            "--operator",
            help="与 --db-login 一起：此人可执行设置类命令 / with --db-login: may run set-up",
        ),
    ] = False,
) -> None:
    """Add a person (用户); with --db-login also their PostgreSQL login role."""
    if operator and not db_login:
        raise typer.BadParameter("--operator 需与 --db-login 一起使用 / needs --db-login")
    with session(ctx) as s:
        agency.add_user(s, login, name)
        role = agency.add_db_login(s, login, operator=operator) if db_login else None
    typer.echo(f"已添加用户 / user added: {login} {name}")
    if role is not None:
        typer.echo(
            f"数据库登录 / database login: {role}"
            " (密码由 PostgreSQL 设置 / the password is set in PostgreSQL)"
        )


@user_app.command("db-login")
def user_db_login(
    ctx: typer.Context,
    login: Annotated[str, typer.Argument(metavar="LOGIN")],
    operator: Annotated[
        bool, typer.Option("--operator", help="此人可执行设置类命令 / may run set-up commands")
    ] = False,
) -> None:
    """PostgreSQL: give an existing person their own database login (数据库登录)."""
    with session(ctx) as s:
        role = agency.add_db_login(s, login, operator=operator)
    typer.echo(
        f"数据库登录 / database login: {role}"
        " (密码由 PostgreSQL 设置 / the password is set in PostgreSQL)"
    )


@grant_app.command("add")
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


@grant_app.command("revoke")
def grant_revoke(
    ctx: typer.Context,
    login: Annotated[str, typer.Argument(metavar="LOGIN")],
    role: Annotated[Role, typer.Argument(metavar="ROLE")],
    entity: Entity,
) -> None:
    """Take a role away (撤销授权); the audit log keeps that it was held."""
    with session(ctx) as s:
        agency.revoke(s, login, role, entity)
    typer.echo(f"已撤销 / revoked: {login} {role.value} {entity}")


@grant_app.command("list")
def grant_list(
    ctx: typer.Context,
    login: Annotated[str | None, typer.Option("--login", help="只列此人 / one person")] = None,
    entity: Annotated[
        str | None, typer.Option("--entity", metavar="CODE", help="只列此社区 / one community")
    ] = None,
    fmt: ListFormat = None,
) -> None:
    """List role grants: who holds which role where (--format table|json|csv|tsv)."""
    with session(ctx, write=False) as s:
        rows = agency.list_grants(s, login=login)
    cols = (
        Col("login", "登录名 login", "number"),
        Col("role", "角色 role", "number"),
        Col("role_zh", "职责", "number"),
        Col("entity", "社区 entity", "number"),
    )
    data = [
        {"login": u, "role": r, "role_zh": ROLE_NAMES_ZH[Role(r)], "entity": c}
        for u, r, c in rows
        if entity is None or c == entity
    ]
    emit(cols, data, fmt)


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


@account_app.command("add-optional")
def account_add_optional(
    ctx: typer.Context,
    entity: Entity,
    code: Annotated[str, typer.Argument(metavar="CODE")],
) -> None:
    """Add a first-level account the chart lets a community add (可增设科目, e.g. 161)."""
    with session(ctx) as s:
        agency.add_optional_account(s, entity, code)
    typer.echo(f"已增设科目 / optional account added: {entity} {code}")


@account_app.command("list")
def account_list(ctx: typer.Context, entity: Entity, fmt: ListFormat = None) -> None:
    """List a community's accounts (科目表) (--format table|json|csv|tsv)."""
    with session(ctx, write=False) as s:
        accounts = accounts_of(s, get_entity(s, entity).id)
    cols = (
        Col("code", "科目 code", "number"),
        Col("name", "名称 name"),
        Col("category", "类别 category", "number"),
        Col("side", "方向 side", "number"),
        Col("leaf", "末级 leaf", "number"),
        Col("active", "启用 active", "number"),
        Col("custody", "日记账 custody", "number"),
    )
    data = [
        {
            "code": a.code,
            "name": "  " * (a.level - 1) + a.name if chosen_format(fmt) == "table" else a.name,
            "category": a.category,
            "side": a.side,
            "leaf": a.leaf,
            "active": a.active,
            "custody": a.custody,
        }
        for a in sorted(accounts.values(), key=lambda a: a.code)
    ]
    emit(cols, data, fmt)


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
