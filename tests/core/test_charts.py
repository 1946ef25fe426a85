"""Charts of accounts (会计科目表): the shipped templates and the rules they obey."""

from __future__ import annotations

from importlib import resources

import pytest

from juzhang.charts import (
    CATEGORIES,
    CHART_KEYS,
    DEFAULT_CHART,
    SIDES,
    ChartTemplate,
    load_chart,
    parent_code,
    parse_chart,
)
from juzhang.errors import NotFoundError, ProblemsError, ValidationError


def _codes(text: str) -> list[str]:
    return text.split()


# First-level codes as DOMAIN.md §5 lists them, in order.
RURAL_2023_CODES = _codes(
    "101 102 111 112 113 121 131 132 133 134 141 151 152 153 154 161 162 171 181 "
    "201 211 212 213 214 221 231 241 301 311 321 322 401 "
    "501 502 503 504 511 512 513 514 515 521"
)
RURAL_2004_CODES = _codes(
    "101 102 111 112 113 121 131 132 141 151 152 153 154 201 202 211 212 221 231 "
    "301 311 321 322 401 501 502 511 521 522 531 541 551 561"
)
NPO_2004_CODES = _codes(
    "1001 1002 1009 1101 1102 1111 1121 1122 1131 1141 1201 1202 1301 1401 1402 1421 "
    "1501 1502 1505 1506 1509 1601 1701 2101 2201 2202 2203 2204 2206 2209 2301 2401 "
    "2501 2502 2601 3101 3102 4101 4201 4301 4401 4501 4601 4901 5101 5201 5301 5401"
)


# --- the shipped charts ------------------------------------------------------


@pytest.mark.parametrize("key", CHART_KEYS)
def test_each_chart_loads_and_is_cached(key: str) -> None:
    chart = load_chart(key)
    assert isinstance(chart, ChartTemplate)
    assert chart.key == key
    assert load_chart(key) is chart


def test_default_chart_is_rural_2023() -> None:
    assert DEFAULT_CHART == "rural-2023"
    assert CHART_KEYS[0] == DEFAULT_CHART
    chart = load_chart(DEFAULT_CHART)
    assert chart.name == "农村集体经济组织会计制度"
    assert chart.regulation == "财会〔2023〕14号"
    assert chart.effective == "2024-01-01"


def test_legacy_and_npo_headers() -> None:
    rural = load_chart("rural-2004")
    assert (rural.name, rural.regulation) == ("村集体经济组织会计制度", "财会〔2004〕12号")
    npo = load_chart("npo-2004")
    assert (npo.name, npo.regulation) == ("民间非营利组织会计制度", "财会〔2004〕7号")


def test_unknown_chart_is_not_found() -> None:
    with pytest.raises(NotFoundError) as info:
        load_chart("rural-1996")
    assert info.value.key == "rural-1996"


@pytest.mark.parametrize(
    ("key", "codes"),
    [
        ("rural-2023", RURAL_2023_CODES),
        ("rural-2004", RURAL_2004_CODES),
        ("npo-2004", NPO_2004_CODES),
    ],
)
def test_first_level_codes_are_exactly_those_of_the_regulation(key: str, codes: list[str]) -> None:
    chart = load_chart(key)
    assert [a.code for a in chart.default_accounts() if a.parent is None] == codes
    # besides them, only the accounts the 2004 附注 lets a community add (可增设)
    optional = {"rural-2004": ["161", "171", "241"]}.get(key, [])
    assert [a.code for a in chart.optional_accounts()] == optional


