"""Imports (导入): bank statements, claim batches and beancount files.

::

    juzhang import claims ENTITY FILE [--rules RULES.toml]              cashier (报账员)
    juzhang import beancount ENTITY FILE --mapping MAP.toml [--opening] bookkeeper
    juzhang import bank ENTITY FILE --account CODE [--profile NAME|--mapping FILE]
                                    [--rules FILE] [--window DAYS] [--dry-run]   bookkeeper
    juzhang import bank --dir DIR [--profile NAME|--mapping FILE] [--rules FILE]  bookkeeper
    juzhang import suggest-mapping FILE [--out MAPPING.toml]                      anyone
    juzhang import settings set ENTITY [--account CODE] [--rules F] [--mapping F | --profile N]
    juzhang import settings show ENTITY          (clear ENTITY [--account CODE])  bookkeeper

A thin layer over :mod:`juzhang.statements`, :mod:`juzhang.claims` and
:mod:`juzhang.beancount_import`:
each command runs one library call in one transaction (``--db`` and ``--as``
as for every command of :mod:`juzhang.cli`).  Importing a file that was
imported before adds nothing and says so.

``import bank`` prints a summary table (with ``--dry-run`` the proposed
vouchers too, and nothing is changed); when the statement is refused every
problem is printed as a table (file, row, column, reason) and the exit status
is 1.  ``import bank --dir DIR`` imports every statement file in the folder
(``.csv .txt .tsv .xls .xlsx .xlsm``), each routed to its community and
bank account by the account number printed in the file (the numbers recorded
with ``juzhang statement bank-account``); a file whose number is not
recorded, or matches two accounts, is reported and not imported (a file no
shipped layout reads is read with the layouts stored in the import settings,
then imported with the one that read it).  Each file
is imported in its own transaction (all or nothing); one summary table
(file, community, account, rows, new, duplicates, waiting, problems) goes to
stdout, each problem to stderr, and the exit status is 1 if any file failed.
``import suggest-mapping`` writes the mapping file (guide §19) for a
statement no layout reads (:mod:`juzhang.importers.suggest`): to ``--out``
or stdout, with the figures of the file read with it on stderr (rows, total
in and out, whether the direction was checked against the running balance);
when the file read with it still has problems they are printed as a table
and the exit status is 1 (the suggestion is still written, to be edited); a
file with no header row it can use is refused and nothing is written.
``import settings set`` remembers the rules and the layout for a community
(or one of its bank accounts, ``--account``); ``import bank`` and
``statement draft`` use them unless the command line gives its own
(:mod:`juzhang.statements.settings`: the files' text is stored, checked).
``import claims``: a batch whose claims are returned is *not* an error:
the import succeeded, the returned claims and their reasons are printed for the
cashier, and the exit status is 0.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Column, Table

from juzhang import claims
from juzhang import statements as statement
from juzhang.cli._batch import batch_progress
from juzhang.cli._common import (
    WIDE,
    BankAccount,
    Entity,
    OutFile,
    Rules,
    actor,
    command_group,
    console,
    note,
    session,
)
from juzhang.cli._listing import Col, emit
from juzhang.cli.claims import claims_table, print_reasons
from juzhang.errors import JuzhangError, Problem, ProblemsError
from juzhang.importers.bank import BankProfile, load_profile
from juzhang.importers.claims_config import load_claims_config
from juzhang.importers.suggest import suggest_mapping
from juzhang.money import format_amount
from juzhang.statements import STATUS_ZH, ImportResult, format_spans

import_app = command_group("导入 / imports")

InFile = Annotated[
    Path, typer.Argument(metavar="FILE", dir_okay=False, help="要导入的文件 / file to import")
]


# --------------------------------------------------------------------------- claims and beancount


@import_app.command("claims")
def import_claims(
    ctx: typer.Context,
    entity: Entity,
    file: InFile,
    rules: Annotated[
        Path | None,
        typer.Option("--rules", dir_okay=False, help="报账规则 / claim rules (TOML)"),
    ] = None,
) -> None:
    """Import a claim batch (报账单) as the cashier: valid claims wait, the rest are returned."""
    config = load_claims_config(rules) if rules is not None else None
    who = actor(ctx)
    with session(ctx) as s:
        result = claims.import_claims(s, entity, who, file, config=config)
    if result.already_imported:
        typer.echo(
            f"已导入过，未做任何更改 / already imported as batch #{result.batch_id}:"
            f" nothing added ({result.file_name})"
        )
        return
    typer.echo(
        f"批次 batch #{result.batch_id} {result.file_name}: 待制单 pending {len(result.pending)},"
        f" 退回 returned {len(result.returned)}, 重复跳过 duplicates {len(result.duplicates)}"
    )
    if result.pending:
        console().print(claims_table("待制单 pending", result.pending))
    print_reasons("退回报账员 / returned to the cashier", result.returned)
    for row, earlier in result.duplicates:
        note(f"第 {row} 行与已提交的报账 #{earlier} 相同，已跳过 / row {row}: same as #{earlier}")
    for text in result.skipped:
        note(text)


@import_app.command("beancount")
def import_beancount(
    ctx: typer.Context,
    entity: Entity,
    file: InFile,
    mapping: Annotated[
        Path, typer.Option("--mapping", dir_okay=False, help="科目对照 / account mapping (TOML)")
    ],
    opening: Annotated[
        bool, typer.Option("--opening", help="作为期初余额 / set opening balances")
    ] = False,
) -> None:
    """Import a beancount file as draft vouchers, or (--opening) as opening balances."""
    from juzhang import beancount_import  # noqa: PLC0415 — start-up time (heavy, used here only)
    from juzhang.importers.beancount_file import load_mapping  # noqa: PLC0415 — start-up time (heavy, used here only)

    rules = load_mapping(mapping)
    who = actor(ctx)
    with session(ctx) as s:
        result = beancount_import.import_beancount(
            s, entity, who, file, mapping=rules, opening=opening
        )
    if result.already_imported:
        typer.echo(
            f"已导入过，未做任何更改 / already imported as batch #{result.batch_id}:"
            f" nothing added ({result.file_name})"
        )
        return
    if opening:
        table = Table("科目 code", Column("期初余额 opening (借+ 贷-)", justify="right"))
        for code, amount in result.balances:
            table.add_row(code, format_amount(amount))
        console().print(table)
        note(f"已设置期初余额 / opening balances set: {len(result.balances)}")
        return
    for vid in result.voucher_ids:
        typer.echo(vid)
    note(f"已制单 / drafted: {len(result.voucher_ids)} (batch #{result.batch_id})")


# --------------------------------------------------------------------------- problems


_WHERE = re.compile(r"^(?P<file>.*?):(?P<row>\d+)(?::(?P<column>[A-Z]+(?:\(.*\))?))?(?P<rest>.*)$")


def problems_table(what: str, problems: Sequence[Problem]) -> Table:
    """Render problems as a table: file, row, column, reason (Chinese / English)."""
    table = Table(
        "文件 file",
        Column("行 row", justify="right"),
        "列 column",
        "原因 reason",
        title=f"{what}: {len(problems)} 个问题 / problem(s)",
        title_justify="left",
    )
    for problem in problems:
        found = _WHERE.match(problem.where)
        if found is None:
            table.add_row(problem.where, "", "", problem.message)
        else:
            rest = found["rest"].strip()
            reason = f"{rest}: {problem.message}" if rest else problem.message
            table.add_row(found["file"], found["row"], found["column"] or "", reason)
    return table


def _refuse(exc: ProblemsError) -> None:
    """Print a refusal's problems as a table on stderr and exit 1."""
    console(stderr=True, width=WIDE).print(problems_table(exc.what, exc.problems))
    raise typer.Exit(1)


