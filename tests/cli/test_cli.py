"""The command line, driven as a user would: issue 2's flow, its errors and exit codes, the demo.

Every database test runs on SQLite and PostgreSQL (``db_url``).  Exit status:
0 done, 1 refused by the library (one line on stderr, every problem listed),
2 usage error (bad amount, date or period on the command line, missing --as).
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select, text
from typer.testing import CliRunner

from juzhang import books, custody
from juzhang.cli import app
from juzhang.demo import build_demo
from juzhang.reports.trial_balance import trial_balance
from juzhang.storage.engine import make_engine, transaction
from juzhang.storage.schema import AuditLog
from tests.conftest import World

runner = CliRunner()
CLEAN_ENV: dict[str, str | None] = {"JUZHANG_DB": None, "JUZHANG_USER": None}

OFFICE: dict[str, Any] = {
    "date": "2026-09-05",
    "attachments": 2,
    "lines": [
        {"account": "51301", "summary": "购办公用品", "debit": "120.00"},
        {"account": "101", "summary": "购办公用品", "credit": "120.00"},
    ],
}


def jz(db_url: str, cmd: str, *extra: str, actor: str | None = None, **env: str | None) -> Any:
    """Run ``juzhang --db URL [--as ACTOR] CMD EXTRA…`` in-process and return the result.

    ``cmd`` is split as a shell would; ``extra`` arguments (paths) are passed as they are.
    """
    head = ["--db", db_url, *(["--as", actor] if actor else [])]
    args = [*head, *shlex.split(cmd), *extra]
    return runner.invoke(app, args, env={**CLEAN_ENV, **env})


def ok(db_url: str, cmd: str, *extra: str, actor: str | None = None) -> str:
    """Run a command that must succeed; return its stdout."""
    result = jz(db_url, cmd, *extra, actor=actor)
    assert result.exit_code == 0, (cmd, result.output)
    return str(result.stdout)


def refused(db_url: str, cmd: str, *extra: str, actor: str | None = None, code: int = 1) -> str:
    """Run a command that must fail with ``code``; return stderr (checked to be no traceback)."""
    result = jz(db_url, cmd, *extra, actor=actor)
    assert result.exit_code == code, (cmd, result.output)
    assert "Traceback" not in result.output
    assert result.stdout == ""
    return str(result.stderr)


def _file(tmp_path: Path, data: object, name: str = "v.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return str(path)


def _ready(world: World) -> None:
    """C001 with 51301 办公费, balanced opening balances and the cashier's -120 cash entry."""
    url = _url(world)
    ok(url, "account add C001 51301 办公费")
    ok(url, "opening set C001 101 500 102 10000 301 -10500", actor="bk")
    ok(url, "custody add C001 2026-09-05 101 -120.00 购办公用品", actor="cash")


def _url(world: World) -> str:
    return str(world.engine.url.render_as_string(hide_password=False))


# --------------------------------------------------------------------------- the whole flow


