"""Excel forms read back with openpyxl: cells, merges, formats, fonts, print set-up, text safety.

The books are the worked story of ``tests/reports/test_reports_ledger.py`` (幸福社区,
two months, detail accounts, a red reversal and its correction); expected
figures are written out by hand from that story.  Every workbook is saved,
loaded again with openpyxl and its raw sheet XML inspected, on SQLite and
PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Callable
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.utils import get_column_letter

from juzhang import books, custody
from juzhang.core.voucher import Line, VoucherDraft
from juzhang.exporters import Report, voucher_print
from juzhang.exporters.excel import (
    AMOUNT_FORMAT,
    FONT_NAME,
    PAGE_FOOTER,
    YUAN_FORMAT,
    Column,
    Head,
    Sheet,
    new_workbook,
    put_amount,
    report_workbook,
    save,
    text_width,
    voucher_workbook,
    write_report,
    write_voucher,
)
from juzhang.money import capitals
from juzhang.reports.ledger import bank_journal, cash_journal, general_ledger, subsidiary_ledger
from juzhang.reports.statements import balance_sheet, income_statement
from juzhang.reports.trial_balance import trial_balance
from tests.conftest import World
from tests.reports.test_reports_ledger import build_scenario

SEP, OCT = 202609, 202610
RISKY = ["=1+1", "@SUM(A1)", "-cmd", "+86 10 1234", "\t=tab", '=HYPERLINK("http://x","y")']


@pytest.fixture
def scenario(world: World) -> World:
    """The two-month story of 幸福社区 (C001)."""
    build_scenario(world)
    return world


def reread(wb: Workbook, path: Path) -> Any:
    """Save ``wb`` to ``path`` and load it again."""
    save(wb, path)
    return load_workbook(path)


def sheet_xml(path: Path) -> list[str]:
    """The raw XML of every worksheet in the file."""
    with zipfile.ZipFile(path) as z:
        return [
            z.read(n).decode("utf-8")
            for n in z.namelist()
            if n.startswith("xl/worksheets/sheet") and n.endswith(".xml")
        ]


def num(value: Any) -> D:
    """A number cell read back (float) as an exact Decimal of two places."""
    assert isinstance(value, int | float), value
    return D(str(value)).quantize(D("0.01"))


def cells_by_text(ws: Any) -> dict[str, Any]:
    """Text cells by their value (first occurrence)."""
    out: dict[str, Any] = {}
    for row in ws.iter_rows():
        for c in row:
            if isinstance(c.value, str):
                out.setdefault(c.value, c)
    return out


def row_values(ws: Any, row: int) -> list[Any]:
    return [c.value for c in ws[row]]


def find_row(ws: Any, column: int, value: str, start: int = 1) -> int:
    for r in range(start, ws.max_row + 1):
        if ws.cell(row=r, column=column).value == value:
            return r
    raise AssertionError(f"{value!r} not in column {column}")


def check_print_setup(ws: Any, *, landscape: bool, header_last: int | None) -> None:
    assert ws.page_setup.orientation == ("landscape" if landscape else "portrait")
    assert int(ws.page_setup.paperSize) == 9  # A4
    assert int(ws.page_setup.fitToWidth) == 1 and int(ws.page_setup.fitToHeight) == 0
    assert ws.sheet_properties.pageSetUpPr.fitToPage is True
    assert ws.oddFooter.center.text == PAGE_FOOTER
    if header_last is not None:
        assert ws.print_title_rows.replace("$", "") == f"1:{header_last}"


def check_no_formulas(path: Path) -> None:
    wb = load_workbook(path)
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f", (ws.title, c.coordinate, c.value)
    for xml in sheet_xml(path):
        assert "<f>" not in xml and "<f " not in xml


def check_amount_formats(ws: Any, first_body_row: int) -> int:
    """Every number cell below the header is formatted as money (or ¥ money); return the count."""
    count = 0
    for row in ws.iter_rows(min_row=first_body_row):
        for c in row:
            if isinstance(c.value, float) or (
                isinstance(c.value, int) and c.number_format != "General"
            ):
                assert c.number_format in (AMOUNT_FORMAT, YUAN_FORMAT), (c.coordinate, c.value)
                count += 1
    return count


# --------------------------------------------------------------------------- the writer


def test_text_width_counts_cjk_double() -> None:
    assert text_width("101") == 3
    assert text_width("库存现金") == 8
    assert text_width("记-0003") == 7
    assert text_width("（一）") == 6
    assert text_width("a\n库存现金") == 8


def test_text_is_never_a_formula(tmp_path: Path) -> None:
    wb = new_workbook("t")
    sheet = Sheet.add(wb, "t", [Column("text"), Column("amount")])
    sheet.header(["摘要", "金额"])
    for text in [*RISKY, "\r=cr", "#N/A", "a\x01b"]:
        sheet.line([text, D("1.00")])
    sheet.finish(landscape=False)
    path = tmp_path / "t.xlsx"
    ws = reread(wb, path)["t"]
    got = [ws.cell(row=r, column=1).value for r in range(2, 2 + len(RISKY) + 3)]
    assert got[: len(RISKY)] == RISKY
    assert got[len(RISKY) :] == ["\n=cr", "#N/A", "a\ufffdb"]
    for r in range(2, ws.max_row + 1):
        cell = ws.cell(row=r, column=1)
        assert cell.data_type == "s"
    assert ws.cell(row=2, column=1).quotePrefix  # "=1+1" stays text when edited in Excel
    check_no_formulas(path)
    (xml,) = sheet_xml(path)
    assert "inlineStr" in xml and "=1+1" in xml


def test_amounts_are_exact_numbers_in_the_file(tmp_path: Path) -> None:
    big = D("9395889312969.14")  # "%.16g" of its float is 9395889312969.141
    assert f"{float(big):.16g}" == "9395889312969.141"  # what openpyxl would write
    wb = new_workbook("t")
    sheet = Sheet.add(wb, "t", [Column("amount")] * 3)
    sheet.line([big, D("-350.00"), D("0.10")])
    sheet.finish(landscape=False)
    path = tmp_path / "a.xlsx"
    ws = reread(wb, path)["t"]
    (xml,) = sheet_xml(path)
    assert "<v>9395889312969.14</v>" in xml and "<v>-350.00</v>" in xml and "<v>0.10</v>" in xml
    assert [num(c.value) for c in ws[1]] == [big, D("-350.00"), D("0.10")]
    assert all(c.data_type == "n" and c.number_format == AMOUNT_FORMAT for c in ws[1])
    assert ws["B1"].font.color.rgb.endswith("FF0000")  # red ink for a red amount
    cell = Workbook().active["A1"]
    put_amount(cell, D("12.30"))
    assert cell.data_type == "n" and cell.number_format == AMOUNT_FORMAT


def test_sheet_header_spans_and_layout(tmp_path: Path) -> None:
    wb = new_workbook("t", entity="C001")
    columns = [Column("center"), Column("text", wrap=True, max_width=20), Column("amount")]
    sheet = Sheet.add(wb, "a/b:c*?[x]", [*columns, Column("amount")])
    sheet.title("标题")
    sheet.info("左", "中", "右")
    first, last = sheet.header(
        [Head("编码", rows=2), Head("名称", rows=2), Head("本期", cols=2)], ["借方", "贷方"]
    )
    assert (first, last) == (3, 4)
    sheet.line(["1", "很长的摘要" * 6, D("1.00"), None])
    sheet.line(["", "合计", D("1.00"), D("1.00")], bold=True, spans={0: 2})
    sheet.signatures([("会计主管", "周"), ("制表", "李")])
    sheet.header(["子表"] * 4)  # a later header heads a sub-table, not the page
    sheet.finish(landscape=True)
    path = tmp_path / "s.xlsx"
    loaded = reread(wb, path)
    ws = loaded.worksheets[0]
    assert ws.title == "a_b_c___x_"
    assert loaded.properties.keywords == "C001" and loaded.properties.title == "t"
    merged = {str(r) for r in ws.merged_cells.ranges}
    assert {"A1:D1", "A3:A4", "B3:B4", "C3:D3", "A6:B6"} <= merged
    assert ws["C4"].value == "借方" and ws["D4"].value == "贷方"
    assert ws["A1"].font.name == FONT_NAME and ws["A1"].font.b
    assert ws["A6"].font.b and ws["C5"].border.left.style == "thin"
    # merged blocks: the cells on the edge carry the block's border, so it prints
    assert ws["A4"].border.bottom.style == "thin" and ws["A4"].border.left.style == "thin"
    assert ws["D3"].border.right.style == "thin" and ws["D3"].border.top.style == "thin"
    assert ws["B6"].border.right.style == "thin" and ws["B6"].border.bottom.style == "thin"
    assert ws["B6"].border.left.style is None  # inside the block: no side drawn there
    assert ws["D1"].border.right.style is None  # the title has no box
    check_print_setup(ws, landscape=True, header_last=4)
    assert ws.freeze_panes == "A5"
    assert ws.column_dimensions["B"].width == 20  # capped, and the text wraps
    assert ws["B5"].alignment.wrap_text
    assert ws.row_dimensions[5].height > ws.row_dimensions[6].height  # the wrapped row grew
    assert ws.column_dimensions["A"].width >= text_width("编码") + 2


# --------------------------------------------------------------------------- the reports


def test_trial_balance_form(scenario: World, tmp_path: Path) -> None:
    tb = scenario.run(trial_balance, "C001", SEP, OCT)
    path = tmp_path / "tb.xlsx"
    write_report(tb, path, entity_name="幸福社区居委会")
    ws = load_workbook(path)["科目余额表"]
    assert ws["A1"].value == "科目余额表" and "A1:H1" in {str(r) for r in ws.merged_cells.ranges}
    assert ws["A2"].value == "编制单位：幸福社区居委会"
    texts = cells_by_text(ws)
    assert "2026年9月至2026年10月" in texts and "单位：元" in texts
    merged = {str(r) for r in ws.merged_cells.ranges}
    assert {"A3:A4", "B3:B4", "C3:D3", "E3:F3", "G3:H3"} <= merged
    assert [ws.cell(row=3, column=c).value for c in (3, 5, 7)] == [
        "期初余额",
        "本期发生额",
        "期末余额",
    ]
    assert row_values(ws, 4)[2:] == ["借方", "贷方"] * 3
    r = find_row(ws, 1, "101")
    # 101: opening 2,000 借; D 2,000; C 350 + 1,500 + 80 + 420 + 600 − 350 + 350 = 2,950; 1,050 借
    assert ws.cell(row=r, column=2).value == "库存现金"
    assert [num(ws.cell(row=r, column=c).value) for c in (3, 5, 6, 7)] == [
        D("2000"),
        D("2000"),
        D("2950"),
        D("1050"),
    ]
    assert ws.cell(row=r, column=4).value is None and ws.cell(row=r, column=8).value is None
    r152 = find_row(ws, 1, "152")  # 累计折旧: a credit balance shows in the 贷方 column
    assert num(ws.cell(row=r152, column=4).value) == D("20000")
    assert ws.cell(row=r152, column=3).value is None
    detail = find_row(ws, 1, "51301")
    assert ws.cell(row=detail, column=2).alignment.indent == 1  # a detail account is indented
    assert "111" not in [ws.cell(row=i, column=1).value for i in range(5, ws.max_row + 1)]
    total = find_row(ws, 2, "合计")
    # opening: 2,000 + 50,000 + 2,000 + 100,000 = 154,000 借 = 20,000 + 3,000 + 100,000 + 31,000 贷
    # movements: 18,200 + 2,000 + 5,000 + 600 + 3,000 + 2,350 + 8,000 ... = 34,150 each side
    # closing: 1,050 + 55,200 + 1,400 + 100,000 + 2,000 + 8,350 = 168,000 each side
    assert [num(ws.cell(row=total, column=c).value) for c in range(3, 9)] == [
        D("154000"),
        D("154000"),
        D("34150"),
        D("34150"),
        D("168000"),
        D("168000"),
    ]
    assert ws.cell(row=total, column=2).font.b
    assert ws.cell(row=total + 1, column=1).value == "试算平衡。"
    assert any(str(v).startswith("会计主管") for v in row_values(ws, total + 2) if v)
    check_print_setup(ws, landscape=True, header_last=4)
    assert ws.freeze_panes == "A5"
    assert ws.cell(row=r, column=2).font.name == FONT_NAME
    assert check_amount_formats(ws, 5) > 20
    check_no_formulas(path)
    every = report_workbook(tb, all_accounts=True)["科目余额表"]
    assert every.max_row > ws.max_row  # accounts without amounts are listed on request


def _reports(s: Any) -> dict[str, Report]:
    return {
        "general-ledger": general_ledger(s, "C001", SEP, OCT),
        "ledger": subsidiary_ledger(s, "C001", "513", SEP, OCT),
        "cash-journal": cash_journal(s, "C001", SEP, OCT),
        "bank-journal": bank_journal(s, "C001", SEP, OCT),
        "income": income_statement(s, "C001", OCT),
        "balance-sheet": balance_sheet(s, "C001", OCT),
    }


# kind: (title, landscape, last header row)
FORMS = {
    "general-ledger": ("总  账", True, 3),
    "ledger": ("明 细 账", True, 4),
    "cash-journal": ("现金日记账", True, 4),
    "bank-journal": ("银行日记账", True, 4),
    "income": ("收益及收益分配表", False, 3),
    "balance-sheet": ("资产负债表", True, 3),  # eight columns: landscape (issue 12)
}


def test_every_report_is_a_printable_form(scenario: World, tmp_path: Path) -> None:
    reports = scenario.run(_reports)
    for kind, (title, landscape, header_last) in FORMS.items():
        path = tmp_path / f"{kind}.xlsx"
        write_report(reports[kind], path)
        wb = load_workbook(path)
        for ws in wb.worksheets:
            width = ws.max_column
            assert ws["A1"].value == title, kind
            assert f"A1:{get_column_letter(width)}1" in {str(r) for r in ws.merged_cells.ranges}
            assert ws["A1"].font.name == FONT_NAME and ws["A1"].font.sz == 18
            check_print_setup(ws, landscape=landscape, header_last=header_last)
            assert ws.freeze_panes == f"A{header_last + 1}"
            header = [ws.cell(row=header_last, column=c) for c in range(1, width + 1)]
            assert all(c.border.top.style == "thin" for c in header), kind
            assert all(c.font.b for c in header if c.value), kind
            assert check_amount_formats(ws, header_last + 1) > 0, kind
            for col in range(1, width + 1):
                letter = get_column_letter(col)
                assert ws.column_dimensions[letter].width >= 4, (kind, letter)
        check_no_formulas(path)


def test_general_ledger_form(scenario: World, tmp_path: Path) -> None:
    gl = scenario.run(general_ledger, "C001", SEP, OCT)
    ws = reread(report_workbook(gl), tmp_path / "gl.xlsx")["总账"]
    assert row_values(ws, 3) == [
        "科目编码",
        "科目名称",
        "月份",
        "摘要",
        "借方",
        "贷方",
        "借或贷",
        "余额",
    ]
    rows = [
        row_values(ws, r)
        for r in range(4, ws.max_row + 1)
        if str(ws.cell(row=r, column=1).value or "").isdigit()
    ]
    cash = [r for r in rows if r[0] == "101"]
    # 期初 2,000 借; Sept D 2,000 C 1,850 → 2,150 借; Oct D 0 C 1,100 → 1,050 借; 本年累计 C 2,950
    assert [(r[2], r[3], r[6]) for r in cash] == [
        ("2026-09", "期初余额", "借"),
        ("2026-09", "本月合计", "借"),
        ("2026-09", "本年累计", "借"),
        ("2026-10", "本月合计", "借"),
        ("2026-10", "本年累计", "借"),
    ]
    assert [num(r[7]) for r in cash] == [D(x) for x in ("2000", "2150", "2150", "1050", "1050")]
    assert (num(cash[3][4]), num(cash[3][5]), num(cash[4][5])) == (D("0"), D("1100"), D("2950"))
    capital = [r for r in rows if r[0] == "301"]
    assert capital[0][1] == "资本" and capital[0][6] == "贷" and num(capital[0][7]) == D("100000")
    # every row names its account, so a page break never orphans a block
    assert all(r[1] for r in rows)


def test_subsidiary_ledger_form(scenario: World, tmp_path: Path) -> None:
    sl = scenario.run(subsidiary_ledger, "C001", "513", SEP, OCT)
    ws = reread(report_workbook(sl), tmp_path / "sl.xlsx").worksheets[0]
    assert ws.title == "明细账 513" and ws["A3"].value == "科目：513 管理费用"
    assert row_values(ws, 4) == ["日期", "凭证号", "科目", "摘要", "借方", "贷方", "借或贷", "余额"]
    red = find_row(ws, 4, "注销 9月10日 3号凭证")
    assert ws.cell(row=red, column=1).value == dt.datetime(2026, 10, 20)
    assert ws.cell(row=red, column=1).number_format == "yyyy-mm-dd"
    assert (
        ws.cell(row=red, column=2).value == "记-0005"
        and ws.cell(row=red, column=3).value == "51301"
    )
    assert num(ws.cell(row=red, column=5).value) == D("-350")
    assert ws.cell(row=red, column=5).font.color.rgb.endswith("FF0000")
    # October 本月合计: 80 + 420 − 350 = 150; balance 1,850 + 150 = 2,000 借
    month = find_row(ws, 4, "本月合计", red)
    assert (num(ws.cell(row=month, column=5).value), ws.cell(row=month, column=7).value) == (
        D("150"),
        "借",
    )
    assert (
        num(ws.cell(row=month, column=8).value) == D("2000") and ws.cell(row=month, column=4).font.b
    )


def test_custody_journal_form(scenario: World, tmp_path: Path) -> None:
    journal = scenario.run(cash_journal, "C001", SEP, OCT)
    wb = reread(report_workbook(journal), tmp_path / "cash.xlsx")
    assert wb.sheetnames == ["101 库存现金"]
    ws = wb.worksheets[0]
    assert ws["A1"].value == "现金日记账" and ws["A3"].value == "科目：101 库存现金"
    head = [
        "日期",
        "凭证号",
        "摘要",
        "对方单位",
        "票据号",
        "收入",
        "支出",
        "余额",
        "总账余额",
        "差额",
    ]
    assert row_values(ws, 4) == head
    # #4 (9/10, −350) is backed by 记-0003 and, in October, by the red 记-0005 and blue 记-0006
    r = find_row(ws, 3, "购办公用品")
    assert ws.cell(row=r, column=2).value == "记-0003\n2026-10 记-0005\n2026-10 记-0006"
    assert ws.cell(row=r, column=2).alignment.wrap_text
    assert ws.row_dimensions[r].height >= 3 * 14  # three lines of voucher numbers
    unbooked = find_row(ws, 3, "收卫生费")
    assert ws.cell(row=unbooked, column=2).value == "未入账"
    sept = find_row(ws, 3, "本月合计")
    # journal 2,000 + 2,000 − 350 − 1,500 − 80 = 2,070; ledger 2,150; difference −80 (#9 in October)
    assert [num(ws.cell(row=sept, column=c).value) for c in (6, 7, 8, 9, 10)] == [
        D("2000"),
        D("1930"),
        D("2070"),
        D("2150"),
        D("-80"),
    ]
    texts = cells_by_text(ws)
    assert "账账核对：日记账与总账余额不符，见差额栏及下列未入账日记账。" in texts
    assert any("#13" in t and "收卫生费" in t for t in texts)


def test_statement_forms(scenario: World, tmp_path: Path) -> None:
    bs = scenario.run(balance_sheet, "C001", OCT)
    ws = reread(report_workbook(bs), tmp_path / "bs.xlsx").worksheets[0]
    labels = [c.label for c in bs.columns]
    assert row_values(ws, 3) == ["资产", "行次", *labels, "负债和所有者权益", "行次", *labels]
    assert "2026年10月31日" in cells_by_text(ws)
    # 货币资金 = 101 1,050 + 102 55,200 = 56,250 (closing); 年初 2,000 + 50,000 = 52,000
    r = find_row(ws, 1, "货币资金")
    assert ws.cell(row=r, column=2).value == 1
    closing = labels.index("期末余额") + 3
    assert num(ws.cell(row=r, column=closing).value) == D("56250")
    total = find_row(ws, 1, "资产总计")
    claims = find_row(ws, 5, "负债和所有者权益总计")
    assert num(ws.cell(row=total, column=closing).value) == num(
        ws.cell(row=claims, column=closing + 4).value
    )
    assert ws.cell(row=total, column=1).font.b
    income = scenario.run(income_statement, "C001", OCT)
    ws = reread(report_workbook(income), tmp_path / "is.xlsx").worksheets[0]
    assert row_values(ws, 3) == ["项目", "行次", "本月数", "本年累计数"]
    fee = find_row(ws, 1, "管理费用")
    # October 管理费用: 80 + 420 − 350 = 150; the year: 1,850 + 150 = 2,000
    assert [num(ws.cell(row=fee, column=c).value) for c in (3, 4)] == [D("150"), D("2000")]
    assert ws.cell(row=fee, column=1).alignment.indent >= 1


def test_split_columns_of_the_non_profit_form(engine: Any, tmp_path: Path) -> None:
    from tests.conftest import build_world

    world = build_world(engine, "N001", chart="npo-2004")
    st = world.run(income_statement, "N001", SEP)
    ws = reread(report_workbook(st), tmp_path / "npo.xlsx").worksheets[0]
    merged = {str(r) for r in ws.merged_cells.ranges}
    assert {"A4:A5", "B4:B5", "C4:E4", "F4:H4"} <= merged  # row 2 is the 表号 会民非02表
    assert ws["A2"].value is None and "会民非02表" in cells_by_text(ws)
    assert row_values(ws, 5)[2:] == ["非限定性", "限定性", "合计"] * 2
    check_print_setup(ws, landscape=False, header_last=5)


# --------------------------------------------------------------------------- the voucher


def test_voucher_print(scenario: World, tmp_path: Path) -> None:
    vp = scenario.run(voucher_print, "C001", SEP, 3)
    assert (vp.prepared_by, vp.reviewed_by, vp.posted_by, vp.cashier) == (
        "李会计",
        "王审核",
        "李会计",
        "张出纳",
    )
    path = tmp_path / "v.xlsx"
    write_voucher(vp, path)
    ws = load_workbook(path).worksheets[0]
    assert ws.title == "记-0003"
    assert ws["A1"].value == "记账凭证" and ws["A1"].font.u == "double"
    assert "A1:F1" in {str(r) for r in ws.merged_cells.ranges}
    texts = cells_by_text(ws)
    assert {"核算单位：幸福社区居委会", "2026年09月10日", "记字第 0003 号", "附件 1 张"} <= set(
        texts
    )
    assert row_values(ws, 3)[:5] == ["摘要", "会计科目", None, "借方金额", "贷方金额"]
    assert row_values(ws, 4)[1:3] == ["总账科目", "明细科目"]
    assert row_values(ws, 5)[:3] == ["购办公用品", "513 管理费用", "51301 办公费"]
    assert num(ws["D5"].value) == D("350") and ws["E5"].value is None
    assert row_values(ws, 6)[:3] == ["购办公用品", "101 库存现金", None]
    assert num(ws["E6"].value) == D("350")
    total = find_row(ws, 1, "合计")
    assert total == 10  # at least five line rows, as on a printed voucher
    assert ws.cell(row=total, column=2).value == "人民币叁佰伍拾元整" == "人民币" + capitals(D(350))
    assert f"B{total}:C{total}" in {str(r) for r in ws.merged_cells.ranges}
    for col in (4, 5):
        cell = ws.cell(row=total, column=col)
        assert num(cell.value) == D("350") and cell.number_format == YUAN_FORMAT
    assert ws["D5"].number_format == AMOUNT_FORMAT
    assert "F3:F10" in {str(r) for r in ws.merged_cells.ranges}  # 附件 down the right side
    signed = [v for v in row_values(ws, total + 1) if v]
    assert signed == ["会计主管：", "记账：李会计", "审核：王审核", "出纳：张出纳", "制单：李会计"]
    assert vp.hash and any(vp.hash in t for t in texts)
    check_print_setup(ws, landscape=False, header_last=4)
    assert ws.freeze_panes is None
    check_no_formulas(path)


def test_red_voucher_print_has_negative_capitals(scenario: World, tmp_path: Path) -> None:
    vp = scenario.run(voucher_print, "C001", OCT, 5)
    assert vp.kind == "reversal" and vp.total == D("-350.00")
    ws = reread(voucher_workbook(vp), tmp_path / "red.xlsx").worksheets[0]
    total = find_row(ws, 1, "合计")
    assert ws.cell(row=total, column=2).value == "人民币负叁佰伍拾元整"
    assert num(ws.cell(row=total, column=4).value) == D("-350")
    assert ws["A5"].value == "注销 9月10日 3号凭证" and num(ws["D5"].value) == D("-350")


# --------------------------------------------------------------------------- text from the books


def risky_books(world: World) -> None:
    """A month whose 摘要, counterparties and references look like formulas."""
    e = world.entity
    world.run(books.add_account, e, "51301", "办公费")
    world.run(books.set_opening, e, "bk", {"101": D("1000"), "301": D("-1000")})
    for i, text in enumerate(RISKY, 1):
        world.run(
            custody.record_entry,
            e,
            "cash",
            dt.date(2026, 9, i),
            "101",
            D(-i),
            text,
            counterparty=text,
            reference=text,
        )
    drafts = [
        VoucherDraft(
            dt.date(2026, 9, i),
            (Line("51301", text, debit=D(i)), Line("101", text, credit=D(i))),
            1,
        )
        for i, text in enumerate(RISKY, 1)
    ]
    ids = world.run(books.draft_vouchers, e, "bk", drafts)
    world.run(books.review_vouchers, e, "rv", ids)
    world.run(books.post_vouchers, e, "bk", ids)


def test_summaries_that_look_like_formulas_stay_text(world: World, tmp_path: Path) -> None:
    risky_books(world)
    makers: dict[str, Callable[[Any], Report]] = {
        "ledger": lambda s: subsidiary_ledger(s, "C001", "101", SEP),
        "journal": lambda s: cash_journal(s, "C001", SEP),
    }
    for name, make in makers.items():
        report = world.run(make)
        path = tmp_path / f"{name}.xlsx"
        write_report(report, path)
        check_no_formulas(path)
        ws = load_workbook(path).worksheets[0]
        values = {c.value for row in ws.iter_rows() for c in row if c.data_type == "s"}
        assert set(RISKY) <= values, name
    vp = world.run(voucher_print, "C001", SEP, 1)
    path = tmp_path / "v.xlsx"
    write_voucher(vp, path)
    check_no_formulas(path)
    assert load_workbook(path).worksheets[0]["A5"].value == "=1+1"
