"""Categorisation rules (分类规则): which account a bank statement line goes to.

When a bank statement is imported, each new line becomes a draft voucher:
the bank account on one side, and on the other a *counter account* chosen
here.  The accountant keeps the rules in a TOML file, one ``[[rule]]`` table
per rule, tried from the top; **the first rule that matches wins**.  A line no
rule matches goes to the suspense account (待查款项) named at the top of the
file, or, without one, to the suspense detail account of the entity's chart
(:attr:`juzhang.charts.ChartTemplate.suspense`).  Without a rules file every
line goes there: the bookkeeper then edits the drafts.

A rules file::

    # 银行对账单分类规则 (first match wins)
    suspense = "21199"                     # optional: where unmatched lines go
    template = "{summary} {counterparty}"  # optional: default 摘要 template

    [[rule]]
    name = "利息收入"
    summary = ["结息", "利息"]              # plain text: contained, any of the list
    direction = "in"                       # in | out (also 收入 / 支出)
    account = "50301"
    template = "{date:%m}月存款利息"

    [[rule]]
    name = "物业费"
    counterparty_regex = "物业(服务)?(有限)?公司$"
    amount_max = 5000                      # 元, inclusive; amount_min likewise
    account = "51302"

Conditions of one rule must all hold; a rule without conditions matches every
line (a catch-all at the end).  Text conditions — ``counterparty``,
``counterparty_account``, ``summary``, ``purpose``, ``remark`` and ``text``
(any of these) — are plain text matched as contained, ignoring case and
full-width forms, or with the ``_regex`` suffix a regular expression searched
in the text (full-width forms folded first).  ``direction`` is ``in`` (money
received, 收入/贷方 on the statement) or ``out``; ``amount_min`` and
``amount_max`` bound the amount in 元 (exact: write ``1000`` or
``"1000.00"``; a TOML decimal such as ``99.50`` is read exactly too).

The 摘要 template may use ``{counterparty}``, ``{counterparty_account}``,
``{counterparty_bank}``, ``{summary}``, ``{purpose}``, ``{remark}``,
``{serial}``, ``{amount}``, ``{direction}`` (收/付), ``{date}`` (with a
format such as ``{date:%m月%d日}``) and ``{row}``; runs of spaces collapse.
The default template is :data:`DEFAULT_TEMPLATE`.

:func:`load_rules` / :func:`parse_rules` check the whole file and raise
:class:`~juzhang.errors.ProblemsError` listing every problem with its line
and rule number.  Whether the accounts exist in an entity's chart is checked
where the entity is known (:mod:`juzhang.statements`).  Nothing here
touches a database.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import string
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from juzhang.config_file import (
    Loc,
    Where,
    key_lines,
    parse_toml,
    read_text,
    unknown_key,
    validate,
)
from juzhang.core.text import MAX_FORMAT_WIDTH
from juzhang.errors import MoneyError
from juzhang.importers.facts import Categorised, Facts
from juzhang.importers.safe_regex import SearchPattern, compile_safe
from juzhang.money import format_amount, parse_money

__all__ = [
    "DEFAULT_TEMPLATE",
    "PLACEHOLDERS",
    "TEXT_FIELDS",
    "Categorised",
    "Facts",
    "Rule",
    "Rules",
    "load_rules",
    "parse_rules",
    "render",
    "rules_for",
]

TEXT_FIELDS: tuple[str, ...] = (
    "counterparty",
    "counterparty_account",
    "summary",
    "purpose",
    "remark",
    "text",
)
"""Text fields a rule can match (``text`` means any of the others)."""

PLACEHOLDERS: tuple[str, ...] = (
    "counterparty",
    "counterparty_account",
    "counterparty_bank",
    "summary",
    "purpose",
    "remark",
    "serial",
    "amount",
    "direction",
    "date",
    "row",
)
"""Names a 摘要 template may use."""

DEFAULT_TEMPLATE = "{summary} {counterparty} {purpose}"
"""The 摘要 of a drafted voucher when neither the rule nor the file gives a template."""

_RULE_KEYS = frozenset(
    {"name", "account", "template", "direction", "amount_min", "amount_max"}
    | set(TEXT_FIELDS)
    | {f"{f}_regex" for f in TEXT_FIELDS}
)
_DIRECTIONS: dict[str, Literal["in", "out"]] = {
    "in": "in",
    "收入": "in",
    "收": "in",
    "out": "out",
    "支出": "out",
    "支": "out",
}
_SPACES = re.compile(r"\s+")
_DIGITS = re.compile(r"\d+")


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule: conditions, then the counter account and 摘要 template.

    ``plain`` holds ``(field, folded alternatives)``, ``regex`` holds
    ``(field, compiled pattern)``; ``line`` is the line of its ``[[rule]]``
    header in the file (0 when built in code) and ``index`` its 1-based place.
    """

    index: int
    name: str
    account: str
    template: str | None = None
    direction: Literal["in", "out"] | None = None
    amount_min: Decimal | None = None
    amount_max: Decimal | None = None
    plain: tuple[tuple[str, tuple[str, ...]], ...] = ()
    regex: tuple[tuple[str, SearchPattern], ...] = ()
    line: int = 0

    def matches(self, facts: Facts) -> bool:
        """Return whether every condition of the rule holds for ``facts``."""
        if self.direction is not None and facts.direction != self.direction:
            return False
        if self.amount_min is not None and facts.amount < self.amount_min:
            return False
        if self.amount_max is not None and facts.amount > self.amount_max:
            return False
        for name, options in self.plain:
            texts = _texts(facts, name)
            folded = [_fold(t) for t in texts]
            if not any(option in text for option in options for text in folded):
                return False
        for name, pattern in self.regex:
            texts = _texts(facts, name)
            if not any(pattern.search(unicodedata.normalize("NFKC", t)) for t in texts):
                return False
        return True

    @property
    def label(self) -> str:
        """``"规则3 rule 3 (利息收入)"``: how problems and tables name the rule."""
        return f"规则{self.index} rule {self.index} ({self.name})"


