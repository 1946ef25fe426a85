"""Tests for juzhang.money: exact amounts, parsing, 大写金额 and splitting."""

from __future__ import annotations

import re
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from juzhang import money
from juzhang.errors import MoneyError
from juzhang.money import (
    FEN,
    MAX_AMOUNT,
    capitals,
    format_amount,
    format_fen,
    from_fen,
    parse_capitals,
    parse_money,
    split_amount,
    to_fen,
)

ALLOWED_CAPITALS = set("零壹贰叁肆伍陆柒捌玖拾佰仟万亿元角分整负")
FORBIDDEN_CAPITALS = set("两一二三廿毛另〇")

# --------------------------------------------------------------------------- capitals

CANONICAL = [
    # DOMAIN.md §4
    ("1409.50", "壹仟肆佰零玖元伍角整"),
    ("6007.14", "陆仟零柒元壹角肆分"),
    ("107000.53", "壹拾万柒仟元零伍角叁分"),
    ("16409.02", "壹万陆仟肆佰零玖元零贰分"),
    ("0.00", "零元整"),
    # the brief and the official rule
    ("1680.32", "壹仟陆佰捌拾元零叁角贰分"),
    ("0.05", "伍分"),
    ("0.50", "伍角整"),
    ("0.55", "伍角伍分"),
    ("1.00", "壹元整"),
    ("10.00", "壹拾元整"),
    ("15.00", "壹拾伍元整"),
    ("10.02", "壹拾元零贰分"),
    ("110.00", "壹佰壹拾元整"),
    ("100000.00", "壹拾万元整"),
    ("1000001.00", "壹佰万零壹元整"),
    ("10010000.00", "壹仟零壹万元整"),
    ("100000000.00", "壹亿元整"),
    ("100010000.00", "壹亿零壹万元整"),
    ("100001000.00", "壹亿壹仟元整"),
    ("101000000.00", "壹亿零壹佰万元整"),
    ("1000000000.00", "壹拾亿元整"),
    ("1010000000.00", "壹拾亿壹仟万元整"),
    ("1000000001.00", "壹拾亿零壹元整"),
    ("9999999999.99", "玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分"),
    ("1000000000000.00", "壹万亿元整"),
    ("1000100000000.00", "壹万零壹亿元整"),
    ("1000010000000.00", "壹万亿壹仟万元整"),
    ("9999999999999.99", "玖万玖仟玖佰玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分"),
    ("-12.30", "负壹拾贰元叁角整"),
    ("-0.05", "负伍分"),
]


@pytest.mark.parametrize(("figures", "words"), CANONICAL)
def test_capitals_canonical(figures: str, words: str) -> None:
    assert capitals(figures) == words
    assert capitals(Decimal(figures)) == words
    assert parse_capitals(words) == Decimal(figures)


def test_capitals_of_int_means_yuan() -> None:
    assert capitals(10) == "壹拾元整"
    assert capitals(-3) == "负叁元整"


def test_both_forms_of_107000_53_mean_the_same() -> None:
    canonical = parse_capitals("壹拾万柒仟元零伍角叁分")
    alternative = parse_capitals("壹拾万零柒仟元伍角叁分")
    assert canonical == alternative == Decimal("107000.53")


ALTERNATIVES = [
    ("壹拾万零柒仟元伍角叁分", "107000.53"),
    ("壹拾万零柒仟元零伍角叁分", "107000.53"),
    ("壹拾万柒仟元伍角叁分", "107000.53"),
    ("壹仟陆佰捌拾元叁角贰分", "1680.32"),
    ("壹亿零壹仟元整", "100001000.00"),
    ("壹仟肆佰零玖元伍角", "1409.50"),
    ("壹仟肆佰零玖元伍角正", "1409.50"),
    ("壹仟肆佰零玖圆伍角整", "1409.50"),
    ("壹拾圆正", "10.00"),
    ("人民币壹拾元整", "10.00"),
    ("人民币 壹拾元整", "10.00"),
    ("  人民币壹拾元整\u3000", "10.00"),
    ("负人民币壹拾元整", "-10.00"),
    ("人民币负壹拾元整", "-10.00"),
    ("负伍角", "-0.50"),
]


