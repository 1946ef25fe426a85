"""Charts of accounts (会计科目表) as versioned data.

A chart of accounts is data, not code.  Each chart juzhang knows is a TOML file
shipped next to this module (``rural-2023.toml``, ``rural-2004.toml``,
``npo-2004.toml``) and read here into immutable :class:`ChartTemplate` and
:class:`AccountTemplate` values.

Charts are **versioned**: the same code means different things in different
charts.  502 is 投资收益 (income) in the 2023 rural chart but was 经营支出
(an expense) in the 2004 one; 153 and 154 swapped places.  Never identify an
account by its code alone across charts: an account is always (chart, code).

The charts:

* ``rural-2023`` — 农村集体经济组织会计制度 (财会〔2023〕14号, from 2024-01-01), the
  default, for 社区股份经济合作社 and 居委会 that took over a village collective;
* ``rural-2004`` — 村集体经济组织会计制度 (财会〔2004〕12号), for legacy books;
* ``npo-2004`` — 民间非营利组织会计制度 (财会〔2004〕7号), for registered social
  organisations.

Codes follow one rule (科目代码规则): a first-level account (一级科目) has a code
of the chart's first-level length (3 digits in the rural charts, 4 in the
non-profit chart); a detail account (明细科目) is its parent's code plus exactly
two digits (513 管理费用 → 51301 办公费 → 5130101).  A detail account in a template
names its parent and inherits the parent's category, normal side and custody.

Every chart names a few accounts that the library's machinery uses: where the
month's result is carried (``current_year_result``: 321 本年收益, or 3101
非限定性净资产), where the year's result is distributed (``result_distribution``),
where unexplained cash differences wait (``loss_pending``: 待处理财产损溢), and the
detail account importers use for unidentified bank lines (``suspense``: 待查款项).

A chart may mark first-level accounts ``optional``: the accounts the
regulation lets a community add (可增设, e.g. 161 无形资产 in the 2004 rural
chart).  A new entity gets the others (:meth:`ChartTemplate.default_accounts`);
:func:`juzhang.agency.add_optional_account` adds an optional one later.  The
forms still know every account of the chart, optional ones included.

A template that breaks a rule is refused at load with every problem listed
(:class:`~juzhang.errors.ProblemsError`).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from typing import Any

from juzhang.errors import NotFoundError, Problem, ProblemsError, ValidationError

__all__ = [
    "CATEGORIES",
    "CHART_KEYS",
    "CUSTODY_KINDS",
    "DEFAULT_CHART",
    "DETAIL_DIGITS",
    "SIDES",
    "AccountTemplate",
    "ChartTemplate",
    "load_chart",
    "parent_code",
    "parse_chart",
]

CHART_KEYS: tuple[str, ...] = ("rural-2023", "rural-2004", "npo-2004")
"""The charts shipped with juzhang, the default first."""

DEFAULT_CHART = "rural-2023"
"""农村集体经济组织会计制度 (2023): the chart a new entity gets unless told otherwise."""

CATEGORIES: tuple[str, ...] = (
    "asset",  # 资产类
    "liability",  # 负债类
    "equity",  # 所有者权益类
    "net_assets",  # 净资产类 (non-profit chart)
    "cost",  # 成本类
    "income",  # 收入类
    "expense",  # 支出 / 费用类
)
"""Account categories (科目类别)."""

SIDES: tuple[str, ...] = ("debit", "credit", "either")
"""Normal balance sides (余额方向): 借, 贷, or 借或贷 for accounts such as 内部往来."""

CUSTODY_KINDS: tuple[str, ...] = ("cash", "bank")
"""Money the cashier holds (出纳保管): 库存现金 / 现金 and 银行存款."""

DETAIL_DIGITS = 2
"""Digits a detail account adds to its parent's code."""

_DIGITS = re.compile(r"[0-9]+")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_HEADER_KEYS = frozenset(
    {
        "key",
        "name",
        "regulation",
        "effective",
        "current_year_result",
        "result_distribution",
        "loss_pending",
        "suspense",
        "account",
    }
)
_ACCOUNT_KEYS = frozenset({"code", "name", "category", "side", "custody", "parent", "optional"})
_RESULT_CATEGORIES = frozenset({"equity", "net_assets"})


