"""Money (金额): exact amounts, the one parser of amounts, and amounts in capitals (大写金额).

Money is exact.  In Python an amount is a :class:`~decimal.Decimal` with exactly
two decimal places (元 . 角 分); in the database it is an integer number of fen
(分).  A float never holds money, not even for a moment while parsing:
:func:`parse_money` refuses floats and reads text digit by digit.  It is the one
door through which figures written by people or banks become amounts, and it
refuses what is not money (NaN, exponents, a third decimal place, stray letters)
with :class:`~juzhang.errors.MoneyError` instead of guessing.

:func:`to_fen` and :func:`from_fen` cross between ``Decimal`` and integer fen;
:func:`format_amount` and :func:`format_fen` write figures as ``1,234.56``;
:func:`split_amount` shares an amount out so the parts always add up.

Amounts in capitals (大写金额), as on vouchers, claim forms and cheques, follow
the official rule (支付结算办法 附件《正确填写票据和结算凭证的基本规定》, 会计基础工作规范
第五十二条).  :func:`capitals` writes one canonical form:

* digits 零壹贰叁肆伍陆柒捌玖, places 拾佰仟, groups 万 and 亿 (万亿 for amounts
  of 10^12 元 and above: 1,000,000,000,000 → 壹万亿元整), then 元角分 and 整;
  never 一二三, 两, 廿, 毛, 另, 〇 or 0-9;
* a leading 1 in the tens place is written 壹拾, never a bare 拾 (10 → 壹拾元整);
* within the integer part a run of zeros between non-zero digits is one 零
  (1409 → 壹仟肆佰零玖, 6007 → 陆仟零柒, 1000001 → 壹佰万零壹), except a run
  that ends on the 万 or 亿 digit right before a non-zero 仟 digit, which is
  silent (107000 → 壹拾万柒仟, 100001000 → 壹亿壹仟); zeros at the end of a group
  are always silent (10010000 → 壹仟零壹万);
* when the 元 digit is zero and 角 is not, 零 is written after 元
  (107000.53 → 壹拾万柒仟元零伍角叁分); when 角 is zero and 分 is not, 零 is
  written after 元 (16409.02 → 壹万陆仟肆佰零玖元零贰分);
* 整 after 元 and after 角, nothing after 分 (0.50 → 伍角整, 0.05 → 伍分);
  an amount below one 元 has no 元 part; zero is 零元整;
* a negative amount is prefixed 负.  人民币 is not added: forms print it.

:func:`parse_capitals` reads the canonical form and the alternatives the rule
allows, and nothing else: a 零 written or left out at each optional place above
(壹拾万零柒仟元伍角叁分), 整 left out after 角, 正 for 整, 圆 for 元, a leading
人民币 and a 负 before or after it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Context, Decimal
from fractions import Fraction
from itertools import chain, combinations

from juzhang.core.types import Fen
from juzhang.errors import MoneyError

__all__ = [
    "FEN",
    "MAX_AMOUNT",
    "capitals",
    "format_amount",
    "format_fen",
    "from_fen",
    "parse_capitals",
    "parse_money",
    "split_amount",
    "to_fen",
]

FEN = Decimal("0.01")
MAX_AMOUNT = Decimal("9999999999999.99")
_MAX_FEN = 999_999_999_999_999
_CONTEXT = Context(prec=40)  # ample for every amount; immune to the caller's context

# ---------------------------------------------------------------------------
# parse_money

_FULL_WIDTH = str.maketrans(
    {chr(0xFF10 + i): str(i) for i in range(10)}
    | {"，": ",", "．": ".", "－": "-", "＋": "+", "−": "-", "（": "(", "）": ")", "￥": "¥"}
)
_AMOUNT = re.compile(
    r"(?P<open>\()?\s*(?P<sign>[-+])?\s*(?:(?:¥|RMB|CNY)\s*)?(?P<sign2>[-+])?\s*"
    r"(?P<int>[0-9][0-9,]*)(?:\.(?P<frac>[0-9]+))?\s*(?P<close>\))?",
    re.IGNORECASE,
)
_GROUPED = re.compile(r"[0-9]{1,3}(?:,[0-9]{3})*")
_NOT_A_NUMBER = re.compile(r"[-+]?\s*(?:s?nan|inf|infinity)", re.IGNORECASE)
_EXPONENT = re.compile(r"[0-9.]\s*e\s*[-+]?\s*[0-9]", re.IGNORECASE)
_CURRENCY = re.compile(r"RMB|CNY", re.IGNORECASE)

_R_NAN = "不是数 / NaN or Infinity is not an amount"
_R_PLACES = "小数超过两位 / more than 2 decimal places"


def parse_money(value: str | int | Decimal) -> Decimal:
    """Read an amount of money exactly; the one parser of amounts in juzhang.

    Accepts text as accountants and banks write it (``"1,234.56"``,
    ``"¥1,234.56"``, ``"RMB 12"``, full-width digits and punctuation, surrounding
    spaces and tabs, a leading ``-``/``+``/``−``, accounting parentheses
    ``"(123.00)"`` for a negative), an ``int`` of 元, or a finite ``Decimal``
    with at most two decimal places.

    Returns a ``Decimal`` with exactly two decimal places (``"12.3"`` → ``12.30``,
    never ``-0.00``).  Raises :class:`MoneyError` for a float or bool, NaN or
    Infinity, exponents, empty text, a third decimal place (even ``"1.230"``),
    misplaced thousands separators, letters, more than one sign, unbalanced
    parentheses, or an absolute value above :data:`MAX_AMOUNT`.
    """
    if isinstance(value, bool):
        raise MoneyError(value, "布尔值不是金额 / a bool is not an amount")
    if isinstance(value, Decimal):
        return _from_decimal(value)
    if isinstance(value, int):
        return _finish(value, Decimal(value))
    if isinstance(value, str):
        return _from_text(value)
    if isinstance(value, float):
        raise MoneyError(value, "浮点数不精确 / a float is not exact; pass str or Decimal")
    raise MoneyError(value, f"类型不支持 / unsupported type {type(value).__name__}")


def _finish(value: object, amount: Decimal) -> Decimal:
    if abs(amount) > MAX_AMOUNT:
        raise MoneyError(value, f"超出上限 / larger than the maximum {MAX_AMOUNT}")
    exact = amount.quantize(FEN, context=_CONTEXT)
    return abs(exact) if exact == 0 else exact


def _from_decimal(value: Decimal) -> Decimal:
    if not value.is_finite():
        raise MoneyError(value, _R_NAN)
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        raise MoneyError(value, _R_PLACES)
    return _finish(value, value)


def _from_text(value: str) -> Decimal:
    text = value.translate(_FULL_WIDTH).strip()
    _refuse_shape(value, text)
    match = _AMOUNT.fullmatch(text)
    if match is None:
        if any(ch.isalpha() for ch in _CURRENCY.sub("", text)):
            raise MoneyError(value, "含有字母或文字 / contains letters or words")
        raise MoneyError(value, "不是金额的写法 / not written as an amount")
    whole, frac = match["int"], match["frac"] or "0"
    if "," in whole and not _GROUPED.fullmatch(whole):
        raise MoneyError(value, "千分位逗号位置不对 / commas must separate groups of 3 digits")
    if len(frac) > 2:
        raise MoneyError(value, _R_PLACES)
    amount = Decimal(f"{whole.replace(',', '')}.{frac}")
    negative = match["open"] is not None or "-" in (match["sign"], match["sign2"])
    return _finish(value, -amount if negative else amount)


def _refuse_shape(value: str, text: str) -> None:
    """Refuse, with a precise reason, text that is plainly not a number."""
    if not text:
        raise MoneyError(value, "空白 / empty")
    if _NOT_A_NUMBER.fullmatch(text):
        raise MoneyError(value, _R_NAN)
    if _EXPONENT.search(text):
        raise MoneyError(value, "不接受科学计数法 / exponent notation is not accepted")
    signs = text.count("-") + text.count("+")
    if signs > 1 or (signs and "(" in text):
        raise MoneyError(value, "符号多于一个 / more than one sign")
    if text.count("(") > 1 or text.count("(") != text.count(")"):
        raise MoneyError(value, "括号不配对 / unbalanced parentheses")


# ---------------------------------------------------------------------------
# fen, formatting


def to_fen(amount: Decimal | str | int) -> Fen:
    """Return the amount as an integer number of fen (分), as the database keeps it.

    ``amount`` is read by :func:`parse_money`, so an ``int`` means 元
    (``to_fen(12) == 1200``) and a ``Decimal`` must have at most two places.
    Raises :class:`MoneyError` for whatever :func:`parse_money` refuses.
    """
    return Fen(int(parse_money(amount).scaleb(2, _CONTEXT)))


def from_fen(fen: int) -> Decimal:
    """Return the ``Decimal`` amount (two places) for an integer number of fen.

    Raises :class:`MoneyError` if ``fen`` is not an ``int`` (a bool or float is
    refused) or its amount is above :data:`MAX_AMOUNT`.
    """
    if isinstance(fen, bool) or not isinstance(fen, int):
        raise MoneyError(fen, "分必须是整数 / fen must be an int")
    if abs(fen) > _MAX_FEN:
        raise MoneyError(fen, f"超出上限 / larger than the maximum {MAX_AMOUNT}")
    return Decimal(fen).scaleb(-2, _CONTEXT)


def format_amount(amount: Decimal) -> str:
    """Return the amount in figures with thousands separators: ``"1,234.56"``, ``"-12.00"``.

    Raises :class:`MoneyError` if ``amount`` is not a ``Decimal`` (use
    :func:`format_fen` for fen) or :func:`parse_money` refuses it.
    """
    if not isinstance(amount, Decimal):
        raise MoneyError(amount, "需要 Decimal / format_amount takes a Decimal (fen: format_fen)")
    return f"{parse_money(amount):,.2f}"


def format_fen(fen: int) -> str:
    """Return an integer number of fen in figures (``123456`` → ``"1,234.56"``).

    Raises :class:`MoneyError` as :func:`from_fen` does.
    """
    return format_amount(from_fen(fen))


# ---------------------------------------------------------------------------
# capitals (大写金额)

_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_PLACES = ("", "拾", "佰", "仟")
_PLACE_VALUES = {"拾": 10, "佰": 100, "仟": 1000}
_GROUPS = {4: "万", 8: "亿", 12: "万"}  # place of the lowest digit of a group → its word
_FORBIDDEN = frozenset("一二三两廿毛另0123456789")
_ALLOWED = frozenset(_DIGITS + "拾佰仟万亿元角分整")
_PREFIX = re.compile(r"(负)?(人民币)?\s*(负)?")
_MAX_CAPITALS_LENGTH = 64


def capitals(amount: Decimal | str | int) -> str:
    """Return the amount in capitals (大写金额) in the canonical form of the module docstring.

    ``1409.50`` → ``"壹仟肆佰零玖元伍角整"``, ``-0.05`` → ``"负伍分"``.  ``amount``
    is read by :func:`parse_money` (an ``int`` means 元).  Raises
    :class:`MoneyError` for whatever :func:`parse_money` refuses.
    """
    fen = to_fen(amount)
    words = _render(abs(fen), frozenset(), yuan_zero=True, jiao_zheng=True)
    return f"负{words}" if fen < 0 else words


def parse_capitals(text: str) -> Decimal:
    """Read an amount in capitals (大写金额); the inverse of :func:`capitals`.

    Accepts the canonical form and the alternatives listed in the module
    docstring (optional 零, 正 for 整, 圆 for 元, leading 人民币, 负).  Returns a
    ``Decimal`` with two places.  Raises :class:`MoneyError` for forbidden
    characters (一二三两廿毛另, ASCII digits), any other stray character, a bare
    拾, 零 missing or doubled, units out of order, 负 with zero, or an empty text.
    """
    if not isinstance(text, str):
        raise MoneyError(text, "大写金额须为文字 / amount in words must be a str")
    body = text.strip()
    bad = sorted(set(body) & _FORBIDDEN)
    if bad:
        raise MoneyError(text, f"禁用字 {''.join(bad)} / forbidden characters in capitals")
    negative, body = _strip_prefix(text, body)
    body = body.replace("圆", "元").replace("正", "整")
    stray = sorted(set(body) - _ALLOWED)
    if stray:
        raise MoneyError(text, f"非大写金额用字 {''.join(stray)} / not a character of capitals")
    if not body or len(body) > _MAX_CAPITALS_LENGTH:
        raise MoneyError(text, "大写金额为空或过长 / empty or too long")
    fen = _evaluate(body)
    if not 0 <= fen <= _MAX_FEN or body not in _variants(fen):
        raise MoneyError(text, "大写金额写法不规范 / malformed amount in capitals")
    if negative and fen == 0:
        raise MoneyError(text, "零不能为负 / zero cannot be negative")
    return from_fen(-fen if negative else fen)


def _strip_prefix(text: str, body: str) -> tuple[bool, str]:
    match = _PREFIX.match(body)
    assert match is not None  # every group is optional
    if match[1] and match[3]:
        raise MoneyError(text, "符号多于一个 / more than one 负")
    return bool(match[1] or match[3]), body[match.end() :]


def _render(fen: int, zero_at: frozenset[int], *, yuan_zero: bool, jiao_zheng: bool) -> str:
    """Write ``fen`` (≥ 0) in capitals; the flags choose among the allowed alternatives.

    ``zero_at`` holds the group places (4, 8, 12) where an optional 零 is
    written; ``yuan_zero`` writes 零 after a zero 元 digit before 角;
    ``jiao_zheng`` writes 整 after 角.
    """
    if fen == 0:
        return "零元整"
    yuan, rest = divmod(fen, 100)
    jiao, cents = divmod(rest, 10)
    words = f"{_integer_words(yuan, zero_at)}元" if yuan else ""
    if rest == 0:
        return f"{words}整"
    if yuan and (jiao == 0 or (yuan % 10 == 0 and yuan_zero)):
        words += "零"
    if jiao:
        words += f"{_DIGITS[jiao]}角"
    if cents:
        return f"{words}{_DIGITS[cents]}分"
    return f"{words}整" if jiao_zheng else words


def _integer_words(number: int, zero_at: frozenset[int]) -> str:
    """Write a positive whole number of 元 (below 10^13) in capitals."""
    digits = [int(ch) for ch in reversed(str(number))]
    words: list[str] = []
    zeros_pending = False
    for place in reversed(range(len(digits))):
        digit = digits[place]
        if digit == 0:
            zeros_pending = bool(words)
        else:
            optional = place + 1 in _GROUPS  # the run ended on the 万/亿 digit
            if zeros_pending and (not optional or place + 1 in zero_at):
                words.append("零")
            words.append(_DIGITS[digit] + _PLACES[place % 4])
            zeros_pending = False
        if place in _GROUPS and _group_value(number, place):
            words.append(_GROUPS[place])
    return "".join(words)


def _group_value(number: int, place: int) -> int:
    """The value of the group whose lowest digit is at ``place`` (亿 takes all above)."""
    return number // 10**8 if place == 8 else number // 10**place % 10**4


def _optional_zero_places(number: int) -> list[int]:
    """Group places where the rule lets 零 be written or left out."""
    return [
        place
        for place in _GROUPS
        if number >= 10 ** (place + 1)
        and number // 10**place % 10 == 0
        and number // 10 ** (place - 1) % 10 != 0
    ]


def _variants(fen: int) -> set[str]:
    """Every accepted writing of ``fen`` (≥ 0) after 圆/正 are normalised."""
    optional = _optional_zero_places(fen // 100)
    subsets = chain.from_iterable(combinations(optional, n) for n in range(len(optional) + 1))
    return {
        _render(fen, frozenset(subset), yuan_zero=yuan_zero, jiao_zheng=jiao_zheng)
        for subset in subsets
        for yuan_zero in (False, True)
        for jiao_zheng in (False, True)
    }


def _evaluate(body: str) -> int:
    """Compute the fen a text in capitals seems to mean; :func:`_variants` checks its form."""
    head, yuan, tail = body.partition("元")
    if not yuan:
        head, tail = "", body
    fraction = _digit_before(tail, "角") * 10 + _digit_before(tail, "分")
    return _evaluate_integer(head) * 100 + fraction


def _evaluate_integer(text: str) -> int:
    yi = wan = section = digit = 0
    for ch in text:
        if ch in _PLACE_VALUES:
            section, digit = section + digit * _PLACE_VALUES[ch], 0
        elif ch == "万":
            wan, section, digit = (section + digit) * 10**4, 0, 0
        elif ch == "亿":
            yi, wan, section, digit = (yi + wan + section + digit) * 10**8, 0, 0, 0
        elif ch in _DIGITS:
            digit = _DIGITS.index(ch)
    return yi + wan + section + digit


def _digit_before(text: str, unit: str) -> int:
    index = text.find(unit)
    return _DIGITS.find(text[index - 1]) if index > 0 else 0


# ---------------------------------------------------------------------------
# split_amount


def split_amount(amount: Decimal, weights: Sequence[int | Decimal]) -> list[Decimal]:
    """Share ``amount`` out in proportion to ``weights``, to the fen.

    Returns one two-place ``Decimal`` per weight; each part is within one fen of
    its exact share and the parts add up to ``amount`` exactly.  The fen left
    over after rounding every share down go to the largest remainders, ties to
    the earlier weight (a negative amount is split like its absolute value).
    Raises :class:`MoneyError` if ``amount`` is not money, or ``weights`` is
    empty, all zero, or holds a negative, bool, float or non-finite weight.
    """
    total = to_fen(amount)
    exact = _weights(weights)
    shares = [abs(total) * weight / sum(exact) for weight in exact]
    parts = [share.numerator // share.denominator for share in shares]
    order = sorted(range(len(shares)), key=lambda i: (parts[i] - shares[i], i))
    for index in order[: abs(total) - sum(parts)]:
        parts[index] += 1
    sign = -1 if total < 0 else 1
    return [from_fen(sign * part) for part in parts]


def _weights(weights: Sequence[int | Decimal]) -> list[Fraction]:
    if len(weights) == 0:
        raise MoneyError(weights, "没有权重 / no weights to split by")
    exact: list[Fraction] = []
    for weight in weights:
        if isinstance(weight, bool) or not isinstance(weight, int | Decimal):
            raise MoneyError(weight, "权重须为 int 或 Decimal / a weight must be int or Decimal")
        if isinstance(weight, Decimal) and not weight.is_finite():
            raise MoneyError(weight, _R_NAN)
        if weight < 0:
            raise MoneyError(weight, "权重不能为负 / a weight cannot be negative")
        exact.append(Fraction(weight))
    if not any(exact):
        raise MoneyError(list(weights), "权重全为零 / all weights are zero")
    return exact