def test_issue_2_flow_through_the_cli(db_url: str, engine: Engine, tmp_path: Path) -> None:
    ok(db_url, "entity add H001 幸福社区居委会 --chart rural-2023 --start 2026-09")
    for login, name, role in [
        ("cash", "张出纳", "cashier"),
        ("bk", "李会计", "bookkeeper"),
        ("rv", "王审核", "reviewer"),
    ]:
        ok(db_url, f"user add {login} {name}")
        ok(db_url, f"grant {login} {role} H001")
    ok(db_url, "account add H001 51301 办公费")
    ok(db_url, "opening set H001 101 500 102 10,000 301 -10500", actor="bk")
    entry = ok(
        db_url,
        "custody add H001 2026/9/5 101 -120.00 购办公用品 --counterparty 文兴文具店",
        actor="cash",
    )
    assert entry.strip().isdigit()

    ids = ok(db_url, "voucher add H001 --file", _file(tmp_path, OFFICE), actor="bk")
    assert len(ids.split()) == 1
    ok(db_url, "voucher review H001 --all", actor="rv")
    assert ok(db_url, "voucher post H001 --all", actor="bk").split() == ["2026-09", "记-0001"]

    out = tmp_path / "tb.json"
    ok(db_url, "report trial-balance H001 --period 2026-09 --format json --out", str(out))
    tb = json.loads(out.read_text(encoding="utf-8"))
    rows = {r["code"]: r for r in tb["accounts"]}
    assert rows["101"]["closing_balance"] == "380.00"
    assert rows["513"]["debit"] == rows["51301"]["debit"] == "120.00"
    assert "no problems" in ok(db_url, "verify H001")

    red = ok(db_url, "voucher reverse H001 记-0001 --period 2026-09", actor="bk").strip()
    ok(db_url, f"voucher review H001 {red}", actor="rv")
    assert "记-0002" in ok(db_url, f"voucher post H001 {red}", actor="bk")
    listing = ok(db_url, "voucher list H001 --period 2026-09")
    assert "记-0001" in listing and "记-0002" in listing

    with transaction(engine, write=False) as s:
        after = trial_balance(s, "H001", 202609)
        log = s.execute(select(AuditLog.actor, AuditLog.action)).all()
        back = custody.list_entries(s, "H001")
    assert after.row("101").closing_balance == D("500.00") and after.balanced
    assert back[0].amount == D("-120.00") and back[0].counterparty == "文兴文具店"
    assert ("operator", "entity.add") in log and ("operator", "role.grant") in log
    assert ("operator", "account.add") in log and ("bk", "voucher.post") in log
    assert ("cash", "custody.record") in log


def test_db_upgrade_on_a_fresh_sqlite_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    assert "up to date" in ok(url, "db upgrade")
    assert "up to date" in ok(url, "db upgrade")  # idempotent
    ok(url, "entity add C001 幸福社区 --start 2026-09")
    assert "C001" in ok(url, "entity list")
    assert "no problems" in ok(url, "verify")


def test_default_database_is_juzhang_db_in_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["db", "upgrade"], env=CLEAN_ENV)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "juzhang.db").exists()
    env_db = tmp_path / "env.db"
    result = runner.invoke(app, ["db", "upgrade"], env={"JUZHANG_DB": f"sqlite:///{env_db}"})
    assert result.exit_code == 0 and env_db.exists()


def test_a_command_on_an_empty_database_says_to_upgrade(tmp_path: Path) -> None:
    err = refused(f"sqlite:///{tmp_path / 'empty.db'}", "verify")
    assert "juzhang db upgrade" in err


# --------------------------------------------------------------------------- errors


def test_unknown_entity_is_one_line_and_exit_1(world: World) -> None:
    err = refused(_url(world), "account add C999 51301 办公费")
    assert err.count("\n") == 1
    assert err.startswith("错误 / error:") and "C999" in err and "not found" in err


def test_a_cashier_cannot_be_made_bookkeeper(world: World) -> None:
    err = refused(_url(world), "grant cash bookkeeper C001")
    assert err.count("\n") == 1
    assert "cash (C001)" in err and "cashier" in err and "bookkeeper" in err
    assert "钱账分离" in err


def test_roles_are_checked_for_the_acting_user(world: World, tmp_path: Path) -> None:
    url = _url(world)
    _ready(world)
    err = refused(url, "voucher add C001 --file", _file(tmp_path, OFFICE), actor="cash")
    assert "cash (C001)" in err and "制单 draft voucher" in err and "only bookkeeper" in err
    vid = ok(url, "voucher add C001 --file", _file(tmp_path, OFFICE), actor="bk").strip()
    ok(url, "grant bk reviewer C001")
    err = refused(url, f"voucher review C001 {vid}", actor="bk")
    assert "the reviewer may not be the preparer" in err
    assert "nobody" in refused(url, f"voucher review C001 {vid}", actor="nobody")


def test_bookkeeping_without_an_acting_user_is_a_usage_error(world: World) -> None:
    url = _url(world)
    err = refused(url, "custody add C001 2026-09-05 101 -1 x", code=2)
    assert "--as" in err and "JUZHANG_USER" in err
    refused(url, "opening set C001 101 1 301 -1", code=2)
    refused(url, "voucher post C001 --all", code=2)
    refused(url, "period close C001 --period 2026-09", code=2)