def _texts(facts: Facts, name: str) -> tuple[str, ...]:
    if name == "text":
        return (
            facts.counterparty,
            facts.counterparty_account,
            facts.summary,
            facts.purpose,
            facts.remark,
        )
    return (str(getattr(facts, name)),)


@dataclass(frozen=True, slots=True)
class Rules:
    """A rules file: the rules in order, the suspense account and the default template.

    ``suspense`` is ``None`` when the file names none (the chart's suspense
    account is then used).  ``Rules()`` is the empty rule set: everything to
    suspense.
    """

    rules: tuple[Rule, ...] = ()
    suspense: str | None = None
    template: str = DEFAULT_TEMPLATE
    source: str = ""

    def categorise(self, facts: Facts, suspense: str) -> Categorised:
        """Return the counter account, 摘要 and rule name for a line: first match wins.

        ``suspense`` is the account used when no rule matches and the file
        names none.  The 摘要 is never empty: when the template renders to
        nothing it is ``银行收款`` / ``银行付款``.
        """
        for rule in self.rules:
            if rule.matches(facts):
                return Categorised(
                    rule.account, render(rule.template or self.template, facts), rule.name
                )
        return Categorised(self.suspense or suspense, render(self.template, facts), "")

    def accounts(self) -> dict[str, str]:
        """Return ``{account code: where it is named}`` of every account the rules use."""
        named = {rule.account: rule.label for rule in self.rules}
        if self.suspense is not None:
            named.setdefault(self.suspense, "suspense")
        return named


@functools.lru_cache(maxsize=256)
def _names(template: str) -> frozenset[str]:
    """The placeholders a template uses (only these are computed per line)."""
    return frozenset(
        field.partition(".")[0].partition("[")[0]
        for _text, field, _spec, _conv in string.Formatter().parse(template)
        if field
    )


def render(template: str, facts: Facts) -> str:
    """Fill a 摘要 template from a line's facts; spaces collapse; never empty.

    The template must have been checked (:func:`parse_rules` does); an
    unusable one raises ``ValueError``/``KeyError`` from :meth:`str.format`.
    """
    names = _names(template)
    values: dict[str, Any] = {n: getattr(facts, n) for n in names if n in Facts._fields}
    if "amount" in names:
        values["amount"] = format_amount(facts.amount)
    if "direction" in names:
        values["direction"] = "收" if facts.direction == "in" else "付"
    text = _SPACES.sub(" ", template.format_map(values)).strip()
    if text:
        return text
    return "银行收款" if facts.direction == "in" else "银行付款"


# --------------------------------------------------------------------------- reading


def load_rules(path: str | Path) -> Rules:
    """Read and check a rules file (TOML, UTF-8).

    Returns the :class:`Rules`.  Raises :class:`~juzhang.errors.ProblemsError`
    listing every problem (``where`` = ``file:line 规则N rule N (name)`` for
    a rule, ``file:key`` else; the message ends with the key's line): file
    missing, not UTF-8 or not TOML, unknown keys, bad directions, amounts,
    regular expressions and templates, a rule without an account.
    """
    source = Path(path)
    text = read_text(
        source, title="分类规则 / categorisation rules", subject="rules", where=str(source)
    )
    return parse_rules(text, source.name)


