"""Statements on worked stories (three charts), the layouts, and the accounting equation.

Expected figures are computed by hand from the stories (sums in the comments).
The property test posts random valid vouchers (cashier entries recorded first
for cash and bank lines, some vouchers reversed) and checks that the trial
balance balances and the balance sheet satisfies assets = liabilities + equity
(net assets) in every chart; in the rural charts also that 年末未分配收益 of the
income statement equals the balance sheet's 未分配收益.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict
from decimal import Decimal as D

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, text

from juzhang import books, custody
from juzhang.charts import CHART_KEYS, load_chart
from juzhang.core.voucher import Line, VoucherDraft
from juzhang.errors import NotFoundError, ProblemsError, ValidationError
from juzhang.money import from_fen
from juzhang.reports.statements import (
    STATEMENTS,
    Statement,
    balance_sheet,
    income_statement,
    load_layout,
    parse_layout,
    parse_term,
)
from juzhang.reports.trial_balance import trial_balance
from juzhang.storage.engine import transaction
from tests.conftest import World, build_world
from tests.reports.test_reports_ledger import build_scenario, check_snapshot, entries, post, voucher

SEP, OCT = 202609, 202610


def sept(day: int) -> dt.date:
    """A day of September 2026."""
    return dt.date(2026, 9, day)


# --------------------------------------------------------------------------- layouts


@pytest.mark.parametrize("chart", CHART_KEYS)
@pytest.mark.parametrize("statement", STATEMENTS)
def test_every_chart_has_its_forms(chart: str, statement: str) -> None:
    layout = load_layout(chart, statement)
    assert (layout.chart, layout.statement) == (chart, statement)
    rows = [ln.row for ln in layout.lines() if ln.row is not None]
    assert len(rows) == len(set(rows))


def test_terms() -> None:
    t = parse_term("-balance:113@credit")
    assert (t.sign, t.kind, t.base, t.name, t.side) == (-1, "balance", "113", None, "credit")
    t = parse_term("debit:322/提取公积公益金")
    assert (t.sign, t.base, t.name, t.category) == (1, "322", "提取公积公益金", None)
    assert parse_term("-opening:[income]").category == "income"
    with pytest.raises(ValidationError):
        parse_term("balance 101")


BROKEN = """
statement = "balance-sheet"
chart = "rural-2004"
title = "资产负债表"
total_assets = 1
total_claims = 2
[[column]]
key = "opening"
label = "年初数"
[[column]]
key = "closing"
label = "期末数"
[[section]]
key = "assets"
[[section.line]]
row = 1
item = "资产"
terms = ["balance:[asset]", "balance:[cost]"]
[[section]]
key = "claims"
[[section.line]]
row = 2
item = "负债和所有者权益"
terms = ["-balance:[liability]", "-balance:[equity]", "-balance:[income]", "-balance:[expense]"]
"""


def test_a_complete_layout_is_accepted_and_gaps_are_refused() -> None:
    assert parse_layout(BROKEN).total_claims == 2  # complete as written
    # leave out the expense accounts: every one of them is reported
    with pytest.raises(ProblemsError) as err:
        parse_layout(BROKEN.replace(', "-balance:[expense]"', ""))
    codes = {p.message.split()[1] for p in err.value.problems}
    assert codes == {a.code for a in load_chart("rural-2004").expense_accounts()}
    # count 113's credit balances twice
    with pytest.raises(ProblemsError, match="113"):
        parse_layout(BROKEN.replace('"balance:[asset]"', '"balance:[asset]", "balance:113@credit"'))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('"balance:[cost]"', '"balance:999"'), "no account 999"),
        (('"balance:[cost]"', '"net:401"'), "kind not allowed"),
        (("total_claims = 2", "total_claims = 3"), "no row 3"),
        (('item = "资产"', 'item = "资产"\nsum = [2]\nfoo = 1'), "unknown field"),
        (('chart = "rural-2004"', 'chart = "rural-1999"'), "unknown chart"),
    ],
)
def test_broken_layouts_are_refused(change: tuple[str, str], message: str) -> None:
    with pytest.raises(ProblemsError, match=message):
        parse_layout(BROKEN.replace(*change))


def test_circular_subtotals_are_refused() -> None:
    text_ = BROKEN.replace('item = "资产"\n', 'item = "资产"\nsum = [3]\n') + (
        '[[section.line]]\nrow = 3\nitem = "x"\nsum = [1]\n'
    )
    with pytest.raises(ProblemsError, match="circular"):
        parse_layout(text_)
    with pytest.raises(NotFoundError):
        load_layout("rural-2023", "cash-flow")


# --------------------------------------------------------------------------- rural-2023 story


@pytest.fixture
def scenario(world: World) -> World:
    """The two-month story of test_reports_ledger."""
    build_scenario(world)
    return world


def _values(statement: Statement, column: str, rows: list[int]) -> list[D]:
    return [statement.value(r, column) for r in rows]


def test_income_statement_rural_2023(scenario: World) -> None:
    ist = scenario.run(income_statement, "C001", OCT)
    assert ist.title == "收益及收益分配表"
    assert [c.label for c in ist.columns] == ["本月数", "本年累计数"]
    rows = [1, 4, 6, 7, 9, 11, 13, 14, 15, 16, 19, 20]
    # October: 管理费用 80 + 420 − 350 = 150; 公益支出 8000 + 350; 经营收益 −150;
    # 收益总额 −150 − 8350 = −8500; 年初 (= start of October) 12000 + 5000 − 1850 = 15150
    assert _values(ist, "current", rows) == [
        D(x)
        for x in [
            "0",
            "150",
            "-150",
            "0",
            "8350",
            "-8500",
            "-8500",
            "15150",
            "0",
            "6650",
            "0",
            "6650",
        ]
    ]
    # September–October: 经营收入 12000, 管理费用 1850 + 150 = 2000, 经营收益 10000,
    # 补助收入 5000, 公益支出 8350, 收益总额 10000 + 5000 − 8350 = 6650
    assert _values(ist, "cumulative", rows) == [
        D(x)
        for x in [
            "12000",
            "2000",
            "10000",
            "5000",
            "8350",
            "6650",
            "6650",
            "0",
            "0",
            "6650",
            "0",
            "6650",
        ]
    ]
    check_snapshot("income_statement_rural_2023", ist.to_json())


def test_balance_sheet_rural_2023(scenario: World) -> None:
    bs = scenario.run(balance_sheet, "C001", OCT)
    assert [c.label for c in bs.columns] == ["期末余额", "年初余额"]
    assert bs.opening_period == SEP  # the books start in September 2026
    rows = [1, 3, 6, 13, 14, 23, 25, 34, 35, 36, 37, 38, 39]
    # 货币资金 1050 + 55200; 应收款项 800 + 600; 未分配收益 17000 − 2000 − 8350
    assert _values(bs, "closing", rows) == [
        D(x)
        for x in [
            "56250", "1400", "57650", "20000", "80000", "137650",
            "0", "0", "100000", "31000", "6650", "137650", "137650",
        ]
    ]  # fmt: skip
    assert _values(bs, "opening", rows) == [
        D(x)
        for x in [
            "52000", "2000", "54000", "20000", "80000", "134000",
            "3000", "3000", "100000", "31000", "0", "131000", "134000",
        ]
    ]  # fmt: skip
    assert bs.balanced and bs.difference("closing") == 0
    assert bs.line(1).item == "货币资金"
    assert bs.sections[0].lines[0].values is None  # 流动资产： heading
    check_snapshot("balance_sheet_rural_2023", bs.to_json())
    since = scenario.run(balance_sheet, "C001", OCT, since=OCT)
    assert [c.label for c in since.columns] == ["期末余额", "期初余额"]
    assert since.value(1, "opening") == D("65350")  # 2150 + 63200 at the start of October
    assert since.value(37, "opening") == D("15150")
    assert since.balanced
    with pytest.raises(ValidationError):
        scenario.run(balance_sheet, "C001", SEP, since=OCT)


def test_closing_entries_do_not_change_the_statements(scenario: World) -> None:
    before = (
        scenario.run(income_statement, "C001", OCT).to_json(),
        scenario.run(balance_sheet, "C001", OCT).to_json(),
    )
    closing = VoucherDraft(
        dt.date(2026, 10, 31),
        (
            Line("501", "结转本年收益", debit=D("12000")),
            Line("503", "结转本年收益", debit=D("5000")),
            Line("51301", "结转本年收益", credit=D("500")),
            Line("51302", "结转本年收益", credit=D("1500")),
            Line("514", "结转本年收益", credit=D("8350")),
            Line("321", "结转本年收益", credit=D("6650")),
        ),
    )
    vid = scenario.run(books.draft_voucher, "C001", "bk", closing)
    with transaction(scenario.engine) as s:  # the closing run (a later module) marks its vouchers
        s.execute(text("UPDATE voucher SET kind = 'closing' WHERE id = :i"), {"i": vid})
    scenario.run(books.review_vouchers, "C001", "rv", [vid])
    scenario.run(books.post_vouchers, "C001", "bk", [vid])
    after_is = scenario.run(income_statement, "C001", OCT)
    after_bs = scenario.run(balance_sheet, "C001", OCT)
    assert (after_is.to_json(), after_bs.to_json()) == before
    tb = scenario.run(trial_balance, "C001", OCT)
    assert tb.row("321").closing_balance == D("-6650")
    assert tb.row("501").closing_balance == D("0")


# --------------------------------------------------------------------------- rural-2004 story


def test_statements_rural_2004(engine: Engine) -> None:
    """村 V001 (rural-2004), September 2026.

    Opening: 101 现金 1,000; 102 银行存款 20,000; 11301 内部往来—一组 500 借;
    11302 内部往来—二组 700 贷; 301 资本 20,800 贷.
    9/03 发包收入 D 102 8,000 / C 511 8,000;  9/09 办公费 D 541 300 / C 101 300;
    9/12 经营支出 D 502 2,000 / C 102 2,000;  9/30 提取公积公益金
    D 3220101 (收益分配—各项分配—提取公积公益金) 1,000 / C 311 1,000.
    """
    world = build_world(engine, "V001", chart="rural-2004")
    for code, name in [("11301", "一组"), ("11302", "二组")]:  # 322's details are shipped
        world.run(books.add_account, "V001", code, name)
    world.run(
        books.set_opening,
        "V001",
        "bk",
        {"101": D("1000"), "102": D("20000"), "11301": D("500"), "11302": D("-700"),
         "301": D("-20800")},
    )  # fmt: skip
    entries(
        world,
        (dt.date(2026, 9, 3), "102", "8000", "发包收入"),
        (dt.date(2026, 9, 9), "101", "-300", "办公费"),
        (dt.date(2026, 9, 12), "102", "-2000", "经营支出"),
    )
    post(
        world,
        voucher(sept(3), "发包收入", ("102", "D", "8000", 1), ("511", "C", "8000", None)),
        voucher(sept(9), "办公费", ("541", "D", "300", None), ("101", "C", "300", 2)),
        voucher(sept(12), "经营支出", ("502", "D", "2000", None), ("102", "C", "2000", 3)),
        voucher(
            sept(30), "提取公积公益金", ("3220101", "D", "1000", None), ("311", "C", "1000", None)
        ),
    )
    ist = world.run(income_statement, "V001", SEP)
    assert ist.form == "村会02表"
    # 经营收益 = 0 + 8000 + 0 − 2000 − 300 = 5700; 可分配 5700; 年末 5700 − 1000
    rows = [1, 2, 6, 7, 10, 20, 21, 22, 23, 26, 27, 30, 31, 35]
    expected = [
        "0",
        "8000",
        "2000",
        "300",
        "5700",
        "5700",
        "5700",
        "0",
        "0",
        "5700",
        "1000",
        "0",
        "0",
        "4700",
    ]
    assert _values(ist, "current", rows) == [D(x) for x in expected]
    assert _values(ist, "cumulative", rows) == [D(x) for x in expected]
    bs = world.run(balance_sheet, "V001", SEP)
    assert [c.label for c in bs.columns] == ["年初数", "期末数"]  # 年末数 in December
    rows = [1, 5, 9, 32, 36, 49, 50, 51, 52, 56]
    # 货币资金 1000 − 300 + 20000 + 8000 − 2000 = 26700; 内部往来 by side: 500 / 700;
    # 未分配收益 −(1000 − 8000 + 2300) = 4700 = 年末未分配收益
    assert _values(bs, "closing", rows) == [
        D(x) for x in ["26700", "500", "27200", "27200", "700", "700", "20800", "1000", "4700",
                       "27200"]
    ]  # fmt: skip
    assert _values(bs, "opening", [1, 32, 36, 52, 56]) == [
        D(x) for x in ["21000", "21500", "700", "0", "21500"]
    ]
    assert bs.balanced
    check_snapshot("income_statement_rural_2004", ist.to_json())
    check_snapshot("balance_sheet_rural_2004", bs.to_json())


# --------------------------------------------------------------------------- npo-2004 story


def test_statements_npo_2004(engine: Engine) -> None:
    """社会组织 N001 (npo-2004), September 2026.

    Opening: 1002 银行存款 100,000; 3101 非限定性净资产 80,000 贷; 3102 限定性净资产 20,000 贷.
    9/06 助学捐赠 (restricted) D 1002 30,000 / C 410101 捐赠收入—限定性收入 30,000;
    9/08 捐赠 D 1002 5,000 / C 410102 捐赠收入—非限定性收入 5,000;
    9/20 发放助学金 D 5101 12,000 / C 1002 12,000;  9/25 办公费 D 5201 800 / C 1002 800;
    9/30 限制解除 D 3102 12,000 / C 3101 12,000.
    """
    world = build_world(engine, "N001", chart="npo-2004")  # 410101/410102 are shipped
    world.run(
        books.set_opening,
        "N001",
        "bk",
        {"1002": D("100000"), "3101": D("-80000"), "3102": D("-20000")},
    )
    entries(
        world,
        (dt.date(2026, 9, 6), "1002", "30000", "助学捐赠"),
        (dt.date(2026, 9, 8), "1002", "5000", "捐赠"),
        (dt.date(2026, 9, 20), "1002", "-12000", "发放助学金"),
        (dt.date(2026, 9, 25), "1002", "-800", "办公费"),
    )
    post(
        world,
        voucher(sept(6), "助学捐赠", ("1002", "D", "30000", 1), ("410101", "C", "30000", None)),
        voucher(sept(8), "捐赠", ("1002", "D", "5000", 2), ("410102", "C", "5000", None)),
        voucher(sept(20), "发放助学金", ("5101", "D", "12000", None), ("1002", "C", "12000", 3)),
        voucher(sept(25), "办公费", ("5201", "D", "800", None), ("1002", "C", "800", 4)),
        voucher(sept(30), "限制解除", ("3102", "D", "12000", None), ("3101", "C", "12000", None)),
    )
    ist = world.run(income_statement, "N001", SEP)
    assert (ist.title, ist.form) == ("业务活动表", "会民非02表")
    assert [c.key for c in ist.columns[:3]] == [
        "current.unrestricted",
        "current.restricted",
        "current.total",
    ]
    assert [(c.label, c.part) for c in ist.columns[3:]] == [
        ("本年累计数", "非限定性"),
        ("本年累计数", "限定性"),
        ("本年累计数", "合计"),
    ]

    def three(row: int) -> list[D]:
        return [ist.value(row, f"current.{p}") for p in ("unrestricted", "restricted", "total")]

    assert three(1) == [D("5000"), D("30000"), D("35000")]
    assert three(11) == [D("5000"), D("30000"), D("35000")]
    assert three(12) == [D("12000"), D("0"), D("12000")]
    assert three(35) == [D("12800"), D("0"), D("12800")]
    assert three(40) == [D("12000"), D("-12000"), D("0")]
    # 5000 − 12800 + 12000 = 4200; 30000 − 12000 = 18000; 35000 − 12800 = 22200
    assert three(45) == [D("4200"), D("18000"), D("22200")]
    assert ist.value(45, "cumulative.total") == D("22200")
    bs = world.run(balance_sheet, "N001", SEP)
    # 货币资金 100000 + 30000 + 5000 − 12000 − 800 = 122200;
    # 非限定性 92000 + 35000 − 30000 − 12800 = 84200 (= 80000 + 4200);
    # 限定性 8000 + 30000 = 38000 (= 20000 + 18000)
    assert _values(bs, "closing", [1, 60, 101, 105, 110, 120]) == [
        D(x) for x in ["122200", "122200", "84200", "38000", "122200", "122200"]
    ]
    assert _values(bs, "opening", [1, 101, 105, 120]) == [
        D(x) for x in ["100000", "80000", "20000", "100000"]
    ]
    assert bs.balanced
    check_snapshot("income_statement_npo_2004", ist.to_json())
    check_snapshot("balance_sheet_npo_2004", bs.to_json())


# --------------------------------------------------------------------------- property


DETAILS = {
    "rural-2023": [("11301", "一组"), ("11302", "二组"), ("32201", "提取公积公益金")],
    "rural-2004": [("11301", "一组"), ("11302", "二组")],  # 322's details are shipped
    "npo-2004": [("420101", "限定性收入")],  # 4101's and 4401's are shipped
}
EQUITY = {"rural-2023": "301", "rural-2004": "301", "npo-2004": "3101"}
RESULT_ROWS = {"rural-2023": (20, 37), "rural-2004": (35, 52)}  # 年末未分配收益, 未分配收益
MONTHS = [202609, 202610, 202612, 202701]
_ENTITY_NUMBERS = itertools.count(1)


def _leaves(chart: str) -> tuple[list[str], set[str]]:
    template = load_chart(chart)
    codes = [a.code for a in template.default_accounts()] + [c for c, _n in DETAILS[chart]]
    parents = {c[:-2] for c in codes if len(c) > template.top_level_length}
    custody_codes = {a.code for a in template.custody_accounts()}
    return sorted(c for c in codes if c not in parents), custody_codes


_amounts = st.integers(min_value=1, max_value=5_000_000)


@st.composite
def _voucher_specs(
    draw: st.DrawFn, leaves: list[str]
) -> tuple[int, int, list[tuple[str, int, bool]]]:
    """(period, day, [(account, signed fen, red)]) with the lines summing to zero."""
    period = draw(st.sampled_from(MONTHS))
    day = draw(st.integers(1, 28))
    k = draw(st.integers(2, 4))
    accounts = draw(st.lists(st.sampled_from(leaves), min_size=k, max_size=k))
    signed = [draw(_amounts) * draw(st.sampled_from([1, -1])) for _ in range(k - 1)]
    if sum(signed) == 0:
        signed[0] += 1 if signed[0] != -1 else 2
    signed.append(-sum(signed))
    reds = draw(st.lists(st.booleans(), min_size=k, max_size=k))
    return period, day, list(zip(accounts, signed, reds, strict=True))


def _line(account: str, fen: int, red: bool, entry: int | None) -> Line:
    amount = from_fen(abs(fen))
    debit = fen > 0
    if red:  # the same signed amount written on the other side in red
        debit, amount = not debit, -amount
    if debit:
        return Line(account, "随机业务", debit=amount, custody_entry=entry)
    return Line(account, "随机业务", credit=amount, custody_entry=entry)


@pytest.mark.slow
@pytest.mark.parametrize("chart", CHART_KEYS)
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_any_postings_keep_the_books_balanced(
    engine: Engine, chart: str, data: st.DataObject
) -> None:
    leaves, custody_codes = _leaves(chart)
    code = f"P{next(_ENTITY_NUMBERS):04d}"
    build_world(engine, code, chart=chart)
    opening_draws = data.draw(
        st.lists(st.tuples(st.sampled_from(leaves), _amounts, st.booleans()), max_size=5)
    )
    specs = data.draw(st.lists(_voucher_specs(leaves), min_size=1, max_size=6))
    reverse = data.draw(st.lists(st.booleans(), min_size=len(specs), max_size=len(specs)))
    with transaction(engine) as s:
        for detail, name in DETAILS[chart]:
            books.add_account(s, code, detail, name)
        opening: dict[str, int] = defaultdict(int)
        for account, fen, credit in opening_draws:
            opening[account] += -fen if credit else fen
        opening[EQUITY[chart]] -= sum(opening.values())
        books.set_opening(s, code, "bk", {a: from_fen(f) for a, f in opening.items()})
        drafts = []
        for period, day, lines in specs:
            date = dt.date(period // 100, period % 100, day)
            backing = [
                custody.record_entry(s, code, "cash", date, acc, from_fen(fen), "随机业务")
                if acc in custody_codes
                else None
                for acc, fen, _red in lines
            ]
            drafts.append(
                VoucherDraft(
                    date,
                    tuple(_line(a, f, r, i) for (a, f, r), i in zip(lines, backing, strict=True)),
                )
            )
        posted = books.post_bulk(s, code, drafts, preparer="bk", reviewer="rv", poster="bk")
        reversals = []
        for vid, flip in zip(posted, reverse, strict=True):
            if flip:
                v = books.get_voucher(s, code, vid)
                assert v.number is not None
                reversals.append(books.reverse_voucher(s, code, "bk", v.period, v.number))
        if reversals:
            books.review_vouchers(s, code, "rv", reversals)
            books.post_vouchers(s, code, "bk", reversals)
        assert trial_balance(s, code, MONTHS[0], MONTHS[-1]).balanced
        for month in MONTHS:
            bs = balance_sheet(s, code, month)
            assert bs.balanced, (month, {c.key: bs.difference(c.key) for c in bs.columns})
            assert balance_sheet(s, code, month, since=MONTHS[0]).balanced
            if chart in RESULT_ROWS:
                is_row, bs_row = RESULT_ROWS[chart]
                ist = income_statement(s, code, month)
                assert ist.value(is_row, "cumulative") == bs.value(bs_row, "closing")
                assert ist.value(is_row, "current") == bs.value(bs_row, "closing")