@pytest.mark.parametrize(
    ("key", "code", "name", "category", "side"),
    [
        ("rural-2023", "101", "库存现金", "asset", "debit"),
        ("rural-2023", "113", "内部往来", "asset", "either"),
        ("rural-2023", "133", "生产性生物资产累计折旧", "asset", "credit"),
        ("rural-2023", "152", "累计折旧", "asset", "credit"),
        ("rural-2023", "153", "在建工程", "asset", "debit"),
        ("rural-2023", "154", "固定资产清理", "asset", "either"),
        ("rural-2023", "162", "累计摊销", "asset", "credit"),
        ("rural-2023", "181", "待处理财产损溢", "asset", "either"),
        ("rural-2023", "211", "应付款", "liability", "credit"),
        ("rural-2023", "241", "专项应付款", "liability", "credit"),
        ("rural-2023", "321", "本年收益", "equity", "credit"),
        ("rural-2023", "322", "收益分配", "equity", "either"),
        ("rural-2023", "401", "生产（劳务）成本", "cost", "debit"),
        ("rural-2023", "502", "投资收益", "income", "credit"),
        ("rural-2023", "513", "管理费用", "expense", "debit"),
        ("rural-2023", "521", "所得税费用", "expense", "debit"),
        ("rural-2004", "101", "现金", "asset", "debit"),
        ("rural-2004", "131", "牲畜（禽）资产", "asset", "debit"),
        ("rural-2004", "153", "固定资产清理", "asset", "either"),
        ("rural-2004", "154", "在建工程", "asset", "debit"),
        ("rural-2004", "202", "应付款", "liability", "credit"),
        ("rural-2004", "212", "应付福利费", "liability", "credit"),
        ("rural-2004", "502", "经营支出", "expense", "debit"),
        ("rural-2004", "511", "发包及上交收入", "income", "credit"),
        ("rural-2004", "521", "农业税附加返还收入", "income", "credit"),
        ("rural-2004", "561", "投资收益", "income", "credit"),
        ("npo-2004", "1001", "现金", "asset", "debit"),
        ("npo-2004", "1131", "坏账准备", "asset", "credit"),
        ("npo-2004", "1421", "长期投资减值准备", "asset", "credit"),
        ("npo-2004", "1509", "固定资产清理", "asset", "either"),
        ("npo-2004", "2209", "其他应付款", "liability", "credit"),
        ("npo-2004", "3101", "非限定性净资产", "net_assets", "credit"),
        ("npo-2004", "3102", "限定性净资产", "net_assets", "credit"),
        ("npo-2004", "4101", "捐赠收入", "income", "credit"),
        ("npo-2004", "5101", "业务活动成本", "expense", "debit"),
    ],
)
def test_spot_checks_against_domain(
    key: str, code: str, name: str, category: str, side: str
) -> None:
    account = load_chart(key).account(code)
    assert (account.name, account.category, account.side) == (name, category, side)


def test_same_code_means_different_things_in_different_charts() -> None:
    new, old = load_chart("rural-2023"), load_chart("rural-2004")
    assert (new.account("502").name, new.account("502").category) == ("投资收益", "income")
    assert (old.account("502").name, old.account("502").category) == ("经营支出", "expense")
    # 153 and 154 swapped between 2004 and 2023.
    assert (new.account("153").name, new.account("154").name) == ("在建工程", "固定资产清理")
    assert (old.account("153").name, old.account("154").name) == ("固定资产清理", "在建工程")


@pytest.mark.parametrize(
    ("key", "cash", "bank"),
    [("rural-2023", "101", "102"), ("rural-2004", "101", "102"), ("npo-2004", "1001", "1002")],
)
def test_custody_accounts_are_exactly_cash_and_bank(key: str, cash: str, bank: str) -> None:
    chart = load_chart(key)
    assert [(a.code, a.custody) for a in chart.custody_accounts()] == [
        (cash, "cash"),
        (bank, "bank"),
    ]


def test_other_monetary_funds_are_not_custody() -> None:
    assert load_chart("npo-2004").account("1009").custody is None


def test_income_and_expense_accounts_are_first_level_and_leave_out_cost() -> None:
    new = load_chart("rural-2023")
    assert [a.code for a in new.income_accounts()] == ["501", "502", "503", "504"]
    assert [a.code for a in new.expense_accounts()] == ["511", "512", "513", "514", "515", "521"]
    old = load_chart("rural-2004")
    assert [a.code for a in old.income_accounts()] == ["501", "511", "521", "522", "531", "561"]
    assert [a.code for a in old.expense_accounts()] == ["502", "541", "551"]
    npo = load_chart("npo-2004")
    assert [a.code for a in npo.expense_accounts()] == ["5101", "5201", "5301", "5401"]
    assert len(npo.income_accounts()) == 7