def parse_rules(text: str, source: str = "rules.toml") -> Rules:
    """Build :class:`Rules` from the text of a rules file, checking everything.

    Returns the rules.  Raises :class:`~juzhang.errors.ProblemsError` with
    every problem found (see :func:`load_rules`).
    """
    title = f"分类规则有误 / bad rules file {source}"
    data = parse_toml(text, source=source, title=title, subject="rules", decimal=True)
    lines = key_lines(text)
    model = validate(
        RulesFile,
        data,
        source=source,
        title=title,
        subject="rules",
        text=text,
        where=_rule_where(source, data, lines),
        unknown=_unknown,
        in_file_order=True,
    )
    return Rules(
        tuple(
            rule.to_rule(index, lines.get(("rule", index - 1), 0))
            for index, rule in enumerate(model.rule, 1)
        ),
        model.suspense,
        model.template,
        source,
    )


def _rule_where(source: str, data: Mapping[str, Any], lines: Mapping[Loc, int]) -> Where:
    """``rules.toml:8 规则2 rule 2 (物业费)`` for a rule's keys, ``rules.toml:suspense`` else."""
    raw_rules = data.get("rule")

    def where(loc: Loc) -> str:
        if len(loc) < 2 or loc[0] != "rule" or not isinstance(loc[1], int):
            return f"{source}:{loc[0]}" if loc[:1] in (("suspense",), ("template",)) else source
        index = loc[1] + 1
        raw = raw_rules[loc[1]] if isinstance(raw_rules, list) else None
        name = raw.get("name", f"规则{index}") if isinstance(raw, dict) else "?"
        line = lines.get(("rule", loc[1]), 0)
        at = f"{source}:{line}" if line else source
        return f"{at} 规则{index} rule {index} ({name})"

    return where


def _unknown(loc: Loc) -> str:
    if len(loc) == 3 and loc[0] == "rule":
        return f"未知的键 / unknown key {loc[-1]!r}; 可用 / known: {', '.join(sorted(_RULE_KEYS))}"
    return unknown_key(loc)


def _code(message: str) -> Callable[[object], object]:
    def check(value: object) -> object:
        if not (isinstance(value, str) and value.isdigit()):
            raise ValueError(message.format(value=value))
        return value

    return check


def _required_code(value: object) -> object:
    if value is None:
        raise ValueError("缺少 account（对方科目） / the counter account is missing")
    return _code("account 应为科目代码 (文字) / account must be a code in quotes: {value!r}")(value)


def _rule_name(value: object) -> object:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("name 应为文字 / name must be a text")
    return value


def _template(value: object) -> object:
    problem = _template_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


def _direction(value: object) -> object:
    if value not in _DIRECTIONS:
        raise ValueError(f"direction 应为 in 或 out / direction must be in or out: {value!r}")
    return _DIRECTIONS[str(value)]


