"""Issue 12, findings 1, 2, 5 and 6: the clock, one way to close, stored disclosure settings,
and months written one way.

Worked scenarios on 幸福社区 (C001, books from 2026-09), told on the date the
finding was made (2026-12-06) and around month ends.
"""

from __future__ import annotations

import datetime as dt
import importlib
import inspect
import pkgutil
import re
import types
from decimal import Decimal as D
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import text
from typer.testing import CliRunner

import juzhang
from juzhang import books, clock, closing, custody
from juzhang.cash_count import record_cash_count
from juzhang.cli import app
from juzhang.closing_run import close_all
from juzhang.core.period import parse_period
from juzhang.core.voucher import Line, VoucherDraft
from juzhang.disclosure_config import load_config, set_stored_config, stored_config
from juzhang.errors import MonthNotOverError, ProblemsError, StateError, ValidationError
from juzhang.reports.disclosure import disclosure
from juzhang.reports.trial_balance import trial_balance
from tests.closing.test_closing import SEP, cash_moves, clean_month, count, setup_books
from tests.conftest import World

FINDING_DAY = dt.date(2026, 12, 6)


# --------------------------------------------------------------------------- finding 1: the clock


def test_the_clock_is_fixed_for_the_suite_and_can_be_moved() -> None:
    assert clock.today() == dt.date(2027, 6, 30)
    with clock.fixed(FINDING_DAY):
        assert clock.today() == FINDING_DAY
    assert clock.today() == dt.date(2027, 6, 30)


def test_the_real_date_is_beijing_time(monkeypatch: pytest.MonkeyPatch) -> None:
    clock.set_today(None)
    monkeypatch.delenv(clock.ENV_TODAY)
    try:
        assert clock.today() == dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date()
        monkeypatch.setenv(clock.ENV_TODAY, "2026-12-06")
        assert clock.today() == FINDING_DAY
        monkeypatch.setenv(clock.ENV_TODAY, "2026-12")
        with pytest.raises(ValidationError, match="YYYY-MM-DD"):
            clock.today()
    finally:
        clock.set_today(dt.date(2027, 6, 30))


def test_the_running_month_cannot_be_closed_before_its_last_day_is_over(world: World) -> None:
    """On 2026-12-06 December is refused; on its last day too; on 2027-01-01 it closes."""
    setup_books(world)
    with clock.fixed(dt.date(2026, 10, 1)):
        cash_moves(world, SEP, [(5, "-120.00", "51301", "购办公用品")])
        count(world, SEP)
    with clock.fixed(dt.date(2026, 9, 30)), pytest.raises(StateError, match="未过月末"):
        world.run(closing.close_month, "C001", SEP, "rv")
    assert not world.run(books.is_closed, "C001", SEP)
    with clock.fixed(dt.date(2026, 10, 1)):
        assert world.run(closing.close_month, "C001", SEP, "rv").closed


def test_closing_too_early_says_so_once_and_when_it_can_be_closed(world: World) -> None:
    """One clear line: the month, today, its last day, the first day it can be closed."""
    setup_books(world)
    with clock.fixed(dt.date(2026, 9, 20)), pytest.raises(MonthNotOverError) as refused:
        world.run(closing.close_month, "C001", SEP, "rv")
    message = str(refused.value)
    assert isinstance(refused.value, StateError)  # callers catching StateError still do
    assert (refused.value.today, refused.value.end) == (dt.date(2026, 9, 20), dt.date(2026, 9, 30))
    assert message.count("未过月末") == 1  # said once, not once per language and field
    assert message.count("2026-09-20") == 2 and message.count("2026-09-30") == 2
    assert "2026-10-01 起可以结账" in message and "can be closed from 2026-10-01" in message
    _chinese, english = message.split(" / ")
    assert not re.search(r"[\u4e00-\u9fff]", english), english


