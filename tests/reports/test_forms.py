"""Forms as the regulation prints them, and the charts' 可增设 and required accounts (issue 12).

Worked scenarios for findings 7 and 8: 村会01表's 行次 and its 年末数 column,
村会02表's repeated 四、本年收益, the 民非 balance sheet's 受托代理 cash,
减值准备 split and 一年内到期 lines, the printed notes, the optional accounts of
the 2004 rural chart and the detail accounts every entity now gets.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal as D

import pytest
from sqlalchemy import Engine

from juzhang import agency, books
from juzhang.charts import load_chart
from juzhang.errors import ConflictError, ValidationError
from juzhang.reports.statements import StatementSection, balance_sheet, income_statement
from juzhang.reports.trial_balance import trial_balance
from juzhang.storage.access import accounts_of, get_entity
from juzhang.storage.engine import transaction
from tests.conftest import World, build_world
from tests.reports.test_reports_ledger import entries, post, voucher

SEP, DEC = 202609, 202612

# 村会01表 as printed: (行次, 项目) of each side
VILLAGE_ASSETS = [
    (1, "货币资金"),
    (2, "短期投资"),
    (5, "应收款项"),
    (8, "存货"),
    (9, "流动资产合计"),
    (10, "牲畜（禽）资产"),
    (11, "林木资产"),
    (15, "农业资产合计"),
    (16, "长期投资"),
    (19, "固定资产原价"),
    (20, "减：累计折旧"),
    (21, "固定资产净值"),
    (22, "固定资产清理"),
    (23, "在建工程"),
    (26, "固定资产合计"),
    (32, "资产总计"),
]
VILLAGE_CLAIMS = [
    (35, "短期借款"),
    (36, "应付款项"),
    (37, "应付工资"),
    (38, "应付福利费"),
    (41, "流动负债合计"),
    (42, "长期借款及应付款"),
    (43, "一事一议资金"),
    (46, "长期负债合计"),
    (49, "负债合计"),
    (50, "资本"),
    (51, "公积公益金"),
    (52, "未分配收益"),
    (53, "所有者权益合计"),
    (56, "负债和所有者权益总计"),
]


def _numbered(section: StatementSection) -> list[tuple[int, str]]:
    return [(ln.row, ln.item) for ln in section.lines if ln.row is not None]


def _village(engine: Engine) -> World:
    """村 V101 (rural-2004): a herd, an orchard, a building and a road under construction.

    Opening 2026-09: 102 银行存款 50,000; 131 牲畜（禽）资产 3,000; 132 林木资产 4,000;
    141 长期投资 6,000; 151 固定资产 40,000; 152 累计折旧 10,000 贷; 153 固定资产清理 500;
    154 在建工程 7,000; 301 资本 100,500 贷.  9/10 发包收入 D 102 2,000 / C 511 2,000.
    """
    w = build_world(engine, "V101", chart="rural-2004")
    w.run(
        books.set_opening,
        "V101",
        "bk",
        {"102": D("50000"), "131": D("3000"), "132": D("4000"), "141": D("6000"),
         "151": D("40000"), "152": D("-10000"), "153": D("500"), "154": D("7000"),
         "301": D("-100500")},
    )  # fmt: skip
    entries(w, (dt.date(2026, 9, 10), "102", "2000", "发包收入"))
    post(
        w,
        voucher(
            dt.date(2026, 9, 10), "发包收入", ("102", "D", "2000", 1), ("511", "C", "2000", None)
        ),
    )
    return w


# --------------------------------------------------------------------------- finding 7: 村会01表


def test_the_village_balance_sheet_has_the_rows_of_cunhui_01(engine: Engine) -> None:
    w = _village(engine)
    bs = w.run(balance_sheet, "V101", SEP)
    left, right = bs.sections
    assert _numbered(left) == VILLAGE_ASSETS
    assert _numbered(right) == VILLAGE_CLAIMS
    # herd 3,000 + orchard 4,000 on rows 10/11; 流动资产合计 on 9
    values = {row: bs.value(row, "closing") for row, _item in VILLAGE_ASSETS + VILLAGE_CLAIMS}
    assert values[9] == D("52000") and values[10] == D("3000") and values[11] == D("4000")
    assert values[15] == D("7000") and values[16] == D("6000")
    assert (values[19], values[20], values[21]) == (D("40000"), D("10000"), D("30000"))
    assert (values[22], values[23], values[26]) == (D("500"), D("7000"), D("37500"))
    assert values[32] == D("102500") == values[56]
    assert bs.balanced and bs.total_claims_row == 56


def test_the_village_balance_sheet_column_is_nianmoshu_in_december(engine: Engine) -> None:
    w = _village(engine)
    assert [c.label for c in w.run(balance_sheet, "V101", DEC).columns] == ["年初数", "年末数"]
    # a month report shows the month end: 期末数
    assert [c.label for c in w.run(balance_sheet, "V101", SEP).columns] == ["年初数", "期末数"]


# --------------------------------------------------------------------------- finding 7: 村会02表


def test_the_village_income_statement_repeats_the_year_result_as_line_21(engine: Engine) -> None:
    w = _village(engine)
    ist = w.run(income_statement, "V101", SEP)
    items = {ln.row: ln.item for s in ist.sections for ln in s.lines if ln.row is not None}
    assert items[20] == "三、本年收益"
    assert items[21] == "四、本年收益"
    assert items[26] == "五、可分配收益"
    assert items[35] == "六、年末未分配收益"
    assert ist.value(21, "current") == ist.value(20, "current") == D("2000")
    assert ist.value(26, "cumulative") == D("2000") == ist.value(35, "cumulative")
    assert _numbered(ist.sections[1])[0] == (21, "四、本年收益")


# --------------------------------------------------------------------------- finding 7: 民非


def test_the_npo_balance_sheet_follows_the_rules_of_its_explanations(engine: Engine) -> None:
    """社会组织 N101: cash held for others, a debt-investment impairment, current portions.

    Opening: 1002 银行存款 60,000 of which 100201 受托代理资产 10,000 (held for a donor's
    beneficiaries, 2601 受托代理负债 10,000 贷); 1401 长期股权投资 8,000; 1402 长期债权投资
    12,000 of which 140201 一年内到期 5,000; 1421 长期投资减值准备 1,500 贷 of which
    142101 长期债权投资减值准备 500 贷; 2501 长期借款 20,000 贷 of which 250101 一年内到期
    4,000 贷; 3101 非限定性净资产 the rest.
    """
    w = build_world(engine, "N101", chart="npo-2004")
    for code, name in [
        ("100201", "受托代理资产"),
        ("100202", "基本户"),
        ("140201", "一年内到期"),
        ("140202", "一年以上"),
        ("142101", "长期债权投资减值准备"),
        ("142102", "长期股权投资减值准备"),
        ("250101", "一年内到期"),
        ("250102", "一年以上"),
    ]:
        w.run(books.add_account, "N101", code, name)
    w.run(
        books.set_opening,
        "N101",
        "bk",
        {"100201": D("10000"), "100202": D("50000"), "1401": D("8000"), "140201": D("5000"),
         "140202": D("7000"), "142101": D("-500"), "142102": D("-1000"), "250101": D("-4000"),
         "250102": D("-16000"), "2601": D("-10000"), "3101": D("-48500")},
    )  # fmt: skip
    bs = w.run(balance_sheet, "N101", SEP)
    got = {row: bs.value(row, "closing") for row in (1, 15, 21, 24, 30, 51, 60, 74, 81, 91, 120)}
    assert got == {
        1: D("50000"),  # 货币资金 without the 10,000 held for others
        15: D("5000"),  # 一年内到期的长期债权投资
        21: D("7000"),  # 8,000 − 1,000 (the equity part of the impairment)
        24: D("6500"),  # 12,000 − 5,000 current − 500 impairment
        30: D("13500"),
        51: D("10000"),  # 受托代理资产: the cash held for others
        60: D("78500"),
        74: D("4000"),  # 一年内到期的长期负债
        81: D("16000"),
        91: D("10000"),
        120: D("78500"),
    }
    assert bs.balanced
    assert any("受托代理资产" in note for note in bs.notes)
    assert any("其他流动资产" in note and "未计算" in note for note in bs.notes)
    assert bs.to_json()["notes"] == list(bs.notes)


def test_every_form_prints_its_notes(engine: Engine) -> None:
    for code, chart in [("V102", "rural-2004"), ("N102", "npo-2004"), ("C102", "rural-2023")]:
        build_world(engine, code, chart=chart)
        with transaction(engine) as s:
            for st in (balance_sheet(s, code, SEP), income_statement(s, code, SEP)):
                assert st.notes, (chart, st.title)
                assert st.to_json()["notes"] == list(st.notes)
    with transaction(engine) as s:
        ist = income_statement(s, "N102", SEP)
    assert any("业务活动成本" in n and "未计算" in n for n in ist.notes)


# --------------------------------------------------------------------------- finding 8: charts


def test_the_2004_chart_allows_the_accounts_its_notes_let_a_community_add(engine: Engine) -> None:
    chart = load_chart("rural-2004")
    assert [(a.code, a.name) for a in chart.optional_accounts()] == [
        ("161", "无形资产"),
        ("171", "拨付所属单位资金"),
        ("241", "专项应付款"),
    ]
    w = build_world(engine, "V103", chart="rural-2004")

    def codes() -> set[str]:
        return w.run(lambda s: set(accounts_of(s, get_entity(s, "V103").id)))

    assert not {"161", "171", "241"} & codes()  # not given by default
    bs = w.run(balance_sheet, "V103", SEP)
    assert {row for s in bs.sections for row, _ in _numbered(s)} == {
        r for r, _ in VILLAGE_ASSETS + VILLAGE_CLAIMS
    }
    for code in ("161", "241"):
        w.run(agency.add_optional_account, "V103", code)
    assert {"161", "241"} <= codes()
    with pytest.raises(ConflictError):
        w.run(agency.add_optional_account, "V103", "161")
    with pytest.raises(ValidationError, match="not an optional account"):
        w.run(agency.add_optional_account, "V103", "101")
    w.run(books.add_account, "V103", "16101", "土地经营权")  # details below it work as usual
    w.run(
        books.set_opening,
        "V103",
        "bk",
        {"102": D("9000"), "16101": D("3000"), "241": D("-2000"), "301": D("-10000")},
    )
    bs = w.run(balance_sheet, "V103", SEP)
    left, right = bs.sections
    assert (17, "无形资产") in _numbered(left) and (18, "拨付所属单位资金") not in _numbered(left)
    assert (44, "专项应付款") in _numbered(right)
    assert bs.value(17, "closing") == D("3000") and bs.value(44, "closing") == D("2000")
    assert bs.value(32, "closing") == D("12000") == bs.value(56, "closing")


def test_the_required_detail_accounts_are_shipped(engine: Engine) -> None:
    build_world(engine, "V104", chart="rural-2004")
    build_world(engine, "N104", chart="npo-2004")
    with transaction(engine) as s:
        village = accounts_of(s, get_entity(s, "V104").id)
        npo = accounts_of(s, get_entity(s, "N104").id)
    below_322 = [(a.code, a.name) for a in village.values() if a.code.startswith("322")]
    assert sorted(below_322) == [
        ("322", "收益分配"),
        ("32201", "各项分配"),
        ("3220101", "提取公积公益金"),
        ("3220102", "提取应付福利费"),
        ("3220103", "外来投资分利"),
        ("3220104", "农户分配"),
        ("3220105", "其他"),
        ("32202", "未分配收益"),
    ]
    for parent in ("4101", "4401"):
        assert {(a.name, a.leaf) for a in npo.values() if a.parent == parent} == {
            ("限定性收入", True),
            ("非限定性收入", True),
        }


def test_the_year_end_carries_into_undistributed_income_and_reads_the_distributions(
    engine: Engine,
) -> None:
    """V105 (rural-2004): September to December closed; the year's result goes to 32202.

    9/10 发包收入 2,000 (cash); 12/20 农户分配 D 3220104 500 / C 211 500.
    """
    from tests.closing.test_closing import close, count

    w = build_world(engine, "V105", chart="rural-2004")
    w.run(books.set_opening, "V105", "bk", {"101": D("1000"), "301": D("-1000")})
    entries(w, (dt.date(2026, 9, 10), "101", "2000", "发包收入"))
    post(
        w,
        voucher(
            dt.date(2026, 9, 10), "发包收入", ("101", "D", "2000", 1), ("511", "C", "2000", None)
        ),
    )
    post(
        w,
        voucher(
            dt.date(2026, 12, 20),
            "农户分配",
            ("3220104", "D", "500", None),
            ("211", "C", "500", None),
        ),
    )
    from juzhang.closing import ensure_system_user

    w.run(ensure_system_user)
    for period in (202609, 202610, 202611, DEC):
        count(w, period)
        result = close(w, period)
        assert result.closed, result.problems
    tb = w.run(trial_balance, "V105", DEC)
    assert tb.row("32202").closing_balance == D("-2000")
    assert tb.row("321").closing_balance == 0
    ist = w.run(income_statement, "V105", DEC)
    assert ist.value(30, "cumulative") == D("500")  # 4. 农户分配
    assert ist.value(31, "cumulative") == 0  # 5. 其他
    assert ist.value(35, "cumulative") == D("1500")
    assert w.run(balance_sheet, "V105", DEC).value(52, "closing") == D("1500")


def test_the_command_line_adds_an_optional_account(engine: Engine, db_url: str) -> None:
    """`account add` names the way; `account add-optional` adds 161 (issue 12, finding 8)."""
    from tests.cli.test_cli import ok, refused

    build_world(engine, "V104", chart="rural-2004")
    assert "add-optional" in refused(db_url, "account add V104 161 无形资产")
    assert "V104 161" in ok(db_url, "account add-optional V104 161")
    assert "not an optional account" in refused(db_url, "account add-optional V104 101")
    ok(db_url, "account add V104 16101 土地经营权")
    listed = ok(db_url, "account list V104 --format json")
    assert {"161", "16101"} <= {a["code"] for a in json.loads(listed)}
