"""Disclosure configuration (财务公开配置): what goes where on a community's board.

Which accounts make up each line of the public disclosure varies by
community and by locality, so it is configuration, not code (DOMAIN §7).  A
configuration is a small TOML file per entity; without one, a default is
built from the entity's chart and accounts (:func:`default_config`).

Accounts are named by **code prefix** everywhere: ``"513"`` covers 513 and
every detail account under it (51301, 51302…).  When several categories
could take an account, the longest prefix wins.

The file (every key optional except where noted)::

    # 财务公开表配置 / disclosure configuration
    chart = "rural-2023"          # the chart it is written for; checked against the entity
    community = "幸福社区"          # name in the title (default: the entity's name)
    large_expense = "1000.00"     # 大额支出: each expenditure above this is listed again
    post_by_day = 10              # posted on the board by this day of the next month
    base_url = ""                 # where `juzhang publish` puts the site (https://…): a
                                  # published board prints a QR code of its page
    question_days = 15            # 提问栏: days the community has to answer a resident's question

    [signatures]                  # names printed in the signature block
    secretary = "陈明"             # 书记
    director = "李红"              # 主任
    cashier = ""                  # 报账员 (default: the entity's cashiers)
    bookkeeper = ""               # 代理会计 (default: the entity's bookkeepers)
    group = ["周理财", "吴平"]      # 民主理财小组 (default: the entity's supervisors)

    [[income]]                    # income categories (收入分类), in display order
    name = "经营收入"
    accounts = ["501"]

    [[expense]]                   # expenditure categories (支出分类)
    name = "管理费用"
    accounts = ["513"]

    [[section]]                   # special sections (专项公开), in display order
    key = "subsidies"             # subsidies | relief | fees | one_matter | any other key
    title = "居民干部补贴、奖金"
    accounts = ["51302"]
    debit = "发放"                 # label of the debit column ("" hides the column)
    credit = ""                   # label of the credit column ("" hides it)
    balance = false               # show opening and closing balances

    [debts]                       # 债权债务
    receivables = ["112", "113"]  # 债权: balances debit positive
    payables = ["201", "211"]     # 债务: balances credit positive

A part left out of the file (no ``[[income]]``, no ``[[section]]``, no
``receivables``…) is taken from the default (:func:`resolve_config`); a part
given replaces the default's as a whole (``[[section]]`` lists every section
to show).  Income or expense accounts not covered by any category are shown under
``其他收入（未分类）`` / ``其他支出（未分类）`` so the totals always add up.

The default (:func:`default_config`): one category per first-level income and
expense account of the entity; receivables are the first-level asset
accounts named 应收/预付/内部往来, payables every first-level liability
account except 一事一议资金 (which has its own section); the four sections
the practice requires take the accounts whose names say what they are —
subsidies: expense accounts named 补贴/奖金/误工/报酬; relief: income,
expense and liability accounts named 救灾/救济/慰问/捐赠/捐款; fees: income
accounts named 收费/卫生费/物业费/服务费/使用费/会费/停车费/水费/电费 (not 经费,
which is an allocation); 一事一议: accounts named 一事一议.
The large-expenditure threshold defaults to 1000 元, the amount above which
DOMAIN §3's example rule asks for a collective decision (两委会议).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field
from sqlalchemy import Connection, insert, select, update

from juzhang.config_file import dotted, read_toml, validate
from juzhang.core.duty import Action
from juzhang.errors import MoneyError, Problem, ProblemsError
from juzhang.money import parse_money
from juzhang.storage.access import (
    AccountInfo,
    accounts_of,
    audit,
    command,
    get_entity,
    get_row,
    now,
    require,
)
from juzhang.storage.schema import DisclosureSetting

__all__ = [
    "DEFAULT_LARGE_EXPENSE",
    "DEFAULT_POST_BY_DAY",
    "DEFAULT_QUESTION_DAYS",
    "REQUIRED_SECTIONS",
    "Category",
    "DisclosureConfig",
    "DisclosureConfigFile",
    "SectionConfig",
    "Signatures",
    "build_default",
    "check_base_url",
    "check_config",
    "config_from_json",
    "config_to_json",
    "config_toml",
    "default_config",
    "load_config",
    "longest_prefix",
    "parse_config",
    "resolve_config",
    "set_stored_config",
    "stored_config",
]

DEFAULT_LARGE_EXPENSE = Decimal("1000.00")
DEFAULT_POST_BY_DAY = 10
DEFAULT_QUESTION_DAYS = 15
"""Days a community has to answer a resident's question (提问栏) unless configured."""