def test_the_acting_user_may_come_from_the_environment(world: World) -> None:
    result = jz(_url(world), "custody add C001 2026-09-05 101 -1 x", JUZHANG_USER="cash")
    assert result.exit_code == 0, result.output


def test_sqlite_has_no_database_logins(tmp_path: Path) -> None:
    """SQLite is a single-operator store: ``--db-login`` is refused and nothing is added.

    (PostgreSQL's logins: tests/storage/test_db_identity.py.)
    """
    url = f"sqlite:///{tmp_path / 'one.db'}"
    ok(url, "db upgrade")
    err = refused(url, "user add zhang 张秀英 --db-login")
    assert "SQLite" in err and "single-operator" in err
    assert "zhang" not in ok(url, "user list")
    assert refused(url, "user add zhang 张秀英 --operator", code=2)


def test_audit_roles_lists_the_duties_and_agrees(world: World) -> None:
    """Both dialects: every open grant listed; no database logins yet, nothing out of step."""
    out = ok(_url(world), "audit roles")
    rows = [line.split("\t") for line in out.splitlines()]
    assert ["C001", "cash", "cashier", "—", "—"] in rows
    assert len(rows) == 6


@pytest.mark.parametrize("amount", ["1.234", "abc", "1e3", "NaN", ""])
def test_a_bad_amount_is_a_usage_error(world: World, amount: str) -> None:
    cmd = f"custody add C001 2026-09-05 101 {shlex.quote(amount)} x"
    err = refused(_url(world), cmd, actor="cash", code=2)
    assert "AMOUNT" in err and "not a valid amount" in err


@pytest.mark.parametrize(
    "cmd",
    [
        "custody add C001 2026-09-31 101 1 x",
        "grant bk treasurer C001",
        "entity add C002 x --chart rural-1999",
        "entity add C002 x --start 2026-13",
        "report trial-balance C001 --period 2026-13",
        "report trial-balance C001 --period 2026-10..2026-09",
        "report trial-balance C001 --period 2026-09 --format xml",
        "voucher reverse C001 x --period 2026-09",
        "opening set C001 101 1 301",
        "opening set C001 101 1 101 -1",
        "voucher review C001",
        "voucher review C001 1 --all",
    ],
)
def test_bad_command_lines_exit_2(world: World, cmd: str) -> None:
    refused(_url(world), cmd, actor="cash", code=2)


def test_a_problems_error_lists_every_problem(world: World, tmp_path: Path) -> None:
    url = _url(world)
    _ready(world)
    bad_accounts = {
        "date": "2026-09-05",
        "lines": [
            {"account": "999", "summary": "x", "debit": "1.00"},
            {"account": "513", "summary": "x", "credit": "1.00"},
        ],
    }
    err = refused(url, "voucher add C001 --file", _file(tmp_path, bad_accounts), actor="bk")
    lines = err.splitlines()
    assert lines[0].startswith("错误 / error:") and "2 个问题" in lines[0]
    assert len(lines) == 3
    assert "999" in lines[1] and "513" in lines[2]


def test_every_problem_in_a_voucher_file_is_listed(world: World, tmp_path: Path) -> None:
    float_line = dict(OFFICE, lines=[dict(OFFICE["lines"][0], debit=120.0), OFFICE["lines"][1]])
    undated = {k: v for k, v in OFFICE.items() if k != "date"}
    path = _file(tmp_path, [OFFICE, float_line, undated], "three.json")
    err = refused(_url(world), "voucher add C001 --file", path, actor="bk")
    lines = err.splitlines()
    assert len(lines) == 3
    assert "three.json 凭证2 voucher 2 第1行 line 1 debit" in lines[1] and "float" in lines[1]
    assert "three.json 凭证3 voucher 3 date" in lines[2]
    with transaction(world.engine, write=False) as s:
        assert books.list_vouchers(s, "C001") == []


# --------------------------------------------------------------------------- negative amounts