def test_close_all_on_the_finding_day_leaves_december_open(world: World, tmp_path: Path) -> None:
    with clock.fixed(FINDING_DAY):
        setup_books(world)
        for month in (202609, 202610, 202611):
            count(world, month)
            world.run(closing.close_month, "C001", month, "rv")
        summary = close_all(world.engine, 202612, ["C001"], tmp_path, actor="rv")
    (outcome,) = summary.outcomes
    assert outcome.status == "error"
    assert "2026-12-31" in str(outcome.problems[0])
    assert not world.run(books.is_closed, "C001", 202612)


def test_nothing_is_dated_after_today(world: World) -> None:
    """The finding: a cash count 25 days ahead and entries of next March were accepted."""
    setup_books(world)
    with clock.fixed(FINDING_DAY):
        with pytest.raises(ValidationError, match="晚于今天"):
            world.run(record_cash_count, "C001", "cash", dt.date(2026, 12, 31), D("1064.00"))
        march = custody.CustodyInput(dt.date(2027, 3, 1), "101", D("-50"), "买扫帚")
        today = custody.CustodyInput(FINDING_DAY, "101", D("-20"), "买信封")
        with pytest.raises(ProblemsError) as refused:
            world.run(custody.record_entries, "C001", "cash", [today, march])
        assert [p.where for p in refused.value.problems] == ["C001 第2笔 entry 2"]
        assert "dated after today" in str(refused.value)
        entry = world.run(custody.record_entries, "C001", "cash", [today])[0]
        line = Line("101", "买信封", credit=D("20"), custody_entry=entry)
        ahead = VoucherDraft(dt.date(2026, 12, 7), (Line("51301", "买信封", debit=D("20")), line))
        with pytest.raises(ProblemsError, match="晚于今天"):
            world.run(books.draft_voucher, "C001", "bk", ahead)
        with pytest.raises(ProblemsError, match="晚于今天"):
            world.run(books.post_bulk, "C001", [ahead], preparer="bk", reviewer="rv", poster="bk")
        pair = books.PairDraft(dt.date(2027, 3, 1), "101", "51301", "买扫帚", -2000, entry)
        with pytest.raises(ProblemsError, match="晚于今天"):
            world.run(books.draft_pairs, "C001", "bk", [pair])
        # dated today it goes through
        world.run(books.draft_voucher, "C001", "bk", VoucherDraft(FINDING_DAY, ahead.lines))


def test_reports_refuse_months_before_the_books_or_after_this_month(world: World) -> None:
    """The finding: a report of August (before the books start) showed the opening balances."""
    setup_books(world)
    with pytest.raises(ValidationError, match="早于建账月份 2026-09"):
        world.run(trial_balance, "C001", 202608)
    with pytest.raises(ValidationError, match="before the books start"):
        world.run(disclosure, "C001", 202601, 202609)
    with clock.fixed(FINDING_DAY):
        world.run(trial_balance, "C001", 202612)  # the running month: fine
        with pytest.raises(ValidationError, match="晚于本月 2026-12"):
            world.run(trial_balance, "C001", 202701)


def test_the_cli_warns_when_the_date_is_fixed_by_the_environment(world: World, db_url: str) -> None:
    setup_books(world)
    clock.set_today(None)  # let the environment variable speak, as in a subprocess
    try:
        result = CliRunner().invoke(
            app,
            ["--db", db_url, "report", "trial-balance", "C001", "--period", "2027-01"],
            env={"JUZHANG_TODAY": "2026-12-06"},
        )
    finally:
        clock.set_today(dt.date(2027, 6, 30))
    assert result.exit_code == 1, result.output
    assert "JUZHANG_TODAY=2026-12-06" in result.stderr
    assert "after the current month 2026-12" in result.stderr


# --------------------------------------------------------------------------- finding 2: one close


