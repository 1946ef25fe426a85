"""Command line for reports and exports (报表与导出), registered by :func:`register`::

    juzhang report KIND ENTITY --period YYYY-MM[..YYYY-MM] [--format FMT] [--out PATH]
        KIND: trial-balance, general-ledger, ledger (with --account CODE), cash-journal,
              bank-journal, income-expenditure, balance-sheet
    juzhang voucher print ENTITY NUMBER --period YYYY-MM --out FILE.xlsx
    juzhang export beancount (ENTITY | --all) [--out FILE] [--check]

``--format`` is ``xlsx`` (the printed form, :mod:`juzhang.exporters.excel`),
``json`` or ``csv`` (:mod:`juzhang.exporters.tabular`, schemas documented
there) and, for the trial balance only, ``table`` (a table on the terminal).
Without ``--format`` the format follows the suffix of ``--out``
(``.xlsx``, ``.json``, ``.csv``); without either, the trial balance prints
its table (as it always did) and the other reports print JSON.  JSON and CSV
go to stdout when there is no ``--out`` (CSV on stdout has no byte-order
mark); a workbook without ``--out`` is written to ``KIND-ENTITY-PERIOD.xlsx``
in the current folder.

``--period`` is one month or a range.  For the ledgers, journals and the trial
balance the range is the months shown; for ``income-expenditure`` the
range is the 本期 column (one month: 本月) and 本年累计 runs from January to
its last month; for ``balance-sheet`` the last month is the closing date and
a range's first month gives the opening column (default: 年初).

``export beancount`` writes the books of one entity or of all
(:mod:`juzhang.exporters.beancount`) to ``--out`` or stdout; ``--check``
then loads the file with beancount and exits 1 listing every error.

A thin layer, as :mod:`juzhang.cli`: ``--db`` comes from the root command,
whose root group turns a refusal into one line on stderr and exit status 1;
a usage error exits with 2.  Every command here only reads the books.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Column, Table
from sqlalchemy.orm import Session

from juzhang.cli.disclosure import (
    render_disclosure,
    render_reconciliation,
    write_disclosure,
    write_reconciliation,
)
from juzhang.core.period import format_period, parse_period, parse_period_range
from juzhang.errors import JuzhangError
from juzhang.exporters import Report, voucher_print
from juzhang.exporters.beancount import (
    ExportSummary,
    check_beancount,
    export_beancount,
    write_beancount,
)
from juzhang.exporters.excel import write_report, write_voucher
from juzhang.exporters.tabular import render_csv, render_json, write_csv, write_json
from juzhang.money import format_amount
from juzhang.reports.ledger import bank_journal, cash_journal, general_ledger, subsidiary_ledger
from juzhang.reports.statements import balance_sheet, income_statement
from juzhang.reports.trial_balance import TrialBalance, trial_balance
from juzhang.storage.access import get_entity
from juzhang.storage.engine import make_engine, transaction

__all__ = [
    "FORMATS",
    "KINDS",
    "export_app",
    "register",
    "report_app",
    "trial_balance_table",
    "voucher_print_command",
]

FORMATS = ("table", "xlsx", "json", "csv")
"""Output formats; ``table`` is the trial balance's terminal table only."""

KINDS = (
    "trial-balance",
    "general-ledger",
    "ledger",
    "cash-journal",
    "bank-journal",
    "income-expenditure",
    "balance-sheet",
    "bank-reconciliation",
    "disclosure",
)
"""The report kinds ``juzhang report`` offers."""

report_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None, help="报表 / reports")
export_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None, help="导出 / exports")

_out = Console(highlight=False)

Entity = Annotated[str, typer.Argument(metavar="ENTITY", help="社区代码 / entity code")]
Range = Annotated[
    str,
    typer.Option("--period", metavar="YYYY-MM[..YYYY-MM]", help="月份或区间 / month or range"),
]
Format = Annotated[
    str | None, typer.Option("--format", metavar="FMT", help="xlsx | json | csv (| table)")
]
Out = Annotated[Path | None, typer.Option("--out", dir_okay=False, help="文件 / output file")]


# --------------------------------------------------------------------------- context