#: The sections community practice requires: key → (title, debit label, credit label, balance).
REQUIRED_SECTIONS: Mapping[str, tuple[str, str, str, bool]] = {
    "subsidies": ("居民干部补贴、奖金", "发放", "", False),
    "relief": ("救灾救济款物的捐赠和发放", "发放", "收到", False),
    "fees": ("各种费用的收缴", "", "收缴", False),
    "one_matter": ("一事一议资金筹集和使用", "使用", "筹集", True),
}

_KEYWORDS: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # section → (account categories, name keywords)
    "subsidies": (("expense",), ("补贴", "奖金", "误工", "报酬")),
    "relief": (("income", "expense", "liability"), ("救灾", "救济", "慰问", "捐赠", "捐款")),
    "fees": (
        ("income",),
        ("收费", "卫生费", "物业费", "服务费", "使用费", "会费", "停车费", "水费", "电费"),
    ),
    "one_matter": (("liability", "income", "expense", "asset"), ("一事一议",)),
}
_RECEIVABLE_WORDS = ("应收", "预付", "内部往来")


@dataclass(frozen=True, slots=True)
class Category:
    """A disclosure category (收入/支出分类): a name and the account prefixes it takes."""

    name: str
    accounts: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SectionConfig:
    """A special section (专项公开): its accounts and how its columns are labelled."""

    key: str
    title: str
    accounts: tuple[str, ...]
    debit: str = ""
    credit: str = ""
    balance: bool = False


@dataclass(frozen=True, slots=True)
class Signatures:
    """Names for the signature block; empty means "take them from the role grants"."""

    secretary: str = ""
    director: str = ""
    cashier: str = ""
    bookkeeper: str = ""
    group: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DisclosureConfig:
    """The disclosure configuration of one entity (see the module docstring for the file)."""

    chart: str
    community: str = ""
    large_expense: Decimal = DEFAULT_LARGE_EXPENSE
    post_by_day: int = DEFAULT_POST_BY_DAY
    question_days: int = DEFAULT_QUESTION_DAYS
    income: tuple[Category, ...] | None = None
    expense: tuple[Category, ...] | None = None
    sections: tuple[SectionConfig, ...] | None = None
    receivables: tuple[str, ...] | None = None
    payables: tuple[str, ...] | None = None
    signatures: Signatures = field(default_factory=Signatures)
    base_url: str = ""
    """The address the published site is put at (``https://…/gongkai``), "" when none:
    a published board then prints a QR code of its page (:mod:`juzhang.exporters.qr`)."""

    @property
    def complete(self) -> bool:
        """Whether every part is given (no part left to the default)."""
        return None not in (
            self.income,
            self.expense,
            self.sections,
            self.receivables,
            self.payables,
        )


def longest_prefix(code: str, prefixes: Sequence[str]) -> int:
    """Return the length of the longest of ``prefixes`` that ``code`` starts with (0: none)."""
    return max((len(p) for p in prefixes if code.startswith(p)), default=0)


# --------------------------------------------------------------------------- parsing


def _text(value: object) -> object:
    if not isinstance(value, str):
        raise ValueError("应为文字 / must be a string")
    return value.strip()


def _codes(value: object) -> object:
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError("应为科目代码列表 / must be a list of account codes")
    codes = tuple(v.strip() for v in value if v.strip())
    bad = [f"{code!r} 不是科目代码 / not an account code" for code in codes if not code.isdigit()]
    if bad:
        raise ValueError("; ".join(bad))
    return codes


