"""What every command module shares: the context, one transaction, the acting user, parsers.

The root command of :mod:`juzhang.cli` stores ``--db`` and ``--as`` on the
click context as :class:`Settings`; the command modules read them through
:func:`settings`, :func:`actor` and :func:`session`.  The argument parsers
(``as_money``, ``as_date``, ``as_period``, …) turn a bad amount, date, period
or voucher number into a usage error (exit status 2), and the ``Annotated``
types (:data:`Entity`, :data:`Period`, …) keep one spelling of each argument.

Only typer and the light parts of juzhang are imported here, so that
``juzhang --help`` stays quick; rich only when a table is drawn (:func:`console`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from sqlalchemy import Connection, Engine

from juzhang.charts import CHART_KEYS
from juzhang.cli import _gc
from juzhang.cli._settings import Settings
from juzhang.core.period import parse_date, parse_period, parse_period_range
from juzhang.errors import JuzhangError, Problem
from juzhang.money import parse_money
from juzhang.storage.engine import database_files, make_engine, transaction
from juzhang.storage.identity import db_actor

if TYPE_CHECKING:
    from rich.console import Console

ARGS = {"ignore_unknown_options": True}  # lets "-120.00" through as an argument

WIDE = 160
"""Width of the statement tables, which have many columns."""


def console(*, stderr: bool = False, width: int | None = None) -> Console:
    """Return a new console for tables (stdout, or stderr), without rich's highlighting."""
    from rich.console import Console  # noqa: PLC0415 — start-up time: JSON, CSV draw no table

    return Console(stderr=stderr, highlight=False, width=width)


def command_group(help_text: str) -> typer.Typer:
    """Return a new command group (``juzhang voucher …``) with the settings every group uses."""
    return typer.Typer(no_args_is_help=True, rich_markup_mode=None, help=help_text)


# --------------------------------------------------------------------------- context


def settings(ctx: typer.Context) -> Settings:
    """Return the global options stored by the root command of :mod:`juzhang.cli`."""
    obj = ctx.find_root().obj
    assert isinstance(obj, Settings)
    return obj


def actor(ctx: typer.Context) -> str:
    """Return the acting user, or stop with a usage error (exit 2).

    ``--as`` (or ``JUZHANG_USER``) names them.  Without it, on PostgreSQL, a
    person connected with their own login is the acting user; with it, the
    services refuse a name that is not the person connected
    (:class:`~juzhang.errors.IdentityError`).
    """
    who = settings(ctx).actor or _connected_person(ctx)
    if not who:
        raise typer.BadParameter(
            "需要操作人：请用 --as LOGIN 或设置 JUZHANG_USER"
            " / an acting user is required: pass --as LOGIN or set JUZHANG_USER",
            ctx,
            param_hint="--as",
        )
    return who


def _connected_person(ctx: typer.Context) -> str | None:
    """The person connected to a PostgreSQL database with their own login, else ``None``."""
    if settings(ctx).url.startswith("sqlite"):
        return None
    with session(ctx, write=False) as s:
        return db_actor(s)


_ENGINE = "juzhang.engine"
"""Where :func:`_engine` keeps the command's engine (``ctx.meta``, shared by its contexts)."""


def _engine(ctx: typer.Context) -> Engine:
    """The command's engine: made on first use, disposed of when the command ends.

    Every transaction of a command (each community of an ``--entities`` step,
    each file of ``import bank --dir``) is taken on it.  An engine per
    transaction connected afresh each time and compiled every statement
    afresh: on PostgreSQL a new login (with a TLS handshake where the server
    offers TLS) and the dialect's first-connect queries, 800 times in an
    agency's month of 200 communities.
    """
    engine = ctx.meta.get(_ENGINE)
    if engine is None:
        engine = make_engine(settings(ctx).url)
        ctx.meta[_ENGINE] = engine
        ctx.find_root().call_on_close(engine.dispose)
    return engine


@contextmanager
def session(ctx: typer.Context, *, write: bool = True) -> Iterator[Connection]:
    """Open one transaction, all or nothing, on the command's engine (see :func:`transaction`)."""
    with transaction(_engine(ctx), write=write) as s:
        _gc.started()
        yield s


