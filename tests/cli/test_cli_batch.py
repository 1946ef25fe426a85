"""One step over many communities from the command line (issue 15), on SQLite and PostgreSQL.

``import bank --dir`` routes each file by the account number it prints (an
unknown and an ambiguous number are reported, not imported; a bad file is
all-or-nothing; exit 1, the others imported); ``--entities all`` acts where
the acting person holds the step's role; a failing community leaves the
others done and exits 1.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import subprocess
import sys
from decimal import Decimal as D
from pathlib import Path
from typing import Any

from rich.console import Console
from sqlalchemy import Engine, event, func, select
from sqlalchemy.pool import Pool
from typer.testing import CliRunner

from juzhang import agency, books
from juzhang import statements as statement
from juzhang.cli import app, lift_global_options
from juzhang.cli._listing import Col, table_of
from juzhang.storage.engine import transaction
from juzhang.storage.schema import Entity, StatementLine
from tests.import_worker import BANK, csv_rows, setup_books, transactions, write_csv

runner = CliRunner()
NUMBERS = {"C001": "6222000000000001", "C002": "6222000000000002", "C003": "6222000000000003"}
SHARED = "6222000099990000"  # recorded for two communities: a file with it is ambiguous


def jz(url: str, *args: str, actor: str | None = None) -> Any:
    argv = ["--db", url, *args, *(("--as", actor) if actor else ())]  # --as after the command
    return runner.invoke(app, argv, env={"JUZHANG_DB": None, "JUZHANG_USER": None})


def three(engine: Engine) -> None:
    for i, (code, number) in enumerate(NUMBERS.items()):
        setup_books(engine, code, number=number, users=i == 0)
    with transaction(engine) as s:
        for code in ("C002", "C003"):
            books.add_account(s, code, "10202", "建行")
            statement.set_bank_account(s, code, "10202", SHARED)


def lines_of(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(Entity.code, func.count())
            .select_from(StatementLine)
            .join(Entity, Entity.id == StatementLine.entity_id)
            .group_by(Entity.code)
        )
        return {code: n for code, n in rows}


def folder(tmp_path: Path) -> Path:
    d = tmp_path / "statements"
    d.mkdir()
    for code, number in NUMBERS.items():
        rows = csv_rows(transactions(6, seed=len(code) + int(code[-1])), account=number)
        if code == "C003":
            rows[6][6] = "1.00"  # a broken running balance: the file is refused whole
        write_csv(d / f"{code.lower()}.csv", rows)
    write_csv(d / "unknown.csv", csv_rows(transactions(3), account="6222999999999999"))
    write_csv(d / "shared.csv", csv_rows(transactions(3), account=SHARED))
    (d / "notes.md").write_text("not a statement", encoding="utf-8")
    return d


def test_import_dir_routes_by_number(engine: Engine, db_url: str, tmp_path: Path) -> None:
    three(engine)
    d = folder(tmp_path)
    res = jz(db_url, "import", "bank", "--dir", str(d), actor="bk")
    assert res.exit_code == 1, res.output
    assert lines_of(engine) == {"C001": 6, "C002": 6}  # C003's bad file: nothing written
    out = res.stdout
    for name in ("c001.csv", "c002.csv", "c003.csv", "unknown.csv", "shared.csv"):
        assert name in out
    assert "notes.md" not in out
    assert "未登记" in res.stderr and "6222999999999999" in res.stderr
    assert "对应多个账户" in res.stderr and "C002 10202" in res.stderr
    assert "C003 10202" in res.stderr
    # a re-run imports nothing new: the good files are duplicates now
    again = jz(db_url, "import", "bank", "--dir", str(d), actor="bk")
    assert again.exit_code == 1
    assert lines_of(engine) == {"C001": 6, "C002": 6}


def test_month_over_entities(engine: Engine, db_url: str, tmp_path: Path) -> None:
    three(engine)
    d = folder(tmp_path)
    (d / "c003.csv").unlink()
    write_csv(d / "c003.csv", csv_rows(transactions(4, seed=9), account=NUMBERS["C003"]))
    assert jz(db_url, "import", "bank", "--dir", str(d), actor="bk").exit_code == 1  # 2 refused
    assert lines_of(engine) == {"C001": 6, "C002": 6, "C003": 4}
    res = jz(db_url, "custody", "accept-statement", "--entities", "all", "--all", actor="cash")
    assert res.exit_code == 0, res.output
    assert res.stdout.count("\tdone\t") == 3
    assert jz(db_url, "statement", "draft", "--entities", "all", actor="bk").exit_code == 0
    res = jz(db_url, "voucher", "review", "--entities", "all", "--all", actor="rv")
    assert res.exit_code == 0, res.output
    res = jz(db_url, "voucher", "post", "--entities", "all", "--all", actor="bk")
    assert res.exit_code == 0, res.output
    with transaction(engine, write=False) as s:
        for code, n in (("C001", 6), ("C002", 6), ("C003", 4)):
            assert len(books.list_vouchers(s, code, status="posted")) == n
    # reports: one file per community in --out DIR
    out_dir = tmp_path / "reports"
    res = jz(
        db_url,
        "report",
        "trial-balance",
        "--entities",
        "all",
        "--period",
        "2026-09",
        "--format",
        "json",
        "--out",
        str(out_dir),
    )
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in out_dir.iterdir()) == [
        f"trial-balance-{c}-2026-09.json" for c in NUMBERS
    ]


def _connections(url: str, *args: str, actor: str) -> tuple[Any, int]:
    """Run one command; return its result and how many database connections it opened."""
    opened: list[object] = []

    def count(_dbapi_conn: object, _record: object) -> None:
        opened.append(_dbapi_conn)

    event.listen(Pool, "connect", count)
    try:
        res = jz(url, *args, actor=actor)
    finally:
        event.remove(Pool, "connect", count)
    return res, len(opened)


def test_batch_commands_connect_once(engine: Engine, db_url: str, tmp_path: Path) -> None:
    """A batch step takes every community's transaction on one connection, not one each.

    A connection per community connected afresh (a login on PostgreSQL) and
    compiled every statement afresh for each community: a third of the
    agency's month.  What remains is per command: the list of communities
    and, on PostgreSQL, who is connected.
    """
    three(engine)
    d = folder(tmp_path)
    (d / "c003.csv").unlink()
    write_csv(d / "c003.csv", csv_rows(transactions(4, seed=9), account=NUMBERS["C003"]))
    res, n = _connections(db_url, "import", "bank", "--dir", str(d), actor="bk")
    assert lines_of(engine) == {"C001": 6, "C002": 6, "C003": 4}, res.output
    assert n <= 2, n  # five files
    steps = [
        ("custody", "accept-statement", "--entities", "all", "--all"),
        ("statement", "draft", "--entities", "all"),
        ("voucher", "review", "--entities", "all", "--all"),
        ("voucher", "post", "--entities", "all", "--all"),
    ]
    for args, who in zip(steps, ("cash", "bk", "rv", "bk"), strict=True):
        res, n = _connections(db_url, *args, actor=who)
        assert res.exit_code == 0, res.output
        assert res.stdout.count("\tdone\t") == 3, res.output
        assert n <= 3, (args, n)  # three communities; one connection a community made 4 or 5


def test_entities_all_respects_roles(engine: Engine, db_url: str, tmp_path: Path) -> None:
    three(engine)
    with transaction(engine) as s:
        agency.add_user(s, "bk3", "赵会计")
        agency.grant(s, "bk3", "bookkeeper", "C001")
        agency.grant(s, "bk3", "bookkeeper", "C003")
    res = jz(db_url, "statement", "draft", "--entities", "all", actor="bk3")
    assert res.exit_code == 0, res.output
    assert "C001" in res.stdout and "C003" in res.stdout and "C002" not in res.stdout
    # the cashier holds no bookkeeper role anywhere: nothing to do
    res = jz(db_url, "statement", "draft", "--entities", "all", actor="cash")
    assert res.exit_code == 0 and "C00" not in res.stdout


def test_one_community_fails_others_done(engine: Engine, db_url: str, tmp_path: Path) -> None:
    three(engine)
    d = folder(tmp_path)
    jz(db_url, "import", "bank", "--dir", str(d), actor="bk")
    res = jz(
        db_url,
        "custody",
        "accept-statement",
        "--entities",
        "C001,C404,C002",
        "--all",
        actor="cash",
    )
    assert res.exit_code == 1, res.output
    assert "C404" in res.stderr
    assert res.stdout.count("\tdone\t") == 2
    # the bookkeeper may not accept: each community refused, nothing changed, exit 1
    res = jz(db_url, "custody", "accept-statement", "--entities", "C001", "--all", actor="bk")
    assert res.exit_code == 1
    with transaction(engine, write=False) as s:
        assert not statement.list_statement_lines(s, "C001", pending=True) or all(
            v.custody_entry is not None
            for v in statement.list_statement_lines(s, "C001", pending=True)
        )


def test_entity_and_entities_not_both(db_url: str) -> None:
    res = jz(db_url, "voucher", "post", "C001", "--all", "--entities", "all", actor="bk")
    assert res.exit_code == 2
    res = jz(db_url, "voucher", "post", "--all", actor="bk")
    assert res.exit_code == 2


# --------------------------------------------------------------------------- lists, --version, --as


def test_lists_round_trip(engine: Engine, db_url: str, tmp_path: Path) -> None:
    three(engine)
    d = folder(tmp_path)
    jz(db_url, "import", "bank", "--dir", str(d), actor="bk")
    jz(db_url, "custody", "accept-statement", "C001", "--all", actor="cash")
    for argv in (
        ("entity", "list"),
        ("user", "list"),
        ("grant", "list"),
        ("account", "list", "C001"),
        ("voucher", "list", "C001"),
        ("custody", "list", "C001"),
        ("statement", "list", "C001"),
        ("claims", "list", "C001"),
    ):
        as_json = jz(db_url, *argv, "--format", "json")
        assert as_json.exit_code == 0, (argv, as_json.output)
        data = json.loads(as_json.stdout)
        as_csv = jz(db_url, *argv, "--format", "csv")
        assert list(csv.DictReader(io.StringIO(as_csv.stdout))) == [
            {k: "" if v is None else str(v).lower() if isinstance(v, bool) else str(v)
             for k, v in row.items()}
            for row in data
        ], argv  # fmt: skip
        plain = jz(db_url, *argv)  # not a terminal: tab-separated
        assert list(csv.DictReader(io.StringIO(plain.stdout), delimiter="\t")) == list(
            csv.DictReader(io.StringIO(as_csv.stdout))
        ), argv
    entries = json.loads(jz(db_url, "custody", "list", "C001", "--format", "json").stdout)
    assert len(entries) == 6 and all(D(e["amount"]) == D(e["amount"]).quantize(D("0.01"))
                                     for e in entries)  # fmt: skip
    grants = json.loads(jz(db_url, "grant", "list", "--entity", "C002", "--format", "json").stdout)
    assert {(g["login"], g["role"]) for g in grants} >= {("bk", "bookkeeper"), ("cash", "cashier")}


def test_grant_revoke_and_voucher_show(engine: Engine, db_url: str, tmp_path: Path) -> None:
    three(engine)
    assert jz(db_url, "grant", "revoke", "bk2", "bookkeeper", "C002").exit_code == 0
    res = jz(db_url, "grant", "list", "--login", "bk2", "--format", "json")
    assert sorted(g["entity"] for g in json.loads(res.stdout)) == ["C001", "C003"]
    assert jz(db_url, "grant", "revoke", "bk2", "bookkeeper", "C002").exit_code == 1
    assert jz(db_url, "grant", "add", "bk2", "bookkeeper", "C002").exit_code == 0
    d = folder(tmp_path)
    jz(db_url, "import", "bank", "--dir", str(d), actor="bk")
    jz(db_url, "custody", "accept-statement", "C001", "--all", actor="cash")
    jz(db_url, "statement", "draft", "C001", actor="bk")
    jz(db_url, "voucher", "review", "C001", "--all", actor="rv")
    jz(db_url, "voucher", "post", "C001", "--all", actor="bk")
    res = jz(
        db_url, "voucher", "show", "C001", "记-0002", "--period", "2026-09", "--format", "json"
    )
    assert res.exit_code == 0, res.output
    shown = json.loads(res.stdout)
    assert shown["number"] == "记-0002" and len(shown["lines"]) == 2
    debit = sum(D(ln["debit"]) for ln in shown["lines"] if ln["debit"])
    assert debit == D(shown["total"])
    assert jz(db_url, "voucher", "show", "C001", "99", "--period", "2026-09").exit_code == 1


def test_version_and_help_import_nothing_heavy() -> None:
    res = runner.invoke(app, ["--version"])
    assert res.exit_code == 0 and res.stdout.startswith("juzhang ")
    code = (
        "import sys; from juzhang.cli import main; sys.argv = ['juzhang', '--help']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('sqlalchemy', 'openpyxl', 'alembic', 'beancount', 'juzhang.books',"
        " 'juzhang.reports', 'juzhang.importers') if m in sys.modules]\n"
        "print('HEAVY', heavy)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "HEAVY []" in done.stdout, done.stdout


def run_fresh(url: str, *args: str) -> tuple[str, str, set[str]]:
    """Run ``juzhang --db URL ARGS`` in a fresh interpreter: its stdout, stderr and modules."""
    code = (
        "import sys\nfrom juzhang.cli import main\n"
        f"sys.argv = ['juzhang', '--db', {url!r}, *{args!r}]\n"
        "try:\n    main()\nexcept SystemExit as exc:\n    code = exc.code\nelse:\n    code = 0\n"
        "print('MODULES', ' '.join(sys.modules))\nprint('EXIT', code)"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("JUZHANG_DB", "JUZHANG_USER")}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert "EXIT 0" in done.stdout, done.stdout + done.stderr
    modules = done.stdout.split("MODULES ", 1)[1].split("\n", 1)[0]
    return done.stdout.split("MODULES ", 1)[0], done.stderr, set(modules.split())


def test_the_small_commands_do_not_import_pydantic(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    """A cashier's acceptance and a JSON trial balance import no pydantic, rich, readers or ORM.

    typer 0.29 built a pydantic adapter for every parameter (pyproject.toml pins
    typer below it); the acceptance matched lines with ``importers.rules``' Facts; rich is
    imported only to draw a table; juzhang works on SQLAlchemy Core alone (the ORM's
    import, declarations and mapper configuration were a fifth of an acceptance).
    """
    three(engine)
    jz(db_url, "import", "bank", "--dir", str(folder(tmp_path)), actor="bk")
    _out, err, loaded = run_fresh(
        db_url, "--as", "cash", "custody", "accept-statement", "C001", "--all"
    )
    assert "accepted into the bank journal: 6" in err
    assert "juzhang.statements.lines" in loaded
    assert not {"pydantic", "rich", "juzhang.importers.rules", "juzhang.importers.bank"} & loaded
    assert "sqlalchemy" in loaded and "sqlalchemy.orm" not in loaded
    out, _err, loaded = run_fresh(
        db_url, "report", "trial-balance", "C001", "--period", "2026-09", "--format", "json"
    )
    assert json.loads(out)["entity"] == "C001"
    assert "juzhang.reports.trial_balance" in loaded
    assert not {"pydantic", "rich", "sqlalchemy.orm"} & loaded


def test_global_options_after_the_command(engine: Engine, db_url: str) -> None:
    three(engine)
    res = runner.invoke(
        app,
        ["opening", "set", "C001", BANK, "500", "--as", "bk", "--db", db_url],
        env={"JUZHANG_DB": None, "JUZHANG_USER": None},
    )
    assert res.exit_code != 2, res.output  # not "not a valid amount: 'bk'"
    res = runner.invoke(
        app, ["entity", "list", f"--db={db_url}"], env={"JUZHANG_DB": None, "JUZHANG_USER": None}
    )
    assert res.exit_code == 0 and "C001" in res.stdout
    assert lift_global_options(["a", "--as", "x", "--", "--as", "y"]) == [
        "--as",
        "x",
        "a",
        "--",
        "--as",
        "y",
    ]


def test_narrow_table_never_cuts_amounts() -> None:
    rows = [
        {"id": 1, "date": dt.date(2026, 9, 30), "amount": D("28500.00"), "summary": "某某" * 30},
        {"id": 2, "date": dt.date(2026, 9, 1), "amount": D("-1234567.89"), "summary": "x"},
    ]
    cols = (
        Col("id", "#", "number"),
        Col("date", "日期 date", "date"),
        Col("amount", "金额 amount", "amount"),
        Col("summary", "摘要 summary"),
    )
    for width in (40, 60, 80):
        narrow = Console(width=width, file=io.StringIO(), highlight=False)
        narrow.print(table_of(cols, rows, None))
        text = narrow.file.getvalue()  # type: ignore[attr-defined]
        assert "28,500.00" in text and "-1,234,567.89" in text and "2026-09-30" in text, text
        assert "…" not in text