@pytest.mark.parametrize(("words", "figures"), ALTERNATIVES)
def test_parse_capitals_alternatives(words: str, figures: str) -> None:
    assert parse_capitals(words) == Decimal(figures)


BAD_CAPITALS = [
    "",
    "   ",
    "人民币",
    "负",
    "一千元整",
    "壹仟两佰元整",
    "贰拾壹元伍毛",
    "廿元整",
    "壹佰另伍元整",
    "壹佰零5元整",
    "1元整",
    "拾元整",  # bare 拾
    "壹元",  # 整 missing after 元
    "壹元伍分整",  # 整 after 分 / 零 missing
    "壹元伍分",  # 零 missing before 分
    "壹仟玖元整",  # 零 missing inside a group
    "壹仟零零玖元整",  # doubled 零
    "壹佰万壹元整",  # 零 missing after a group
    "零壹元整",
    "壹元零整",
    "伍角零分",
    "壹佰拾元整",
    "拾壹元整",
    "壹万壹万元整",
    "元整",
    "壹元整整",
    "负零元整",
    "负负壹元整",
    "壹 元整",
    "壹元整abc",
    "零元伍角整",
    "壹亿亿亿亿元整",
]


@pytest.mark.parametrize("words", BAD_CAPITALS)
def test_parse_capitals_refuses(words: str) -> None:
    with pytest.raises(MoneyError) as caught:
        parse_capitals(words)
    assert repr(words) in str(caught.value)


def test_parse_capitals_names_forbidden_characters() -> None:
    with pytest.raises(MoneyError, match="禁用字 两"):
        parse_capitals("壹仟两佰元整")


def _check_capitals(fen: int) -> None:
    amount = from_fen(fen)
    words = capitals(amount)
    assert set(words) <= ALLOWED_CAPITALS, words
    assert not set(words) & FORBIDDEN_CAPITALS, words
    assert not re.search(r"[0-9]", words), words
    assert "零零" not in words
    assert parse_capitals(words) == amount


@settings(max_examples=3000, deadline=None)
@given(st.integers(min_value=0, max_value=999_999_999_999))
@example(0)
@example(1)
@example(10)
@example(100)
@example(1000)
@example(100_000)
@example(10_000_000)
@example(100_000_000)
@example(1_000_000_000)
@example(10_000_000_000)
@example(100_000_000_000)
@example(100_000_100)
@example(10_000_000_001)
@example(100_100_100_100)
@example(900_000_000_009)
@example(999_999_999_999)
def test_capitals_round_trip_up_to_ten_billion(fen: int) -> None:
    _check_capitals(fen)


@settings(max_examples=1000, deadline=None)
@given(st.integers(min_value=-999_999_999_999_999, max_value=999_999_999_999_999))
@example(100_000_000_000_000)
@example(100_000_000_100_000)
@example(-999_999_999_999_999)
def test_capitals_round_trip_whole_range_and_negatives(fen: int) -> None:
    _check_capitals(fen)
    assert capitals(from_fen(fen)).startswith("负") == (fen < 0)


@st.composite
def amounts_with_zeros(draw: st.DrawFn) -> int:
    """Fen amounts made of few non-zero digits, where the 零 rules bite."""
    digits = draw(st.lists(st.sampled_from("0000000123456789"), min_size=1, max_size=15))
    return int("".join(digits))


@settings(max_examples=1500, deadline=None)
@given(amounts_with_zeros())
def test_every_allowed_alternative_parses_to_the_same_amount(fen: int) -> None:
    _check_capitals(fen)
    for words in money._variants(fen):  # noqa: SLF001  the spellings the parser must accept
        assert parse_capitals(words) == from_fen(fen), words


# --------------------------------------------------------------------------- parse_money