@pytest.mark.parametrize(
    ("key", "result", "distribution", "loss", "suspense", "payable"),
    [
        ("rural-2023", "321", "322", "181", "21199", "211"),
        ("rural-2004", "321", "322", None, "20299", "202"),
        ("npo-2004", "3101", None, None, "220999", "2209"),
    ],
)
def test_special_accounts(
    key: str,
    result: str,
    distribution: str | None,
    loss: str | None,
    suspense: str,
    payable: str,
) -> None:
    chart = load_chart(key)
    assert chart.current_year_result == result
    assert chart.result_distribution == distribution
    assert chart.loss_pending == loss
    assert chart.suspense == suspense
    detail = chart.account(suspense)
    assert (detail.name, detail.parent) == ("待查款项", payable)
    # A detail account inherits its parent's category and side.
    assert (detail.category, detail.side, detail.custody) == ("liability", "credit", None)


@pytest.mark.parametrize(("key", "length"), [("rural-2023", 3), ("rural-2004", 3), ("npo-2004", 4)])
def test_top_level_length(key: str, length: int) -> None:
    assert load_chart(key).top_level_length == length


@pytest.mark.parametrize("key", CHART_KEYS)
def test_every_shipped_account_obeys_the_rules(key: str) -> None:
    chart = load_chart(key)
    codes = [a.code for a in chart.accounts]
    assert len(codes) == len(set(codes))
    seen: set[str] = set()
    for account in chart.accounts:
        assert account.category in CATEGORIES
        assert account.side in SIDES
        assert account.parent == parent_code(account.code, chart.top_level_length)
        assert account.parent is None or account.parent in seen
        seen.add(account.code)


def test_account_lookup_unknown_code() -> None:
    with pytest.raises(NotFoundError, match="rural-2023 999"):
        load_chart("rural-2023").account("999")


def test_templates_ship_as_package_data() -> None:
    shipped = {p.name for p in resources.files("juzhang.charts").iterdir()}
    assert {f"{key}.toml" for key in CHART_KEYS} <= shipped


# --- the code rule -----------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "length", "parent"),
    [
        ("513", 3, None),
        ("51301", 3, "513"),
        ("5130101", 3, "51301"),
        ("2209", 4, None),
        ("220999", 4, "2209"),
        ("22099901", 4, "220999"),
    ],
)
def test_parent_code(code: str, length: int, parent: str | None) -> None:
    assert parent_code(code, length) == parent


@pytest.mark.parametrize(
    ("code", "length"),
    [
        ("5130", 3),  # one digit added, not two
        ("513011", 3),
        ("51", 3),  # shorter than a first-level code
        ("", 3),
        ("51a01", 3),
        ("５１３", 3),  # full-width digits
        (" 513", 3),
        ("22099", 4),
        ("513", 0),
    ],
)
def test_parent_code_refuses_codes_off_the_rule(code: str, length: int) -> None:
    with pytest.raises(ValidationError):
        parent_code(code, length)


# --- bad templates are refused, every problem listed ------------------------

GOOD = """
key = "tiny"
name = "小科目表"
regulation = "测试"
effective = "2024-01-01"
current_year_result = "321"
result_distribution = "322"
loss_pending = "181"
suspense = "21199"

[[account]]
code = "101"
name = "库存现金"
category = "asset"
side = "debit"
custody = "cash"

[[account]]
code = "181"
name = "待处理财产损溢"
category = "asset"
side = "either"

[[account]]
code = "211"
name = "应付款"
category = "liability"
side = "credit"

[[account]]
code = "21199"
name = "待查款项"
parent = "211"

[[account]]
code = "321"
name = "本年收益"
category = "equity"
side = "credit"

[[account]]
code = "322"
name = "收益分配"
category = "equity"
side = "either"
"""


