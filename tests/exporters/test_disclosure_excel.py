"""The disclosure workbook read back with openpyxl, and verify-report on it.

The October story of :mod:`tests.reports.test_disclosure`, plus one item whose 摘要
looks like a formula.  The workbook is read back: merged title, headers,
number formats, A4 print set-up, repeated header rows, frozen header, no
formula cells, the chart, and the fingerprint in the footer and the
properties.  October is open, so the board is a draft (草稿 · 未结账) and
verify-report says so; the board's life and verify-report against forged
boards are in :mod:`tests.exporters.test_board`.
"""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet
from typer.testing import CliRunner

from juzhang.budget import set_budget
from juzhang.cli import app
from juzhang.cli.disclosure import write_disclosure
from juzhang.errors import ValidationError
from juzhang.exporters.board_verify import read_fingerprint, verify_report
from juzhang.exporters.disclosure_excel import DRAFT_MARK, PAGE_ROWS, write_disclosure_workbook
from juzhang.reports.disclosure import Disclosure, disclosure
from tests.conftest import World
from tests.reports.test_disclosure import BANK, BUDGET, OCT, build_story, day, move, post_moves

FORMULA_LIKE = "=SUM(A1:A9) 购物"


@pytest.fixture
def october(world: World, tmp_path: Path) -> tuple[World, Disclosure, Path]:
    """The October story, its disclosure and the workbook written from it."""
    build_story(world)
    world.run(set_budget, world.entity, "bk", 2026, BUDGET)
    move(world, day(10, 29), "101", "-30", "51301", FORMULA_LIKE)
    d = world.run(disclosure, world.entity, OCT)
    path = write_disclosure_workbook(d, tmp_path / "disclosure.xlsx")
    return world, d, path


def test_layout_read_back(october: tuple[World, Disclosure, Path]) -> None:
    _world, _d, path = october
    wb = load_workbook(path)
    assert wb.sheetnames == ["收支明细", "汇总及专项"]  # no embedded figure map
    ws = wb["收支明细"]
    assert ws["A1"].value == f"幸福社区居委会2026年10月财务收支明细公开表（{DRAFT_MARK}）"
    assert "A1:H1" in {str(r) for r in ws.merged_cells.ranges}
    assert ws["A1"].font.b and ws["A1"].font.name == "宋体"
    header_row = next(r for r in range(1, 10) if ws.cell(row=r, column=1).value == "序号")
    assert [ws.cell(row=header_row, column=c).value for c in range(1, 9)] == [
        "序号",
        "日期",
        "凭证号",
        "摘要/用途",
        "收入",
        "支出",
        "经办人",
        "备注",
    ]
    first = header_row + 1
    assert ws.cell(row=first, column=3).value == "记-0001"
    assert ws.cell(row=first, column=5).value == 6000
    assert ws.cell(row=first, column=5).number_format == "#,##0.00"
    assert ws.cell(row=first + 1, column=6).value == 8000
    # print set-up: A4 portrait, one page wide, title and header repeated, header frozen
    assert int(ws.page_setup.paperSize) == 9 and ws.page_setup.orientation == "portrait"
    assert ws.page_setup.fitToWidth == 1 and ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.print_title_rows.replace("$", "") == f"1:{header_row}"
    assert ws.freeze_panes == f"A{header_row + 1}"
    assert "&P" in ws.oddFooter.center.text and "&N" in ws.oddFooter.center.text
    # capitals of the totals
    texts = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert "捌仟陆佰元整" in texts  # income 8,600.00
    summary = wb["汇总及专项"]
    assert int(summary.page_setup.paperSize) == 9
    labels = {c.value for row in summary.iter_rows() for c in row if isinstance(c.value, str)}
    for heading in (
        "一、资金收支情况（现金和银行存款）",
        "二、收支分类汇总",
        "三、居民干部补贴、奖金",
    ):
        assert heading in labels
    assert any(str(t).startswith("七、大额支出") for t in labels)
    assert any(str(t).startswith("民主理财小组意见") for t in labels)


def test_text_is_never_a_formula(october: tuple[World, Disclosure, Path]) -> None:
    _world, _d, path = october
    wb = load_workbook(path)
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    formula_like = [c for c in cells if c.value == FORMULA_LIKE]
    assert formula_like and all(c.data_type == "s" for c in formula_like)
    with zipfile.ZipFile(path) as z:
        sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/sheet")]
        assert not any(b"<f>" in z.read(n) or b"<f " in z.read(n) for n in sheets)


def test_chart_of_expenditure_by_category(october: tuple[World, Disclosure, Path]) -> None:
    _world, _d, path = october
    with zipfile.ZipFile(path) as z:
        charts = [n for n in z.namelist() if n.startswith("xl/charts/chart")]
        assert len(charts) == 1
        xml = z.read(charts[0]).decode("utf-8")
    assert "<barChart>" in xml and "支出分类" in xml and '<barDir val="bar"' in xml
    assert "'汇总及专项'!$I$" in xml  # the values: the non-zero categories
    assert '<plotVisOnly val="0"' in xml  # they sit in hidden columns


