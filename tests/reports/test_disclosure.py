"""The public disclosure (财务公开表) on a worked story, on SQLite and PostgreSQL.

幸福社区 (C001, rural-2023) starts its books in 2026-09.  Every expected figure
is computed by hand from :func:`build_story` (the sums are written out in the
comments), never read back from the code under test.

Opening: 101 现金 2,000.00; 10201 银行 100,000.00; 11201 应收租金 3,000.00;
21101 应付绿化养护费 5,000.00 (credit); 301 资本 100,000.00 (credit).

September (only for 本年累计): 记-0001 bank +10,000.00 街道拨付 (50301);
记-0002 cash −300.00 办公费 (51301); 记-0003 a closing voucher (结转) carrying
both to 321 — left out of every figure.

October (the worked month), in voucher order:

====  =====  =====================  ========  ========  ========================
 no    date   account                income    expense   note
====  =====  =====================  ========  ========  ========================
 1     10-08  50101 房屋出租收入          6,000.00            bank
 2     10-10  51302 干部补贴                       8,000.00  bank, large
 3     10-12  51302 干部补贴 (wrong)                 450.00  cash, 购办公用品
 4     10-15  50401 捐赠收入            2,000.00            bank
 5     10-16  51401 救灾救济支出                   1,500.00  cash, large
 6     10-18  50403 卫生费收入              600.00            cash
 -     10-20  231 一事一议 raised 30,000.00 (bank)          not an item
 -     10-25  231 一事一议 used 12,000.00 (bank)            not an item
 -     10-28  21101 paid 2,500.00 (bank)                   not an item
 7     10-31  51302 红字冲销 of 记-0003              −450.00
 8     10-31  51301 订正                            450.00
====  =====  =====================  ========  ========  ========================

November (for the quarter): 记-0001 11-05 rent +6,000.00 (bank), 记-0002 11-20
office −200.00 (cash).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from decimal import Decimal as D
from pathlib import Path

import pytest
from sqlalchemy import Connection, insert, select

from juzhang import books, custody
from juzhang.budget import BudgetInput, budget_lines, set_budget
from juzhang.core.voucher import Line, VoucherDraft
from juzhang.disclosure_config import (
    config_from_json,
    config_to_json,
    config_toml,
    default_config,
    load_config,
    parse_config,
)
from juzhang.errors import ProblemsError, SegregationOfDutiesError, ValidationError
from juzhang.money import capitals
from juzhang.reports.disclosure import Disclosure, disclosure, period_title
from juzhang.storage.engine import transaction
from juzhang.storage.schema import AuditLog, User
from juzhang.storage.schema import Disclosure as DisclosureRow
from tests.conftest import World

SEP, OCT, NOV, DEC = 202609, 202610, 202611, 202612
BANK = "10201"

DETAIL = (
    ("10201", "农商行基本户"),
    ("11201", "应收租金"),
    ("21101", "应付绿化养护费"),
    ("50101", "房屋出租收入"),
    ("50301", "街道拨付经费"),
    ("50401", "捐赠收入"),
    ("50403", "卫生费收入"),
    ("51301", "办公费"),
    ("51302", "干部补贴"),
    ("51401", "救灾救济支出"),
)


def day(month: int, d: int) -> dt.date:
    return dt.date(2026, month, d)


Move = tuple[dt.date, str, str, str, str]  # date, custody account, signed amount, other, 摘要


def post_moves(world: World, moves: list[Move]) -> list[int]:
    """The cashier records the movements, then their vouchers are drafted, reviewed, posted.

    Few transactions for many vouchers; returns the voucher numbers in order.
    """
    entries = world.run(
        custody.record_entries,
        world.entity,
        "cash",
        [custody.CustodyInput(d, acc, D(amt), summary) for d, acc, amt, _o, summary in moves],
    )
    drafts = []
    for (date, account, amount, other, summary), entry in zip(moves, entries, strict=True):
        value = D(amount.lstrip("-"))
        if amount.startswith("-"):
            lines = (
                Line(other, summary, debit=value),
                Line(account, summary, credit=value, custody_entry=entry),
            )
        else:
            lines = (
                Line(account, summary, debit=value, custody_entry=entry),
                Line(other, summary, credit=value),
            )
        drafts.append(VoucherDraft(date, lines, 1))
    ids = world.run(books.draft_vouchers, world.entity, "bk", drafts)
    world.run(books.review_vouchers, world.entity, "rv", ids)
    world.run(books.post_vouchers, world.entity, "bk", ids)
    return [world.run(books.get_voucher, world.entity, i).number or 0 for i in ids]


def move(
    world: World, date: dt.date, custody_account: str, amount: str, other: str, summary: str
) -> int:
    """One money movement and its voucher; return the voucher number."""
    return post_moves(world, [(date, custody_account, amount, other, summary)])[0]


def build_story(world: World, *, november: bool = False) -> None:
    """Set up C001 and post September and October (and November when asked)."""
    e = world.entity

    def setup(session: Connection) -> None:
        for code, name in DETAIL:
            books.add_account(session, e, code, name)
        books.set_opening(
            session,
            e,
            "bk",
            {
                "101": D("2000"),
                BANK: D("100000"),
                "11201": D("3000"),
                "21101": D("-5000"),
                "301": D("-100000"),
            },
        )

    world.run(setup)
    numbers = post_moves(
        world,
        [
            (day(9, 5), BANK, "10000", "50301", "收街道拨付工作经费"),
            (day(9, 20), "101", "-300", "51301", "购文具"),
            (day(10, 8), BANK, "6000", "50101", "收沿街商铺10月租金"),
            (day(10, 10), BANK, "-8000", "51302", "发放9月社区干部补贴"),
            (day(10, 12), "101", "-450", "51302", "购办公用品"),  # the wrong account
            (day(10, 15), BANK, "2000", "50401", "收爱心企业捐赠"),
            (day(10, 16), "101", "-1500", "51401", "发放困难户救济款"),
            (day(10, 18), "101", "600", "50403", "收取卫生费"),
            (day(10, 20), BANK, "30000", "231", "收一事一议筹资（道路硬化）"),
            (day(10, 25), BANK, "-12000", "231", "支付道路硬化工程款"),
            (day(10, 28), BANK, "-2500", "21101", "支付绿化养护费"),
        ],
    )
    wrong = numbers[4]
    world.run(
        books.post_closing_voucher,
        e,
        "rv",
        VoucherDraft(
            day(9, 30),
            (
                Line("50301", "结转本月收入", debit=D("10000")),
                Line("321", "结转本月收入", credit=D("10000")),
                Line("321", "结转本月支出", debit=D("300")),
                Line("51301", "结转本月支出", credit=D("300")),
            ),
        ),
    )
    original = world.run(books.find_voucher, e, OCT, wrong)
    entry = next(ln.custody_entry for ln in original.lines if ln.account == "101")
    red = world.run(books.reverse_voucher, e, "bk", OCT, wrong, date=day(10, 31))
    world.run(books.review_vouchers, e, "rv", [red])
    world.run(books.post_vouchers, e, "bk", [red])
    fixed = VoucherDraft(
        day(10, 31),
        (
            Line("51301", "购办公用品", debit=D("450")),
            Line("101", "购办公用品", credit=D("450"), custody_entry=entry),
        ),
        1,
    )
    blue = world.run(books.draft_correction, e, "bk", OCT, wrong, fixed)
    world.run(books.review_vouchers, e, "rv", [blue])
    world.run(books.post_vouchers, e, "bk", [blue])
    if november:
        post_moves(
            world,
            [
                (day(11, 5), BANK, "6000", "50101", "收沿街商铺11月租金"),
                (day(11, 20), "101", "-200", "51301", "购打印纸"),
            ],
        )


BUDGET = [
    BudgetInput("办公经费", "expense", ("51301",), D("2000")),
    BudgetInput("干部补贴", "expense", ("51302",), D("40000")),
    BudgetInput("租金收入", "income", ("50101",), D("24000")),
    BudgetInput("公益救济", "expense", ("514",), D("5000")),
]


@pytest.fixture
def story(world: World) -> World:
    build_story(world)
    world.run(set_budget, world.entity, "bk", 2026, BUDGET)
    return world


def october(world: World, **kwargs: object) -> Disclosure:
    return world.run(disclosure, world.entity, OCT, **kwargs)


# --------------------------------------------------------------------------- the month


def test_title_period_and_dates(story: World) -> None:
    d = october(story)
    assert d.title == "幸福社区居委会2026年10月财务收支明细公开表"
    assert (d.period_label, d.period_text) == ("2026-10", "2026年10月")
    # posted by the 10th of the next month, up until the day before the next one goes up
    assert (d.posted_on, d.posted_until) == (dt.date(2026, 11, 10), dt.date(2026, 12, 9))
    d2 = october(story, posted_on=dt.date(2026, 11, 6), posted_until=dt.date(2026, 12, 31))
    assert (d2.posted_on, d2.posted_until) == (dt.date(2026, 11, 6), dt.date(2026, 12, 31))


def test_items_one_by_one(story: World) -> None:
    d = october(story)
    got = [(i.no, i.date.day, i.voucher, i.account, i.income, i.expense) for i in d.items]
    assert got == [
        (1, 8, "记-0001", "50101", D("6000.00"), None),
        (2, 10, "记-0002", "51302", None, D("8000.00")),
        (3, 12, "记-0003", "51302", None, D("450.00")),
        (4, 15, "记-0004", "50401", D("2000.00"), None),
        (5, 16, "记-0005", "51401", None, D("1500.00")),
        (6, 18, "记-0006", "50403", D("600.00"), None),
        (7, 31, "记-0010", "51302", None, D("-450.00")),  # red line shown negative
        (8, 31, "记-0011", "51301", None, D("450.00")),
    ]
    assert d.items[6].remark.startswith("红字冲销")
    assert d.items[6].summary == "注销 10月12日 3号凭证"
    assert d.items[7].remark.startswith("订正") and "预算：办公经费" in d.items[7].remark
    assert d.items[0].summary == "收沿街商铺10月租金"
    assert d.items[1].handler == "张出纳"  # the cashier who recorded the money
    # 6,000 + 2,000 + 600 = 8,600.00; 8,000 + 450 + 1,500 − 450 + 450 = 9,950.00
    assert (d.total_income, d.total_expense) == (D("8600.00"), D("9950.00"))


def test_summary_by_category_month_and_year(story: World) -> None:
    d = october(story)
    income = {c.name: (c.current, c.ytd) for c in d.income_categories}
    expense = {c.name: (c.current, c.ytd) for c in d.expense_categories}
    assert income == {
        "经营收入": (D("6000.00"), D("6000.00")),
        "投资收益": (D("0.00"), D("0.00")),
        "补助收入": (D("0.00"), D("10000.00")),  # September's allocation; closing left out
        "其他收入": (D("2600.00"), D("2600.00")),  # 2,000 + 600
    }
    assert expense["管理费用"] == (D("8450.00"), D("8750.00"))  # 8,000+450−450+450; +300
    assert expense["公益支出"] == (D("1500.00"), D("1500.00"))
    assert "其他支出（未分类）" not in expense
    assert (d.ytd_income, d.ytd_expense) == (D("18600.00"), D("10250.00"))


def test_totals_in_capitals(story: World) -> None:
    d = october(story)
    data = d.to_json()
    assert data["totals"]["income"]["capitals"] == "捌仟陆佰元整"
    assert data["totals"]["expense"]["capitals"] == "玖仟玖佰伍拾元整"
    assert capitals(d.total_expense) == "玖仟玖佰伍拾元整"


def test_cash_and_bank(story: World) -> None:
    d = october(story)
    cash, bank, total = d.fund("cash"), d.fund("bank"), d.fund("total")
    # cash: 2,000 − 300 = 1,700; in 600; out 450 − 450 + 450 + 1,500 = 1,950; end 350
    assert (cash.opening, cash.income, cash.expense, cash.closing) == (
        D("1700.00"),
        D("600.00"),
        D("1950.00"),
        D("350.00"),
    )
    assert (cash.ytd_opening, cash.ytd_income, cash.ytd_expense) == (
        D("2000.00"),
        D("600.00"),
        D("2250.00"),
    )
    # bank: 100,000 + 10,000 = 110,000; in 6,000 + 2,000 + 30,000; out 8,000 + 12,000 + 2,500
    assert (bank.opening, bank.income, bank.expense, bank.closing) == (
        D("110000.00"),
        D("38000.00"),
        D("22500.00"),
        D("125500.00"),
    )
    assert (bank.ytd_opening, bank.ytd_income) == (D("100000.00"), D("48000.00"))
    assert total.closing == D("125850.00")


def test_special_sections(story: World) -> None:
    d = october(story)
    sub = d.section("subsidies")
    assert [(r.voucher, r.debit) for r in sub.rows] == [
        ("记-0002", D("8000.00")),
        ("记-0003", D("450.00")),
        ("记-0010", D("-450.00")),
    ]
    assert (sub.debit, sub.ytd_debit) == (D("8000.00"), D("8000.00"))
    relief = d.section("relief")
    assert [(r.account, r.debit, r.credit) for r in relief.rows] == [
        ("50401", None, D("2000.00")),
        ("51401", D("1500.00"), None),
    ]
    assert (relief.credit_label, relief.debit_label) == ("收到", "发放")
    fees = d.section("fees")
    assert [(r.account, r.credit) for r in fees.rows] == [("50403", D("600.00"))]
    one = d.section("one_matter")
    assert (one.credit, one.debit) == (D("30000.00"), D("12000.00"))
    assert (one.opening, one.closing) == (D("0.00"), D("18000.00"))  # credit positive


def test_large_expenditures(story: World) -> None:
    d = october(story)
    assert [(i.voucher, i.expense) for i in d.large_items] == [
        ("记-0002", D("8000.00")),
        ("记-0005", D("1500.00")),
    ]
    cfg = config_from_json({**config_to_json(d.config), "large_expense": "5000"})
    assert [i.voucher for i in october(story, config=cfg).large_items] == ["记-0002"]


def test_receivables_and_payables(story: World) -> None:
    d = october(story)
    assert [(r.code, r.opening, r.increase, r.decrease, r.closing) for r in d.receivables] == [
        ("11201", D("3000.00"), D("0.00"), D("0.00"), D("3000.00"))
    ]
    assert [(r.code, r.name, r.opening, r.decrease, r.closing) for r in d.payables] == [
        ("21101", "应付款—应付绿化养护费", D("5000.00"), D("2500.00"), D("2500.00"))
    ]
    assert "231" not in {r.code for r in d.payables}  # 一事一议 has its own section


def test_budget_against_actual(story: World) -> None:
    d = october(story)
    got = {b.name: (b.budget, b.current, b.ytd, b.remaining, b.rate) for b in d.budget}
    assert got == {
        # 51301: October's correction 450; year 300 (September) + 450
        "办公经费": (D("2000.00"), D("450.00"), D("750.00"), D("1250.00"), D("37.5")),
        "干部补贴": (D("40000.00"), D("8000.00"), D("8000.00"), D("32000.00"), D("20.0")),
        "租金收入": (D("24000.00"), D("6000.00"), D("6000.00"), D("18000.00"), D("25.0")),
        "公益救济": (D("5000.00"), D("1500.00"), D("1500.00"), D("3500.00"), D("30.0")),
    }


def test_signature_block_from_grants_config_and_sign_off(story: World) -> None:
    d = october(story)
    s = d.signatures
    assert (s.cashier, s.bookkeeper, s.group) == ("张出纳", "孙会计、李会计", ("周理财",))
    assert (s.opinion, s.signed_on) == ("", None)
    with transaction(story.engine) as session:
        sup = session.execute(select(User.id).where(User.login == "sup")).scalar_one()
        session.execute(
            insert(DisclosureRow).values(
                entity_id=1,
                id=1,
                first_period=OCT,
                last_period=OCT,
                status="published",
                fingerprint="x",
                chain_seq=0,
                generated_at=dt.datetime.now(dt.UTC),
                signed_by=sup,
                signer_name="周理财",
                opinion="经审核，账目清楚，同意公开",
                signed_on=dt.date(2026, 11, 5),
                posted_on=dt.date(2026, 11, 6),
                posted_until=dt.date(2026, 12, 5),
            )
        )
    d = october(story)
    assert (d.signatures.opinion, d.signatures.signer) == ("经审核，账目清楚，同意公开", "周理财")
    assert d.signatures.signed_on == dt.date(2026, 11, 5)
    assert (d.posted_on, d.posted_until) == (dt.date(2026, 11, 6), dt.date(2026, 12, 5))


def test_fingerprint_ties_the_table_to_the_chain(story: World) -> None:
    d = october(story)
    seq, head = story.run(books.chain_head, story.entity)
    assert re.fullmatch(rf"C001:2026-10:{seq}:{head[:16]}:[0-9a-f]{{16}}", d.fingerprint)
    assert d.fingerprint.endswith(d.digest[:16])
    # a voucher in November moves the chain, not October's figures
    move(story, day(11, 3), "101", "-10", "51301", "邮费")
    later = october(story)
    assert later.digest == d.digest and later.fingerprint != d.fingerprint
    # a voucher in October changes the figures
    move(story, day(10, 30), "101", "-20", "51301", "快递费")
    assert october(story).digest != d.digest


def test_figures_are_computed_once_and_never_part_of_the_value(story: World) -> None:
    d = october(story)
    assert d.figures() is d.figures() and d.digest == d.digest
    fresh = october(story)
    assert fresh == d and fresh.digest == d.digest  # the cache does not take part in ==
    # a copy with other figures gets its own digest, not the cached one
    fewer = dataclasses.replace(d, items=d.items[1:])
    assert fewer.figures() != d.figures() and fewer.digest != d.digest
    assert fewer.fingerprint != d.fingerprint
    assert dataclasses.replace(d, chain_seq=d.chain_seq + 1).fingerprint != d.fingerprint


def test_json_form(story: World) -> None:
    data = october(story).to_json()
    assert data["period"] == "2026-10" and data["year_first"] == "2026-09"
    assert data["items"][1]["expense"] == "8000.00" and data["items"][1]["income"] is None
    assert data["large_expense"]["threshold"] == "1000.00"
    assert data["debts"]["payables"]["total"]["closing"] == "2500.00"
    assert data["budget"][0]["rate"] == "37.5"
    keys = [f["key"] for f in data["figures"]]
    assert "item/2026-10/记-0002/1/expense" in keys and "fund/bank/closing" in keys
    assert len(keys) == len(set(keys))
    json.dumps(data, ensure_ascii=False)  # serialisable


# --------------------------------------------------------------------------- the quarter


def test_quarter(world: World) -> None:
    build_story(world, november=True)
    world.run(set_budget, world.entity, "bk", 2026, BUDGET)
    d = world.run(disclosure, world.entity, OCT, DEC)
    assert d.title == "幸福社区居委会2026年第4季度财务收支明细公开表"
    assert (d.posted_on, d.posted_until) == (dt.date(2027, 1, 10), dt.date(2027, 4, 9))
    assert [(i.no, i.voucher, i.date) for i in d.items[-2:]] == [
        (9, "记-0001", day(11, 5)),
        (10, "记-0002", day(11, 20)),
    ]
    # 8,600 + 6,000 = 14,600.00; 9,950 + 200 = 10,150.00
    assert (d.total_income, d.total_expense) == (D("14600.00"), D("10150.00"))
    assert (d.ytd_income, d.ytd_expense) == (D("24600.00"), D("10450.00"))
    cash = d.fund("cash")
    assert (cash.opening, cash.expense, cash.closing) == (D("1700.00"), D("2150.00"), D("150.00"))
    assert d.fund("bank").closing == D("131500.00")
    office = next(b for b in d.budget if b.name == "办公经费")
    assert (office.current, office.ytd, office.rate) == (D("650.00"), D("950.00"), D("47.5"))
    assert period_title(202607, 202608) == "2026年7月至8月"
    with pytest.raises(ValidationError):
        world.run(disclosure, world.entity, 202612, 202701)  # crosses a year
    with pytest.raises(ValidationError):
        world.run(disclosure, world.entity, OCT, SEP)


# --------------------------------------------------------------------------- configuration


CONFIG = """
chart = "rural-2023"
community = "幸福社区"
large_expense = "5000"
post_by_day = 8