def test_a_good_small_template_parses() -> None:
    chart = parse_chart(GOOD)
    assert chart.key == "tiny"
    assert chart.account("21199").category == "liability"


def test_optional_special_codes_may_be_absent_or_empty() -> None:
    text = GOOD.replace('result_distribution = "322"', 'result_distribution = ""')
    text = text.replace('loss_pending = "181"\n', "")
    chart = parse_chart(text)
    assert (chart.result_distribution, chart.loss_pending) == (None, None)


def test_an_unquoted_toml_date_is_accepted() -> None:
    chart = parse_chart(GOOD.replace('effective = "2024-01-01"', "effective = 2024-01-01"))
    assert chart.effective == "2024-01-01"


def _problems(text: str) -> list[str]:
    with pytest.raises(ProblemsError) as info:
        parse_chart(text, "bad.toml")
    return [p.message for p in info.value.problems]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ('code = "322"', 'code = "321"', "duplicate code 321"),
        ('parent = "211"', 'parent = "212"', "parent must be 211"),
        ('code = "21199"', 'code = "21299"', "parent must be 212"),
        ('code = "21199"', 'code = "2119"', "must be a 3-digit first-level code"),
        ('category = "equity"\nside = "either"', 'category = "profit"', "invalid category"),
        ('"asset"\nside = "either"', '"asset"\nside = "left"', "invalid side"),
        ('custody = "cash"', 'custody = "safe"', "invalid custody"),
        ('"应付款"\ncategory', '"应付款"\ncustody = "bank"\ncategory', "only an asset may have"),
        ('parent = "211"', 'parent = "211"\nside = "debit"', "side 与上级不同"),
        ('loss_pending = "181"', 'loss_pending = "189"', "loss_pending 189 is not in the chart"),
        ('suspense = "21199"', 'suspense = "21198"', "suspense 21198 is not in the chart"),
        ('current_year_result = "321"', 'current_year_result = "211"', "must be equity"),
        ('suspense = "21199"', 'suspense = "21199"\ncolour = "red"', "unknown field 'colour'"),
        ('name = "应付款"', 'name = "应付款"\nkind = "x"', "unknown field 'kind'"),
        ('effective = "2024-01-01"', 'effective = "2024-02-30"', "not a date"),
        ('effective = "2024-01-01"', 'effective = "20240101"', "not a date"),
        ('regulation = "测试"\n', "", "missing regulation"),
        ('name = "应付款"\ncategory = "liability"', 'name = "应付款"', "lacks category"),
        ('code = "101"', "code = 101", "code 应为文本 / must be a string"),
    ],
)
def test_bad_templates_are_refused(old: str, new: str, expected: str) -> None:
    assert GOOD.count(old) == 1, old
    messages = _problems(GOOD.replace(old, new))
    assert any(expected in m for m in messages), messages


def test_a_missing_parent_is_refused() -> None:
    text = GOOD.replace('code = "211"', 'code = "212"')
    text = text.replace('name = "应付款"', 'name = "应付工资"')
    messages = _problems(text)
    assert any("parent 211 not listed before it" in m for m in messages), messages


def test_a_detail_listed_before_its_parent_is_refused() -> None:
    detail = '[[account]]\ncode = "21199"\nname = "待查款项"\nparent = "211"\n'
    first = '[[account]]\ncode = "101"'
    text = GOOD.replace(detail, "").replace(first, detail + "\n" + first)
    messages = _problems(text)
    assert any("parent 211 not listed before it" in m for m in messages), messages


def test_every_problem_is_listed_at_once() -> None:
    text = GOOD.replace('custody = "cash"', 'custody = "safe"').replace(
        'code = "322"', 'code = "321"'
    )
    messages = _problems(text)
    assert len(messages) == 2, messages


def test_text_that_is_not_toml_is_refused() -> None:
    messages = _problems("key = \n[[account")
    assert any("not valid TOML" in m for m in messages)


def test_a_template_without_accounts_is_refused() -> None:
    header = GOOD.split("[[account]]")[0]
    assert any("no [[account]] entries" in m for m in _problems(header))