@dataclass(frozen=True, slots=True)
class AccountTemplate:
    """One account of a chart template (科目).

    ``category`` is one of :data:`CATEGORIES`, ``side`` the normal balance side
    (:data:`SIDES`), ``custody`` ``"cash"`` or ``"bank"`` for the accounts whose
    money the cashier holds (else ``None``), ``parent`` the parent's code for a
    detail account (else ``None``).  ``optional`` marks an account the
    regulation lets a community add (可增设科目) that a new entity does not get.
    """

    code: str
    name: str
    category: str
    side: str
    custody: str | None
    parent: str | None
    optional: bool = False


@dataclass(frozen=True, slots=True)
class ChartTemplate:
    """A chart of accounts (会计科目表) as issued by a regulation.

    ``effective`` is the ISO date the regulation takes effect.  The special
    codes (``current_year_result``, ``result_distribution``, ``loss_pending``,
    ``suspense``) are accounts of this chart; ``result_distribution`` and
    ``loss_pending`` are ``None`` where the chart has no such account.
    ``accounts`` keeps the order of the template, each parent before its
    details.
    """

    key: str
    name: str
    regulation: str
    effective: str
    current_year_result: str
    result_distribution: str | None
    loss_pending: str | None
    suspense: str
    accounts: tuple[AccountTemplate, ...]

    @property
    def top_level_length(self) -> int:
        """Return the length of a first-level code: 3 (rural charts) or 4 (npo).

        Raises ValidationError if the chart has no first-level account.
        """
        for account in self.accounts:
            if account.parent is None:
                return len(account.code)
        raise ValidationError(f"科目表 chart {self.key}", "没有一级科目 / no first-level account")

    def account(self, code: str) -> AccountTemplate:
        """Return the account with this code in this chart.

        Raises NotFoundError when the chart has no such code.
        """
        for account in self.accounts:
            if account.code == code:
                return account
        raise NotFoundError("account", f"{self.key} {code}")

    def income_accounts(self) -> tuple[AccountTemplate, ...]:
        """Return the first-level income accounts (收入类), carried forward each month."""
        return self._top_level("income")

    def expense_accounts(self) -> tuple[AccountTemplate, ...]:
        """Return the first-level expense accounts (支出 / 费用类), carried forward each month.

        Cost accounts (成本类, e.g. 401 生产（劳务）成本) are not included: they are
        not carried forward into the result.
        """
        return self._top_level("expense")

    def default_accounts(self) -> tuple[AccountTemplate, ...]:
        """Return the accounts a new entity gets: all but the optional ones (可增设科目)."""
        return tuple(a for a in self.accounts if not a.optional)

    def optional_accounts(self) -> tuple[AccountTemplate, ...]:
        """Return the accounts the regulation lets a community add (可增设科目)."""
        return tuple(a for a in self.accounts if a.optional)

    def custody_accounts(self) -> tuple[AccountTemplate, ...]:
        """Return the accounts whose money the cashier holds (cash and bank)."""
        return tuple(a for a in self.accounts if a.custody is not None)

    def _top_level(self, category: str) -> tuple[AccountTemplate, ...]:
        return tuple(a for a in self.accounts if a.parent is None and a.category == category)


def parent_code(code: str, top_level_length: int) -> str | None:
    """Return the parent's code of ``code``, or ``None`` for a first-level code.

    ``parent_code("51301", 3) == "513"``, ``parent_code("5130101", 3) == "51301"``,
    ``parent_code("513", 3) is None``.  Raises ValidationError when ``code`` is
    not all ASCII digits or is not a first-level code plus whole pairs of digits.
    """
    what = f"科目代码 account code {code!r}"
    if top_level_length < 1:
        raise ValidationError(what, f"一级科目长度无效 / bad first-level length {top_level_length}")
    if not _DIGITS.fullmatch(code):
        raise ValidationError(what, "只能由数字组成 / must consist of digits 0-9")
    extra = len(code) - top_level_length
    if extra == 0:
        return None
    if extra < 0 or extra % DETAIL_DIGITS:
        raise ValidationError(
            what,
            f"应为 {top_level_length} 位一级代码加每级 {DETAIL_DIGITS} 位 / must be a "
            f"{top_level_length}-digit first-level code plus {DETAIL_DIGITS} digits per level",
        )
    return code[:-DETAIL_DIGITS]