def _functions(module: types.ModuleType) -> list[tuple[str, object]]:
    found = []
    for name in getattr(module, "__all__", [n for n in dir(module) if not n.startswith("_")]):
        obj = getattr(module, name)
        if inspect.isfunction(obj):
            found.append((f"{module.__name__}.{name}", obj))
    return found


def _names_in(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _names_in(const)
    return names


def test_only_the_month_end_close_locks_a_month() -> None:
    """Walk every module of juzhang: the lock is private and only close_month calls it."""
    modules = [juzhang]
    for info in pkgutil.walk_packages(juzhang.__path__, "juzhang."):
        if info.name.startswith(("juzhang.examples", "juzhang.migrations")):
            continue
        modules.append(importlib.import_module(info.name))
    public = {name: fn for m in modules for name, fn in _functions(m)}
    assert public, "no public functions found"
    assert not [n for n in public if n.endswith(".close_period")], "a public lock is back"
    assert "close_period" not in books.__all__
    callers = set()
    writers = set()
    for module in modules:
        for name, obj in vars(module).items():
            if not inspect.isfunction(obj) or obj.__module__ != module.__name__:
                continue
            fn = inspect.unwrap(obj)
            if "_lock_period" in _names_in(fn.__code__):
                callers.add(f"{module.__name__}.{name}")
            source = inspect.getsource(fn).replace(" ", "")
            sets_closed = '"status":"closed"' in source or 'status="closed"' in source
            if sets_closed and "Period" in _names_in(fn.__code__):
                writers.add(f"{module.__name__}.{name}")
    assert callers == {"juzhang.closing.close.close_month"}
    # the one function that writes a period's closed status is the private lock
    assert writers == {"juzhang.books.period._lock_period"}
    assert "juzhang.closing.close.close_month" in public or "juzhang.closing.close_month" in public


def test_period_close_is_the_full_close(world: World, db_url: str, tmp_path: Path) -> None:
    """The finding: `period close` locked September with no cash count and no carry-forward."""
    setup_books(world)
    cash_moves(world, SEP, [(5, "-120.00", "51301", "购办公用品")])
    args = ["--db", db_url, "--as", "rv", "period", "close", "C001", "--period", "2026-09"]
    out = ["--out", str(tmp_path / "closing")]
    refused = CliRunner().invoke(app, args + out)
    assert refused.exit_code == 1
    assert "没有月末现金盘点" in refused.stderr
    assert not world.run(books.is_closed, "C001", SEP)
    count(world, SEP)
    done = CliRunner().invoke(app, args + out)
    assert done.exit_code == 0, done.output
    assert world.run(books.is_closed, "C001", SEP)
    kinds = [v.kind for v in world.run(books.list_vouchers, "C001", period=SEP)]
    assert kinds.count("closing") == 1  # the carry-forward
    assert (tmp_path / "closing" / "C001" / "disclosure-2026-09.xlsx").exists()


# --------------------------------------------------------------------------- finding 5: settings

CONFIG = """
chart = "rural-2023"
[signatures]
secretary = "陈明"
director = "李红"
"""


def _cells(path: Path) -> set[str]:
    wb = load_workbook(path, read_only=True)
    return {str(v) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for v in row}


def _has(path: Path, name: str) -> bool:
    return any(name in c for c in _cells(path))


def test_batch_closed_boards_carry_the_stored_names(world: World, tmp_path: Path) -> None:
    """The finding: every batch-closed board had blank 书记/主任 lines."""
    clean_month(world)
    (tmp_path / "c.toml").write_text(CONFIG, encoding="utf-8")
    world.run(set_stored_config, "C001", "rv", load_config(tmp_path / "c.toml"))
    stored = world.run(stored_config, "C001")
    assert stored is not None and stored.signatures.secretary == "陈明"
    summary = close_all(world.engine, SEP, None, tmp_path / "out", actor="rv")
    assert summary.ok, summary.problems
    board = tmp_path / "out" / "C001" / "disclosure-2026-09.xlsx"
    assert _has(board, "陈明") and _has(board, "李红")
    # the same settings for a report made later, and the change is audited
    assert world.run(disclosure, "C001", SEP).signatures.secretary == "陈明"
    with world.engine.connect() as conn:
        actions = conn.execute(text("SELECT action FROM audit_log")).scalars().all()
    assert "disclosure.config" in actions


def test_storing_needs_a_reviewer_and_a_fitting_config(world: World, tmp_path: Path) -> None:
    (tmp_path / "bad.toml").write_text('[[income]]\nname = "x"\naccounts = ["999"]\n', "utf-8")
    with pytest.raises(ProblemsError, match="999"):
        world.run(set_stored_config, "C001", "rv", load_config(tmp_path / "bad.toml"))
    (tmp_path / "c.toml").write_text(CONFIG, encoding="utf-8")
    with pytest.raises(juzhang.SegregationOfDutiesError):
        world.run(set_stored_config, "C001", "cash", load_config(tmp_path / "c.toml"))
    assert world.run(stored_config, "C001") is None


def test_the_database_refuses_a_setting_that_is_not_a_json_object(world: World) -> None:
    with pytest.raises(Exception, match=r"(?i)check"), world.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO disclosure_setting (entity_id, config, set_by, set_at)"
                " SELECT e.id, 'secretary = 1', u.id, CURRENT_TIMESTAMP"
                " FROM entity e, app_user u WHERE e.code = 'C001' AND u.login = 'rv'"
            )
        )