def test_negative_amounts_are_arguments_not_options(world: World) -> None:
    url = _url(world)
    ok(url, "opening set C001 101 500 301 -500", actor="bk")
    plain = ok(url, "custody add C001 2026-09-05 101 -120.00 付款", actor="cash")
    dashed = ok(url, "custody add C001 2026-09-06 101 -- -0.50 付款", actor="cash")
    ok(url, "custody add C001 2026-09-07 101 '(3.00)' 付款", actor="cash")
    with transaction(world.engine, write=False) as s:
        entries = custody.list_entries(s, "C001")
        tb = trial_balance(s, "C001", 202609)
    assert [e.amount for e in entries] == [D("-120.00"), D("-0.50"), D("-3.00")]
    assert [e.id for e in entries[:2]] == [int(plain), int(dashed)]
    assert tb.row("301").opening_balance == D("-500.00")


def test_an_unknown_option_is_still_refused(world: World) -> None:
    err = refused(_url(world), "custody add C001 2026-09-05 101 -1 x --bogus", actor="cash", code=2)
    assert "--bogus" in err


# --------------------------------------------------------------------------- reports and verify


def test_trial_balance_json_shape_and_figures(world: World, tmp_path: Path) -> None:
    url = _url(world)
    _ready(world)
    vid = ok(url, "voucher add C001 --file", _file(tmp_path, OFFICE), actor="bk").strip()
    ok(url, f"voucher review C001 {vid}", actor="rv")
    ok(url, f"voucher post C001 {vid}", actor="bk")
    data = json.loads(ok(url, "report trial-balance C001 --period 2026-09 --format json"))
    assert data["entity"] == "C001" and data["period"] == "2026-09"
    assert set(data) == {"entity", "period", "accounts", "totals"}
    amounts = {"opening_balance", "debit", "credit", "closing_balance"}
    for row in data["accounts"]:
        assert {"code", "name"} | amounts <= set(row)
        assert all(isinstance(row[k], str) for k in amounts)
        assert all(D(row[k]) == D(row[k]).quantize(D("0.01")) for k in amounts)
    rows = {r["code"]: r for r in data["accounts"]}
    assert (rows["101"]["opening_balance"], rows["101"]["credit"]) == ("500.00", "120.00")
    assert rows["101"]["closing_balance"] == "380.00"
    assert rows["301"]["closing_balance"] == "-10500.00"
    assert rows["513"]["debit"] == "120.00" and rows["51301"]["name"] == "办公费"
    assert amounts <= set(data["totals"])
    assert data["totals"]["debit"] == data["totals"]["credit"] == "120.00"
    assert data["totals"]["opening_balance"] == data["totals"]["closing_balance"] == "0.00"
    ranged = json.loads(
        ok(url, "report trial-balance C001 --period 2026-09..2026-10 --format json")
    )
    assert ranged["period"] == "2026-09..2026-10"
    table = ok(url, "report trial-balance C001 --period 2026-09")
    assert "380.00" in table and "办公费" in table


def test_verify_exits_1_and_lists_each_problem(world: World) -> None:
    url = _url(world)
    assert "no problems" in ok(url, "verify C001")
    with world.engine.begin() as conn:
        entity_id = conn.execute(text("SELECT id FROM entity WHERE code = 'C001'")).scalar_one()
        insert = "INSERT INTO opening_balance (entity_id, account_code, amount_fen) VALUES "
        conn.execute(text(insert + "(:e, '101', 100), (:e, '301', -99)"), {"e": entity_id})
    err = refused(url, "verify")
    lines = err.splitlines()
    assert "1 problem" in lines[0] and len(lines) == 2
    assert lines[1].startswith("  - ") and "C001" in lines[1] and "0.01" in lines[1]


def test_close_and_reopen_a_period(world: World, tmp_path: Path) -> None:
    url = _url(world)
    ok(url, f"period close C001 --period 2026-09 --out {tmp_path / 'closing'}", actor="rv")
    err = refused(url, "custody add C001 2026-09-05 101 1 x", actor="cash")
    assert "period closed" in err
    assert "admin" in refused(url, "reopen C001 --period 2026-09 --reason x", actor="rv")
    assert "--reason" in refused(url, "reopen C001 --period 2026-09", actor="adm", code=2)
    ok(url, "reopen C001 --period 2026-09 --reason 补录漏记凭证", actor="adm")
    ok(url, "custody add C001 2026-09-05 101 1 x", actor="cash")