def _table(value: object) -> object:
    if not isinstance(value, dict):
        raise ValueError("应为表 / must be a table")
    return value


def _array(message: str) -> Callable[[object], object]:
    def check(value: object) -> object:
        if not isinstance(value, list):
            raise ValueError(message)
        return value

    return check


def _threshold(value: object) -> object:
    try:
        amount = parse_money(value if isinstance(value, str | int) else str(value))
    except MoneyError as exc:
        raise ValueError(str(exc)) from None
    if amount < 0:
        raise ValueError("不能为负 / cannot be negative")
    return amount


def _day(value: object) -> object:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 28:
        raise ValueError("应为 1–28 的日 / must be a day from 1 to 28")
    return value


def _days(value: object) -> object:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 365:
        raise ValueError("应为 1–365 天 / must be a number of days from 1 to 365")
    return value


def _names(value: object) -> object:
    if isinstance(value, str):
        value = value.replace("，", ",").replace("、", ",").split(",")
    if not isinstance(value, list) or not all(isinstance(g, str) for g in value):
        raise ValueError("应为姓名列表 / must be a list of names")
    return tuple(g.strip() for g in value if g.strip())


def _flag(value: object) -> object:
    if not isinstance(value, bool):
        raise ValueError("应为 true 或 false / must be true or false")
    return value


def check_base_url(value: object) -> str:
    """Return a site address as stored (no trailing ``/``); "" for none.

    Raises:
        ValueError: not an ``https://`` or ``http://`` address, or one with spaces, ``#`` or ``?``.
    """
    text = _text(value)
    assert isinstance(text, str)
    if text and not text.startswith(("https://", "http://")):
        raise ValueError("应以 https:// 或 http:// 开头 / must start with https:// or http://")
    if any(c.isspace() or c in "#?" for c in text):
        raise ValueError("不能含空格、# 或 ? / no spaces, # or ?")
    return text.rstrip("/")


def _non_empty(message: str) -> Callable[[object], object]:
    def check(value: object) -> object:
        if not _text(value):
            raise ValueError(message)
        return _text(value)

    return check


_Text = Annotated[str, BeforeValidator(_text)]
_Codes = Annotated[tuple[str, ...], BeforeValidator(_codes)]


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _CategoryTable(_Table):
    name: Annotated[str, BeforeValidator(_non_empty("名称不能为空 / the name is empty"))] = Field(
        default="", validate_default=True
    )
    accounts: _Codes = ()


class _SectionTable(_Table):
    key: Annotated[str, BeforeValidator(_non_empty("不能为空 / the key is empty"))] = Field(
        default="", validate_default=True
    )
    title: _Text | None = None
    accounts: _Codes = ()
    debit: _Text | None = None
    credit: _Text | None = None
    balance: Annotated[bool | None, BeforeValidator(_flag)] = None

    def to_section(self) -> SectionConfig:
        """The section, its unset labels taken from :data:`REQUIRED_SECTIONS` for its key."""
        title, debit, credit, balance = REQUIRED_SECTIONS.get(self.key, ("", "支出", "收入", False))
        return SectionConfig(
            self.key,
            (title if self.title is None else self.title) or self.key,
            self.accounts,
            debit if self.debit is None else self.debit,
            credit if self.credit is None else self.credit,
            balance if self.balance is None else self.balance,
        )


def _unique_keys(sections: list[_SectionTable]) -> list[_SectionTable]:
    keys = [s.key for s in sections]
    repeated = sorted({k for k in keys if keys.count(k) > 1})
    if repeated:
        raise ValueError("; ".join(f"{key} 重复 / repeated" for key in repeated))
    return sections


class _SignaturesTable(_Table):
    secretary: _Text = ""
    director: _Text = ""
    cashier: _Text = ""
    bookkeeper: _Text = ""
    group: Annotated[tuple[str, ...], BeforeValidator(_names)] = ()


class _DebtsTable(_Table):
    receivables: _Codes | None = None
    payables: _Codes | None = None