def _url(ctx: typer.Context) -> str:
    """Return the database URL set by the root command of :mod:`juzhang.cli`."""
    url = getattr(ctx.find_root().obj, "url", None)
    if not isinstance(url, str):  # pragma: no cover - the root callback always sets it
        raise RuntimeError("juzhang.cli did not set up the command context")
    return url


@contextmanager
def _session(ctx: typer.Context) -> Iterator[Session]:
    """One read-only transaction on the configured database."""
    engine = make_engine(_url(ctx))
    try:
        with transaction(engine, write=False) as session:
            yield session
    finally:
        engine.dispose()


def _note(text: str) -> None:
    """A message for people (stderr), so stdout carries only what scripts read."""
    typer.echo(text, err=True)


def _range(text: str) -> tuple[int, int]:
    try:
        return parse_period_range(text)
    except JuzhangError as exc:
        raise typer.BadParameter(str(exc), param_hint="--period") from None


def _period(text: str) -> int:
    try:
        return parse_period(text)
    except JuzhangError as exc:
        raise typer.BadParameter(str(exc)) from None


def _number(text: str) -> int:
    """Read a voucher number: ``3``, ``0003`` or ``记-0003``."""
    digits = text.rsplit("-", 1)[-1].strip()
    if not digits.isdigit() or int(digits) == 0:
        raise typer.BadParameter(f"{text!r}: 应为凭证号 / expected a voucher number such as 3")
    return int(digits)


# --------------------------------------------------------------------------- output


def trial_balance_table(tb: TrialBalance, *, all_accounts: bool = False) -> Table:
    """Render a trial balance as a rich table (rows with no amounts left out unless asked)."""
    money = ("期初余额 opening", "本期借方 debit", "本期贷方 credit", "期末余额 closing")
    table = Table(
        "科目 code",
        "名称 name",
        *(Column(h, justify="right") for h in money),
        title=f"{tb.entity} 科目余额表 trial balance {tb.period_label}",
        caption="试算平衡 / balanced ✓" if tb.balanced else "试算不平衡 / NOT balanced ✗",
    )
    for r in tb.rows:
        amounts = (r.opening_balance, r.debit, r.credit, r.closing_balance)
        if all_accounts or any(amounts):
            table.add_row(r.code, "  " * (r.level - 1) + r.name, *map(_cell, amounts))
    totals = (tb.opening_total, tb.debit_total, tb.credit_total, tb.closing_total)
    table.add_section()
    table.add_row("", "合计 total", *(format_amount(a) for a in totals))
    return table


def _cell(amount: Decimal) -> str:
    return format_amount(amount) if amount else ""


def _format(kind: str, fmt: str | None, out_file: Path | None) -> str:
    """The format asked for, else the one ``--out``'s suffix names, else the kind's default."""
    if fmt is None:
        suffix = out_file.suffix.lower().lstrip(".") if out_file is not None else ""
        if suffix in ("xlsx", "json", "csv"):
            return suffix
        return "table" if kind == "trial-balance" and out_file is None else "json"
    if fmt not in FORMATS or (fmt == "table" and kind != "trial-balance"):
        allowed = " | ".join(f for f in FORMATS if f != "table" or kind == "trial-balance")
        raise typer.BadParameter(f"{fmt!r}: 应为 / expected {allowed}", param_hint="--format")
    return fmt


def _emit(
    report: Report,
    fmt: str,
    out_file: Path | None,
    default_name: str,
    *,
    entity_name: str = "",
    all_accounts: bool = False,
) -> None:
    """Write or print ``report`` in ``fmt``."""
    if fmt == "table":
        assert isinstance(report, TrialBalance)
        _out.print(trial_balance_table(report, all_accounts=all_accounts))
        return
    if out_file is None and fmt in ("json", "csv"):
        text = render_json(report) if fmt == "json" else render_csv(report)
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return
    path = out_file or Path(f"{default_name}.{fmt}")
    if fmt == "json":
        write_json(report, path)
    elif fmt == "csv":
        write_csv(report, path)
    else:
        write_report(report, path, entity_name=entity_name, all_accounts=all_accounts)
    _note(f"已写入 / written: {path}")


Compute = Callable[[Session, str, int, int], Report]