[signatures]
secretary = "陈明"
director = "李红"
group = ["周理财", "吴平"]

[[income]]
name = "租金收入"
accounts = ["50101"]

[[income]]
name = "捐赠及其他"
accounts = ["504"]

[[expense]]
name = "干部补贴"
accounts = ["51302"]

[[expense]]
name = "公益救济"
accounts = ["514"]

[[section]]
key = "subsidies"
accounts = ["51302"]

[debts]
receivables = ["112"]
payables = ["211"]
"""


def test_config_file(story: World, tmp_path: Path) -> None:
    path = tmp_path / "C001.toml"
    path.write_text(CONFIG, encoding="utf-8")
    cfg = load_config(path)
    d = october(story, config=cfg)
    assert d.title == "幸福社区2026年10月财务收支明细公开表"
    assert d.posted_on == dt.date(2026, 11, 8)
    assert [(c.name, c.current, c.ytd) for c in d.income_categories] == [
        ("租金收入", D("6000.00"), D("6000.00")),
        ("捐赠及其他", D("2600.00"), D("2600.00")),
        ("其他收入（未分类）", D("0.00"), D("10000.00")),  # 50301, September
    ]
    assert [(c.name, c.current, c.ytd) for c in d.expense_categories] == [
        ("干部补贴", D("8000.00"), D("8000.00")),
        ("公益救济", D("1500.00"), D("1500.00")),
        ("其他支出（未分类）", D("450.00"), D("750.00")),  # 51301
    ]
    assert [s.key for s in d.sections] == ["subsidies"]
    assert d.section("subsidies").title == "居民干部补贴、奖金"  # default title for the key
    assert [i.voucher for i in d.large_items] == ["记-0002"]
    assert (d.signatures.secretary, d.signatures.director) == ("陈明", "李红")
    assert d.signatures.group == ("周理财", "吴平")


def test_parts_left_out_of_a_config_come_from_the_default(story: World) -> None:
    partial = parse_config({"chart": "rural-2023", "signatures": {"secretary": "陈明"}})
    assert partial.income is None and partial.sections is None
    d = october(story, config=partial)
    default = october(story)
    assert d.income_categories == default.income_categories
    assert [s.key for s in d.sections] == [s.key for s in default.sections]
    assert d.payables == default.payables and d.signatures.secretary == "陈明"
    assert d.config.income is not None  # the report carries the resolved configuration
    only = parse_config({"chart": "rural-2023", "section": []})
    assert october(story, config=only).sections == ()  # given as empty: no sections


def test_config_problems_are_listed_together(story: World) -> None:
    with pytest.raises(ProblemsError) as info:
        parse_config(
            {"chart": "rural-2023", "colour": 1, "large_expense": "1.234", "post_by_day": 40}
        )
    where = " ".join(p.where for p in info.value.problems)
    assert "colour" in where and "large_expense" in where and "post_by_day" in where
    with pytest.raises(ProblemsError) as info:
        october(
            story,
            config=parse_config(
                {"chart": "npo-2004", "income": [{"name": "x", "accounts": ["999"]}]}
            ),
        )
    assert len(info.value.problems) == 2  # another chart; no account 999


def test_default_config_round_trips_through_toml(story: World, tmp_path: Path) -> None:
    cfg = story.run(default_config, story.entity)
    assert [c.name for c in cfg.expense][:3] == ["经营支出", "税金及附加", "管理费用"]
    sections = {s.key: s.accounts for s in cfg.sections}
    assert sections == {
        "subsidies": ("51302",),
        "relief": ("50401", "51401"),
        "fees": ("50403",),
        "one_matter": ("231",),
    }
    assert cfg.receivables == ("112", "113")
    assert "231" not in cfg.payables and "211" in cfg.payables
    path = tmp_path / "c.toml"
    path.write_text(config_toml(cfg), encoding="utf-8")
    assert load_config(path) == cfg


# --------------------------------------------------------------------------- budget service


def test_budget_service(story: World) -> None:
    lines = story.run(budget_lines, story.entity, 2026)
    assert [(b.line_no, b.name, b.kind, b.accounts, b.amount) for b in lines][:2] == [
        (1, "办公经费", "expense", ("51301",), D("2000.00")),
        (2, "干部补贴", "expense", ("51302",), D("40000.00")),
    ]
    assert story.run(budget_lines, story.entity, 2027) == []
    with pytest.raises(SegregationOfDutiesError):
        story.run(set_budget, story.entity, "cash", 2026, BUDGET)
    with pytest.raises(ProblemsError) as info:
        story.run(
            set_budget,
            story.entity,
            "bk",
            2026,
            [
                BudgetInput("", "expense", ("999",), D("1")),
                BudgetInput("错类", "income", ("513",), D("-5")),
            ],
        )
    assert len(info.value.problems) == 4  # empty name, no 999, 513 not income, negative
    assert len(story.run(budget_lines, story.entity, 2026)) == 4  # unchanged
    story.run(set_budget, story.entity, "bk", 2026, BUDGET[:1])
    assert [b.name for b in story.run(budget_lines, story.entity, 2026)] == ["办公经费"]
    with transaction(story.engine, write=False) as s:
        actions = s.execute(select(AuditLog.action).where(AuditLog.action == "budget.set")).all()
    assert len(actions) == 2