ACCEPTED = [
    ("1234.56", "1234.56"),
    ("1,234.56", "1234.56"),
    ("¥1,234.56", "1234.56"),
    ("￥1,234.56", "1234.56"),
    ("RMB 12", "12.00"),
    ("rmb12.5", "12.50"),
    ("CNY 1,000", "1000.00"),
    ("１２３．４５", "123.45"),
    ("１，２３４．５０", "1234.50"),
    ("－１２", "-12.00"),
    ("  12.30 ", "12.30"),
    ("\u300012\u3000", "12.00"),
    ("\t12\t", "12.00"),
    ("-12.3", "-12.30"),
    ("+12.3", "12.30"),
    ("−12.3", "-12.30"),
    ("-¥12.00", "-12.00"),
    ("¥-12.00", "-12.00"),
    ("(123.00)", "-123.00"),
    ("（123.00）", "-123.00"),
    ("(¥1,234.56)", "-1234.56"),
    ("12.3", "12.30"),
    ("12", "12.00"),
    ("0", "0.00"),
    ("-0", "0.00"),
    ("007", "7.00"),
    ("1,000,000", "1000000.00"),
    ("9999999999999.99", "9999999999999.99"),
    ("-9,999,999,999,999.99", "-9999999999999.99"),
]


@pytest.mark.parametrize(("text", "expected"), ACCEPTED)
def test_parse_money_accepts(text: str, expected: str) -> None:
    result = parse_money(text)
    assert result == Decimal(expected)
    assert str(result) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (12, "12.00"),
        (-3, "-3.00"),
        (0, "0.00"),
        (Decimal("12.3"), "12.30"),
        (Decimal("12.30"), "12.30"),
        (Decimal("1E+2"), "100.00"),
        (Decimal("-0.00"), "0.00"),
        (MAX_AMOUNT, "9999999999999.99"),
    ],
)
def test_parse_money_accepts_int_and_decimal(value: int | Decimal, expected: str) -> None:
    assert str(parse_money(value)) == expected


REFUSED: list[object] = [
    12.5,
    0.0,
    True,
    False,
    None,
    [12],
    Decimal("NaN"),
    Decimal("sNaN"),
    Decimal("Infinity"),
    Decimal("-Infinity"),
    Decimal("1.234"),
    Decimal("1.230"),
    Decimal("10000000000000"),
    10_000_000_000_000,
    "NaN",
    "nan",
    "sNaN",
    "Infinity",
    "-inf",
    "1e3",
    "1E3",
    "1.5e-2",
    "",
    "   ",
    "\u3000\t",
    "1.234",
    "1.230",
    "1.2300",
    "1,23.4",
    "12,34",
    "1,2345",
    ",123",
    "1,,234",
    "12a",
    "abc",
    "12元",
    "十二",
    "--12",
    "+-12",
    "-(12)",
    "(12",
    "12)",
    "((12))",
    "1.2.3",
    ".",
    "-",
    "12.",
    "1 234",
    "10000000000000.00",
    "-10,000,000,000,000",
    "12-",
    "¥",
    "0x10",
]


@pytest.mark.parametrize("value", REFUSED, ids=repr)
def test_parse_money_refuses(value: object) -> None:
    with pytest.raises(MoneyError) as caught:
        parse_money(value)  # type: ignore[arg-type]
    assert caught.value.value is value
    assert repr(value) in str(caught.value)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (1.5, "float"),
        (True, "bool"),
        ("NaN", "NaN"),
        ("1e3", "exponent"),
        ("", "empty"),
        ("1.230", "decimal places"),
        ("1,23.4", "groups of 3"),
        ("12abc", "letters"),
        ("--12", "more than one sign"),
        ("10000000000000", "maximum"),
        ("(12", "parentheses"),
    ],
)
def test_parse_money_reasons_are_clear(value: object, reason: str) -> None:
    with pytest.raises(MoneyError, match=reason):
        parse_money(value)  # type: ignore[arg-type]


def test_money_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        parse_money("abc")


@given(st.integers(min_value=-999_999_999_999_999, max_value=999_999_999_999_999))
def test_figures_round_trip(fen: int) -> None:
    amount = from_fen(fen)
    assert amount.as_tuple().exponent == -2
    assert to_fen(amount) == fen
    assert parse_money(format_amount(amount)) == amount
    assert parse_money(str(amount)) == amount
    assert format_fen(fen) == format_amount(amount)