_Categories = Annotated[
    list[Annotated[_CategoryTable, BeforeValidator(_table)]],
    BeforeValidator(_array("应为 [[...]] 表数组 / must be an array of tables")),
]


class DisclosureConfigFile(_Table):
    """A disclosure configuration file as written (the module docstring's schema)."""

    chart: _Text = ""
    community: _Text = ""
    large_expense: Annotated[Decimal, BeforeValidator(_threshold)] = DEFAULT_LARGE_EXPENSE
    post_by_day: Annotated[int, BeforeValidator(_day)] = DEFAULT_POST_BY_DAY
    question_days: Annotated[int, BeforeValidator(_days)] = DEFAULT_QUESTION_DAYS
    signatures: Annotated[_SignaturesTable, BeforeValidator(_table)] = _SignaturesTable()
    income: _Categories | None = None
    expense: _Categories | None = None
    section: (
        Annotated[
            list[Annotated[_SectionTable, BeforeValidator(_table)]],
            BeforeValidator(_array("应为 [[section]] 表数组 / must be an array of tables")),
            AfterValidator(_unique_keys),
        ]
        | None
    ) = None
    debts: Annotated[_DebtsTable, BeforeValidator(_table)] = _DebtsTable()
    base_url: Annotated[str, BeforeValidator(check_base_url)] = ""

    def to_config(self) -> DisclosureConfig:
        """Return the :class:`DisclosureConfig`; parts left out stay ``None``."""
        sig = self.signatures
        return DisclosureConfig(
            chart=self.chart,
            community=self.community,
            large_expense=self.large_expense,
            post_by_day=self.post_by_day,
            question_days=self.question_days,
            income=_categories(self.income),
            expense=_categories(self.expense),
            sections=None if self.section is None else tuple(s.to_section() for s in self.section),
            receivables=self.debts.receivables,
            payables=self.debts.payables,
            signatures=Signatures(
                sig.secretary, sig.director, sig.cashier, sig.bookkeeper, sig.group
            ),
            base_url=self.base_url,
        )


def _categories(tables: list[_CategoryTable] | None) -> tuple[Category, ...] | None:
    return None if tables is None else tuple(Category(t.name, t.accounts) for t in tables)


def parse_config(
    data: Mapping[str, Any], source: str = "<config>", text: str | None = None
) -> DisclosureConfig:
    """Build a configuration from parsed TOML (or the JSON form of :func:`config_to_json`).

    With ``text`` (the TOML ``data`` came from) each problem also names its
    line.  Returns the configuration.

    Raises:
        ProblemsError: anything wrong, every problem listed (unknown keys, a bad
            amount, day, code or section), each naming ``source: key``.
    """
    model = validate(
        DisclosureConfigFile,
        data,
        source=source,
        title=f"财务公开配置 disclosure configuration {source}",
        subject="",
        text=text,
        where=lambda loc: f"{source}: {dotted(loc)}",
        unknown=lambda loc: "未知的配置项 / unknown key",
        in_file_order=text is not None,
    )
    return model.to_config()


def load_config(path: str | Path) -> DisclosureConfig:
    """Read a configuration TOML file.

    Raises:
        ProblemsError: the file cannot be read, is not TOML, or has problems (all listed).
    """
    source = str(path)
    data, text = read_toml(
        path, title=f"财务公开配置 disclosure configuration {source}", subject="", where=source
    )
    return parse_config(data, source, text)


def check_config(config: DisclosureConfig, chart: str, accounts: Mapping[str, AccountInfo]) -> None:
    """Check a configuration against the entity it is used for.

    Raises:
        ProblemsError: written for another chart, or a prefix matches no account.
    """
    problems: list[Problem] = []
    if config.chart and config.chart != chart:
        problems.append(
            Problem("chart", f"配置为 {config.chart}，社区用 {chart} / written for another chart")
        )
    named: list[tuple[str, tuple[str, ...]]] = [
        *((f"income {c.name}", c.accounts) for c in config.income or ()),
        *((f"expense {c.name}", c.accounts) for c in config.expense or ()),
        *((f"section {s.key}", s.accounts) for s in config.sections or ()),
        ("debts.receivables", config.receivables or ()),
        ("debts.payables", config.payables or ()),
    ]
    for where, prefixes in named:
        for prefix in prefixes:
            if not any(code.startswith(prefix) for code in accounts):
                problems.append(Problem(where, f"没有以 {prefix} 开头的科目 / no such account"))
    if problems:
        raise ProblemsError("财务公开配置 disclosure configuration", problems)