def test_fingerprint_in_properties_and_footer(october: tuple[World, Disclosure, Path]) -> None:
    _world, d, path = october
    props = read_fingerprint(path)
    assert props["fingerprint"] == d.fingerprint
    assert (props["entity"], props["first"], props["last"]) == ("C001", "2026-10", "2026-10")
    assert props["chain_seq"] == str(d.chain_seq) and props["digest"] == d.digest[:16]
    wb = load_workbook(path)
    assert d.fingerprint in (wb.properties.keywords or "")
    assert d.fingerprint in (wb.properties.description or "")
    for name in ("收支明细", "汇总及专项"):
        assert d.fingerprint in wb[name].oddFooter.left.text


def test_verify_says_draft_for_an_open_month(october: tuple[World, Disclosure, Path]) -> None:
    world, d, path = october
    result = world.run(verify_report, path)
    assert result.state == "draft" and result.exit_code == 3
    assert result.fingerprint == d.fingerprint
    assert "draft, not the published board" in result.messages[0]


def test_not_a_disclosure_workbook(world: World, tmp_path: Path) -> None:
    path = tmp_path / "other.xlsx"
    from openpyxl import Workbook

    Workbook().save(path)
    with pytest.raises(ValidationError):
        world.run(verify_report, path)


def test_write_disclosure_formats_and_cli(
    october: tuple[World, Disclosure, Path], tmp_path: Path
) -> None:
    world, d, _path = october
    for fmt in ("xlsx", "json", "csv"):
        out = world.run(write_disclosure, world.entity, OCT, None, fmt, tmp_path / f"d.{fmt}")
        assert out.exists() and out.stat().st_size > 0
    lines = (tmp_path / "d.csv").read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == "key,label,value"
    assert len(lines) == 1 + len(d.figures())
    url = world.engine.url.render_as_string(hide_password=False)
    runner = CliRunner()
    draft = runner.invoke(app, ["--db", url, "verify-report", str(tmp_path / "d.xlsx")])
    assert draft.exit_code == 3, draft.output
    assert d.fingerprint in draft.output and "draft" in draft.output
    data = json.loads((tmp_path / "d.json").read_text(encoding="utf-8"))
    assert data["state"] == "draft"


# ------------------------------------------------------------------ a section longer than a page

PAID = 90
"""干部补贴 payments in the long October: section 三 runs over two pages."""


def long_october(world: World, path: Path) -> tuple[Disclosure, Path]:
    """The October story plus :data:`PAID` small 干部补贴 payments, and its board at ``path``."""
    build_story(world)
    post_moves(
        world,
        [(day(10, 20), BANK, "-100", "51302", f"发放楼栋长补贴 第{i:02d}栋") for i in range(PAID)],
    )
    d = world.run(disclosure, world.entity, OCT)
    return d, write_disclosure_workbook(d, path)


def _pages(ws: Worksheet) -> list[range]:
    """The printed pages of ``ws`` as row ranges, cut at its manual row breaks."""
    cuts = sorted(b.id for b in ws.row_breaks.brk)
    starts = [1, *(c + 1 for c in cuts)]
    ends = [*cuts, ws.max_row]
    return [range(s, e + 1) for s, e in zip(starts, ends, strict=True)]


def test_a_section_longer_than_a_page_repeats_its_heading_and_header(
    world: World, tmp_path: Path
) -> None:
    """Section 三 (over 90 lines) is split; each of its pages repeats the title and its header."""
    d, path = long_october(world, tmp_path / "long.xlsx")
    (section,) = [s for s in d.sections if s.title == "居民干部补贴、奖金"]
    assert len(section.rows) > PAID
    ws = load_workbook(path)["汇总及专项"]
    text = {(c.row, c.column): c.value for row in ws.iter_rows() for c in row if c.value}
    # the title block (公开单位, period, state) is what every printed page repeats
    title_rows = ws.print_title_rows.replace("$", "").split(":")
    assert title_rows[0] == "1"
    last_title_row = int(title_rows[1])
    assert "财务收支汇总及专项公开表" in str(text[(1, 1)])
    pages = _pages(ws)
    assert len(pages) >= 3  # funds and categories, then the section over two pages at least
    section_pages = [
        p for p in pages if any(str(text.get((r, 1), "")).startswith("发放楼栋长补贴") for r in p)
    ]
    assert len(section_pages) >= 2, "the long section was not split"
    for page in pages:  # with the title rows printed again above every page but the first
        assert len(page) + (0 if page.start == 1 else last_title_row) <= PAGE_ROWS, page
    headings = [r for r in section_pages[0] if text.get((r, 1)) == "三、居民干部补贴、奖金"]
    assert len(headings) == 1
    for page in section_pages[1:]:  # each continued page opens with the heading and header
        assert text[(page.start, 1)] == "三、居民干部补贴、奖金（续）", page
        assert [text.get((page.start + 1, c)) for c in range(1, 5)] == [
            "摘要",
            "日期",
            "凭证号",
            "科目",
        ]
    # no other block is cut: every later page opens with a block's heading (一、… 八、…)
    # or with the blank line above the signatures
    for page in pages[1:]:
        opening = str(text.get((page.start, 1), ""))
        assert re.match(r"[一二三四五六七八九十]+、", opening) or (
            not opening and str(text.get((page.start + 1, 1), "")).startswith("书记")
        ), (page, opening)
    # every payment is printed once, none lost at a break
    printed = [v for (_r, c), v in text.items() if c == 1 and str(v).startswith("发放楼栋长补贴")]
    assert sorted(printed) == sorted(f"发放楼栋长补贴 第{i:02d}栋" for i in range(PAID))
