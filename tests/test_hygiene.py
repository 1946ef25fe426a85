"""Input and output hygiene (issue 17): what an attack run got through, refused at the door.

* hostile voucher files (200,000 ``[``, invalid UTF-8, a 5,000-digit integer,
  a voucher of too many lines) and ``--out`` in a missing folder: one clear
  line and exit 1 or 2, never a traceback;
* a rule ``counterparty_regex = "^(a+)+$"`` runs in linear time (RE2) and a
  backreference is refused when the rules are loaded, with file and rule;
  a template ``{summary:>400000000}`` is refused when the rules are loaded;
* texts with NUL, bidi overrides or too long are refused with the same
  message on SQLite and PostgreSQL, before the database sees them;
* entity codes are a strict pattern (service and database), and no output
  path leaves ``--out`` or overwrites the database file.

Both dialects where a database is involved.
"""

from __future__ import annotations

import datetime as dt
import shutil
import time
from dataclasses import replace
from decimal import Decimal as D
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from juzhang import agency, books, closing_run, custody
from juzhang.closing_run import close_all
from juzhang.core.text import MAX_VOUCHER_LINES, TEXT_LIMITS
from juzhang.core.voucher import Line, VoucherDraft
from juzhang.errors import ProblemsError, ValidationError
from juzhang.importers.bank import read_statement
from juzhang.importers.claims import read_claim_batch
from juzhang.importers.rules import Facts, parse_rules
from juzhang.storage.engine import make_engine
from juzhang.voucher_file import load_vouchers
from tests.claims.test_claims import SEPTEMBER as SEPTEMBER_CLAIMS
from tests.claims.test_claims import fill
from tests.cli.test_cli import jz, refused
from tests.closing.test_closing import SEP, SEPTEMBER, cash_moves, count, setup_books
from tests.conftest import World, build_world
from tests.statement_samples import DATA

# --------------------------------------------------------------------------- hostile files


def _voucher_text(lines: int = 2, attachments: str = "0") -> str:
    body = ",".join(
        f'{{"account": "{"51301" if i % 2 == 0 else "101"}", "summary": "x",'
        f' "{"debit" if i % 2 == 0 else "credit"}": "1.00"}}'
        for i in range(lines)
    )
    return f'{{"date": "2026-09-05", "attachments": {attachments}, "lines": [{body}]}}'


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("deep.json", b"[" * 200_000, "nested too deeply"),
        ("latin.json", "摘要".encode("gbk") + b"\xff", "not UTF-8"),
        ("digits.json", _voucher_text(attachments="9" * 5000).encode(), "not valid JSON"),
        ("long.json", _voucher_text(MAX_VOUCHER_LINES + 2).encode(), "at most 1000 lines"),
    ],
)
def test_hostile_voucher_files_get_one_clear_line(
    world: World, db_url: str, tmp_path: Path, name: str, content: bytes, reason: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ProblemsError) as info:
        load_vouchers(path)
    assert reason in str(info.value.problems[0])
    err = refused(db_url, "voucher add C001 --file", str(path), actor="bk")
    assert reason in err and "Traceback" not in err