# --------------------------------------------------------------------------- import bank


@import_app.command("bank")
def import_bank(
    ctx: typer.Context,
    entity: Annotated[
        str | None, typer.Argument(metavar="[ENTITY]", help="社区代码 / entity code")
    ] = None,
    file: Annotated[
        Path | None, typer.Argument(metavar="[FILE]", dir_okay=False, help="对账单 / file")
    ] = None,
    account: Annotated[
        str | None,
        typer.Option("--account", metavar="CODE", help="银行科目 / bank detail account"),
    ] = None,
    folder: Annotated[
        Path | None,
        typer.Option(
            "--dir",
            metavar="DIR",
            exists=True,
            file_okay=False,
            help="导入目录中全部对账单，按账号分派 / every file in DIR, routed by account number",
        ),
    ] = None,
    profile: Annotated[
        str | None, typer.Option("--profile", metavar="NAME", help="对账单格式 / bank layout")
    ] = None,
    mapping: Annotated[
        Path | None,
        typer.Option("--mapping", metavar="FILE", dir_okay=False, help="映射文件 / layout file"),
    ] = None,
    rules: Rules = None,
    window: Annotated[
        int | None,
        typer.Option("--window", metavar="DAYS", min=0, help="匹配日记账天数 / match window"),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="只预览，不写入 / show, change nothing")
    ] = False,
) -> None:
    """Import a bank statement (bookkeeper): lines, matches and draft vouchers."""
    if profile is not None and mapping is not None:
        raise typer.BadParameter("--profile 与 --mapping 只能给一个 / give one of them")
    if folder is not None:
        if entity is not None or file is not None or account is not None or dry_run:
            raise typer.BadParameter(
                "--dir 不能与 ENTITY FILE --account --dry-run 同用 / --dir goes alone",
                ctx,
                param_hint="--dir",
            )
        import_folder(ctx, folder, profile, mapping, rules, window)
        return
    if entity is None or file is None or account is None:
        raise typer.BadParameter(
            "需要 ENTITY FILE --account CODE，或 --dir DIR / give ENTITY FILE --account, or --dir",
            ctx,
            param_hint="ENTITY",
        )
    who = actor(ctx)
    try:
        with session(ctx) as s:
            result = statement.import_statement(
                s,
                entity,
                who,
                file,
                account=account,
                profile=profile,
                mapping=mapping,
                rules=rules,
                window_days=window,
                dry_run=dry_run,
            )
    except ProblemsError as exc:
        _refuse(exc)
        return
    tables = console(width=WIDE)
    if dry_run:
        tables.print(proposals_table(result))
    tables.print(summary_table(result))
    for text in result.notes:
        note(f"注意 / note: {text}")
    if dry_run:
        note("预览，未写入 / dry run: nothing was changed")


