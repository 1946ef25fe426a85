"""Command line (命令行): ``juzhang …``, a thin layer over the library.

Each command parses its arguments, runs one library call in one database
transaction and prints the result.  Refusals from the library
(:class:`~juzhang.errors.JuzhangError`) become one clear line on stderr and
exit status 1 (a :class:`~juzhang.errors.ProblemsError` lists every problem,
one per line); a usage error (a bad amount, date or period on the command
line, a missing ``--as``) exits with 2.  No traceback is shown for either.

Global options: ``--db URL`` (default ``JUZHANG_DB``, else
``sqlite:///juzhang.db`` in the current folder) and ``--as LOGIN``, the acting
person (default ``JUZHANG_USER``).  Set-up commands (``db upgrade``,
``entity add``, ``user add``, ``grant``, ``account add``) are operator commands
and need no ``--as``; every bookkeeping command does, and is checked against
that person's roles.

Negative amounts may be written as they are (``-120.00``): they are read as
arguments, not options.  ``--`` before them works too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Column, Table
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from typer.core import TyperGroup

from juzhang import agency, books, closing, custody
from juzhang.charts import CHART_KEYS, DEFAULT_CHART
from juzhang.cli import claims as cli_claims
from juzhang.cli import close as cli_close
from juzhang.cli import disclosure as cli_disclosure
from juzhang.cli import import_ as cli_import
from juzhang.cli import report as cli_report
from juzhang.core.duty import Role
from juzhang.core.period import format_period, parse_period, period_of
from juzhang.core.voucher import STATUS_ZH, VoucherView
from juzhang.errors import JuzhangError, Problem, ProblemsError
from juzhang.money import format_amount, parse_money
from juzhang.storage.engine import DEFAULT_URL, make_engine, transaction, upgrade
from juzhang.verify import verify as verify_books
from juzhang.voucher_file import load_vouchers, parse_date

ARGS = {"ignore_unknown_options": True}  # lets "-120.00" through as an argument

out = Console(highlight=False)


# --------------------------------------------------------------------------- errors


def print_problems(problems: Sequence[Problem]) -> None:
    """Print each problem on its own line to stderr."""
    for p in problems:
        typer.echo(f"  - {p}", err=True)


class _Group(TyperGroup):
    """The root command group: maps library refusals to one line and exit status 1."""

    def invoke(self, ctx: Any) -> Any:  # the Context class differs across typer versions
        try:
            return super().invoke(ctx)
        except ProblemsError as exc:
            typer.echo(
                f"错误 / error: {exc.what}: {len(exc.problems)} 个问题 / problem(s)", err=True
            )
            print_problems(exc.problems)
            raise typer.Exit(1) from None
        except JuzhangError as exc:
            typer.echo(f"错误 / error: {exc}", err=True)
            raise typer.Exit(1) from None
        except sa_exc.DBAPIError as exc:
            first = (str(exc.orig or exc).strip().splitlines() or [""])[0]
            missing = "no such table" in first or "does not exist" in first
            hint = " (请先运行 / run first: juzhang db upgrade)" if missing else ""
            typer.echo(f"数据库错误 / database error: {first}{hint}", err=True)
            raise typer.Exit(1) from None


app = typer.Typer(
    cls=_Group,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # usage errors as one plain line, not a box
    help="居账 juzhang: 社区资金代理记账 / bookkeeping for community funds.",
)


def _group(name: str, help_text: str) -> typer.Typer:
    sub = typer.Typer(no_args_is_help=True, rich_markup_mode=None, help=help_text)
    app.add_typer(sub, name=name)
    return sub


db_app = _group("db", "数据库 / the database")
entity_app = _group("entity", "社区 / communities (entities)")
user_app = _group("user", "用户 / people")
account_app = _group("account", "科目 / accounts")
opening_app = _group("opening", "期初余额 / opening balances")
custody_app = _group("custody", "出纳日记账 / the cashier's cash and bank journals")
voucher_app = _group("voucher", "凭证 / vouchers")
period_app = _group("period", "会计期间 / periods")


# --------------------------------------------------------------------------- context


@dataclass(frozen=True, slots=True)
class Settings:
    """The global options: database URL and acting person."""

    url: str
    actor: str | None


@app.callback()
def _root(
    ctx: typer.Context,
    db: Annotated[
        str, typer.Option("--db", envvar="JUZHANG_DB", help="数据库 URL / database URL")
    ] = DEFAULT_URL,
    actor: Annotated[
        str | None,
        typer.Option("--as", envvar="JUZHANG_USER", help="操作人 / acting user (login)"),
    ] = None,
) -> None:
    ctx.obj = Settings(db, actor or None)


def _settings(ctx: typer.Context) -> Settings:
    obj = ctx.find_root().obj
    assert isinstance(obj, Settings)
    return obj


def _actor(ctx: typer.Context) -> str:
    """Return the acting user, or stop with a usage error (exit 2)."""
    actor = _settings(ctx).actor
    if not actor:
        raise typer.BadParameter(
            "需要操作人：请用 --as LOGIN 或设置 JUZHANG_USER"
            " / an acting user is required: pass --as LOGIN or set JUZHANG_USER",
            ctx,
            param_hint="--as",
        )
    return actor


@contextmanager
def _session(ctx: typer.Context, *, write: bool = True) -> Iterator[Session]:
    """Open one transaction on the configured database."""
    engine = make_engine(_settings(ctx).url)
    try:
        with transaction(engine, write=write) as session:
            yield session
    finally:
        engine.dispose()


def _note(text: str) -> None:
    """A message for people (stderr), so stdout carries only what scripts read."""
    typer.echo(text, err=True)


# --------------------------------------------------------------------------- argument types


def _money(text: str) -> Decimal:
    try:
        return parse_money(text)
    except JuzhangError as exc:
        raise typer.BadParameter(str(exc)) from None


def _date(text: str) -> dt.date:
    try:
        return parse_date(text)
    except JuzhangError as exc:
        raise typer.BadParameter(str(exc)) from None


def _period(text: str) -> int:
    try:
        return parse_period(text)
    except JuzhangError as exc:
        raise typer.BadParameter(str(exc)) from None


def _chart(text: str) -> str:
    if text not in CHART_KEYS:
        raise typer.BadParameter(f"{text!r}: 应为 / one of {', '.join(CHART_KEYS)}")
    return text


def _number(text: str) -> int:
    """Read a voucher number: ``3``, ``0003`` or ``记-0003``."""
    digits = text.rsplit("-", 1)[-1].strip()
    if not digits.isdigit() or int(digits) == 0:
        raise typer.BadParameter(f"{text!r}: 应为凭证号 / expected a voucher number such as 3")
    return int(digits)


Entity = Annotated[str, typer.Argument(metavar="ENTITY", help="社区代码 / entity code")]
Period = Annotated[int, typer.Option("--period", parser=_period, metavar="YYYY-MM")]
OptPeriod = Annotated[int | None, typer.Option("--period", parser=_period, metavar="YYYY-MM")]
Ids = Annotated[list[int] | None, typer.Argument(metavar="ID", show_default=False)]
All = Annotated[bool, typer.Option("--all", help="全部 / every one waiting")]


# --------------------------------------------------------------------------- set-up


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context) -> None:
    """Create or upgrade the database schema (建库/升级)."""
    url = _settings(ctx).url
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
        str, typer.Option(parser=_chart, help="rural-2023 | rural-2004 | npo-2004")
    ] = DEFAULT_CHART,
    start: Annotated[
        int | None, typer.Option(parser=_period, metavar="YYYY-MM", help="建账月份 / first month")
    ] = None,
) -> None:
    """Add a community (社区) with the accounts of its chart."""
    first = start if start is not None else period_of(dt.date.today())
    with _session(ctx) as s:
        agency.add_entity(s, code, name, chart=chart, start_period=first)
    typer.echo(f"已建立 / created {code} {name} ({chart}, {format_period(first)})")


@entity_app.command("list")
def entity_list(ctx: typer.Context) -> None:
    """List the communities."""
    with _session(ctx, write=False) as s:
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
    with _session(ctx) as s:
        agency.add_user(s, login, name)
    typer.echo(f"已添加用户 / user added: {login} {name}")


@app.command("grant")
def grant(
    ctx: typer.Context,
    login: Annotated[str, typer.Argument(metavar="LOGIN")],
    role: Annotated[Role, typer.Argument(metavar="ROLE")],
    entity: Entity,
) -> None:
    """Grant a role for a community (授权); 钱账分离 is checked."""
    with _session(ctx) as s:
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
    with _session(ctx) as s:
        books.add_account(s, entity, code, name)
    typer.echo(f"已添加科目 / account added: {entity} {code} {name}")


# --------------------------------------------------------------------------- bookkeeping


def _pairs(items: Sequence[str]) -> dict[str, Decimal]:
    if not items or len(items) % 2:
        raise typer.BadParameter("应为 ACCOUNT AMOUNT 成对 / expected ACCOUNT AMOUNT pairs")
    balances: dict[str, Decimal] = {}
    for code, amount in zip(items[::2], items[1::2], strict=True):
        if code in balances:
            raise typer.BadParameter(f"科目 {code} 重复 / account {code} given twice")
        balances[code] = _money(amount)
    return balances


@opening_app.command("set", context_settings=ARGS)
def opening_set(
    ctx: typer.Context,
    entity: Entity,
    pairs: Annotated[list[str], typer.Argument(metavar="ACCOUNT AMOUNT")],
) -> None:
    """Set opening balances (期初余额): debit positive, credit negative."""
    balances = _pairs(pairs)
    actor = _actor(ctx)
    with _session(ctx) as s:
        books.set_opening(s, entity, actor, balances)
        diff = books.opening_difference(s, entity)
    typer.echo(f"期初余额已保存 / opening balances saved: {len(balances)}")
    if diff:
        amount = format_amount(diff)
        _note(f"注意：期初借贷不平，相差 {amount} / note: not balanced, off by {amount}")


@custody_app.command("add", context_settings=ARGS)
def custody_add(
    ctx: typer.Context,
    entity: Entity,
    date: Annotated[dt.date, typer.Argument(parser=_date, metavar="DATE")],
    account: Annotated[str, typer.Argument(metavar="ACCOUNT")],
    amount: Annotated[Decimal, typer.Argument(parser=_money, metavar="AMOUNT")],
    summary: Annotated[str, typer.Argument(metavar="SUMMARY")],
    counterparty: Annotated[str, typer.Option(help="对方 / counterparty")] = "",
    reference: Annotated[str, typer.Option(help="票据号 / reference")] = "",
) -> None:
    """Record a cash or bank journal entry (cashier): money in positive, out negative."""
    actor = _actor(ctx)
    with _session(ctx) as s:
        entry = custody.record_entry(
            s,
            entity,
            actor,
            date,
            account,
            amount,
            summary,
            counterparty=counterparty,
            reference=reference,
        )
    typer.echo(entry)
    _note(f"已登记日记账 / custody entry recorded: #{entry}")


@custody_app.command("list")
def custody_list(ctx: typer.Context, entity: Entity, period: OptPeriod = None) -> None:
    """List cash and bank journal entries."""
    with _session(ctx, write=False) as s:
        rows = custody.list_entries(s, entity, period=period)
    table = Table(
        "#",
        "日期 date",
        "科目 account",
        Column("金额 amount", justify="right"),
        "摘要 summary",
        "对方",
        "已入账 booked",
    )
    for e in rows:
        table.add_row(
            str(e.id),
            e.date.isoformat(),
            e.account,
            format_amount(e.amount),
            e.summary,
            e.counterparty,
            "✓" if e.backed else "",
        )
    out.print(table)


def _check_choice(ctx: typer.Context, ids: list[int] | None, every: bool) -> None:
    """Require exactly one of a list of ids and ``--all`` (a usage error otherwise)."""
    if every == bool(ids):
        raise typer.BadParameter(
            "请给出凭证 ID 或 --all（二选一） / give IDs or --all, not both", ctx, param_hint="ID"
        )


def _chosen(s: Session, entity: str, ids: list[int] | None, status: str) -> list[int]:
    """Return the ids named, or (``--all``) every voucher of the entity in ``status``."""
    return ids or [v.id for v in books.list_vouchers(s, entity, status=status)]


@voucher_app.command("add")
def voucher_add(
    ctx: typer.Context,
    entity: Entity,
    file: Annotated[Path, typer.Option("--file", metavar="VOUCHER.json", dir_okay=False)],
) -> None:
    """Prepare vouchers from a JSON file (制单); prints the draft ids."""
    drafts = load_vouchers(file)
    actor = _actor(ctx)
    with _session(ctx) as s:
        ids = books.draft_vouchers(s, entity, actor, drafts)
    for i in ids:
        typer.echo(i)
    _note(f"已制单 / drafted: {len(ids)}")


@voucher_app.command("review")
def voucher_review(ctx: typer.Context, entity: Entity, ids: Ids = None, every: All = False) -> None:
    """Review drafts (审核); the reviewer may not be the preparer."""
    _check_choice(ctx, ids, every)
    actor = _actor(ctx)
    with _session(ctx) as s:
        chosen = _chosen(s, entity, ids, "draft")
        books.review_vouchers(s, entity, actor, chosen)
    typer.echo(f"已审核 / reviewed: {len(chosen)}")


@voucher_app.command("post")
def voucher_post(ctx: typer.Context, entity: Entity, ids: Ids = None, every: All = False) -> None:
    """Post reviewed vouchers (记账); prints the numbers given."""
    _check_choice(ctx, ids, every)
    actor = _actor(ctx)
    with _session(ctx) as s:
        chosen = _chosen(s, entity, ids, "reviewed")
        books.post_vouchers(s, entity, actor, chosen)
        views = sorted((books.get_voucher(s, entity, i) for i in chosen), key=_order)
    for v in views:
        typer.echo(f"{format_period(v.period)} {v.label}")
    _note(f"已记账 / posted: {len(views)}")


def _order(v: VoucherView) -> tuple[int, int, int]:
    return (v.period, v.number or 0, v.id)


@voucher_app.command("reverse")
def voucher_reverse(
    ctx: typer.Context,
    entity: Entity,
    number: Annotated[int, typer.Argument(parser=_number, metavar="NUMBER")],
    period: Period,
    date: Annotated[dt.date | None, typer.Option(parser=_date, metavar="DATE")] = None,
) -> None:
    """Draft a red reversal (红字冲销) of a posted voucher; prints the draft id."""
    actor = _actor(ctx)
    with _session(ctx) as s:
        vid = books.reverse_voucher(s, entity, actor, period, number, date=date)
    typer.echo(vid)
    _note(f"已制红字冲销凭证 / reversal drafted: #{vid} (review and post it next)")


@voucher_app.command("correct")
def voucher_correct(
    ctx: typer.Context,
    entity: Entity,
    number: Annotated[int, typer.Argument(parser=_number, metavar="NUMBER")],
    period: Period,
    file: Annotated[Path, typer.Option("--file", metavar="VOUCHER.json", dir_okay=False)],
) -> None:
    """Draft the blue correcting voucher (订正) of a reversed voucher; prints its id."""
    drafts = load_vouchers(file)
    if len(drafts) != 1:
        raise typer.BadParameter("应为一张凭证 / expected exactly one voucher", param_hint="--file")
    actor = _actor(ctx)
    with _session(ctx) as s:
        vid = books.draft_correction(s, entity, actor, period, number, drafts[0])
    typer.echo(vid)


@voucher_app.command("list")
def voucher_list(
    ctx: typer.Context,
    entity: Entity,
    period: OptPeriod = None,
    status: Annotated[str | None, typer.Option(help="draft | reviewed | posted")] = None,
) -> None:
    """List vouchers."""
    with _session(ctx, write=False) as s:
        views = books.list_vouchers(s, entity, period=period, status=status)
    table = Table(
        "ID",
        "凭证号",
        "日期 date",
        "状态",
        Column("金额 total", justify="right"),
        "摘要 summary",
        "制单",
        "审核",
    )
    for v in views:
        table.add_row(
            str(v.id),
            v.label,
            v.date.isoformat(),
            STATUS_ZH.get(v.status, v.status),
            format_amount(v.total),
            v.lines[0].summary if v.lines else "",
            v.prepared_by,
            v.reviewed_by or "",
        )
    out.print(table)


# --------------------------------------------------------------------------- periods


@period_app.command("close")
def period_close(ctx: typer.Context, entity: Entity, period: Period) -> None:
    """Close a month (结账): nothing more can be drafted or posted into it."""
    actor = _actor(ctx)
    with _session(ctx) as s:
        books.close_period(s, entity, actor, period)
    typer.echo(f"已结账 / closed: {entity} {format_period(period)}")


@app.command("reopen")
def reopen(
    ctx: typer.Context,
    entity: Entity,
    period: Period,
    reason: Annotated[str, typer.Option(help="原因 / why")],
    reviewer: Annotated[
        str | None, typer.Option(help="审核冲销结转凭证的人 / reviews the carry-forward's reversal")
    ] = None,
) -> None:
    """Reopen the last closed month (反结账): admin, with a reason; undoes the carry-forward."""
    actor = _actor(ctx)
    with _session(ctx) as s:
        done = closing.reopen_month(s, entity, period, actor, reason, reviewer=reviewer)
    typer.echo(f"已反结账 / reopened: {entity} {format_period(period)}")
    if done.reversals:
        _note(f"结转凭证已红字冲销 / carry-forward reversed: {' '.join(done.reversals)}")


# --------------------------------------------------------------------------- reports and checks


@app.command("verify")
def verify(
    ctx: typer.Context,
    entity: Annotated[str | None, typer.Argument(metavar="ENTITY")] = None,
) -> None:
    """Recompute the books and list every problem (核对); exit 1 when there are any."""
    with _session(ctx, write=False) as s:
        problems = verify_books(s, entity)
    if problems:
        typer.echo(f"发现 {len(problems)} 个问题 / {len(problems)} problem(s) found", err=True)
        print_problems(problems)
        raise typer.Exit(1)
    typer.echo(f"核对无误 / no problems: {entity or '全部 all'}")


@app.command("demo")
def demo(
    directory: Annotated[Path, typer.Option("--dir", file_okay=False)] = Path("demo-out"),
) -> None:
    """Build a demo agency (three communities, a quarter, closed and disclosed) in DIR."""
    from juzhang.demo import build_demo

    result = build_demo(directory / "juzhang.db", directory)
    table = Table(
        "社区",
        "科目表 chart",
        Column("已结账 closed", no_wrap=True),
        Column("凭证", justify="right"),
        Column("日记账", justify="right"),
        Column("报账", justify="right"),
        Column("对账单", justify="right"),
        Column("文件", justify="right"),
        title="演示 demo: 三个社区，一个季度 / three communities, one quarter",
        caption="凭证 vouchers, 日记账 journal entries, 报账 claims (退回 returned),"
        " 对账单 statement lines, 文件 files",
    )
    for c in result.communities:
        closed = [format_period(p) for p in c.months_closed]
        months = f"{closed[0]}..{closed[-1][5:]}" if len(closed) > 1 else "".join(closed) or "-"
        claims = f"{c.claims_booked}" + (f"+{c.claims_returned}退回" if c.claims_returned else "")
        table.add_row(
            c.code,
            c.chart,
            months,
            str(c.vouchers),
            str(c.custody_entries),
            claims,
            str(c.statement_lines),
            str(len(c.files)),
        )
    out.print(table)
    verdict = f"{len(result.problems)} problem(s)" if result.problems else "无误 / no problems"
    typer.echo(
        f"红字冲销 reversal of {result.reversal}; 现金短款 cash short"
        f" {format_amount(result.cash_difference)} booked to 待处理财产损溢;"
        f" 核对 verify: {verdict}"
    )
    typer.echo(f"数据库 / database: {result.database}")
    typer.echo(f"输入文件 / inputs (statements, claim batches, rules): {result.out_dir / 'inputs'}")
    for c in result.communities:
        typer.echo(f"输出 / outputs {c.code} {c.name}: {result.out_dir / c.code}")
    typer.echo(
        f"试一试 / try: juzhang --db sqlite:///{result.database} voucher list"
        f" {result.communities[0].code} --period {format_period(result.periods[-1])}"
    )
    if result.problems:
        print_problems(result.problems)
        raise typer.Exit(1)


cli_claims.register(app)  # import claims|beancount, template claims, claims draft|list
cli_close.register(app)  # close, cash count, disclosure sign
cli_import.register(app, custody_app)  # import bank, custody accept-statement, statement
cli_disclosure.register(app)  # verify-report, disclosure config
cli_report.register(app, voucher_app)  # report KIND, voucher print, export beancount


def main() -> None:
    """Run the command line (the ``juzhang`` script)."""
    app()
