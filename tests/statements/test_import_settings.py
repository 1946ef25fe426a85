"""Import settings remembered per community and account (issue 13, item 4), SQLite and PostgreSQL.

``statement draft`` used to need ``--rules`` again although the import had it;
a bank no layout reads needed ``--mapping`` every month.  Stored once with
``import settings set``, both are used until the command line says otherwise;
an account's own setting wins over the community's; bad files are refused
and nothing is stored; the database refuses what the service refuses.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select, text
from typer.testing import CliRunner

from juzhang import books
from juzhang import statements as imp
from juzhang.cli import app
from juzhang.core.period import parse_period
from juzhang.errors import (
    NotFoundError,
    ProblemsError,
    SegregationOfDutiesError,
    ValidationError,
)
from juzhang.importers.suggest import suggest_mapping
from juzhang.statements.settings import stored_for
from juzhang.storage.engine import transaction
from juzhang.storage.schema import AuditLog, Entity, ImportSetting
from tests.import_worker import BANK, Txn, csv_rows, record_entries, setup_books, write_csv

DATA = Path(__file__).parent.parent / "data"
runner = CliRunner()

RULES = """\
suspense = "21199"

[[rule]]
name = "支出"
direction = "out"
account = "51301"

[[rule]]
name = "收入"
direction = "in"
account = "50401"
"""

OTHER_RULES = RULES.replace('"51301"', '"51302"')


def run(engine: Engine, fn: Any, *args: Any, **kwargs: Any) -> Any:
    with transaction(engine) as s:
        return fn(s, *args, **kwargs)


@pytest.fixture
def bank(engine: Engine) -> Engine:
    setup_books(engine, "C001")
    for code, name in (("50401", "利息收入"), ("51301", "办公费"), ("51302", "水电费")):
        run(engine, books.add_account, "C001", code, name)
    return engine


def txns() -> list[Txn]:
    moves = [(2, -50_000, "某某物业"), (3, 3_518, "")]
    out, balance = [], 10_000_000
    for day, fen, who in moves:
        balance += fen
        out.append(Txn(dt.datetime(2026, 9, day, 10), fen, balance, who, "转账", "", f"S{day}"))
    return out


def files(tmp_path: Path) -> tuple[Path, Path]:
    rules = tmp_path / "rules.toml"
    rules.write_text(RULES, encoding="utf-8")
    return rules, write_csv(tmp_path / "stmt.csv", csv_rows(txns()))


def counter_accounts(engine: Engine) -> list[str]:
    with transaction(engine, write=False) as s:
        vouchers = sorted(books.list_vouchers(s, "C001"), key=lambda v: v.date)
    return [next(ln.account for ln in v.lines if ln.account != BANK) for v in vouchers]


# --------------------------------------------------------------------------- the service


def test_stored_rules_are_used_by_the_import_and_by_draft_pending(
    bank: Engine, tmp_path: Path
) -> None:
    rules, path = files(tmp_path)
    stored = run(bank, imp.set_import_settings, "C001", "bk", rules=rules)
    assert (stored.account, stored.rules, stored.set_by) == ("", RULES, "bk")
    rules.unlink()  # the text is stored, not the path
    record_entries(bank, "C001", txns()[:1])
    result = run(bank, imp.import_statement, "C001", "bk", path, account=BANK)
    assert (result.vouchers_drafted, result.awaiting_cashier) == (1, 1)
    assert any("stored import settings used: rules" in n.message for n in result.notes)
    run(bank, imp.accept_statement_lines, "C001", "cash", "all")
    done = run(bank, imp.draft_pending, "C001", "bk")  # no rules given: the stored ones
    assert done.drafted == 1
    assert counter_accounts(bank) == ["51301", "50401"]


def test_rules_given_win_over_the_stored_ones(bank: Engine, tmp_path: Path) -> None:
    rules, path = files(tmp_path)
    run(bank, imp.set_import_settings, "C001", "bk", rules=rules)
    other = tmp_path / "other.toml"
    other.write_text(OTHER_RULES, encoding="utf-8")
    record_entries(bank, "C001", txns())
    result = run(bank, imp.import_statement, "C001", "bk", path, account=BANK, rules=other)
    assert not any("stored" in n.message for n in result.notes)
    assert counter_accounts(bank) == ["51302", "50401"]


def test_the_accounts_own_setting_wins_over_the_communitys(bank: Engine, tmp_path: Path) -> None:
    rules, _ = files(tmp_path)
    other = tmp_path / "other.toml"
    other.write_text(OTHER_RULES, encoding="utf-8")
    run(bank, books.add_account, "C001", "10202", "建行")
    run(bank, imp.set_import_settings, "C001", "bk", rules=rules, profile="ccb")
    run(bank, imp.set_import_settings, "C001", "bk", account="10202", rules=other)
    with transaction(bank, write=False) as s:
        ent_id = s.scalars(select(Entity.id).where(Entity.code == "C001")).one()
        mine = stored_for(s, ent_id, "C001", "10202")
        theirs = stored_for(s, ent_id, "C001", BANK)
        listed = imp.import_settings(s, "C001")
    assert mine.rules is not None and theirs.rules is not None
    assert [r.account for r in mine.rules.rules] == ["51302", "50401"]
    assert mine.layout == "ccb" and mine.used == ("rules", "profile")
    assert [r.account for r in theirs.rules.rules] == ["51301", "50401"]
    assert [(r.account, r.profile) for r in listed] == [("", "ccb"), ("10202", None)]


def test_a_mapping_replaces_a_profile_and_the_rest_stays(bank: Engine, tmp_path: Path) -> None:
    rules, _ = files(tmp_path)
    mapping = tmp_path / "m.toml"
    mapping.write_text(suggest_mapping(DATA / "boc-debit.utf8.csv").text, encoding="utf-8")
    run(bank, imp.set_import_settings, "C001", "bk", rules=rules, profile="ccb")
    after = run(bank, imp.set_import_settings, "C001", "bk", mapping=mapping)
    assert (after.profile, after.rules) == (None, RULES)
    assert after.mapping is not None and 'name = "boc-debit"' in after.mapping
    assert run(bank, imp.clear_import_settings, "C001", "bk") is True
    assert run(bank, imp.import_settings, "C001") == []


def test_a_file_no_layout_reads_imports_with_the_stored_suggested_mapping(
    engine: Engine, tmp_path: Path
) -> None:
    setup_books(engine, "S001", start=parse_period("2025-01"))
    path = DATA / "boc-debit.utf8.csv"
    with pytest.raises(ProblemsError):  # no shipped layout reads it
        run(engine, imp.import_statement, "S001", "bk", path, account=BANK)
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(suggest_mapping(path).text, encoding="utf-8")
    run(engine, imp.set_import_settings, "S001", "bk", account=BANK, mapping=mapping)
    result = run(engine, imp.import_statement, "S001", "bk", path, account=BANK)
    assert (result.profile, result.new_lines, result.own_account) == (
        "boc-debit",
        5,
        "6222000011112222",
    )
    with transaction(engine, write=False) as s:
        lines = imp.list_statement_lines(s, "S001")
    totals = {d: sum((v.amount for v in lines if v.direction == d), D(0)) for d in ("in", "out")}
    assert totals == {"in": D("50035.18"), "out": D("9246.56")}


# --------------------------------------------------------------------------- refusals


def test_bad_settings_are_refused_and_nothing_is_stored(bank: Engine, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[[rule]]\nname = "x"\ndirection = "sideways"\n', encoding="utf-8")
    mapping = tmp_path / "m.toml"
    mapping.write_text('name = "x"\ndirection = "flag"\n[columns]\ndate = ["日期"]\n', "utf-8")
    cases: list[tuple[dict[str, Any], type[Exception], str]] = [
        ({"rules": bad}, ProblemsError, "bad.toml"),
        ({"mapping": mapping}, ProblemsError, "m.toml"),
        ({"rules": tmp_path / "missing.toml"}, ProblemsError, "missing.toml"),
        ({"profile": "nosuch"}, ValidationError, "nosuch"),
        ({"profile": "ccb", "mapping": mapping}, ValidationError, "not both"),
        ({}, ValidationError, "nothing to set"),
        ({"profile": "ccb", "account": "101"}, ValidationError, "not a bank account"),
        ({"profile": "ccb", "account": "10299"}, NotFoundError, "10299"),
    ]
    for kwargs, error, says in cases:
        with pytest.raises(error) as caught:
            run(bank, imp.set_import_settings, "C001", "bk", **kwargs)
        assert says in str(caught.value), kwargs
    with pytest.raises(SegregationOfDutiesError):
        run(bank, imp.set_import_settings, "C001", "cash", profile="ccb")
    assert run(bank, imp.import_settings, "C001") == []
    with bank.connect() as conn:
        audited = select(AuditLog).where(AuditLog.action == "import.settings")
        assert conn.execute(audited).all() == []


@pytest.mark.parametrize(
    "values",
    ["NULL, 'name = \"x\"', 'ccb'", "NULL, NULL, NULL", "NULL, NULL, ''"],
    ids=["mapping-and-profile", "nothing", "empty-profile"],
)
def test_the_database_refuses_what_the_service_refuses(bank: Engine, values: str) -> None:
    with pytest.raises(Exception, match=r"(?i)check"), bank.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO import_setting (entity_id, account_code, rules, mapping, profile,"
                f" set_by, set_at) SELECT e.id, '', {values}, u.id, CURRENT_TIMESTAMP"
                " FROM entity e, app_user u WHERE e.code = 'C001' AND u.login = 'bk'"
            )
        )
    with bank.connect() as conn:
        assert conn.execute(select(ImportSetting)).all() == []


# --------------------------------------------------------------------------- the command line


def test_command_line_settings_then_import_and_draft_without_rules(
    bank: Engine, db_url: str, tmp_path: Path
) -> None:
    rules, path = files(tmp_path)
    base = ["--db", db_url, "--as", "bk"]
    out = runner.invoke(app, [*base, "import", "settings", "show", "C001"])
    assert out.exit_code == 0 and "no import settings stored" in out.stderr
    out = runner.invoke(
        app, [*base, "import", "settings", "set", "C001", "--rules", str(rules), "--profile", "rcb"]
    )
    assert out.exit_code == 0, out.output
    out = runner.invoke(app, [*base, "import", "settings", "show", "C001"])
    assert out.exit_code == 0 and "2 条规则" in out.stdout and "rcb" in out.stdout
    out = runner.invoke(
        app, [*base, "import", "settings", "set", "C001", "--profile", "ccb", "--mapping", "x"]
    )
    assert out.exit_code != 0
    runner.invoke(app, [*base, "import", "settings", "set", "C001", "--profile", "ccb"])
    runner.invoke(app, [*base, "import", "settings", "clear", "C001"])
    runner.invoke(app, [*base, "import", "settings", "set", "C001", "--rules", str(rules)])
    out = runner.invoke(app, [*base, "import", "bank", "C001", str(path), "--account", BANK])
    assert out.exit_code == 0, out.output
    assert "stored import settings used: rules" in out.stderr
    cashier = ["--db", db_url, "--as", "cash"]
    out = runner.invoke(app, [*cashier, "custody", "accept-statement", "C001", "--all"])
    assert out.exit_code == 0, out.output
    out = runner.invoke(app, [*base, "statement", "draft", "C001"])  # no --rules
    assert out.exit_code == 0 and "drafted: 2" in out.output
    assert counter_accounts(bank) == ["51301", "50401"]


def test_command_line_refuses_a_bad_rules_file_with_its_line(
    bank: Engine, db_url: str, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[[rule]]\nname = "x"\ndirection = "sideways"\n', encoding="utf-8")
    out = runner.invoke(
        app,
        ["--db", db_url, "--as", "bk", "import", "settings", "set", "C001", "--rules", str(bad)],
    )
    assert out.exit_code == 1
    assert "bad.toml" in out.stderr
    assert run(bank, imp.import_settings, "C001") == []




def test_import_dir_reads_a_file_with_a_stored_mapping_to_route_it(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    setup_books(engine, "S001", start=parse_period("2025-01"))
    folder = tmp_path / "statements"
    folder.mkdir()
    (folder / "boc.csv").write_bytes((DATA / "boc-debit.utf8.csv").read_bytes())
    base = ["--db", db_url, "--as", "bk", "import", "bank", "--dir", str(folder)]
    out = runner.invoke(app, base)
    assert out.exit_code == 1 and "suggest-mapping" in out.stderr
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(suggest_mapping(DATA / "boc-debit.utf8.csv").text, encoding="utf-8")
    run(engine, imp.set_import_settings, "S001", "bk", account=BANK, mapping=mapping)
    out = runner.invoke(app, base)
    assert out.exit_code == 0, out.output
    with transaction(engine, write=False) as s:
        assert len(imp.list_statement_lines(s, "S001")) == 5