def summary_table(result: ImportResult) -> Table:
    """The import's figures as a two-column table."""
    title = "对账单导入预览 / import preview" if result.dry_run else "对账单已导入 / imported"
    table = Table("项目 item", Column("结果 result", overflow="fold"), title=title)
    rows = [
        ("文件 file", result.file),
        ("格式 profile", result.profile),
        ("科目 account", f"{result.account} ({result.own_account or '对账单未写账号 no number'})"),
        ("批次 batch", "" if result.batch_id is None else f"#{result.batch_id}"),
        ("读取行 rows read", str(result.rows_read)),
        ("新增 new lines", str(result.new_lines)),
        (
            "重复已跳过 duplicates skipped",
            f"{result.duplicates}"
            + (f" (行 rows {format_spans(result.duplicate_rows)})" if result.duplicates else ""),
        ),
        *(
            [("零金额行已跳过 zero-amount rows skipped", f"行 rows {zero}")]
            if (zero := format_spans(result.zero_rows))
            else []
        ),
        ("已制单 vouchers drafted", str(result.vouchers_drafted)),
        ("关联已有凭证 linked to vouchers", str(result.vouchers_linked)),
        (
            "待出纳确认 awaiting the cashier",
            f"{result.awaiting_cashier}"
            + (
                f" (对账单行 lines #{format_spans(result.awaiting_lines)})"
                if result.awaiting_cashier
                else ""
            ),
        ),
        ("先前行已制单 earlier lines drafted", str(result.pending_drafted)),
    ]
    for name, value in rows:
        table.add_row(name, value)
    return table


def proposals_table(result: ImportResult) -> Table:
    """The rows of a dry run and what would happen to each."""
    shown = len(result.proposals)
    caption = (
        f"只显示前 {shown} 行 / the first {shown} of {result.rows_read} rows"
        if shown < result.rows_read
        else None
    )
    table = Table(
        Column("行 row", justify="right"),
        "日期 date",
        "收/付",
        Column("金额 amount", justify="right"),
        "对方 counterparty",
        "状态 status",
        "对方科目 account",
        "摘要 summary",
        "规则 rule",
        Column("日记账 entry", justify="right"),
        title="拟制凭证 / proposed vouchers",
        caption=caption,
    )
    for p in result.proposals:
        table.add_row(
            str(p.row),
            p.date.isoformat(),
            "收 in" if p.direction == "in" else "付 out",
            format_amount(p.amount),
            p.counterparty,
            f"{STATUS_ZH[p.status]} {p.status.value}",
            p.account,
            p.summary or p.text,
            p.rule,
            "" if p.custody_entry is None else f"#{p.custody_entry}",
        )
    return table