@cache
def load_chart(key: str) -> ChartTemplate:
    """Return the shipped chart ``key`` (one of :data:`CHART_KEYS`), read once and cached.

    Raises NotFoundError for an unknown key, ProblemsError if the shipped
    template is broken.
    """
    if key not in CHART_KEYS:
        raise NotFoundError("chart", key)
    source = f"{key}.toml"
    text = resources.files(__name__).joinpath(source).read_text(encoding="utf-8")
    chart = parse_chart(text, source)
    if chart.key != key:
        problem = Problem(source, f"key 应为 / must be {key!r}, not {chart.key!r}", "chart")
        raise ProblemsError(f"科目表 chart template {source}", [problem])
    return chart


def parse_chart(text: str, source: str = "<chart>") -> ChartTemplate:
    """Return the chart held by the TOML ``text``; ``source`` names it in problems.

    Raises ProblemsError listing every problem when the text is not TOML or
    breaks a rule: a required field missing, an unknown field, a code not
    unique, a parent missing or not matching the code, a category, side or
    custody outside the allowed sets, a special code not in the chart.
    """
    what = f"科目表 chart template {source}"
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        problem = Problem(source, f"不是有效的 TOML / not valid TOML: {exc}", "chart")
        raise ProblemsError(what, [problem]) from exc
    problems: list[Problem] = []
    header = _read_header(data, source, problems)
    accounts = _read_accounts(data.get("account"), source, problems)
    if not problems:
        _check_special(header, accounts, source, problems)
    if problems:
        raise ProblemsError(what, problems)
    return ChartTemplate(
        key=_required(header, "key"),
        name=_required(header, "name"),
        regulation=_required(header, "regulation"),
        effective=_required(header, "effective"),
        current_year_result=_required(header, "current_year_result"),
        result_distribution=header["result_distribution"],
        loss_pending=header["loss_pending"],
        suspense=_required(header, "suspense"),
        accounts=accounts,
    )


def _required(header: dict[str, str | None], name: str) -> str:
    value = header[name]
    assert value is not None, name  # _read_header reported it otherwise
    return value


def _problem(problems: list[Problem], where: str, message: str) -> None:
    problems.append(Problem(where, message, "chart"))


def _text(
    table: dict[str, Any], name: str, where: str, problems: list[Problem], *, required: bool
) -> str | None:
    """Return the non-empty string ``table[name]``; report it missing or not a string."""
    value = table.get(name)
    if value is None or value == "":
        if required:
            _problem(problems, where, f"缺少 / missing {name}")
        return None
    if not isinstance(value, str):
        _problem(problems, where, f"{name} 应为文本 / must be a string, not {value!r}")
        return None
    return value


def _read_header(
    data: dict[str, Any], source: str, problems: list[Problem]
) -> dict[str, str | None]:
    for name in sorted(set(data) - _HEADER_KEYS):
        _problem(problems, source, f"未知字段 / unknown field {name!r}")
    effective = data.get("effective")
    if isinstance(effective, date):  # an unquoted TOML date
        data = {**data, "effective": effective.isoformat()}
    header: dict[str, str | None] = {}
    for name in ("key", "name", "regulation", "effective", "current_year_result", "suspense"):
        header[name] = _text(data, name, source, problems, required=True)
    for name in ("result_distribution", "loss_pending"):
        header[name] = _text(data, name, source, problems, required=False)
    effective_text = header["effective"]
    if effective_text is not None and not _is_iso_date(effective_text):
        _problem(problems, source, f"effective 应为 YYYY-MM-DD / not a date: {effective_text!r}")
    return header


def _is_iso_date(text: str) -> bool:
    if not _ISO_DATE.fullmatch(text):
        return False
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _read_accounts(
    entries: object, source: str, problems: list[Problem]
) -> tuple[AccountTemplate, ...]:
    """Return the accounts of ``[[account]]``, checking each and the tree they form."""
    if not isinstance(entries, list) or not entries:
        _problem(problems, source, "缺少科目 / no [[account]] entries")
        return ()
    top_level_length = _first_level_length(entries)
    accounts: dict[str, AccountTemplate] = {}
    for index, entry in enumerate(entries, start=1):
        where = f"{source}:account[{index}]"
        if not isinstance(entry, dict):
            _problem(problems, where, "应为表 / must be a table")
            continue
        account = _read_account(entry, where, top_level_length, accounts, problems)
        if account is None:
            continue
        if account.code in accounts:
            _problem(problems, where, f"科目代码重复 / duplicate code {account.code}")
            continue
        accounts[account.code] = account
    return tuple(accounts.values())


def _first_level_length(entries: list[Any]) -> int:
    """Return the code length of the first entry without a parent (0 if none is usable)."""
    for entry in entries:
        if isinstance(entry, dict) and "parent" not in entry:
            code = entry.get("code")
            if isinstance(code, str) and _DIGITS.fullmatch(code):
                return len(code)
    return 0


