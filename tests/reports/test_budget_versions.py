"""Budgets in versions, and the residents' say (issue 12, finding 4).

The story told in the seed material: the board showed a purchase before it
was made — two electric fans for an office that had air conditioning.  The
residents objected, and the residents' meeting moved the money to a summer
evening gathering.  The books show exactly that: the line 办公设备 reduced,
居民夏季纳凉晚会 added, by an adjustment that names the decision; the board
shows both with 年初预算, 调整 and 调整后预算.  History is never rewritten:
the database refuses changing or deleting a version (raw SQL on both
databases).  A board published before an adjustment keeps its budget.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal as D
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import text
from typer.testing import CliRunner

from juzhang.budget import (
    BudgetInput,
    adjust_budget,
    budget_history,
    budget_lines,
    budget_plan,
    set_budget,
)
from juzhang.cli import app
from juzhang.errors import ProblemsError
from juzhang.exporters.disclosure_excel import write_disclosure_workbook
from juzhang.reports.disclosure import disclosure
from tests.conftest import World
from tests.reports.test_disclosure import OCT, build_story

PLAN = [
    BudgetInput("办公经费", "expense", ("51301",), D("2000")),
    BudgetInput("办公设备（电风扇两台）", "expense", ("51302",), D("600")),
    BudgetInput("租金收入", "income", ("50101",), D("24000")),
]
AFTER = [
    BudgetInput("办公经费", "expense", ("51301",), D("2000")),
    BudgetInput("办公设备（电风扇两台）", "expense", ("51302",), D("0")),
    BudgetInput("租金收入", "income", ("50101",), D("24000")),
    BudgetInput("居民夏季纳凉晚会", "expense", ("514",), D("600")),
]
DECISION = "居民会议决议 2026-07-12：办公室已有空调，不购电风扇，资金改办居民夏季纳凉晚会"


@pytest.fixture
def story(world: World) -> World:
    build_story(world)
    world.run(set_budget, world.entity, "bk", 2026, PLAN)
    return world


def test_the_residents_move_the_fans_money_to_the_summer_gathering(
    story: World, tmp_path: Path
) -> None:
    version = story.run(
        adjust_budget,
        story.entity,
        "bk",
        2026,
        AFTER,
        decision=DECISION,
        reason="居民反对购买电风扇",
    )
    assert version == 2
    history = story.run(budget_history, story.entity, 2026)
    assert [(v.version, v.kind, v.decision) for v in history] == [
        (1, "set", ""),
        (2, "adjust", DECISION),
    ]
    assert [ln.amount for ln in history[0].lines] == [D("2000.00"), D("600.00"), D("24000.00")]
    plan = {p.name: p for p in story.run(budget_plan, story.entity, 2026)}
    fans, party = plan["办公设备（电风扇两台）"], plan["居民夏季纳凉晚会"]
    assert (fans.initial, fans.adjustment, fans.adjusted) == (D("600"), D("-600"), D("0"))
    assert (party.initial, party.adjustment, party.adjusted) == (D("0"), D("600"), D("600"))
    d = story.run(disclosure, story.entity, OCT)
    rows = {b.name: b for b in d.budget}
    assert (rows["居民夏季纳凉晚会"].initial_budget, rows["居民夏季纳凉晚会"].adjustment) == (
        D("0"),
        D("600"),
    )
    assert rows["办公设备（电风扇两台）"].budget == D("0")
    wb = load_workbook(write_disclosure_workbook(d, tmp_path / "d.xlsx"))
    ws = wb["汇总及专项"]
    values = [[c.value for c in row] for row in ws.iter_rows()]
    header = next(r for r in values if r[0] == "预算项目")
    assert header[:5] == ["预算项目", "年初预算", "调整", "调整后预算", "本年实际"]
    party_row = next(r for r in values if str(r[0]).startswith("居民夏季纳凉晚会"))
    assert party_row[1:4] == [0, 600, 600]
    fans_row = next(r for r in values if str(r[0]).startswith("办公设备"))
    assert fans_row[1:4] == [600, -600, 0]


def test_an_adjustment_names_the_decision_and_needs_a_budget(story: World) -> None:
    with pytest.raises(ProblemsError) as info:
        story.run(adjust_budget, story.entity, "bk", 2026, AFTER, decision=" ", reason="")
    assert len(info.value.problems) == 2
    with pytest.raises(Exception, match="set it first"):
        story.run(adjust_budget, story.entity, "bk", 2027, AFTER, decision=DECISION, reason="r")


def test_a_board_keeps_the_budget_in_force_when_it_was_made(story: World) -> None:
    before = dt.datetime.now(dt.UTC)
    story.run(adjust_budget, story.entity, "bk", 2026, AFTER, decision=DECISION, reason="r")
    assert [b.name for b in story.run(budget_lines, story.entity, 2026, as_of=before)] == [
        b.name for b in PLAN
    ]
    assert len(story.run(budget_lines, story.entity, 2026)) == 4
    old = {p.name: p.adjusted for p in story.run(budget_plan, story.entity, 2026, as_of=before)}
    assert old["办公设备（电风扇两台）"] == D("600") and "居民夏季纳凉晚会" not in old


@pytest.mark.parametrize("table", ["budget_version", "budget_line"])
def test_the_database_refuses_rewriting_history(story: World, table: str) -> None:
    for sql in (f"UPDATE {table} SET year = year", f"DELETE FROM {table}"):
        with pytest.raises(Exception, match="append-only"), story.engine.begin() as conn:
            conn.execute(text(sql))
    with story.engine.connect() as conn:
        assert conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one() >= 1


# --------------------------------------------------------------------------- the command line

BUDGET_TOML = """\
[[line]]
name = "办公经费"
kind = "expense"
accounts = ["51301"]
amount = "2000.00"