# --------------------------------------------------------------------------- the default


def _named(
    accounts: Mapping[str, AccountInfo], categories: Sequence[str], words: Sequence[str]
) -> tuple[str, ...]:
    """Codes of accounts whose names contain a word, without those under another one found."""
    found = sorted(
        a.code
        for a in accounts.values()
        if a.category in categories and any(w in a.name for w in words)
    )
    return tuple(c for c in found if not any(c != p and c.startswith(p) for p in found))


def default_config(session: Connection, entity: str) -> DisclosureConfig:
    """Build the default configuration of an entity from its chart and accounts.

    Raises:
        NotFoundError: unknown entity.
    """
    ent = get_entity(session, entity)
    return build_default(ent.chart, accounts_of(session, ent.id))


def build_default(chart: str, accounts: Mapping[str, AccountInfo]) -> DisclosureConfig:
    """Return the default configuration for a chart key and an entity's accounts."""
    top = sorted((a for a in accounts.values() if a.level == 1), key=lambda a: a.code)
    sections = []
    for key, (title, debit, credit, balance) in REQUIRED_SECTIONS.items():
        categories, words = _KEYWORDS[key]
        sections.append(
            SectionConfig(key, title, _named(accounts, categories, words), debit, credit, balance)
        )
    one_matter = next(s.accounts for s in sections if s.key == "one_matter")
    return DisclosureConfig(
        chart=chart,
        income=tuple(Category(a.name, (a.code,)) for a in top if a.category == "income"),
        expense=tuple(Category(a.name, (a.code,)) for a in top if a.category == "expense"),
        sections=tuple(sections),
        receivables=tuple(
            a.code
            for a in top
            if a.category == "asset" and any(w in a.name for w in _RECEIVABLE_WORDS)
        ),
        payables=tuple(
            a.code
            for a in top
            if a.category == "liability" and not any(a.code.startswith(p) for p in one_matter)
        ),
    )


def resolve_config(
    config: DisclosureConfig, chart: str, accounts: Mapping[str, AccountInfo]
) -> DisclosureConfig:
    """Return ``config`` with every part it leaves out taken from the default.

    A file that lists no ``[[income]]`` keeps the chart's income categories,
    one without ``[[section]]`` the four default sections, and so on; a part
    that is given replaces the default's part as a whole.
    """
    if config.complete:
        return config
    default = build_default(chart, accounts)
    return replace(
        config,
        income=default.income if config.income is None else config.income,
        expense=default.expense if config.expense is None else config.expense,
        sections=default.sections if config.sections is None else config.sections,
        receivables=default.receivables if config.receivables is None else config.receivables,
        payables=default.payables if config.payables is None else config.payables,
    )


# --------------------------------------------------------------------------- writing


def config_to_json(config: DisclosureConfig) -> dict[str, Any]:
    """Return the configuration as a plain dict (the file's schema; amounts as strings).

    Parts left to the default (``None``) are left out, and so is an empty ``base_url``.
    """
    sig = config.signatures
    data: dict[str, Any] = {
        "chart": config.chart,
        "community": config.community,
        "large_expense": str(config.large_expense),
        "post_by_day": config.post_by_day,
        "question_days": config.question_days,
        "signatures": {
            "secretary": sig.secretary,
            "director": sig.director,
            "cashier": sig.cashier,
            "bookkeeper": sig.bookkeeper,
            "group": list(sig.group),
        },
    }
    if config.income is not None:
        data["income"] = [{"name": c.name, "accounts": list(c.accounts)} for c in config.income]
    if config.expense is not None:
        data["expense"] = [{"name": c.name, "accounts": list(c.accounts)} for c in config.expense]
    if config.sections is not None:
        data["section"] = [
            {
                "key": s.key,
                "title": s.title,
                "accounts": list(s.accounts),
                "debit": s.debit,
                "credit": s.credit,
                "balance": s.balance,
            }
            for s in config.sections
        ]
    debts: dict[str, list[str]] = {}
    if config.receivables is not None:
        debts["receivables"] = list(config.receivables)
    if config.payables is not None:
        debts["payables"] = list(config.payables)
    if debts:
        data["debts"] = debts
    if config.base_url:
        data["base_url"] = config.base_url
    return data