def _run(
    ctx: typer.Context,
    kind: str,
    entity: str,
    period: str,
    fmt: str | None,
    out_file: Path | None,
    compute: Compute,
    *,
    all_accounts: bool = False,
    name_part: str = "",
) -> None:
    first, last = _range(period)
    chosen = _format(kind, fmt, out_file)
    with _session(ctx) as s:
        report = compute(s, entity, first, last)
        entity_name = get_entity(s, entity).name
    label = (
        format_period(first) if first == last else f"{format_period(first)}..{format_period(last)}"
    )
    default = "-".join(p for p in (kind, entity, name_part, label) if p)
    _emit(report, chosen, out_file, default, entity_name=entity_name, all_accounts=all_accounts)


def _since(first: int, last: int) -> int | None:
    return first if first != last else None


# --------------------------------------------------------------------------- report KIND


@report_app.command("trial-balance")
def report_trial_balance(
    ctx: typer.Context,
    entity: Entity,
    period: Range,
    fmt: Format = None,
    out_file: Out = None,
    all_accounts: Annotated[bool, typer.Option(help="含无发生额科目 / every account")] = False,
) -> None:
    """科目余额表 / trial balance: opening, period debit and credit, closing per account."""
    _run(
        ctx,
        "trial-balance",
        entity,
        period,
        fmt,
        out_file,
        trial_balance,
        all_accounts=all_accounts,
    )


@report_app.command("general-ledger")
def report_general_ledger(
    ctx: typer.Context, entity: Entity, period: Range, fmt: Format = None, out_file: Out = None
) -> None:
    """总账 / general ledger: per first-level account and month, 本月合计 and 本年累计."""
    _run(ctx, "general-ledger", entity, period, fmt, out_file, general_ledger)


@report_app.command("ledger")
def report_ledger(
    ctx: typer.Context,
    entity: Entity,
    period: Range,
    account: Annotated[str, typer.Option("--account", metavar="CODE", help="科目 / account")],
    fmt: Format = None,
    out_file: Out = None,
) -> None:
    """明细账 / subsidiary ledger of one account (a parent includes its detail accounts)."""

    def compute(s: Session, e: str, first: int, last: int) -> Report:
        return subsidiary_ledger(s, e, account, first, last)

    _run(ctx, "ledger", entity, period, fmt, out_file, compute, name_part=account)


@report_app.command("cash-journal")
def report_cash_journal(
    ctx: typer.Context, entity: Entity, period: Range, fmt: Format = None, out_file: Out = None
) -> None:
    """现金日记账 / cash journal beside the ledger (账账核对)."""
    _run(ctx, "cash-journal", entity, period, fmt, out_file, cash_journal)


@report_app.command("bank-journal")
def report_bank_journal(
    ctx: typer.Context, entity: Entity, period: Range, fmt: Format = None, out_file: Out = None
) -> None:
    """银行日记账 / bank journal beside the ledger (账账核对)."""
    _run(ctx, "bank-journal", entity, period, fmt, out_file, bank_journal)


@report_app.command("income-expenditure")
def report_income(
    ctx: typer.Context, entity: Entity, period: Range, fmt: Format = None, out_file: Out = None
) -> None:
    """收益及收益分配表 / 业务活动表: 本月 (or the range) and 本年累计."""

    def compute(s: Session, e: str, first: int, last: int) -> Report:
        return income_statement(s, e, last, since=_since(first, last))

    _run(ctx, "income-expenditure", entity, period, fmt, out_file, compute)


@report_app.command("balance-sheet")
def report_balance_sheet(
    ctx: typer.Context, entity: Entity, period: Range, fmt: Format = None, out_file: Out = None
) -> None:
    """资产负债表 / balance sheet at the end of the (last) month; opening column 年初."""

    def compute(s: Session, e: str, first: int, last: int) -> Report:
        return balance_sheet(s, e, last, since=_since(first, last))

    _run(ctx, "balance-sheet", entity, period, fmt, out_file, compute)


@report_app.command("bank-reconciliation")
def report_bank_reconciliation(
    ctx: typer.Context,
    entity: Entity,
    period: Range,
    fmt: Format = None,
    out_file: Out = None,
    account: Annotated[
        str | None, typer.Option("--account", metavar="CODE", help="银行存款科目 / bank account")
    ] = None,
) -> None:
    """银行存款余额调节表 / bank reconciliation at the end of the (last) month."""
    _first, last = _range(period)
    chosen = _format("bank-reconciliation", fmt, out_file)
    with _session(ctx) as s:
        if out_file is None and chosen in ("json", "csv"):
            sys.stdout.write(render_reconciliation(s, entity, last, chosen, account=account) + "\n")
            return
        path = write_reconciliation(s, entity, last, chosen, out_file, account=account)
    _note(f"已写入 / written: {path}")