def _read_account(
    entry: dict[str, Any],
    where: str,
    top_level_length: int,
    known: dict[str, AccountTemplate],
    problems: list[Problem],
) -> AccountTemplate | None:
    """Return the account in ``entry`` with inherited fields filled in, or None if it is bad."""
    before = len(problems)
    for unknown in sorted(set(entry) - _ACCOUNT_KEYS):
        _problem(problems, where, f"未知字段 / unknown field {unknown!r}")
    code = _text(entry, "code", where, problems, required=True)
    name = _text(entry, "name", where, problems, required=True)
    parent = _text(entry, "parent", where, problems, required=False)
    fields = {
        field: _choice(entry, field, allowed, where, problems)
        for field, allowed in (
            ("category", CATEGORIES),
            ("side", SIDES),
            ("custody", CUSTODY_KINDS),
        )
    }
    if code is None or name is None or len(problems) > before:
        return None
    where = f"{where} {code}"
    parent_account = _check_code(code, parent, where, top_level_length, known, problems)
    if parent_account is not None:
        inherited = {
            "category": parent_account.category,
            "side": parent_account.side,
            "custody": parent_account.custody,
        }
        for field, value in inherited.items():
            given = fields[field]
            if given is not None and given != value:
                _problem(problems, where, f"{field} 与上级不同 / differs from parent: {given!r}")
        fields = inherited
    elif parent is None:
        for field in ("category", "side"):
            if fields[field] is None:
                _problem(problems, where, f"一级科目缺少 / first-level account lacks {field}")
    optional = entry.get("optional", False)
    if not isinstance(optional, bool):
        _problem(problems, where, f"optional 应为 true/false / must be a boolean: {optional!r}")
    elif optional and parent is not None:
        _problem(problems, where, "只有一级科目可为可增设 / only a first-level account is optional")
    if fields["custody"] is not None and fields["category"] != "asset":
        _problem(problems, where, "只有资产类科目可由出纳保管 / only an asset may have custody")
    if len(problems) > before:
        return None
    return AccountTemplate(
        code=code,
        name=name,
        category=_as_str(fields["category"]),
        side=_as_str(fields["side"]),
        custody=fields["custody"],
        parent=parent,
        optional=optional is True,
    )


def _as_str(value: str | None) -> str:
    assert value is not None  # checked by _read_account before use
    return value


def _choice(
    entry: dict[str, Any],
    field: str,
    allowed: tuple[str, ...],
    where: str,
    problems: list[Problem],
) -> str | None:
    value = _text(entry, field, where, problems, required=False)
    if value is not None and value not in allowed:
        _problem(problems, where, f"{field} 无效 / invalid {field} {value!r}, allowed {allowed}")
        return None
    return value


def _check_code(
    code: str,
    parent: str | None,
    where: str,
    top_level_length: int,
    known: dict[str, AccountTemplate],
    problems: list[Problem],
) -> AccountTemplate | None:
    """Check ``code`` against the code rule and ``parent``; return the parent account."""
    try:
        expected = parent_code(code, top_level_length)
    except ValidationError as exc:
        _problem(problems, where, exc.reason)
        return None
    if parent != expected:
        if expected is None:
            message = f"一级科目不应有上级 / a first-level account has no parent, not {parent}"
        else:
            message = f"上级应为 / parent must be {expected}, not {parent}"
        _problem(problems, where, message)
        return None
    if parent is None:
        return None
    parent_account = known.get(parent)
    if parent_account is None:
        _problem(problems, where, f"上级科目须在前面列出 / parent {parent} not listed before it")
    return parent_account


def _check_special(
    header: dict[str, str | None],
    accounts: tuple[AccountTemplate, ...],
    source: str,
    problems: list[Problem],
) -> None:
    """Check that the special codes name accounts of the chart, of a fitting kind."""
    by_code = {a.code: a for a in accounts}
    for name in ("current_year_result", "result_distribution", "loss_pending", "suspense"):
        code = header[name]
        if code is not None and code not in by_code:
            _problem(problems, source, f"{name} 不在科目表中 / {name} {code} is not in the chart")
    result = by_code.get(header["current_year_result"] or "")
    if result is not None and result.category not in _RESULT_CATEGORIES:
        _problem(
            problems,
            source,
            f"current_year_result 应为权益或净资产类 / must be equity or net assets: {result.code}",
        )