def _bound(key: str, value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        raise ValueError(f"{key} 应为金额 / must be an amount: {value!r}")
    try:
        amount = parse_money(value)
    except MoneyError as exc:
        raise ValueError(f"{key}: {exc}") from None
    if amount < 0:
        raise ValueError(f"{key} 不能为负 / cannot be negative (use direction)")
    return amount


def _options(key: str, value: object) -> list[str]:
    if isinstance(value, str) and value:
        return [value]
    if isinstance(value, list) and value and all(isinstance(v, str) and v for v in value):
        return value
    raise ValueError(f"{key} 应为文字或文字列表 / must be a text or a list of texts")


def _pattern(key: str, value: object) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{key} 应为正则表达式文字 / must be a regular expression (text)")
    try:  # RE2: linear time whatever the pattern (no ReDoS), see safe_regex
        compile_safe(unicodedata.normalize("NFKC", value))
    except ValueError as exc:
        message = f"{key} 正则表达式有误 / bad regular expression {value!r}: {exc}"
        raise ValueError(message) from None
    return value


class RuleTable(BaseModel):
    """One ``[[rule]]`` table as written; :meth:`to_rule` gives the :class:`Rule`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[str | None, BeforeValidator(_rule_name)] = None
    account: Annotated[str, BeforeValidator(_required_code)] = Field(
        default=None, validate_default=True
    )
    template: Annotated[str | None, BeforeValidator(_template)] = None
    direction: Annotated[Literal["in", "out"] | None, BeforeValidator(_direction)] = None
    amount_min: Decimal | None = None
    amount_max: Decimal | None = None
    counterparty: list[str] | None = None
    counterparty_account: list[str] | None = None
    summary: list[str] | None = None
    purpose: list[str] | None = None
    remark: list[str] | None = None
    text: list[str] | None = None
    counterparty_regex: str | None = None
    counterparty_account_regex: str | None = None
    summary_regex: str | None = None
    purpose_regex: str | None = None
    remark_regex: str | None = None
    text_regex: str | None = None

    @field_validator("amount_min", "amount_max", mode="before")
    @classmethod
    def _bounds(cls, value: object, info: ValidationInfo) -> object:
        return _bound(str(info.field_name), value)

    @field_validator(*TEXT_FIELDS, mode="before")
    @classmethod
    def _text_options(cls, value: object, info: ValidationInfo) -> object:
        return _options(str(info.field_name), value)

    @field_validator(*(f"{f}_regex" for f in TEXT_FIELDS), mode="before")
    @classmethod
    def _patterns(cls, value: object, info: ValidationInfo) -> object:
        return _pattern(str(info.field_name), value)

    @model_validator(mode="after")
    def _range(self) -> RuleTable:
        low, high = self.amount_min, self.amount_max
        if low is not None and high is not None and low > high:
            raise ValueError(
                f"amount_min {low} 大于 amount_max {high} / amount_min is above amount_max"
            )
        return self

    def to_rule(self, index: int, line: int) -> Rule:
        """Return the :class:`Rule` at place ``index`` (from 1), its header on ``line``."""
        plain = []
        regex: list[tuple[str, SearchPattern]] = []
        for field_name in TEXT_FIELDS:
            options = getattr(self, field_name)
            if options is not None:
                plain.append((field_name, tuple(_fold(o) for o in options)))
            pattern = getattr(self, f"{field_name}_regex")
            if pattern is not None:
                regex.append((field_name, compile_safe(unicodedata.normalize("NFKC", pattern))))
        return Rule(
            index=index,
            name=f"规则{index}" if self.name is None else self.name,
            account=self.account,
            template=self.template,
            direction=self.direction,
            amount_min=self.amount_min,
            amount_max=self.amount_max,
            plain=tuple(plain),
            regex=tuple(regex),
            line=line,
        )


def _rule_table(value: object) -> object:
    if not isinstance(value, dict):
        raise ValueError("规则应为表 / a rule must be a table")
    return value


def _rule_list(value: object) -> object:
    if not isinstance(value, list):
        raise ValueError("rule 应写成 [[rule]] 表 / use [[rule]] tables")
    return value


class RulesFile(BaseModel):
    """A rules file as written: suspense account, default template, the rules."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    suspense: Annotated[
        str | None, BeforeValidator(_code("应为科目代码 / must be an account code"))
    ] = None
    template: Annotated[str, BeforeValidator(_template)] = DEFAULT_TEMPLATE
    rule: Annotated[
        list[Annotated[RuleTable, BeforeValidator(_rule_table)]], BeforeValidator(_rule_list)
    ] = []


_SAMPLE = Facts(
    dt.date(2026, 9, 1),
    "in",
    Decimal("1.00"),
    "对方",
    "6222",
    "银行",
    "摘要",
    "用途",
    "附言",
    "S1",
    1,
)


def _template_problem(template: object) -> str | None:
    """What is wrong with a 摘要 template (``None``: nothing)."""
    if not isinstance(template, str):
        return "template 应为文字 / template must be a text"
    try:
        parsed = [
            (f, spec) for _, f, spec, _ in string.Formatter().parse(template) if f is not None
        ]
    except ValueError as exc:
        return f"摘要模板有误 / bad template {template!r}: {exc}"
    widths = [n.lstrip("0") for _f, spec in parsed for n in _DIGITS.findall(spec or "")]
    if any(len(n) > 6 or int(n or "0") > MAX_FORMAT_WIDTH for n in widths):
        return (
            f"摘要模板的宽度或精度超过 {MAX_FORMAT_WIDTH} / a width or precision"
            f" in the template is above {MAX_FORMAT_WIDTH}: {template[:80]!r}"
        )
    fields = [f for f, _spec in parsed]
    unknown = [f"{{{name}}}" for name in fields if name not in PLACEHOLDERS]
    if unknown:
        return (
            f"摘要模板中的 {'、'.join(unknown)} 未知；可用 / unknown placeholder "
            f"{', '.join(unknown)}; known: {', '.join(PLACEHOLDERS)}"
        )
    try:
        render(template, _SAMPLE)
    except (ValueError, KeyError, IndexError) as exc:
        return f"摘要模板有误 / bad template {template!r}: {exc}"
    return None


def rules_for(rules: Rules | str | Path | None) -> Rules:
    """Return ``rules`` as :class:`Rules`: loaded from a path, or empty for ``None``.

    Raises :class:`~juzhang.errors.ProblemsError` for a bad rules file.
    """
    if rules is None:
        return Rules()
    if isinstance(rules, Rules):
        return rules
    return load_rules(rules)