# --------------------------------------------------------------------------- fen and formatting


def test_fen_conversions() -> None:
    assert str(FEN) == "0.01"
    assert str(MAX_AMOUNT) == "9999999999999.99"
    assert to_fen("1,234.56") == 123456
    assert to_fen(Decimal("0.01")) == 1
    assert to_fen(12) == 1200
    assert to_fen("-0.05") == -5
    assert from_fen(123456) == Decimal("1234.56")
    assert str(from_fen(0)) == "0.00"
    assert str(from_fen(-5)) == "-0.05"


@pytest.mark.parametrize(
    "bad",
    [True, 1.5, "12", Decimal("12"), 10**15],
    ids=repr,
)
def test_from_fen_refuses(bad: object) -> None:
    with pytest.raises(MoneyError):
        from_fen(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [True, 0.5, Decimal("1.234"), "1.2.3"], ids=repr)
def test_to_fen_refuses(bad: object) -> None:
    with pytest.raises(MoneyError):
        to_fen(bad)  # type: ignore[arg-type]


def test_format_amount() -> None:
    assert format_amount(Decimal("1234.56")) == "1,234.56"
    assert format_amount(Decimal("-12")) == "-12.00"
    assert format_amount(Decimal("-0.00")) == "0.00"
    assert format_amount(Decimal("1234567.8")) == "1,234,567.80"
    assert format_fen(123456) == "1,234.56"
    assert format_fen(-1200) == "-12.00"
    assert format_fen(5) == "0.05"


@pytest.mark.parametrize("bad", [1234, 12.5, "12", Decimal("1.234"), Decimal("NaN")], ids=repr)
def test_format_amount_refuses(bad: object) -> None:
    with pytest.raises(MoneyError):
        format_amount(bad)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- split_amount


def test_split_gives_remainder_to_earlier_ties() -> None:
    assert split_amount(Decimal("10.00"), [1, 1, 1]) == [
        Decimal("3.34"),
        Decimal("3.33"),
        Decimal("3.33"),
    ]
    assert split_amount(Decimal("-10.00"), [1, 1, 1]) == [
        Decimal("-3.34"),
        Decimal("-3.33"),
        Decimal("-3.33"),
    ]


def test_split_gives_remainder_to_largest_remainder() -> None:
    # exact shares 0.0125, 0.0375, 0.0 fen*100: 1.25 fen and 3.75 fen
    assert split_amount(Decimal("0.05"), [1, 3, 0]) == [
        Decimal("0.01"),
        Decimal("0.04"),
        Decimal("0.00"),
    ]
    assert split_amount(Decimal("100.00"), [Decimal("0.5"), Decimal("1.5")]) == [
        Decimal("25.00"),
        Decimal("75.00"),
    ]


@pytest.mark.parametrize(
    "weights",
    [[], [0, 0], [1, -1], [True, 1], [1.5], [Decimal("NaN")], ["1"]],
    ids=repr,
)
def test_split_refuses_bad_weights(weights: list[object]) -> None:
    with pytest.raises(MoneyError):
        split_amount(Decimal("1.00"), weights)  # type: ignore[arg-type]


weights_strategy = st.lists(
    st.one_of(
        st.integers(min_value=0, max_value=10**6),
        st.decimals(min_value=0, max_value=1000, places=3, allow_nan=False, allow_infinity=False),
    ),
    min_size=1,
    max_size=12,
).filter(any)


@settings(max_examples=500)
@given(
    st.integers(min_value=-999_999_999_999_999, max_value=999_999_999_999_999),
    weights_strategy,
)
def test_split_adds_up_and_stays_within_one_fen(fen: int, weights: list[int | Decimal]) -> None:
    amount = from_fen(fen)
    parts = split_amount(amount, weights)
    assert len(parts) == len(weights)
    assert sum(parts, Decimal(0)) == amount
    whole = sum(Fraction(w) for w in weights)
    for part, weight in zip(parts, weights, strict=True):
        assert part.as_tuple().exponent == -2
        exact_share = Fraction(fen) * Fraction(weight) / whole
        assert abs(Fraction(to_fen(part)) - exact_share) < 1
