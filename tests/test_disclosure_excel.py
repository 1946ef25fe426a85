"""The disclosure workbook read back with openpyxl, and verify-report on it.

The October story of :mod:`tests.test_disclosure`, plus one item whose 摘要
looks like a formula.  The workbook is read back: merged title, headers,
number formats, A4 print set-up, repeated header rows, frozen header, no
formula cells, the chart, and the fingerprint in the footer and the
properties.  Then verify-report: a clean file matches; a number edited with
openpyxl is named; a voucher posted in the period after generation makes
"the books changed since" and names the new figures; one posted in a later
month moves the chain but leaves the figures matching.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from juzhang.budget import set_budget
from juzhang.cli import app
from juzhang.cli.disclosure import write_disclosure
from juzhang.errors import ValidationError
from juzhang.exporters.disclosure_excel import (
    MAP_SHEET,
    _get_json,
    _put_json,
    read_fingerprint,
    verify_report,
    write_disclosure_workbook,
)
from juzhang.reports.disclosure import Disclosure, disclosure

from .conftest import World
from .test_disclosure import BUDGET, OCT, build_story, day, move

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
    assert wb.sheetnames == ["收支明细", "汇总及专项", MAP_SHEET]
    assert wb[MAP_SHEET].sheet_state == "veryHidden"
    ws = wb["收支明细"]
    assert ws["A1"].value == "幸福社区居委会2026年10月财务收支明细公开表"
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
    assert props["chain_seq"] == str(d.chain_seq) and props["digest"] == d.digest
    wb = load_workbook(path)
    assert d.fingerprint in (wb.properties.keywords or "")
    assert d.fingerprint in (wb.properties.description or "")
    for name in ("收支明细", "汇总及专项"):
        assert d.fingerprint in wb[name].oddFooter.left.text


def test_verify_clean(october: tuple[World, Disclosure, Path]) -> None:
    world, d, path = october
    result = world.run(verify_report, path)
    assert result.matches and not result.file_edited and not result.books_changed
    assert result.chain_ok and result.differences == ()
    assert result.figures_checked == len(d.figures())
    assert result.messages == ("与账簿一致 / the file matches the books",)


def test_verify_names_a_tampered_number(october: tuple[World, Disclosure, Path]) -> None:
    world, _d, path = october
    wb = load_workbook(path)
    ws = wb["收支明细"]
    cell = next(c for row in ws.iter_rows() for c in row if c.value == 8000)
    cell.value = 800  # 记-0002 干部补贴 8,000.00 → 800.00
    wb.save(path)
    result = world.run(verify_report, path)
    assert not result.matches and result.file_edited and not result.books_changed
    assert [(x.key, x.in_file, x.in_books) for x in result.differences] == [
        ("item/2026-10/记-0002/1/expense", "800.00", "8000.00")
    ]
    assert "记-0002" in result.differences[0].label
    assert any("edited" in m for m in result.messages)


def test_verify_after_a_voucher_in_the_period(october: tuple[World, Disclosure, Path]) -> None:
    world, d, path = october
    move(world, day(10, 30), "101", "-100", "51301", "补记快递费")
    result = world.run(verify_report, path)
    assert not result.matches and result.books_changed and not result.file_edited
    assert result.books_seq == d.chain_seq + 1
    assert any("the books changed since" in m for m in result.messages)
    keys = {x.key: (x.in_file, x.in_books) for x in result.differences}
    new = [k for k, (f, _b) in keys.items() if f is None and k.startswith("item/")]
    assert new == ["item/2026-10/记-0013/1/expense"]
    assert keys["total/expense/current"] == ("9980.00", "10080.00")  # 9,950 + 30 (+100)


def test_verify_after_a_voucher_in_a_later_month(october: tuple[World, Disclosure, Path]) -> None:
    world, _d, path = october
    move(world, day(11, 2), "101", "-100", "51301", "十一月邮费")
    result = world.run(verify_report, path)
    assert result.matches and result.books_changed and result.differences == ()
    assert "figures are unchanged" in result.messages[-1]


def test_verify_reads_the_map_of_older_files(october: tuple[World, Disclosure, Path]) -> None:
    """Files written before the map became JSON (a row per figure from row 3) still verify."""
    world, d, path = october
    wb = load_workbook(path)
    ws = wb[MAP_SHEET]
    places = json.loads("".join(c.value for c in ws[2][1:] if c.value))
    assert len(places) >= len(d.figures()) and all(len(p) == 5 for p in places)
    ws.delete_rows(2)
    for i, head in enumerate(("key", "sheet", "cell", "kind", "label"), 1):
        ws.cell(row=2, column=i, value=head)
    for r, place in enumerate(places, 3):
        for c, text in enumerate(place, 1):
            ws.cell(row=r, column=c, value=text)
    wb.save(path)
    result = world.run(verify_report, path)
    assert result.matches and result.figures_checked == len(d.figures())


def test_map_json_longer_than_a_cell_is_split_and_joined() -> None:
    from openpyxl import Workbook

    value = {"rules": ["长文本" * 9, "x" * 50] * 1000}  # about 77,000 characters of JSON
    ws = Workbook().active
    _put_json(ws, 1, "config", value)
    length = len(json.dumps(value, ensure_ascii=False))
    assert [len(c.value) for c in ws[1][1:]] == [30_000, 30_000, length - 60_000]
    assert _get_json(ws, 1) == value


def test_verify_refuses_a_broken_map(october: tuple[World, Disclosure, Path]) -> None:
    world, _d, path = october
    wb = load_workbook(path)
    wb[MAP_SHEET]["B2"] = '[["only", "three", "parts"]]'
    wb.save(path)
    with pytest.raises(ValidationError, match="map is unreadable"):
        world.run(verify_report, path)


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
    ok = runner.invoke(app, ["--db", url, "verify-report", str(tmp_path / "d.xlsx")])
    assert ok.exit_code == 0, ok.output
    assert d.fingerprint in ok.output
    move(world, day(10, 30), "101", "-100", "51301", "补记")
    bad = runner.invoke(app, ["--db", url, "verify-report", str(tmp_path / "d.xlsx")])
    assert bad.exit_code == 1
    assert "books changed" in bad.output
