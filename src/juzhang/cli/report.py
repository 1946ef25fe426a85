"""Command line for reports (报表)::

    juzhang report KIND ENTITY --period YYYY-MM[..YYYY-MM] [--format FMT] [--out PATH]
    juzhang report KIND --entities all|C001,C002 --period … [--format FMT] --out DIR
        KIND: trial-balance, general-ledger, ledger (with --account CODE), cash-journal,
              bank-journal, income-expenditure, balance-sheet, bank-reconciliation,
              disclosure
    juzhang report summary ENTITY|--entities all --period YYYY-MM [--format xlsx|json] [--out FILE]

(``juzhang voucher print`` is in :mod:`juzhang.cli.voucher`, ``juzhang export
beancount`` in :mod:`juzhang.cli.export`.)

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

With ``--entities`` (in place of ENTITY) each community's report is written
to its own file in the folder ``--out DIR`` (``KIND-ENTITY-PERIOD.xlsx``, or
the ``--format`` asked for), one community after another with a summary
table (:mod:`juzhang.cli._batch`); ``all`` is every community the acting
person holds a role in (every community without ``--as``).

A thin layer, as :mod:`juzhang.cli`: ``--db`` comes from the root command,
whose root group turns a refusal into one line on stderr and exit status 1;
a usage error exits with 2.  Every command here only reads the books.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from sqlalchemy import Connection

from juzhang.cli._batch import Entities, OptEntity, chosen_entities, run_batch
from juzhang.cli._common import (
    as_period,
    as_range,
    check_out_path,
    command_group,
    console,
    note,
    out_file_callback,
    session,
)
from juzhang.core.duty import Action
from juzhang.core.period import format_period
from juzhang.exporters.json_text import render_json, write_json
from juzhang.money import format_amount
from juzhang.reports.trial_balance import TrialBalance, trial_balance
from juzhang.storage.access import get_entity

if TYPE_CHECKING:
    from rich.table import Table

    from juzhang.exporters.shared import Report

__all__ = [
    "FORMATS",
    "KINDS",
    "report_app",
    "trial_balance_table",
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

report_app = command_group("报表 / reports")

Range = Annotated[
    str,
    typer.Option("--period", metavar="YYYY-MM[..YYYY-MM]", help="月份或区间 / month or range"),
]
Entity = OptEntity
OutFile = Annotated[
    Path | None,
    typer.Option(
        "--out", metavar="PATH", help="文件；--entities 时为目录 / file; with --entities a folder"
    ),
]
Format = Annotated[
    str | None, typer.Option("--format", metavar="FMT", help="xlsx | json | csv (| table)")
]


# --------------------------------------------------------------------------- output


def trial_balance_table(tb: TrialBalance, *, all_accounts: bool = False) -> Table:
    """Render a trial balance as a rich table (rows with no amounts left out unless asked)."""
    from rich.table import Column, Table  # noqa: PLC0415 — start-up time: JSON, CSV draw no table

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
        console().print(trial_balance_table(report, all_accounts=all_accounts))
        return
    if out_file is None and fmt in ("json", "csv"):
        if fmt == "json":
            text = render_json(report)
        else:
            from juzhang.exporters.tabular import render_csv  # noqa: PLC0415 — start-up time

            text = render_csv(report)
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return
    path = out_file or Path(f"{default_name}.{fmt}")
    _write(report, fmt, path, entity_name, all_accounts)
    note(f"已写入 / written: {path}")


def _write(report: Report, fmt: str, path: Path, entity_name: str, all_accounts: bool) -> None:
    if fmt == "json":
        write_json(report, path)
    elif fmt == "csv":
        from juzhang.exporters.tabular import write_csv  # noqa: PLC0415 — start-up time

        write_csv(report, path)
    else:
        from juzhang.exporters.excel import write_report  # noqa: PLC0415 — start-up time (openpyxl)

        write_report(report, path, entity_name=entity_name, all_accounts=all_accounts)


Compute = Callable[[Connection, str, int, int], "Report"]


def _many(
    ctx: typer.Context,
    kind: str,
    entity: str | None,
    entities: str | None,
    fmt: str | None,
    out_file: Path | None,
) -> tuple[list[str], Path, str] | None:
    """For ``--entities``: the codes, the output folder and the format; ``None`` for one ENTITY."""
    codes = chosen_entities(ctx, entity, entities, Action.READ)
    check_out_path(ctx, out_file, folder=codes is not None)  # never the database, a real folder
    if codes is None:
        if out_file is not None and out_file.is_dir():
            raise typer.BadParameter(f"{out_file} 是目录 / is a folder", param_hint="--out")
        return None
    if out_file is None or (out_file.exists() and not out_file.is_dir()):
        raise typer.BadParameter(
            "--entities 需要 --out DIR（目录） / --entities needs --out DIR (a folder)",
            param_hint="--out",
        )
    chosen = fmt or "xlsx"
    if chosen not in ("xlsx", "json", "csv"):
        raise typer.BadParameter(
            f"{chosen!r}: 应为 / expected xlsx | json | csv", param_hint="--format"
        )
    out_file.mkdir(parents=True, exist_ok=True)
    return codes, out_file, chosen


def _label(first: int, last: int) -> str:
    return (
        format_period(first) if first == last else f"{format_period(first)}..{format_period(last)}"
    )


def _run(
    ctx: typer.Context,
    kind: str,
    entity: str | None,
    period: str,
    fmt: str | None,
    out_file: Path | None,
    compute: Compute,
    *,
    all_accounts: bool = False,
    name_part: str = "",
    entities: str | None = None,
) -> None:
    first, last = as_range(period)
    many = _many(ctx, kind, entity, entities, fmt, out_file)
    if many is not None:
        codes, folder, fmt_many = many

        def one(s: Connection, code: str) -> str:
            report = compute(s, code, first, last)
            name = "-".join(p for p in (kind, code, name_part, _label(first, last)) if p)
            path = folder / f"{name}.{fmt_many}"
            _write(report, fmt_many, path, get_entity(s, code).name, all_accounts)
            return str(path)

        run_batch(ctx, f"报表 {kind}", codes, one, write=False)
        return
    assert entity is not None
    chosen = _format(kind, fmt, out_file)
    with session(ctx, write=False) as s:
        report = compute(s, entity, first, last)
        entity_name = get_entity(s, entity).name
    default = "-".join(p for p in (kind, entity, name_part, _label(first, last)) if p)
    _emit(report, chosen, out_file, default, entity_name=entity_name, all_accounts=all_accounts)


def _since(first: int, last: int) -> int | None:
    return first if first != last else None


# --------------------------------------------------------------------------- report KIND


@report_app.command("trial-balance")
def report_trial_balance(
    ctx: typer.Context,
    period: Range,
    entity: Entity = None,
    fmt: Format = None,
    out_file: OutFile = None,
    all_accounts: Annotated[bool, typer.Option(help="含无发生额科目 / every account")] = False,
    entities: Entities = None,
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
        entities=entities,
    )


@report_app.command("general-ledger")
def report_general_ledger(
    ctx: typer.Context,
    period: Range,
    entity: Entity = None,
    fmt: Format = None,
    out_file: OutFile = None,
    entities: Entities = None,
) -> None:
    """总账 / general ledger: per first-level account and month, 本月合计 and 本年累计."""
    from juzhang.reports.ledger import general_ledger  # noqa: PLC0415 — start-up time (other reports)

    _run(ctx, "general-ledger", entity, period, fmt, out_file, general_ledger, entities=entities)


@report_app.command("ledger")
def report_ledger(
    ctx: typer.Context,
    period: Range,
    account: Annotated[str, typer.Option("--account", metavar="CODE", help="科目 / account")],
    entity: Entity = None,
    fmt: Format = None,
    out_file: OutFile = None,
    entities: Entities = None,
) -> None:
    """明细账 / subsidiary ledger of one account (a parent includes its detail accounts)."""
    from juzhang.reports.ledger import subsidiary_ledger  # noqa: PLC0415 — start-up time (other reports)

    def compute(s: Connection, e: str, first: int, last: int) -> Report:
        return subsidiary_ledger(s, e, account, first, last)

    _run(
        ctx, "ledger", entity, period, fmt, out_file, compute, name_part=account, entities=entities
    )


@report_app.command("cash-journal")
def report_cash_journal(
    ctx: typer.Context,
    period: Range,
    entity: Entity = None,
    fmt: Format = None,
    out_file: OutFile = None,
    entities: Entities = None,
) -> None:
    """现金日记账 / cash journal beside the ledger (账账核对)."""
    from juzhang.reports.ledger import cash_journal  # noqa: PLC0415 — start-up time (other reports)

    _run(ctx, "cash-journal", entity, period, fmt, out_file, cash_journal, entities=entities)


@report_app.command("bank-journal")
def report_bank_journal(
    ctx: typer.Context,
    period: Range,
    entity: Entity = None,
    fmt: Format = None,
    out_file: OutFile = None,
    entities: Entities = None,
) -> None:
    """银行日记账 / bank journal beside the ledger (账账核对)."""
    from juzhang.reports.ledger import bank_journal  # noqa: PLC0415 — start-up time (other reports)

    _run(ctx, "bank-journal", entity, period, fmt, out_file, bank_journal, entities=entities)


@report_app.command("income-expenditure")
def report_income(
    ctx: typer.Context,
    period: Range,
    entity: Entity = None,
    fmt: Format = None,
    out_file: OutFile = None,
    entities: Entities = None,
) -> None:
    """收益及收益分配表 / 业务活动表: 本月 (or the range) and 本年累计."""
    from juzhang.reports.statements import income_statement  # noqa: PLC0415 — start-up time (other reports)

    def compute(s: Connection, e: str, first: int, last: int) -> Report:
        return income_statement(s, e, last, since=_since(first, last))

    _run(ctx, "income-expenditure", entity, period, fmt, out_file, compute, entities=entities)


@report_app.command("balance-sheet")
def report_balance_sheet(
    ctx: typer.Context,
    period: Range,
    entity: Entity = None,
    fmt: Format = None,
    out_file: OutFile = None,
    entities: Entities = None,
) -> None:
    """资产负债表 / balance sheet at the end of the (last) month; opening column 年初."""
    from juzhang.reports.statements import balance_sheet  # noqa: PLC0415 — start-up time (other reports)

    def compute(s: Connection, e: str, first: int, last: int) -> Report:
        return balance_sheet(s, e, last, since=_since(first, last))

    _run(ctx, "balance-sheet", entity, period, fmt, out_file, compute, entities=entities)


@report_app.command("bank-reconciliation")
def report_bank_reconciliation(
    ctx: typer.Context,
    period: Range,
    entity: Entity = None,
    fmt: Format = None,
    out_file: OutFile = None,
    account: Annotated[
        str | None, typer.Option("--account", metavar="CODE", help="银行存款科目 / bank account")
    ] = None,
    entities: Entities = None,
) -> None:
    """银行存款余额调节表 / bank reconciliation at the end of the (last) month."""
    # start-up time: the closing and Excel code only for this report
    from juzhang.cli.disclosure import render_reconciliation, write_reconciliation  # noqa: PLC0415

    _first, last = as_range(period)
    many = _many(ctx, "bank-reconciliation", entity, entities, fmt, out_file)
    if many is not None:
        codes, folder, fmt_many = many

        def one(s: Connection, code: str) -> str:
            name = f"bank-reconciliation-{code}-{format_period(last)}.{fmt_many}"
            return str(
                write_reconciliation(s, code, last, fmt_many, folder / name, account=account)
            )

        run_batch(ctx, "报表 bank-reconciliation", codes, one, write=False)
        return
    assert entity is not None
    chosen = _format("bank-reconciliation", fmt, out_file)
    with session(ctx, write=False) as s:
        if out_file is None and chosen in ("json", "csv"):
            sys.stdout.write(render_reconciliation(s, entity, last, chosen, account=account) + "\n")
            return
        path = write_reconciliation(s, entity, last, chosen, out_file, account=account)
    note(f"已写入 / written: {path}")


@report_app.command("disclosure")
def report_disclosure(
    ctx: typer.Context,
    period: Range,
    entity: Entity = None,
    fmt: Format = None,
    out_file: OutFile = None,
    config: Annotated[
        Path | None,
        typer.Option("--config", exists=True, dir_okay=False, help="财务公开配置 TOML"),
    ] = None,
    entities: Entities = None,
) -> None:
    """财务公开表 / public disclosure of a month or a quarter (--period 2026-07..2026-09)."""
    # start-up time: the closing and Excel code only for this report
    from juzhang.cli.disclosure import render_disclosure, write_disclosure  # noqa: PLC0415

    first, last = as_range(period)
    many = _many(ctx, "disclosure", entity, entities, fmt, out_file)
    if many is not None:
        codes, folder, fmt_many = many

        def one(s: Connection, code: str) -> str:
            name = f"disclosure-{code}-{_label(first, last)}.{fmt_many}"
            path = folder / name
            return str(write_disclosure(s, code, first, last, fmt_many, path, config=config))

        run_batch(ctx, "报表 disclosure", codes, one, write=False)
        return
    assert entity is not None
    chosen = _format("disclosure", fmt, out_file)
    with session(ctx, write=False) as s:
        if out_file is None and chosen in ("json", "csv"):
            sys.stdout.write(
                render_disclosure(s, entity, first, last, chosen, config=config) + "\n"
            )
            return
        path = write_disclosure(s, entity, first, last, chosen, out_file, config=config)
    note(f"已写入 / written: {path}")


@report_app.command("summary")
def report_summary(
    ctx: typer.Context,
    period: Annotated[
        int, typer.Option("--period", parser=as_period, metavar="YYYY-MM", help="月份 / month")
    ],
    entity: Entity = None,
    entities: Entities = None,
    fmt: Annotated[str | None, typer.Option("--format", metavar="xlsx|json")] = None,
    out_file: Annotated[
        Path | None,
        typer.Option("--out", dir_okay=False, callback=out_file_callback, help="文件 / file"),
    ] = None,
) -> None:
    """社区财务汇总表 / one row per community: income, expense, cash, bank, questions, risks."""
    from juzhang.cli.risk import output_format  # noqa: PLC0415 — one rule for xlsx|json
    from juzhang.reports.summary import summary_report  # noqa: PLC0415

    chosen = output_format(fmt, out_file)
    codes = chosen_entities(ctx, entity, entities, Action.READ)
    with session(ctx, write=False) as s:
        summary = summary_report(s, codes if codes is not None else [entity or ""], period)
    for problem in summary.problems:
        note(f"未列入 / left out: {problem}")
    if chosen == "json":
        text = json.dumps(summary.to_json(), ensure_ascii=False, indent=2) + "\n"
        if out_file is None:
            sys.stdout.write(text)
            return
        out_file.write_text(text, encoding="utf-8")
    else:
        from juzhang.exporters.risk_excel import write_summary_workbook  # noqa: PLC0415

        label = entity if codes is None else "all"
        out_file = out_file or Path(f"summary-{label}-{format_period(period)}.xlsx")
        write_summary_workbook(summary, out_file)
    note(f"已写入 / written: {out_file}")
