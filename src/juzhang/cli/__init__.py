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

One module per command group; this module holds the root command and puts
the tree together (:data:`app`, :func:`main`):

* :mod:`~juzhang.cli._common`: the context (database, one transaction, the
  acting user) and the argument parsers every module shares;
* :mod:`~juzhang.cli.setup`: ``db``, ``entity``, ``user``, ``grant``,
  ``account``, ``opening``;
* :mod:`~juzhang.cli.voucher`: ``voucher`` (add, review, post, reverse,
  correct, list, print);
* :mod:`~juzhang.cli.custody`: ``custody`` and ``cash count`` (the cashier);
* :mod:`~juzhang.cli.import_`: ``import`` (claims, beancount, bank);
* :mod:`~juzhang.cli.statement`: ``statement`` (bank statement lines);
* :mod:`~juzhang.cli.claims`: ``template claims`` and ``claims``;
* :mod:`~juzhang.cli.close`: ``close``, ``period close``, ``reopen``;
* :mod:`~juzhang.cli.disclosure`: ``disclosure`` (config, sign) and the
  disclosure and reconciliation writers;
* :mod:`~juzhang.cli.report`: ``report KIND``; :mod:`~juzhang.cli.export`:
  ``export beancount``;
* :mod:`~juzhang.cli.verify`: ``verify``, ``verify-report``;
  :mod:`~juzhang.cli.demo`: ``demo``.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from sqlalchemy import exc as sa_exc
from typer.core import TyperGroup

from juzhang.cli import (
    claims,
    close,
    custody,
    demo,
    disclosure,
    export,
    import_,
    report,
    setup,
    statement,
    verify,
    voucher,
)
from juzhang.cli._common import Settings, print_problems
from juzhang.errors import JuzhangError, ProblemsError
from juzhang.storage.engine import DEFAULT_URL

__all__ = ["app", "main"]


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
        # Last resort for what outside input can still raise past the readers'
        # own checks: each mapped by name, never a blanket ``except Exception``
        # (a bug must still show itself).
        except UnicodeDecodeError as exc:
            typer.echo(
                f"错误 / error: 文件不是 UTF-8 编码 / a file is not UTF-8 text"
                f" (byte {exc.start + 1}: {exc.reason})",
                err=True,
            )
            raise typer.Exit(1) from None
        except RecursionError:
            typer.echo("错误 / error: 输入嵌套过深 / the input is nested too deeply", err=True)
            raise typer.Exit(1) from None
        except OSError as exc:
            typer.echo(f"错误 / error: {_os_error(exc)}", err=True)
            raise typer.Exit(1) from None


_OS_ZH = {
    FileNotFoundError: "文件或文件夹不存在",
    PermissionError: "没有权限",
    IsADirectoryError: "是文件夹，不是文件",
    NotADirectoryError: "不是文件夹",
    FileExistsError: "已存在",
}


def _os_error(exc: OSError) -> str:
    """``"文件或文件夹不存在 / No such file or directory: /x/y.csv"``."""
    zh = next((text for kind, text in _OS_ZH.items() if isinstance(exc, kind)), "文件读写失败")
    where = f": {exc.filename}" if exc.filename is not None else ""
    return f"{zh} / {exc.strerror or type(exc).__name__}{where}"


app = typer.Typer(
    cls=_Group,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # usage errors as one plain line, not a box
    help="居账 juzhang: 社区资金代理记账 / bookkeeping for community funds.",
)


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


# The commands and groups in the order ``juzhang --help`` lists them.
app.command("grant")(setup.grant)
app.command("reopen")(close.reopen)
app.command("verify")(verify.verify)
app.command("demo")(demo.demo)
app.command("close")(close.close)
app.command("verify-report")(verify.verify_report_command)
for _name, _group in (
    ("db", setup.db_app),
    ("entity", setup.entity_app),
    ("user", setup.user_app),
    ("account", setup.account_app),
    ("opening", setup.opening_app),
    ("custody", custody.custody_app),
    ("voucher", voucher.voucher_app),
    ("period", close.period_app),
    ("import", import_.import_app),
    ("template", claims.template_app),
    ("claims", claims.claims_app),
    ("cash", custody.cash_app),
    ("disclosure", disclosure.disclosure_app),
    ("statement", statement.statement_app),
    ("report", report.report_app),
    ("export", export.export_app),
):
    app.add_typer(_group, name=_name)


def main() -> None:
    """Run the command line (the ``juzhang`` script)."""
    app()