def test_out_in_a_missing_folder_is_a_usage_error(world: World, db_url: str) -> None:
    result = jz(
        db_url,
        "report trial-balance C001 --period 2026-09 --format csv --out /nonexistent/dir/x.csv",
    )
    assert result.exit_code == 2, result.output
    assert "does not exist" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize(
    ("error", "shown"),
    [
        (PermissionError(13, "Permission denied", "/srv/v.json"), "没有权限 / Permission denied"),
        (RecursionError("maximum recursion depth exceeded"), "nested too deeply"),
        (UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"), "not UTF-8"),
    ],
)
def test_the_last_resort_mapping_is_one_line(
    world: World,
    db_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    error: Exception,
    shown: str,
) -> None:
    """What a reader did not foresee from outside input is still one line and exit 1."""
    from juzhang import voucher_file  # the command imports its reader when it runs

    def failing(_path: object) -> None:
        raise error

    monkeypatch.setattr(voucher_file, "load_vouchers", failing)
    path = tmp_path / "v.json"
    path.write_text("{}", "utf-8")
    err = refused(db_url, "voucher add C001 --file", str(path), actor="bk")
    assert shown in err and len(err.strip().splitlines()) == 1


# --------------------------------------------------------------------------- rules


def _rules(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "rules.toml"
    path.write_text(f'suspense = "102"\n\n[[rule]]\nname = "r"\naccount = "501"\n{body}\n', "utf-8")
    return path


def _facts(counterparty: str) -> Facts:
    return Facts(dt.date(2026, 9, 1), "in", D("1.00"), counterparty, "", "", "", "", "", "S1", 1)


def test_a_catastrophic_rule_regex_runs_in_linear_time(tmp_path: Path) -> None:
    rules = parse_rules(_rules(tmp_path, 'counterparty_regex = "^(a+)+$"').read_text(), "r.toml")
    started = time.perf_counter()
    result = rules.categorise(_facts("a" * 25 + "b"), "102")
    assert time.perf_counter() - started < 1.0  # Python's re: seconds, doubling with each letter
    assert result.account == "102"
    assert rules.categorise(_facts("aaaa"), "102").account == "501"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ('counterparty_regex = "(a)\\\\1"', "backreferences"),
        ('counterparty_regex = "a(?=b)"', "lookarounds"),
        ('template = "{summary:>400000000}"', "width or precision"),
        ('template = "{amount:.99999}"', "width or precision"),
    ],
)
def test_dangerous_rules_are_refused_when_loaded(tmp_path: Path, body: str, reason: str) -> None:
    path = _rules(tmp_path, body)
    with pytest.raises(ProblemsError) as info:
        parse_rules(path.read_text(), "rules.toml")
    text_ = " ".join(str(p) for p in info.value.problems)
    assert reason in text_ and "rules.toml" in text_


# --------------------------------------------------------------------------- texts


BAD_TEXTS = [
    ("收款\x00", "control character U+0000"),
    ("收款\u202eabc", "bidirectional control character U+202E"),
    ("收款\x1b[31m", "control character U+001B"),
    ("长" * (TEXT_LIMITS["summary"] + 1), "text too long"),
]


@pytest.mark.parametrize(("summary", "reason"), BAD_TEXTS)
def test_bad_texts_are_refused_alike_on_both_databases(
    world: World, summary: str, reason: str
) -> None:
    setup_books(world)
    entry = custody.CustodyInput(dt.date(2026, 9, 5), "101", D("-1.00"), summary)
    with pytest.raises(ProblemsError) as info:
        world.run(custody.record_entries, "C001", "cash", [entry])
    assert reason in str(info.value.problems[0])
    draft = VoucherDraft(
        dt.date(2026, 9, 5), (Line("51301", summary, D("1")), Line("101", "x", None, D("1")))
    )
    with pytest.raises(ProblemsError) as info:
        world.run(books.draft_voucher, "C001", "bk", draft)
    assert any(reason in p.message for p in info.value.problems)


def test_a_voucher_of_too_many_lines_is_refused(world: World) -> None:
    setup_books(world)
    lines = tuple(
        Line("51301", "x", D("1")) if i % 2 == 0 else Line("101", "x", None, D("1"))
        for i in range(MAX_VOUCHER_LINES + 2)
    )
    with pytest.raises(ProblemsError, match="at most 1000 lines"):
        world.run(books.draft_voucher, "C001", "bk", VoucherDraft(dt.date(2026, 9, 5), lines))


def test_names_are_checked(world: World) -> None:
    with pytest.raises(ValidationError, match="U\\+202E"):
        world.run(agency.add_user, "evil", "张\u202e三")
    with pytest.raises(ValidationError, match="too long"):
        world.run(agency.add_entity, "C009", "社" * 101, start_period=SEP)
    with pytest.raises(ValidationError, match="U\\+0000"):
        world.run(books.add_account, "C001", "51302", "差旅\x00费")


# --------------------------------------------------------------------------- paths


@pytest.mark.parametrize("code", ["../../x", "/tmp/x", "..", "a/b", "-x", "_x", "x" * 33, "甲"])
def test_entity_codes_are_a_strict_pattern(engine: Engine, code: str) -> None:
    with pytest.raises(ValidationError, match="entity code"):
        World(engine).run(agency.add_entity, code, "社区", start_period=SEP)