# --------------------------------------------------------------------------- output


def note(text: str) -> None:
    """A message for people (stderr), so stdout carries only what scripts read."""
    typer.echo(text, err=True)


def print_problems(problems: Sequence[Problem]) -> None:
    """Print each problem on its own line to stderr."""
    for p in problems:
        typer.echo(f"  - {p}", err=True)


# --------------------------------------------------------------------------- argument types


def as_money(text: str) -> Decimal:
    """Parse an amount (``-120.00``) or stop with a usage error."""
    try:
        return parse_money(text)
    except JuzhangError as exc:
        raise typer.BadParameter(str(exc)) from None


def as_date(text: str) -> dt.date:
    """Parse a date (``2026-07-15``) or stop with a usage error."""
    try:
        return parse_date(text)
    except JuzhangError as exc:
        raise typer.BadParameter(str(exc)) from None


def as_period(text: str) -> int:
    """Parse a month (``YYYY-MM``) or stop with a usage error."""
    try:
        return parse_period(text)
    except JuzhangError as exc:
        raise typer.BadParameter(str(exc)) from None


def as_range(text: str) -> tuple[int, int]:
    """Parse a month or a range (``YYYY-MM[..YYYY-MM]``) or stop with a usage error."""
    try:
        return parse_period_range(text)
    except JuzhangError as exc:
        raise typer.BadParameter(str(exc), param_hint="--period") from None


def as_chart(text: str) -> str:
    """Check a chart-of-accounts key (``rural-2023``) or stop with a usage error."""
    if text not in CHART_KEYS:
        raise typer.BadParameter(f"{text!r}: 应为 / one of {', '.join(CHART_KEYS)}")
    return text


def as_number(text: str) -> int:
    """Read a voucher number: ``3``, ``0003`` or ``记-0003``."""
    digits = text.rsplit("-", 1)[-1].strip()
    if not digits.isdigit() or int(digits) == 0:
        raise typer.BadParameter(f"{text!r}: 应为凭证号 / expected a voucher number such as 3")
    return int(digits)


Entity = Annotated[str, typer.Argument(metavar="ENTITY", help="社区代码 / entity code")]
Period = Annotated[int, typer.Option("--period", parser=as_period, metavar="YYYY-MM")]
OptPeriod = Annotated[int | None, typer.Option("--period", parser=as_period, metavar="YYYY-MM")]
Ids = Annotated[list[int] | None, typer.Argument(metavar="ID", show_default=False)]
All = Annotated[bool, typer.Option("--all", help="全部 / every one waiting")]
BankAccount = Annotated[
    str | None, typer.Option("--account", metavar="CODE", help="银行科目 / bank account")
]
Rules = Annotated[
    Path | None,
    typer.Option("--rules", metavar="FILE", dir_okay=False, help="分类规则 / rules (TOML)"),
]


def check_out_path(ctx: typer.Context, path: Path | None, *, folder: bool = False) -> Path | None:
    """Refuse an output path that is the database (or its journal) or has no folder (exit 2).

    Used as the ``--out`` option's callback; returns ``path`` unchanged.
    """
    if path is None:
        return None
    resolved = path.resolve()
    if resolved in database_files(settings(ctx).url):
        raise typer.BadParameter(
            f"{path} 是数据库文件，不能覆盖 / is the database file: it is never overwritten",
            ctx,
            param_hint="--out",
        )
    if not folder and not resolved.parent.is_dir():
        raise typer.BadParameter(
            f"{path}: 文件夹不存在 / the folder {resolved.parent} does not exist",
            ctx,
            param_hint="--out",
        )
    return path


def out_file_callback(ctx: typer.Context, path: Path | None) -> Path | None:
    return check_out_path(ctx, path)


def out_folder_callback(ctx: typer.Context, path: Path | None) -> Path | None:
    return check_out_path(ctx, path, folder=True)


OutFile = Annotated[
    Path | None,
    typer.Option("--out", dir_okay=False, callback=out_file_callback, help="文件 / output file"),
]
"""``--out FILE``: refused when it is the database file or its folder is missing."""
