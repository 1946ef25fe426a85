"""``juzhang report KIND``, ``juzhang voucher print`` and ``juzhang export beancount``.

Driven as a user would, on the worked story of ``tests/reports/test_reports_ledger.py``,
on SQLite and PostgreSQL.  Exit status: 0 done, 1 refused by the library, 2
usage error.  What the files hold is checked in the exporter tests; here the
command line must produce the same thing the library does.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from juzhang.cli import app
from juzhang.cli.report import KINDS
from juzhang.exporters.beancount import check_beancount, render_beancount
from juzhang.exporters.tabular import render_csv, render_json
from juzhang.reports.ledger import cash_journal, general_ledger, subsidiary_ledger
from juzhang.reports.statements import balance_sheet, income_statement
from juzhang.reports.trial_balance import trial_balance
from tests.conftest import World
from tests.reports.test_reports_ledger import build_scenario

runner = CliRunner()
CLEAN_ENV: dict[str, str | None] = {"JUZHANG_DB": None, "JUZHANG_USER": None}
SEP, OCT = 202609, 202610


def jz(world: World, cmd: str, *extra: str) -> Any:
    url = str(world.engine.url.render_as_string(hide_password=False))
    return runner.invoke(app, ["--db", url, *shlex.split(cmd), *extra], env=CLEAN_ENV)


def ok(world: World, cmd: str, *extra: str) -> Any:
    result = jz(world, cmd, *extra)
    assert result.exit_code == 0, (cmd, result.output)
    return result


def refused(world: World, cmd: str, *extra: str, code: int = 1) -> str:
    result = jz(world, cmd, *extra)
    assert result.exit_code == code, (cmd, result.output)
    assert "Traceback" not in result.output and result.stdout == ""
    return str(result.stderr)


@pytest.fixture
def scenario(world: World) -> World:
    build_scenario(world)
    return world


def test_kinds_are_the_commands() -> None:
    import typer.main

    root = typer.main.get_command(app)
    report = root.commands["report"]  # type: ignore[attr-defined]
    assert set(KINDS) <= set(report.commands)
    voucher = root.commands["voucher"]  # type: ignore[attr-defined]
    assert "print" in voucher.commands
    assert "beancount" in root.commands["export"].commands  # type: ignore[attr-defined]


def test_json_of_every_kind_is_the_reports_json(scenario: World) -> None:
    expected = {
        "trial-balance": scenario.run(trial_balance, "C001", SEP, OCT),
        "general-ledger": scenario.run(general_ledger, "C001", SEP, OCT),
        "ledger --account 513": scenario.run(subsidiary_ledger, "C001", "513", SEP, OCT),
        "cash-journal": scenario.run(cash_journal, "C001", SEP, OCT),
        # a range: the 本期 column covers it; the balance sheet opens at its first month
        "income-expenditure": scenario.run(income_statement, "C001", OCT, since=SEP),
        "balance-sheet": scenario.run(balance_sheet, "C001", OCT, since=SEP),
    }
    for kind, report in expected.items():
        out = ok(scenario, f"report {kind} C001 --period 2026-09..2026-10 --format json").stdout
        assert json.loads(out) == report.to_json(), kind
    month = json.loads(
        ok(scenario, "report balance-sheet C001 --period 2026-10 --format json").stdout
    )
    assert month == scenario.run(balance_sheet, "C001", OCT).to_json()  # opening = 年初
    income = ok(scenario, "report income-expenditure C001 --period 2026-10 --format json")
    assert json.loads(income.stdout)["current_period"] == "2026-10"


def test_trial_balance_keeps_its_old_behaviour(scenario: World, tmp_path: Path) -> None:
    table = ok(scenario, "report trial-balance C001 --period 2026-09").stdout
    assert "科目余额表" in table and "2,150.00" in table
    data = json.loads(
        ok(scenario, "report trial-balance C001 --period 2026-09 --format json").stdout
    )
    assert data == scenario.run(trial_balance, "C001", SEP).to_json()
    out = tmp_path / "tb.json"
    result = ok(
        scenario, "report trial-balance C001 --period 2026-09 --format json --out", str(out)
    )
    assert result.stdout == "" and str(out) in result.stderr
    assert json.loads(out.read_text(encoding="utf-8")) == data


def test_files_of_every_kind(scenario: World, tmp_path: Path) -> None:
    for kind in KINDS:
        extra = " --account 101" if kind == "ledger" else ""
        for fmt in ("xlsx", "json", "csv"):
            path = tmp_path / f"{kind}.{fmt}"
            cmd = f"report {kind} C001 --period 2026-09..2026-10{extra} --out"
            ok(scenario, cmd, str(path))  # the format follows the suffix
            assert path.exists(), (kind, fmt)
            if fmt == "xlsx":
                wb = load_workbook(path)
                assert wb.worksheets[0]["A1"].value
            elif fmt == "csv":
                assert path.read_bytes().startswith(b"\xef\xbb\xbf")
            else:
                assert json.loads(path.read_text(encoding="utf-8"))["entity"] == "C001"


def test_csv_to_stdout_and_explicit_format(scenario: World, tmp_path: Path) -> None:
    gl = scenario.run(general_ledger, "C001", SEP)
    result = ok(scenario, "report general-ledger C001 --period 2026-09 --format csv")
    assert result.stdout_bytes.decode("utf-8") == render_csv(gl)  # no BOM on stdout
    path = tmp_path / "gl.data"
    ok(scenario, "report general-ledger C001 --period 2026-09 --format json --out", str(path))
    assert path.read_text(encoding="utf-8") == render_json(gl) + "\n"


def test_a_workbook_without_out_gets_a_name(
    scenario: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = ok(scenario, "report ledger C001 --period 2026-09 --account 513 --format xlsx")
    name = "ledger-C001-513-2026-09.xlsx"
    assert (tmp_path / name).exists() and name in result.stderr
    ok(scenario, "report trial-balance C001 --period 2026-09..2026-10 --format xlsx")
    tb = load_workbook(tmp_path / "trial-balance-C001-2026-09..2026-10.xlsx")["科目余额表"]
    assert tb["A2"].value == "编制单位：幸福社区居委会"


@pytest.mark.parametrize(
    "cmd",
    [
        "report general-ledger C001 --period 2026-09 --format table",
        "report trial-balance C001 --period 2026-09 --format pdf",
        "report ledger C001 --period 2026-09",
        "report cash-journal C001 --period 2026-13",
        "report bank-journal C001 --period 2026-10..2026-09",
        "report bogus C001 --period 2026-09",
        "voucher print C001 x --period 2026-09 --out v.xlsx",
        "voucher print C001 3 --period 2026-09",
        "export beancount",
        "export beancount C001 --all",
    ],
)
def test_usage_errors_exit_2(world: World, cmd: str) -> None:
    refused(world, cmd, code=2)


def test_refusals_exit_1(scenario: World, tmp_path: Path) -> None:
    assert "X999" in refused(scenario, "report general-ledger X999 --period 2026-09")
    err = refused(scenario, "report ledger C001 --period 2026-09 --account 999")
    assert "999" in err
    out = str(tmp_path / "v.xlsx")
    assert "99" in refused(scenario, "voucher print C001 99 --period 2026-09 --out", out)
    assert "X999" in refused(scenario, "export beancount X999")


def test_voucher_print(scenario: World, tmp_path: Path) -> None:
    path = tmp_path / "v.xlsx"
    result = ok(scenario, "voucher print C001 记-0003 --period 2026-09 --out", str(path))
    assert "记-0003" in result.stderr
    ws = load_workbook(path).worksheets[0]
    values = {c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)}
    assert {"记账凭证", "记字第 0003 号", "人民币叁佰伍拾元整", "出纳：张出纳"} <= values


def test_export_beancount(scenario: World, tmp_path: Path) -> None:
    text = ok(scenario, "export beancount C001").stdout
    assert text == scenario.run(render_beancount, ["C001"])
    path = tmp_path / "all.beancount"
    result = ok(scenario, "export beancount --all --check --out", str(path))
    assert "check passed" in result.stderr and "13 笔凭证 transactions" in result.stderr
    assert check_beancount(path) == []
    checked = ok(scenario, "export beancount C001 --check").stdout
    assert checked == text


def test_export_check_fails_on_broken_books(scenario: World, tmp_path: Path) -> None:
    from sqlalchemy import text

    with scenario.engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE account_balance SET credit_fen = credit_fen + 1"
                " WHERE account_code = '501' AND period = 202609"
            )
        )
    path = tmp_path / "broken.beancount"
    err = refused(scenario, "export beancount C001 --check --out", str(path))
    assert "check failed" in err and "501" in err