def test_cli_config_set_show_and_a_one_off_close(world: World, db_url: str, tmp_path: Path) -> None:
    clean_month(world)
    runner = CliRunner()
    (tmp_path / "c.toml").write_text(CONFIG, encoding="utf-8")
    shown = runner.invoke(app, ["--db", db_url, "disclosure", "config", "show", "C001"])
    assert shown.exit_code == 0 and "没有存储的配置" in shown.stderr
    (tmp_path / "once.toml").write_text(CONFIG.replace("陈明", "王一次"), encoding="utf-8")
    close = ["--db", db_url, "--as", "rv", "close", "--period", "2026-09", "--entities", "C001"]
    done = runner.invoke(
        app, [*close, "--out", str(tmp_path / "o"), "--config", str(tmp_path / "once.toml")]
    )
    assert done.exit_code == 0, done.output
    assert _has(tmp_path / "o" / "C001" / "disclosure-2026-09.xlsx", "王一次")
    assert world.run(stored_config, "C001") is None  # a one-off is not stored
    stored = runner.invoke(
        app,
        [
            "--db",
            db_url,
            "--as",
            "rv",
            "disclosure",
            "config",
            "set",
            "C001",
            str(tmp_path / "c.toml"),
        ],
    )
    assert stored.exit_code == 0, stored.output
    shown = runner.invoke(app, ["--db", db_url, "disclosure", "config", "show", "C001"])
    assert 'secretary = "陈明"' in shown.stdout


# --------------------------------------------------------------------------- finding 6: months


@pytest.mark.parametrize("text", ["2026-11", "202611", " 2026-11 "])
def test_months_in_the_documented_forms_are_read(text: str) -> None:
    assert parse_period(text) == 202611


@pytest.mark.parametrize("text", ["2026-1", "2026.11", "2026年11月", "2026/11", "26-11"])
def test_ambiguous_months_are_refused_with_the_accepted_form(text: str) -> None:
    with pytest.raises(ValidationError, match=r"YYYY-MM \(e\.g\. 2026-11\)"):
        parse_period(text)


def test_the_cli_refuses_an_ambiguous_month(world: World, db_url: str) -> None:
    result = CliRunner().invoke(
        app, ["--db", db_url, "report", "trial-balance", "C001", "--period", "2026-1"]
    )
    assert result.exit_code == 2
    assert "2026-11" in result.stderr