# --------------------------------------------------------------------------- the demo


def test_demo_builds_the_agency_and_prints_where_the_files_are(tmp_path: Path) -> None:
    out = tmp_path / "demo-out"
    for _ in range(2):  # a fresh database each time, the same books
        result = runner.invoke(app, ["demo", "--dir", str(out)], env=CLEAN_ENV)
        assert result.exit_code == 0, result.output
    assert (out / "juzhang.db").exists()
    for code in ("H001", "H002", "S001"):
        data = json.loads((out / code / f"trial-balance-{code}-2026-09.json").read_text("utf-8"))
        assert data["totals"]["balanced"] is True
        assert data["totals"]["debit"] == data["totals"]["credit"] != "0.00"
        assert f"{code} " in result.stdout and str(out / code) in result.stdout
        assert (out / code / "disclosure-2026-09.xlsx").exists()
    assert "rural-2023" in result.stdout and "npo-2004" in result.stdout
    assert "2026-07..09" in result.stdout  # three months closed, in the summary table
    assert str(out / "inputs") in result.stdout and "no problems" in result.stdout


def test_demo_content(tmp_path: Path) -> None:
    result = build_demo(tmp_path / "d.db")
    assert result.problems == ()
    assert [c.code for c in result.communities] == ["H001", "H002", "S001"]
    engine = make_engine(f"sqlite:///{result.database}")
    with transaction(engine, write=False) as s:
        roles = {r for (r,) in s.execute(text("SELECT DISTINCT role FROM role_grant"))}
        for c in result.communities:
            vouchers = books.list_vouchers(s, c.code)
            entries = custody.list_entries(s, c.code)
            assert c.vouchers == len(vouchers) and c.custody_entries == len(entries)
            assert all(v.status == "posted" for v in vouchers)
            assert len({v.prepared_by for v in vouchers} & {v.reviewed_by for v in vouchers}) == 0
            assert all(e.backed for e in entries)
            tb = trial_balance(s, c.code, 202609)
            assert tb.balanced
            cash, bank = ("1001", "1002") if c.chart == "npo-2004" else ("101", "102")
            assert tb.row(cash).closing_balance > 0 and tb.row(bank).closing_balance > 0
        kinds = {v.kind for v in books.list_vouchers(s, "H001")}
    engine.dispose()
    assert roles == {"cashier", "bookkeeper", "reviewer", "supervisor", "admin"}
    assert kinds == {"normal", "reversal", "correction", "closing"}


# --------------------------------------------------------------------------- the installed script


@pytest.mark.slow
def test_the_installed_script_end_to_end(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("juzhang")
    if not script.exists():
        pytest.skip("the juzhang script is not installed next to this Python")
    env = {k: v for k, v in os.environ.items() if k not in CLEAN_ENV}
    env["JUZHANG_DB"] = f"sqlite:///{tmp_path / 'e2e.db'}"

    def run(cmd: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(script), *shlex.split(cmd)], capture_output=True, text=True, env=env, timeout=120
        )

    assert run("db upgrade").returncode == 0
    assert run("entity add C001 幸福社区 --start 2026-09").returncode == 0
    assert run("user add cash 张出纳").returncode == 0
    assert run("grant cash cashier C001").returncode == 0
    added = run("--as cash custody add C001 2026-09-05 101 -120.00 付款")
    assert (added.returncode, added.stdout.strip()) == (0, "1")
    missing = run("--as cash custody add C999 2026-09-05 101 -1 x")
    assert missing.returncode == 1 and "Traceback" not in missing.stderr
    # one line for the refusal, after the JUZHANG_TODAY warning (the suite fixes the date)
    lines = missing.stderr.splitlines()
    assert "JUZHANG_TODAY=2027-06-30" in lines[0]
    assert len(lines) == 2 and "C999" in lines[1]
    assert run("custody add C001 2026-09-05 101 -1 x").returncode == 2
