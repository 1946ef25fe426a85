"""Command line (命令行): ``juzhang …``, a thin layer over the library.

Each command parses its arguments, runs one library call in one database
transaction and prints the result.  Refusals from the library
(:class:`~juzhang.errors.JuzhangError`) become one clear line on stderr and
exit status 1 (a :class:`~juzhang.errors.ProblemsError` lists every problem,
one per line); a usage error (a bad amount, date or period on the command
line, a missing ``--as``) exits with 2.  No traceback is shown for either.

Global options: ``--db URL`` (default ``JUZHANG_DB``, else
``sqlite:///juzhang.db`` in the current folder) and ``--as LOGIN``, the acting
person (default ``JUZHANG_USER``).  Both may be written before the command or
anywhere after it (``juzhang opening set H001 101 500 --as li``): the root
group lifts ``--as X``, ``--as=X``, ``--db X`` and ``--db=X`` to the front
before parsing, except after a ``--`` separator.  ``juzhang --version`` prints
``juzhang X.Y.Z``.  Set-up commands (``db upgrade``, ``entity add``, ``user
add``, ``grant``, ``account add``) are operator commands and need no ``--as``;
every bookkeeping command does, and is checked against that person's roles.

Negative amounts may be written as they are (``-120.00``): they are read as
arguments, not options.  ``--`` before them works too.

Start-up is kept short: the command tree is built lazily.  This module
imports only typer and the table :data:`COMMANDS` (name, module, help line);
``juzhang --help`` lists it without importing any command module, and a
command's module (with SQLAlchemy, openpyxl and the rest) is imported only
when that command runs.  One module per command group:

* :mod:`~juzhang.cli._common`: the context (database, one transaction, the
  acting user) and the argument parsers every module shares;
  :mod:`~juzhang.cli._batch`: the loop over many communities (``--entities``);
  :mod:`~juzhang.cli._listing`: ``--format table|json|csv`` of the lists;
* :mod:`~juzhang.cli.setup`: ``db``, ``entity``, ``user``, ``grant``,
  ``account``, ``opening``;
* :mod:`~juzhang.cli.voucher`: ``voucher`` (add, review, post, reverse,
  correct, list, show, print);
* :mod:`~juzhang.cli.custody`: ``custody`` and ``cash count`` (the cashier);
* :mod:`~juzhang.cli.import_`: ``import`` (claims, beancount, bank);
* :mod:`~juzhang.cli.statement`: ``statement`` (bank statement lines);
* :mod:`~juzhang.cli.claims`: ``template claims`` and ``claims``;
* :mod:`~juzhang.cli.close`: ``close``, ``period close``, ``reopen``;
* :mod:`~juzhang.cli.disclosure`: ``disclosure`` (config, sign) and the
  disclosure and reconciliation writers;
* :mod:`~juzhang.cli.report`: ``report KIND``; :mod:`~juzhang.cli.export`:
  ``export beancount``;
* :mod:`~juzhang.cli.publish`: ``publish`` (the published boards as a web site);
* :mod:`~juzhang.cli.verify`: ``verify``, ``verify-report``, ``anchors``, ``audit``;
  :mod:`~juzhang.cli.demo`: ``demo``; :mod:`~juzhang.cli.daemon`: ``daemon``
  (:mod:`~juzhang.cli._warm`, the warm process short commands can run in).
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Sequence
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from juzhang import clock
from juzhang.cli import _gc
from juzhang.cli._settings import DEFAULT_URL, Settings

__all__ = ["COMMANDS", "app", "lift_global_options", "main", "run_command"]

COMMANDS: tuple[tuple[str, str, str, str], ...] = (
    # name, module, attribute (a function: a command; a Typer: a group), help line
    ("grant", "setup", "grant_app", "授权 / grant a role (钱账分离 checked), revoke, list"),
    ("reopen", "close", "reopen", "Reopen the last closed month (反结账): admin, with a reason."),
    ("verify", "verify", "verify", "Recompute the books and list every problem (核对)."),
    ("demo", "demo", "demo", "Build a demo agency (three communities, a quarter)."),
    ("close", "close", "close", "Close a month (月末结账) for many communities."),
    ("verify-report", "verify", "verify_report_command", "Check a disclosure workbook (核验)."),
    ("db", "setup", "db_app", "数据库 / the database"),
    ("entity", "setup", "entity_app", "社区 / communities (entities)"),
    ("user", "setup", "user_app", "用户 / people"),
    ("account", "setup", "account_app", "科目 / accounts"),
    ("opening", "setup", "opening_app", "期初余额 / opening balances"),
    ("custody", "custody", "custody_app", "出纳日记账 / the cashier's cash and bank journals"),
    ("voucher", "voucher", "voucher_app", "凭证 / vouchers"),
    ("period", "close", "period_app", "会计期间 / periods"),
    ("import", "import_", "import_app", "导入 / imports"),
    ("template", "claims", "template_app", "模板 / templates"),
    ("claims", "claims", "claims_app", "报账单 / the cashier's claim batches"),
    ("cash", "custody", "cash_app", "现金 / cash on hand"),
    ("disclosure", "disclosure", "disclosure_app", "财务公开 / public disclosure"),
    ("statement", "statement", "statement_app", "银行对账单 / bank statement lines"),
    ("report", "report", "report_app", "报表 / reports"),
    ("export", "export", "export_app", "导出 / exports"),
    ("budget", "budget", "budget_app", "年度预算 / annual budget"),
    ("publish", "publish", "publish", "Write the published boards as a web site (网上财务公开)."),
    ("question", "question", "question_app", "居民提问与答复 / residents' questions, answers"),
    ("risk", "risk", "risk_app", "廉政风险提示 / risk signals for the finance group"),
    ("anchors", "verify", "anchors_app", "链头锚点 / published chain heads outside the database"),
    ("audit", "verify", "audit_app", "职责核对 / who holds which duty (juzhang and database)"),
    ("daemon", "daemon", "daemon", "常驻进程 / keep the imports warm for short commands."),
)
"""The commands and groups in the order ``juzhang --help`` lists them."""

_LIFTED = ("--as", "--db")


def lift_global_options(args: Sequence[str]) -> list[str]:
    """Move ``--as X``/``--as=X`` and ``--db X``/``--db=X`` found after the command to the front.

    So ``juzhang opening set H001 101 500 311 -500 --as li`` reads as
    ``juzhang --as li opening set H001 …``.  Nothing after a ``--`` separator
    is moved (there ``--as`` is an argument).
    """
    front: list[str] = []
    rest: list[str] = []
    items = list(args)
    i = 0
    while i < len(items):
        item = items[i]
        if item == "--":
            rest.extend(items[i:])
            break
        if item in _LIFTED and i + 1 < len(items):
            front += [item, items[i + 1]]
            i += 2
            continue
        if item.split("=", 1)[0] in _LIFTED and "=" in item:
            front.append(item)
        else:
            rest.append(item)
        i += 1
    return front + rest


def _load(name: str) -> Any:
    for command, module_name, attribute, _help in COMMANDS:
        if command != name:
            continue
        module = importlib.import_module(f"juzhang.cli.{module_name}")
        target = getattr(module, attribute)
        if isinstance(target, typer.Typer):
            return typer.main.get_group(target)
        single = typer.Typer(rich_markup_mode=None, add_completion=False)
        single.command(name)(target)
        return typer.main.get_command(single)
    return None


class _Commands(dict[str, Any]):
    """The root's ``commands``: a command's module is imported when the command is looked up."""

    def __missing__(self, name: str) -> Any:
        found = _load(name)
        if found is None:
            raise KeyError(name)
        self[name] = found
        return found

    def get(self, name: str, default: Any = None) -> Any:
        try:
            return self[name]
        except KeyError:
            return default

    def __contains__(self, name: object) -> bool:
        return any(name == n for n, *_ in COMMANDS) or super().__contains__(name)


class _Group(TyperGroup):
    """The root group: a lazy command tree; library refusals become one line and exit 1."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.commands = _Commands(self.commands)

    def list_commands(self, ctx: Any) -> list[str]:
        return [name for name, *_ in COMMANDS]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        """List the commands from :data:`COMMANDS`, without importing their modules."""
        with formatter.section("Commands"):
            formatter.write_dl([(name, text) for name, _m, _a, text in COMMANDS])

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        return super().parse_args(ctx, lift_global_options(args))

    def invoke(self, ctx: Any) -> Any:  # the Context class differs across typer versions
        from juzhang.errors import JuzhangError, ProblemsError  # noqa: PLC0415 — start-up time

        try:
            return super().invoke(ctx)
        except ProblemsError as exc:
            from juzhang.cli._common import print_problems  # noqa: PLC0415 — start-up time

            typer.echo(
                f"错误 / error: {exc.what}: {len(exc.problems)} 个问题 / problem(s)", err=True
            )
            print_problems(exc.problems)
            raise typer.Exit(1) from None
        except JuzhangError as exc:
            typer.echo(f"错误 / error: {exc}", err=True)
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
        except Exception as exc:
            if not type(exc).__module__.startswith("sqlalchemy"):
                raise
            from sqlalchemy import exc as sa_exc  # noqa: PLC0415 — start-up time

            if not isinstance(exc, sa_exc.DBAPIError):
                raise
            first = (str(exc.orig or exc).strip().splitlines() or [""])[0]
            missing = "no such table" in first or "does not exist" in first
            hint = " (请先运行 / run first: juzhang db upgrade)" if missing else ""
            typer.echo(f"数据库错误 / database error: {first}{hint}", err=True)
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


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version  # noqa: PLC0415 — start-up time

        typer.echo(f"juzhang {version('juzhang')}")
        raise typer.Exit


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
        typer.Option(
            "--as",
            envvar="JUZHANG_USER",
            help="操作人 / acting user (login). SQLite: who is recorded; PostgreSQL with a"
            " person's own login: that person, another name is refused",
        ),
    ] = None,
    _show_version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="版本 / print the version"
        ),
    ] = False,
) -> None:
    ctx.obj = Settings(db, actor or None)
    warning = clock.override_warning()
    if warning:  # a test and demo facility: never silently
        typer.echo(warning, err=True)


def main() -> None:
    """Run the command line (the ``juzhang`` script).

    With ``JUZHANG_DAEMON`` set, the command runs in that ``juzhang daemon``
    when one listens there (:mod:`juzhang.cli._warm`), else here; ``juzhang
    daemon`` itself always runs here.
    """
    if os.environ.get("JUZHANG_DAEMON") and "daemon" not in sys.argv[1:]:
        from juzhang.cli import _warm  # noqa: PLC0415 — start-up time

        status = _warm.forward(sys.argv)
        if status is not None:
            sys.exit(status)
    _gc.starting()
    app()


def run_command(argv: list[str]) -> int:
    """Run one command line in this process (a daemon's child); return its exit status."""
    sys.argv = argv
    try:
        app(prog_name="juzhang")
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            return exc.code or 0
        print(exc.code, file=sys.stderr)
        return 1
    return 0