def config_from_json(data: Mapping[str, Any]) -> DisclosureConfig:
    """Inverse of :func:`config_to_json`.

    Raises:
        ProblemsError: as :func:`parse_config`.
    """
    return parse_config(data, "<embedded>")


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)


def config_toml(config: DisclosureConfig) -> str:
    """Return the configuration as a TOML file text (a starting point to edit)."""
    data = config_to_json(config)
    lines = ["# 财务公开表配置 / disclosure configuration (see juzhang.disclosure_config)"]
    for key in ("chart", "community", "large_expense", "post_by_day", "question_days", "base_url"):
        if key in data:
            lines.append(f"{key} = {_toml_value(data[key])}")
    lines += ["", "[signatures]"]
    lines += [f"{k} = {_toml_value(v)}" for k, v in data["signatures"].items()]
    for kind in ("income", "expense"):
        for item in data.get(kind, []):
            lines += ["", f"[[{kind}]]"]
            lines += [f"{k} = {_toml_value(v)}" for k, v in item.items()]
    for item in data.get("section", []):
        lines += ["", "[[section]]"]
        lines += [f"{k} = {_toml_value(v)}" for k, v in item.items()]
    if "debts" in data:
        lines += ["", "[debts]"]
        lines += [f"{k} = {_toml_value(v)}" for k, v in data["debts"].items()]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- stored per community


@command
def set_stored_config(
    session: Connection, entity: str, actor: str, config: DisclosureConfig
) -> DisclosureConfig:
    """Store ``config`` as the entity's disclosure configuration; return it as stored.

    The close (:mod:`juzhang.closing_run`), ``report disclosure`` and the
    sign-off use it whenever no configuration is given.  It is checked against
    the entity first (chart, every account prefix); the change is audited with
    the text it sets.  Storing is for whoever closes the month (审核,
    reviewer), who publishes the board it shapes.

    Raises:
        SegregationOfDutiesError: the actor is not a reviewer of the entity.
        ProblemsError: the configuration does not fit the entity (all problems).
    """
    ent = get_entity(session, entity, lock=True)
    uid = require(session, ent, actor, Action.CLOSE_PERIOD)
    check_config(config, ent.chart, accounts_of(session, ent.id))
    if not config.chart:
        config = replace(config, chart=ent.chart)
    text = json.dumps(config_to_json(config), ensure_ascii=False, sort_keys=True)
    values = {"config": text, "set_by": uid, "set_at": now()}
    if get_row(session, DisclosureSetting, ent.id) is None:
        session.execute(insert(DisclosureSetting).values(entity_id=ent.id, **values))
    else:
        session.execute(
            update(DisclosureSetting).where(DisclosureSetting.entity_id == ent.id).values(**values)
        )
    audit(session, ent.id, actor, "disclosure.config", ent.code, {"config": text})
    return config


def stored_config(session: Connection, entity: str) -> DisclosureConfig | None:
    """Return the entity's stored disclosure configuration, or ``None`` when none is stored.

    Raises:
        NotFoundError: unknown entity.
    """
    ent = get_entity(session, entity)
    text = session.execute(
        select(DisclosureSetting.config).where(DisclosureSetting.entity_id == ent.id)
    ).scalar_one_or_none()
    if text is None:
        return None
    return parse_config(json.loads(text), f"{ent.code} 已存配置 stored configuration")