@report_app.command("disclosure")
def report_disclosure(
    ctx: typer.Context,
    entity: Entity,
    period: Range,
    fmt: Format = None,
    out_file: Out = None,
    config: Annotated[
        Path | None,
        typer.Option("--config", exists=True, dir_okay=False, help="财务公开配置 TOML"),
    ] = None,
) -> None:
    """财务公开表 / public disclosure of a month or a quarter (--period 2026-07..2026-09)."""
    first, last = _range(period)
    chosen = _format("disclosure", fmt, out_file)
    with _session(ctx) as s:
        if out_file is None and chosen in ("json", "csv"):
            sys.stdout.write(
                render_disclosure(s, entity, first, last, chosen, config=config) + "\n"
            )
            return
        path = write_disclosure(s, entity, first, last, chosen, out_file, config=config)
    _note(f"已写入 / written: {path}")


# --------------------------------------------------------------------------- voucher print


def voucher_print_command(
    ctx: typer.Context,
    entity: Entity,
    number: Annotated[int, typer.Argument(parser=_number, metavar="NUMBER")],
    period: Annotated[int, typer.Option("--period", parser=_period, metavar="YYYY-MM")],
    out_file: Annotated[Path, typer.Option("--out", dir_okay=False, metavar="FILE.xlsx")],
) -> None:
    """Print a posted voucher (记账凭证) to an Excel form, with 大写金额 and the signatures."""
    with _session(ctx) as s:
        vp = voucher_print(s, entity, period, number)
    write_voucher(vp, out_file)
    _note(f"已写入 / written: {out_file} ({format_period(period)} {vp.label})")


# --------------------------------------------------------------------------- export


@export_app.command("beancount")
def export_beancount_command(
    ctx: typer.Context,
    entity: Annotated[str | None, typer.Argument(metavar="ENTITY")] = None,
    every: Annotated[bool, typer.Option("--all", help="全部社区 / every entity")] = False,
    out_file: Out = None,
    check: Annotated[
        bool, typer.Option("--check", help="用 beancount 校验 / check with beancount")
    ] = False,
) -> None:
    """Export the books of one entity (or --all) as a beancount file (bean-check, Fava)."""
    if every == (entity is not None):
        raise typer.BadParameter(
            "请给出社区代码或 --all（二选一） / give ENTITY or --all, not both",
            ctx,
            param_hint="ENTITY",
        )
    entities = None if every else [str(entity)]
    if out_file is None and not check:
        with _session(ctx) as s:
            summary = write_beancount(s, sys.stdout, entities)
        _exported(summary)
        return
    with tempfile.TemporaryDirectory(prefix="juzhang-") as tmp:
        path = out_file or Path(tmp) / "books.beancount"
        with _session(ctx) as s:
            summary = export_beancount(s, path, entities)
        if out_file is not None:
            _note(f"已写入 / written: {out_file}")
        _exported(summary)
        errors = check_beancount(path) if check else []
        if out_file is None:
            sys.stdout.write(path.read_text(encoding="utf-8"))
    if errors:
        _note(f"beancount 校验失败 / check failed: {len(errors)} 个错误 / error(s)")
        for line in errors:
            _note(f"  - {line}")
        raise typer.Exit(1)
    if check:
        _note("beancount 校验通过 / check passed")


def _exported(summary: ExportSummary) -> None:
    _note(
        f"导出 / exported: {len(summary.entities)} 个社区 entities,"
        f" {summary.accounts} 科目 accounts, {summary.transactions} 笔凭证 transactions,"
        f" {summary.balances} 个余额断言 balances"
    )


# --------------------------------------------------------------------------- registration


def register(app: typer.Typer, voucher_app: typer.Typer) -> None:
    """Add ``report …``, ``voucher print`` (into ``voucher_app``) and ``export …`` to ``app``."""
    app.add_typer(report_app, name="report")
    voucher_app.command("print")(voucher_print_command)
    app.add_typer(export_app, name="export")