# --------------------------------------------------------------------------- suggest-mapping


@import_app.command("suggest-mapping")
def import_suggest_mapping(file: InFile, out: OutFile = None) -> None:
    """Write a mapping file (guide §19) for a statement no layout reads, checked on the file."""
    if out is not None and out.resolve() == file.resolve():
        raise typer.BadParameter(
            f"{out} 是对账单本身，不能覆盖 / is the statement itself: it is never overwritten",
            param_hint="--out",
        )
    try:
        found = suggest_mapping(file)
    except ProblemsError as exc:
        _refuse(exc)
        return
    if out is None:
        typer.echo(found.text, nl=False)
    else:
        out.write_text(found.text, encoding="utf-8")
        note(f"已写入 / written: {out}")
    checked = (
        "余额连续 / running balance follows"
        if found.checked and not any(p.subject == "balance" for p in found.problems)
        else "无余额列，方向未核对 / no balance column: direction not checked"
        if not found.checked
        else "余额不连续 / the running balance breaks"
    )
    note(
        f"第 {found.header_row} 行为表头 / header row {found.header_row}; "
        f"{found.rows} 行 rows, 收入合计 total in {format_amount(found.total_in)}, "
        f"支出合计 total out {format_amount(found.total_out)}; {checked}"
    )
    if found.unplaced:
        note(f"未识别的列 / columns not placed: {', '.join(found.unplaced)}")
    if found.problems:
        console(stderr=True, width=WIDE).print(
            problems_table(f"按建议读取 / read with the suggestion {file.name}", found.problems)
        )
        raise typer.Exit(1)


# --------------------------------------------------------------------------- settings

settings_app = command_group("导入设置 / import settings remembered per community and account")
import_app.add_typer(settings_app, name="settings")

LayoutFile = Annotated[
    Path | None,
    typer.Option("--mapping", metavar="FILE", dir_okay=False, help="映射文件 / layout file"),
]
ProfileName = Annotated[
    str | None, typer.Option("--profile", metavar="NAME", help="对账单格式 / bank layout")
]


@settings_app.command("set")
def import_settings_set(
    ctx: typer.Context,
    entity: Entity,
    account: BankAccount = None,
    rules: Rules = None,
    mapping: LayoutFile = None,
    profile: ProfileName = None,
) -> None:
    """Remember --rules and --mapping/--profile for ENTITY (or one --account): bookkeeper."""
    who = actor(ctx)
    try:
        with session(ctx) as s:
            stored = statement.set_import_settings(
                s, entity, who, account=account, rules=rules, mapping=mapping, profile=profile
            )
    except ProblemsError as exc:
        _refuse(exc)
        return
    console(width=WIDE).print(settings_table(entity, [stored]))
    note(f"导入设置已保存 / import settings stored: {entity} {account or ''}".rstrip())


@settings_app.command("show")
def import_settings_show(ctx: typer.Context, entity: Entity) -> None:
    """Show the settings stored for ENTITY and its bank accounts."""
    with session(ctx, write=False) as s:
        rows = statement.import_settings(s, entity)
    if not rows:
        note(f"{entity} 没有存储的导入设置 / no import settings stored")
        return
    console(width=WIDE).print(settings_table(entity, rows))


@settings_app.command("clear")
def import_settings_clear(ctx: typer.Context, entity: Entity, account: BankAccount = None) -> None:
    """Forget the settings stored for ENTITY (or one --account)."""
    who = actor(ctx)
    with session(ctx) as s:
        gone = statement.clear_import_settings(s, entity, who, account=account)
    note("已清除 / cleared" if gone else "没有存储的导入设置 / nothing stored")


def settings_table(entity: str, rows: Sequence[statement.ImportSettings]) -> Table:
    """Stored settings: account, rules, layout, who and when."""
    table = Table(
        "科目 account",
        "规则 rules",
        "格式 layout",
        "设置人 set by",
        "时间 set at",
        title=f"导入设置 / import settings: {entity}",
        title_justify="left",
    )
    for row in rows:
        table.add_row(
            row.account or "全部 all",
            "" if row.rules is None else _rules_count(row.rules),
            row.profile or ("" if row.mapping is None else _mapping_name(row.mapping)),
            row.set_by,
            row.set_at.strftime("%Y-%m-%d %H:%M"),
        )
    return table