[[line]]
name = "办公设备（电风扇两台）"
kind = "expense"
accounts = ["51302"]
amount = "600.00"
"""

ADJUSTED_TOML = (
    BUDGET_TOML.replace('amount = "600.00"', 'amount = "0.00"')
    + """
[[line]]
name = "居民夏季纳凉晚会"
kind = "expense"
accounts = ["514"]
amount = "600.00"
"""
)


def test_budget_commands(world: World, db_url: str, tmp_path: Path) -> None:
    build_story(world)
    runner = CliRunner()
    base = ["--db", db_url, "--as", "bk"]
    plan = tmp_path / "budget.toml"
    plan.write_text(BUDGET_TOML, encoding="utf-8")
    done = runner.invoke(app, [*base, "budget", "set", world.entity, "2026", "--file", str(plan)])
    assert done.exit_code == 0, done.output
    adjusted = tmp_path / "adjusted.toml"
    adjusted.write_text(ADJUSTED_TOML, encoding="utf-8")
    done = runner.invoke(
        app,
        [
            *base,
            "budget",
            "adjust",
            world.entity,
            "2026",
            "--file",
            str(adjusted),
            "--decision",
            DECISION,
            "--reason",
            "居民反对",
        ],
    )
    assert done.exit_code == 0, done.output
    shown = runner.invoke(app, [*base, "budget", "show", world.entity, "2026", "--format", "json"])
    assert shown.exit_code == 0, shown.output
    data = json.loads(shown.stdout)
    assert [(ln["name"], ln["initial"], ln["adjustment"], ln["adjusted"]) for ln in data["lines"]][
        1:
    ] == [
        ("办公设备（电风扇两台）", "600.00", "-600.00", "0.00"),
        ("居民夏季纳凉晚会", "0.00", "600.00", "600.00"),
    ]
    assert data["versions"][1]["decision"] == DECISION
    text_out = runner.invoke(app, [*base, "budget", "show", world.entity, "2026"])
    assert "居民夏季纳凉晚会" in text_out.stdout and DECISION in text_out.stdout


def test_a_bad_budget_file_names_file_line_and_key(
    world: World, db_url: str, tmp_path: Path
) -> None:
    build_story(world)
    bad = tmp_path / "budget.toml"
    bad.write_text(
        BUDGET_TOML.replace('kind = "expense"', 'kind = "spending"', 1).replace(
            'amount = "600.00"', "amount = 600.5"
        ),
        encoding="utf-8",
    )
    done = CliRunner().invoke(
        app,
        ["--db", db_url, "--as", "bk", "budget", "set", world.entity, "2026", "--file", str(bad)],
    )
    assert done.exit_code != 0
    out = done.output
    assert ("budget.toml" in out and "line[1].kind" in out.replace(" ", "")) or "kind" in out
    assert "amount" in out and "Traceback" not in out
    assert world.run(budget_lines, world.entity, 2026) == []
