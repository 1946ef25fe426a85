"""The claim and beancount commands, driven as the cashier and the bookkeeper would.

Exit status as for every command: 0 done (also when claims are returned: the
import itself succeeded), 1 refused by the library (every problem listed on
stderr), 2 usage error.  Every database test runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from typer.testing import CliRunner

from juzhang import books
from juzhang.cli import app
from juzhang.importers.claims import COLUMNS
from tests.claims.test_beancount_import import BEFORE, MAPPING, ledger
from tests.claims.test_beancount_import import SEPTEMBER as LEDGER_SEPTEMBER
from tests.claims.test_claims import SEPTEMBER, fill, prepare
from tests.conftest import World

runner = CliRunner()
ENV: dict[str, str | None] = {"JUZHANG_DB": None, "JUZHANG_USER": None, "COLUMNS": "200"}


def jz(world: World, cmd: str, *extra: str, actor: str | None = None) -> Any:
    url = world.engine.url.render_as_string(hide_password=False)
    head = ["--db", url, *(["--as", actor] if actor else [])]
    return runner.invoke(app, [*head, *shlex.split(cmd), *extra], env=ENV)


def ok(world: World, cmd: str, *extra: str, actor: str | None = None) -> str:
    result = jz(world, cmd, *extra, actor=actor)
    assert result.exit_code == 0, (cmd, result.output)
    return str(result.stdout)


def refused(world: World, cmd: str, *extra: str, actor: str | None = None, code: int = 1) -> str:
    result = jz(world, cmd, *extra, actor=actor)
    assert result.exit_code == code, (cmd, result.output)
    assert "Traceback" not in result.output and result.stdout == ""
    return str(result.stderr)


def test_template_claims(tmp_path: Path) -> None:
    out = tmp_path / "form.xlsx"
    result = runner.invoke(app, ["template", "claims", "--out", str(out)], env=ENV)
    assert result.exit_code == 0 and result.stdout.strip() == str(out)
    ws = load_workbook(out)["报账单"]
    assert [ws.cell(row=3, column=i + 1).value for i in range(len(COLUMNS))] == [
        c.header for c in COLUMNS
    ]
    again = runner.invoke(app, ["template", "claims", "--out", str(out)], env=ENV)
    assert again.exit_code == 2 and "--force" in again.output
    forced = runner.invoke(app, ["template", "claims", "--out", str(out), "--force"], env=ENV)
    assert forced.exit_code == 0
    wrong = runner.invoke(app, ["template", "claims", "--out", str(tmp_path / "x.csv")], env=ENV)
    assert wrong.exit_code == 2


def test_the_claims_cycle(world: World, tmp_path: Path) -> None:
    prepare(world)
    path = str(fill(tmp_path / "9月.xlsx", SEPTEMBER))
    valid = [i for i in SEPTEMBER if not i.fails]
    failing = [i for i in SEPTEMBER if i.fails]
    # a bookkeeper may not submit the cashier's claims
    assert "拒绝 / refused" in refused(world, "import claims C001", path, actor="bk")
    out = ok(world, "import claims C001", path, actor="cash")
    assert f"pending {len(valid)}, 退回 returned {len(failing)}" in out
    for item in failing:
        assert item.purpose in out
    assert out.count("    - ") == len(failing)  # one reason each
    assert "already imported" in ok(world, "import claims C001", path, actor="cash")
    # the cashier may not draft; the bookkeeper drafts every pending claim
    assert "拒绝 / refused" in refused(world, "claims draft C001", actor="cash")
    ids = ok(world, "claims draft C001", actor="bk").split()
    assert len(ids) == len(valid)
    assert len(world.run(books.list_vouchers, "C001", status="draft")) == len(valid)
    assert ok(world, "claims draft C001", actor="bk") == ""
    listing = ok(world, "claims list C001 --returned")
    assert all(i.purpose in listing for i in failing)
    assert all(i.purpose not in listing for i in valid)
    assert "证明人" in listing and "大写金额" in listing and "决议" in listing
    drafted = ok(world, "claims list C001 --drafted --format table")
    assert all(f"#{i}" in drafted for i in ids)
    refused(world, "claims list C001 --returned --pending", code=2)


def test_a_bad_claims_file_is_refused_with_every_problem(world: World, tmp_path: Path) -> None:
    prepare(world)
    path = tmp_path / "bad.csv"
    header = ",".join(c.header for c in COLUMNS if c.key != "witness")
    path.write_text(
        f"{header}\n2026-09-31,纸,12,,513,现金,张三,王五,1,,,\n2026-09-01,纸,abc,,513,微信,张三,王五,1,,,\n",
        encoding="utf-8",
    )
    err = refused(world, "import claims C001", str(path), actor="cash")
    lines = [line for line in err.splitlines() if line.startswith("  - ")]
    assert len(lines) == 4, err
    assert "bad.csv:1: 缺少列 证明人" in lines[0]
    assert "bad.csv:2:A" in lines[1] and "bad.csv:3:C" in lines[2] and "bad.csv:3:F" in lines[3]
    assert world.run(books.list_vouchers, "C001") == []


def test_claim_rules_option(world: World, tmp_path: Path) -> None:
    prepare(world)
    rules = tmp_path / "c001.toml"
    rules.write_text('entity = "C002"\n', encoding="utf-8")
    path = str(fill(tmp_path / "9月.xlsx", SEPTEMBER[:2]))
    err = refused(world, "import claims C001", path, "--rules", str(rules), actor="cash")
    assert "C002" in err
    rules.write_text('[[approval]]\nat_least = "100"\napprovers = 3\n', encoding="utf-8")
    out = ok(world, "import claims C001", path, "--rules", str(rules), actor="cash")
    assert "pending 0, 退回 returned 2" in out and "3 approvers" in out


def test_import_beancount(world: World, tmp_path: Path) -> None:
    prepare(world)
    mapping = tmp_path / "map.toml"
    mapping.write_text("".join(f'"{k}" = "{v}"\n' for k, v in MAPPING.items()), encoding="utf-8")
    opening = tmp_path / "opening.beancount"
    opening.write_text(ledger(BEFORE), encoding="utf-8")
    cmd = "import beancount C001"
    assert "拒绝 / refused" in refused(
        world, cmd, str(opening), "--mapping", str(mapping), "--opening", actor="cash"
    )
    out = ok(world, cmd, str(opening), "--mapping", str(mapping), "--opening", actor="bk")
    assert "101" in out and "2,999.80" in out
    assert world.run(books.opening_difference, "C001") == 0
    history = tmp_path / "sep.beancount"
    history.write_text(ledger(LEDGER_SEPTEMBER[2:]), encoding="utf-8")  # no cash or bank line
    ids = ok(world, cmd, str(history), "--mapping", str(mapping), actor="bk").split()
    assert len(ids) == 1
    again = ok(world, cmd, str(history), "--mapping", str(mapping), actor="bk")
    assert "already imported" in again
    unmapped = tmp_path / "partial.toml"
    unmapped.write_text('"Assets:Cash" = "101"\n', encoding="utf-8")
    history.write_text(ledger(LEDGER_SEPTEMBER), encoding="utf-8")
    err = refused(world, cmd, str(history), "--mapping", str(unmapped), actor="bk")
    assert "Expenses:Office" in err and "Assets:Bank:RCB" in err and "Income:Grant" in err