def _rules_count(text: str) -> str:
    rules = text.count("[[rule]]")
    return f"{rules} 条规则 rules"


def _mapping_name(text: str) -> str:
    found = re.search(r'^name\s*=\s*"([^"]*)"', text, re.M)
    return f"映射 mapping {found[1] if found else ''}".rstrip()


# --------------------------------------------------------------------------- import bank --dir


@dataclass(slots=True)
class _FileOutcome:
    file: str
    entity: str = ""
    account: str = ""
    result: ImportResult | None = None
    problems: list[str] = field(default_factory=list)


def statement_files(folder: Path) -> list[Path]:
    """The statement files of a folder (by name; hidden files and other kinds left out)."""
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and not p.name.startswith((".", "~$")) and p.suffix.lower() in SUFFIXES
    )


SUFFIXES = frozenset({".csv", ".txt", ".tsv", ".xls", ".xlsx", ".xlsm"})
"""The kinds of file ``import bank --dir`` reads (those of :mod:`juzhang.importers.reader`)."""


def import_folder(
    ctx: typer.Context,
    folder: Path,
    profile: str | None,
    mapping: Path | None,
    rules: Path | None,
    window: int | None,
) -> None:
    """``import bank --dir``: each file routed by its account number, in its own transaction."""
    who = actor(ctx)
    layout = load_profile(mapping) if mapping is not None else profile
    outcomes = [_FileOutcome(p.name) for p in statement_files(folder)]
    stored: list[str | BankProfile] | None = None
    with batch_progress("导入 import bank", len(outcomes)) as advance:
        for path, outcome in zip(statement_files(folder), outcomes, strict=True):
            try:
                try:
                    found = layout
                    number = statement.statement_number(path, profile=layout)
                except ProblemsError as refused:
                    if layout is not None:
                        raise
                    if stored is None:
                        with session(ctx, write=False) as s:
                            stored = statement.stored_layouts(s)
                    found, number = _read_number(path, stored, refused)
                with session(ctx) as s:
                    outcome.entity, outcome.account = statement.route_statement(s, number)
                    outcome.result = statement.import_statement(
                        s,
                        outcome.entity,
                        who,
                        path,
                        account=outcome.account,
                        profile=found if mapping is None else None,
                        mapping=mapping,
                        rules=rules,
                        window_days=window,
                        preview=0,
                    )
            except ProblemsError as exc:
                outcome.problems = [f"{exc.what}", *(str(p) for p in exc.problems)]
            except JuzhangError as exc:
                outcome.problems = [str(exc)]
            advance(outcome.file)
    failed = [o for o in outcomes if o.result is None]
    _print_files(folder, outcomes)
    for o in outcomes:
        for text in o.problems:
            typer.echo(f"  - {o.file}: {text}", err=True)
    note(
        f"已导入 / imported {len(outcomes) - len(failed)}, 未导入 / not imported {len(failed)}"
        f" ({folder})"
    )
    if failed:
        raise typer.Exit(1)


def _read_number(
    path: Path, layouts: Sequence[str | BankProfile], refused: ProblemsError
) -> tuple[BankProfile | str, str | None]:
    """The first stored layout that reads the file, and the number it prints.

    Raises ``refused`` (detection's refusal) when none reads it.
    """
    for candidate in layouts:
        try:
            return candidate, statement.statement_number(path, profile=candidate)
        except ProblemsError:
            continue
    raise refused


_FILES = (
    Col("file", "文件 file"),
    Col("entity", "社区 entity", "number"),
    Col("account", "科目 account", "number"),
    Col("rows", "行 rows", "number"),
    Col("new", "新增 new", "number"),
    Col("duplicates", "重复 duplicates", "number"),
    Col("waiting", "待出纳 waiting", "number"),
    Col("problems", "问题 problems", "number"),
)


def _print_files(folder: Path, outcomes: list[_FileOutcome]) -> None:
    rows = []
    for o in outcomes:
        r = o.result
        rows.append(
            {
                "file": o.file,
                "entity": o.entity,
                "account": o.account,
                "rows": None if r is None else r.rows_read,
                "new": None if r is None else r.new_lines,
                "duplicates": None if r is None else r.duplicates,
                "waiting": None if r is None else r.awaiting_cashier,
                "problems": max(len(o.problems) - 1, 1) if o.problems else 0,
            }
        )
    emit(_FILES, rows, title=f"对账单导入 / statements imported: {folder}")