@pytest.mark.parametrize("code", ["../../x", "/tmp/x", "a/b", "-x", "x" * 33])
def test_the_database_refuses_bad_entity_codes(engine: Engine, code: str) -> None:
    """The backstop, around the service: a CHECK (PostgreSQL) or a trigger (SQLite)."""
    with pytest.raises(DBAPIError), engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO entity (code, name, chart, start_period, voucher_word,"
                " link_window_days, created_at)"
                " VALUES (:code, 'x', 'rural-2023', 202609, '记', 10, CURRENT_TIMESTAMP)"
            ),
            {"code": code},
        )
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO entity (code, name, chart, start_period, voucher_word,"
                " link_window_days, created_at)"
                " VALUES ('Ok_1-a', 'x', 'rural-2023', 202609, '记', 10, CURRENT_TIMESTAMP)"
            )
        )
    with pytest.raises(DBAPIError), engine.begin() as conn:
        conn.execute(text("UPDATE entity SET code = :code WHERE code = 'Ok_1-a'"), {"code": code})


def test_an_output_folder_never_leaves_out(tmp_path: Path) -> None:
    output_folder = closing_run.output_folder
    assert output_folder(tmp_path, "C001") == tmp_path / "C001"
    for code in ("../x", "/tmp/x", "..", ".", "a/../../b"):
        with pytest.raises(ValidationError, match="outside"):
            output_folder(tmp_path, code)


def test_out_naming_the_database_is_refused(sqlite_template: Path, tmp_path: Path) -> None:
    """SQLite only: a PostgreSQL database is no file to overwrite."""
    db = str(tmp_path / "juzhang.db")
    shutil.copy(sqlite_template, db)
    db_url = f"sqlite:///{db}"
    engine = make_engine(db_url)
    try:
        build_world(engine)
    finally:
        engine.dispose()
    before = Path(db).read_bytes()
    result = jz(db_url, "report trial-balance C001 --period 2026-09 --format csv --out", db)
    assert result.exit_code == 2, result.output
    assert "database file" in result.output
    result = jz(db_url, "close --period 2026-09 --all --out", db, actor="rv")
    assert result.exit_code == 2, result.output
    assert Path(db).read_bytes() == before


def test_close_writes_nothing_outside_out_for_a_code_that_leaves_it(
    engine: Engine, tmp_path: Path
) -> None:
    """A code that would lead outside ``--out`` is that entity's error; nothing is written."""
    w = World(engine)
    from tests.conftest import build_world

    build_world(engine)
    setup_books(w)
    cash_moves(w, SEP, SEPTEMBER)
    count(w, SEP)
    out = tmp_path / "out"
    summary = close_all(engine, SEP, ["C001", "../escape"], out, actor="rv")
    bad = next(o for o in summary.outcomes if o.entity == "../escape")
    assert bad.status == "error" and "outside" in bad.problems[0].message
    assert not (tmp_path / "escape").exists()


# --------------------------------------------------------------------------- texts in files


def test_a_statement_cell_with_a_bidi_override_or_an_escape_is_refused_at_its_cell(
    tmp_path: Path,
) -> None:
    """The bank statement reader holds its texts to the one rule, naming row and column."""
    sample = (DATA / "boc.utf8.csv").read_text(encoding="utf-8")
    bad = sample.replace("一月物业费", "一月\u202e费业物", 1).replace("利息", "利\x1b息", 1)
    path = tmp_path / "boc-bad.csv"
    path.write_text(bad, encoding="utf-8")
    _statement, problems = read_statement(path, profile="boc")
    where = [(p.where, p.message) for p in problems]
    assert len(where) == 2, where
    assert where[0][0] == "boc-bad.csv:3:O(用途[ Purpose ])" and "U+202E" in where[0][1]
    assert where[1][0] == "boc-bad.csv:5:O(用途[ Purpose ])" and "U+001B" in where[1][1]


def test_a_claim_with_a_control_character_is_refused_at_its_cell(tmp_path: Path) -> None:
    """The claim batch reader holds its texts to the same rule (file, row, column)."""
    items = [replace(SEPTEMBER_CLAIMS[0], purpose="购买\u202e品用公办")]
    path = fill(tmp_path / "claims.xlsx", items)
    batch = read_claim_batch(path, "claims.xlsx", {}, "C001", "幸福社区")
    messages = [f"{p.where} {p.message}" for p in batch.problems]
    assert any("U+202E" in m and "事由" in m and "claims.xlsx" in m for m in messages), messages
