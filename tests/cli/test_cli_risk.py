"""The guide's risk and summary commands (section 22), and the close's warnings, on two communities.

C001's September: the clean month of the closing scenarios plus a cash
payment of 1,500.00 for an air conditioner (above the 1,000 cash-settlement
limit) and a resident's question about the published month.  C002's
September is the clean month alone: no signal.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import openpyxl
import pytest

from juzhang import clock
from juzhang.closing import sign_disclosure
from juzhang.closing_run import close_all
from juzhang.question import add_question
from tests.closing.test_closing import SEP, cash_moves, clean_month
from tests.conftest import World, build_world
from tests.exporters.test_board import jz

DOCS = Path(__file__).resolve().parents[2] / "docs"


def guide_commands(guide: str, section: str) -> list[str]:
    text = (DOCS / guide).read_text(encoding="utf-8")
    part = text.split(f"\n## {section}.", 1)[1].split("\n## ", 1)[0]
    lines = []
    for block in re.findall(r"```sh\n(.*?)```", part, flags=re.S):
        lines += [ln.removeprefix("juzhang ") for ln in block.splitlines() if ln.strip()]
    return lines


@pytest.fixture
def two(world: World, tmp_path: Path) -> World:
    clean_month(world)
    cash_moves(
        world, SEP, [(21, "2000.00", "504", "收场地使用费"), (25, "-1500.00", "51301", "购买空调")]
    )
    other = build_world(world.engine, "C002")
    clean_month(other)
    for code in ("C001", "C002"):  # the cashier counts what the journal holds
        from tests.closing.test_closing import count

        count(World(world.engine, code), SEP)
    run = close_all(world.engine, SEP, ["C001", "C002"], tmp_path / "out", actor="rv")
    assert run.ok, run.problems
    (c001, c002) = sorted(run.outcomes, key=lambda o: o.entity)
    # C001: the air conditioner paid in cash; the rent (800) and the fee (2,000) received in
    # cash and never taken to the bank.  C002: the rent.  Warnings only: both months closed.
    assert [str(w) for w in c001.warnings] == [
        "C001: 廉政风险提示 3 条（大额现金支付 1；现金收入未及时存行（坐收坐支） 2）"
        "/ 3 risk signals: juzhang risk report C001 --period 2026-09"
    ]
    assert [w.message.split("/")[0] for w in c002.warnings] == [
        "廉政风险提示 1 条（现金收入未及时存行（坐收坐支） 1）"
    ]
    world.run(sign_disclosure, "C001", SEP, "sup", None, "同意", dt.date(2026, 10, 5))
    with clock.fixed(dt.date(2026, 10, 12)):
        world.run(add_question, "C001", "sup", SEP, "空调为何用现金购买？")
    return world


def test_the_guides_risk_commands_run(
    two: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "risk.toml").write_text('cash_limit = "3000.00"\n', encoding="utf-8")
    commands = guide_commands("guide.en.md", "22")
    assert commands == guide_commands("guide.zh.md", "22")
    outputs = {}
    for cmd in commands:
        done = jz(two, cmd)
        assert done.exit_code == 0, f"{cmd}\n{done.output}"
        outputs[cmd] = done.stdout
    report = json.loads(
        next(v for k, v in outputs.items() if "--format json" in k and "risk report" in k)
    )
    (c001,) = report["communities"]
    assert c001["counts"] == {"cash_payment": 1, "undeposited": 2}
    assert c001["signals"][0]["amount"] == "1500.00" and c001["signals"][0]["entries"]
    shown = next(v for k, v in outputs.items() if "config show" in k)
    assert 'cash_limit = "3000.00"' in shown
    # the workbooks: every community, every signal, a chart in the summary
    risk = openpyxl.load_workbook(tmp_path / "risk-2026-09.xlsx")["风险提示"]
    cells = [str(c.value) for row in risk.iter_rows() for c in row if c.value]
    assert any("现金支付 1,500.00 元" in t for t in cells)
    assert sum("3 天内未存入银行" in t for t in cells) == 3  # two of C001's, one of C002's
    assert "现金支付 1,500.00 元（购买空调）超过现金结算起点 1,000.00 元，应通过银行转账" in cells
    assert not any("not deposited" in t or "cash payment" in t for t in cells)  # Chinese form
    assert risk.page_setup.orientation == "landscape" and risk.page_setup.paperSize == 9
    summary = openpyxl.load_workbook(tmp_path / "summary-2026-09.xlsx")["汇总"]
    rows = [[c.value for c in row] for row in summary.iter_rows(min_row=4, max_col=8)]
    c001_row = next(r for r in rows if r[0] and "C001" in str(r[0]))
    assert c001_row[5:] == [1, 1, 3]  # one question waiting, overdue today; three signals
    assert len(summary._charts) == 1  # noqa: SLF001 — openpyxl keeps charts there


def test_summary_json_agrees_with_the_boards(two: World) -> None:
    done = jz(two, "report summary --entities C001,C002 --period 2026-09 --format json")
    assert done.exit_code == 0, done.output
    data = json.loads(done.stdout)
    c001, c002 = data["communities"]
    assert (c001["income"], c001["expense"], c001["cash"]) == ("2800.00", "1920.00", "1380.00")
    assert (c001["open_questions"], c001["risk_signals"]) == (1, 3)
    assert c002["risk_signals"] == 1 and c002["open_questions"] == 0
    assert data["totals"]["income"] == "3600.00" and data["totals"]["risk_signals"] == 4


def test_close_prints_the_signals_as_warnings_and_closes(world: World, tmp_path: Path) -> None:
    clean_month(world)
    from tests.closing.test_closing import count

    count(world, SEP)
    done = jz(world, f"close --period 2026-09 --entities C001 --out {tmp_path / 'out'}", actor="rv")
    assert done.exit_code == 0, done.output
    assert "! C001: 廉政风险提示 1 条（现金收入未及时存行（坐收坐支） 1）" in done.stderr
    assert "已结账 / closed 1" in done.stderr


def test_a_community_whose_books_start_later_is_left_out_with_the_reason(two: World) -> None:
    from juzhang import agency

    two.run(agency.add_entity, "C003", "新建社区", chart="rural-2023", start_period=202610)
    done = jz(two, "report summary --entities all --period 2026-09 --format json")
    assert done.exit_code == 0, done.output
    data = json.loads(done.stdout)
    assert [c["entity"] for c in data["communities"]] == ["C001", "C002"]
    assert [x["entity"] for x in data["left_out"]] == ["C003"]
    assert "未列入 / left out: C003" in done.stderr
    done = jz(two, "risk report --entities all --period 2026-09 --format json")
    assert done.exit_code == 0 and "left out: C003" in done.stderr
    assert len(json.loads(done.stdout)["communities"]) == 2
    assert jz(two, "risk report C003 --period 2026-09").exit_code == 1  # asked for: refused
