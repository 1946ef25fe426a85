"""Statement layouts (报表格式): the line items of each chart's forms, as data.

Layout file format::

    statement = "balance-sheet"          # or "income"
    chart = "rural-2023"
    title = "资产负债表"
    form = "村会01表"                     # 表号, may be empty
    total_assets = 32                    # balance sheet: the two rows that must agree
    total_claims = 54
    split = ["非限定性", "限定性", "合计"]   # income statement, optional
    notes = ["…"]                        # printed under the form: what is not computed
    [[column]]                           # "opening"/"closing" or "current"/"cumulative"
    key = "opening"
    label = "年初数"
    alt_label = "期初数"                  # used when the column is not the default range
    [[section]]
    key = "assets"
    label = "资产"
    [[section.line]]
    row = 1                              # 行次; a line without row is a heading
    item = "货币资金"
    indent = 1                           # display hint
    terms = ["balance:101", "balance:102"]
    restricted = ["-net:4101/限定性收入"]   # with split: the 限定性 part of the line
    sum = [24, -25]                      # other lines by 行次; "-" subtracts
    requires = "161"                     # shown only when the entity has this account
                                         # (an optional 可增设 account of the chart)

A term is ``[+|-]kind:selector[@debit|@credit]``:

* kind ``balance`` (balance at the end of the column), ``opening`` (at its
  start), ``net`` (debit − credit of the column's months), ``debit``,
  ``credit`` (one side).  Movements leave out closing vouchers (结转损益,
  voucher kind ``closing``), so an income account shows the month's income
  even after it has been carried forward.  Red lines count negative.
  Balances are debit positive; a leading ``-`` shows a credit balance positive.
* selector: an account code of the chart (the account and all its detail
  accounts), or ``[category]`` (every first-level account of that category,
  e.g. ``[income]``), optionally followed by ``/名称``: only the detail
  accounts below with exactly that name (the regulation prescribes names such
  as 收益分配—提取公积公益金 or 捐赠收入—限定性收入; codes are the entity's own).
* ``@debit`` / ``@credit``: only the detail accounts whose figure is on that
  side (内部往来: 借方余额 to 应收款项, 贷方余额 to 应付款项).

The loader refuses a layout with every problem listed; for a balance sheet it
also proves that every account of the chart enters 资产总计 minus
负债和所有者权益（净资产）总计 exactly once, so the sheet balances whenever the
trial balance does.  Income and expense not yet carried forward are part of
未分配收益 (rural) or of net assets (non-profit) for that reason.  For an
income statement it checks that every income and expense account of the
chart appears in some ``net`` term.
"""

from __future__ import annotations

import re
import tomllib
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from juzhang.charts import CATEGORIES, CHART_KEYS, ChartTemplate, load_chart
from juzhang.errors import NotFoundError, Problem, ProblemsError, ValidationError
from juzhang.storage.access import AccountInfo

STATEMENTS: tuple[str, ...] = ("balance-sheet", "income")
"""The statements each chart has a layout for."""

_COLUMNS = {"balance-sheet": ("opening", "closing"), "income": ("current", "cumulative")}
_KINDS = {
    "balance-sheet": frozenset({"balance"}),
    "income": frozenset({"balance", "opening", "net", "debit", "credit"}),
}
PARTS = ("unrestricted", "restricted", "total")
_TERM = re.compile(
    r"(?P<sign>[+-]?)(?P<kind>[a-z]+):(?P<base>\[[a-z_]+\]|[0-9]+)"
    r"(?:/(?P<name>[^@]+))?(?:@(?P<side>debit|credit))?"
)
_HEADER = frozenset(
    {
        "statement",
        "chart",
        "title",
        "form",
        "total_assets",
        "total_claims",
        "split",
        "notes",
        "column",
        "section",
    }
)
_LINE_KEYS = frozenset({"row", "item", "indent", "terms", "restricted", "sum", "requires"})


@dataclass(frozen=True, slots=True)
class Term:
    """One term of a line: ``sign × kind(selector)``, see the module docstring."""

    sign: int
    kind: str
    base: str
    name: str | None
    side: str | None
    text: str

    @property
    def category(self) -> str | None:
        """The category of a ``[category]`` selector, else ``None``."""
        return self.base[1:-1] if self.base.startswith("[") else None


def parse_term(text: str) -> Term:
    """Parse a term such as ``"-balance:113@credit"`` or ``"debit:322/提取公积公益金"``.

    Raises:
        ValidationError: not a term.
    """
    m = _TERM.fullmatch(text.strip())
    if m is None:
        raise ValidationError(
            f"报表项目 term {text!r}",
            "应为 [+-]kind:科目[/名称][@debit|@credit] / expected [+-]kind:code[/name][@side]",
        )
    return Term(
        -1 if m["sign"] == "-" else 1, m["kind"], m["base"], m["name"], m["side"], text.strip()
    )


@dataclass(frozen=True, slots=True)
class LayoutLine:
    """A line of a form: 行次 (``None`` for a heading), 项目, terms and subtotal rows.

    ``requires`` names an optional account of the chart: the line is shown only
    to an entity that has added it (its figure is zero otherwise).
    """

    row: int | None
    item: str
    indent: int
    terms: tuple[Term, ...]
    restricted: tuple[Term, ...]
    sum: tuple[int, ...]
    requires: str | None = None


@dataclass(frozen=True, slots=True)
class LayoutSection:
    """A part of a form (资产 / 负债和所有者权益, 收益 / 收益分配 …)."""

    key: str
    label: str
    lines: tuple[LayoutLine, ...]


@dataclass(frozen=True, slots=True)
class LayoutColumn:
    """A figure column of a form; ``alt_label`` applies when it covers another range."""

    key: str
    label: str
    alt_label: str


@dataclass(frozen=True, slots=True)
class Layout:
    """The form of one statement of one chart, as read from its TOML file.

    ``notes`` are printed under the form: what each line was checked against
    and what the form does not compute.
    """

    statement: str
    chart: str
    title: str
    form: str
    columns: tuple[LayoutColumn, ...]
    sections: tuple[LayoutSection, ...]
    split: tuple[str, ...] | None
    total_assets: int | None
    total_claims: int | None
    notes: tuple[str, ...] = ()

    def lines(self) -> tuple[LayoutLine, ...]:
        """Return every line of every section, in order."""
        return tuple(ln for s in self.sections for ln in s.lines)


@cache
def load_layout(chart: str, statement: str) -> Layout:
    """Return the shipped layout of ``statement`` for ``chart``, read once and cached.

    Raises:
        NotFoundError: unknown chart or statement.
        ProblemsError: the shipped file is broken (every problem listed).
    """
    if chart not in CHART_KEYS or statement not in STATEMENTS:
        raise NotFoundError("报表格式 layout", f"{chart} {statement}")
    source = f"{chart}.{statement}.toml"
    text = resources.files("juzhang.reports").joinpath("layouts", source).read_text("utf-8")
    layout = parse_layout(text, source)
    if (layout.chart, layout.statement) != (chart, statement):
        problem = Problem(source, f"应为 / must be {chart} {statement}", "layout")
        raise ProblemsError(f"报表格式 layout {source}", [problem])
    return layout


def parse_layout(text: str, source: str = "<layout>") -> Layout:
    """Return the layout held by the TOML ``text``, checked against its chart.

    Raises:
        ProblemsError: not TOML, unknown or missing fields, bad terms, codes not
            in the chart, unknown or circular subtotal rows, or (balance sheet)
            an account of the chart that does not enter the equation exactly once.
    """
    what = f"报表格式 layout {source}"
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProblemsError(
            what, [Problem(source, f"不是有效的 TOML / not TOML: {exc}", "layout")]
        ) from exc
    problems: list[Problem] = []
    layout = _read_layout(data, source, problems)
    if layout is not None and not problems:
        chart = load_chart(layout.chart)
        _check_terms(layout, chart, source, problems)
        _check_rows(layout, source, problems)
        if not problems and layout.statement == "balance-sheet":
            problems.extend(_coverage_problems(layout, chart, source))
        if not problems and layout.statement == "income":
            problems.extend(_income_problems(layout, chart, source))
    if problems or layout is None:
        raise ProblemsError(what, problems)
    return layout


def _p(problems: list[Problem], where: str, message: str) -> None:
    problems.append(Problem(where, message, "layout"))


def _read_layout(data: dict[str, Any], source: str, problems: list[Problem]) -> Layout | None:
    for key in sorted(set(data) - _HEADER):
        _p(problems, source, f"未知字段 / unknown field {key!r}")
    statement = data.get("statement")
    chart = data.get("chart")
    title = data.get("title")
    if statement not in STATEMENTS:
        _p(problems, source, f"statement 应为 / must be one of {STATEMENTS}: {statement!r}")
        return None
    if chart not in CHART_KEYS:
        _p(problems, source, f"chart 未知 / unknown chart {chart!r}")
        return None
    if not isinstance(title, str) or not title:
        _p(problems, source, "缺少 / missing title")
    columns = _read_columns(data.get("column"), statement, source, problems)
    split = data.get("split")
    if split is not None and (
        statement != "income"
        or not isinstance(split, list)
        or len(split) != len(PARTS)
        or not all(isinstance(s, str) for s in split)
    ):
        _p(problems, source, "split 应为三个标签 / split must be three labels (income only)")
        split = None
    sections = _read_sections(data.get("section"), source, problems, split is not None)
    totals: list[int | None] = []
    for key in ("total_assets", "total_claims"):
        value = data.get(key)
        if statement == "balance-sheet" and not isinstance(value, int):
            _p(problems, source, f"缺少 / missing {key}")
        if statement == "income" and value is not None:
            _p(problems, source, f"{key} 只用于资产负债表 / only for balance sheets")
        totals.append(value if isinstance(value, int) else None)
    notes = data.get("notes", [])
    if not isinstance(notes, list) or not all(isinstance(n, str) and n for n in notes):
        _p(problems, source, "notes 应为文本列表 / notes must be a list of strings")
        notes = []
    return Layout(
        statement=statement,
        chart=chart,
        title=title if isinstance(title, str) else "",
        form=str(data.get("form", "")),
        columns=columns,
        sections=sections,
        split=tuple(split) if split else None,
        total_assets=totals[0],
        total_claims=totals[1],
        notes=tuple(notes),
    )


def _read_columns(
    entries: object, statement: str, source: str, problems: list[Problem]
) -> tuple[LayoutColumn, ...]:
    out = []
    if isinstance(entries, list):
        for entry in entries:
            if isinstance(entry, dict) and isinstance(entry.get("label"), str):
                label = entry["label"]
                out.append(
                    LayoutColumn(str(entry.get("key")), label, str(entry.get("alt_label", label)))
                )
    if sorted(c.key for c in out) != sorted(_COLUMNS[statement]):
        _p(problems, source, f"[[column]] 应为 / must be the columns {_COLUMNS[statement]}")
    return tuple(out)


def _read_sections(
    entries: object, source: str, problems: list[Problem], split: bool
) -> tuple[LayoutSection, ...]:
    if not isinstance(entries, list) or not entries:
        _p(problems, source, "缺少 / missing [[section]]")
        return ()
    sections = []
    for i, entry in enumerate(entries, 1):
        where = f"{source}:section[{i}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("key"), str):
            _p(problems, where, "section 需要 key / a section needs a key")
            continue
        lines = [
            _read_line(line, f"{where}.line[{j}]", problems, split)
            for j, line in enumerate(entry.get("line", []), 1)
        ]
        sections.append(
            LayoutSection(
                entry["key"], str(entry.get("label", "")), tuple(ln for ln in lines if ln)
            )
        )
    return tuple(sections)


def _read_line(
    entry: object, where: str, problems: list[Problem], split: bool
) -> LayoutLine | None:
    if not isinstance(entry, dict):
        _p(problems, where, "应为表 / must be a table")
        return None
    for key in sorted(set(entry) - _LINE_KEYS):
        _p(problems, where, f"未知字段 / unknown field {key!r}")
    row = entry.get("row")
    item = entry.get("item")
    if not isinstance(item, str) or not item:
        _p(problems, where, "缺少 / missing item")
        return None
    if row is not None and (not isinstance(row, int) or row <= 0):
        _p(problems, where, f"row 应为正整数 / row must be a positive integer: {row!r}")
        return None
    terms = _read_terms(entry.get("terms", []), where, problems)
    restricted = _read_terms(entry.get("restricted", []), where, problems)
    if restricted and not split:
        _p(problems, where, "restricted 需要 split / restricted needs split")
    total = entry.get("sum", [])
    if not isinstance(total, list) or not all(isinstance(r, int) and r != 0 for r in total):
        _p(problems, where, f"sum 应为行次列表 / sum must list rows: {total!r}")
        total = []
    if row is None and (terms or restricted or total):
        _p(problems, where, "标题行不能有数 / a heading (no row) has no figures")
    requires = entry.get("requires")
    if requires is not None and (not isinstance(requires, str) or row is None):
        _p(problems, where, f"requires 应为科目代码 / requires must name an account: {requires!r}")
        requires = None
    indent = entry.get("indent", 0)
    return LayoutLine(
        row,
        item,
        indent if isinstance(indent, int) else 0,
        terms,
        restricted,
        tuple(total),
        requires,
    )


def _read_terms(texts: object, where: str, problems: list[Problem]) -> tuple[Term, ...]:
    if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
        _p(problems, where, f"terms 应为文本列表 / terms must be a list of strings: {texts!r}")
        return ()
    out = []
    for text in texts:
        try:
            out.append(parse_term(text))
        except ValidationError as exc:
            _p(problems, where, exc.reason + f": {text!r}")
    return tuple(out)


def _check_terms(
    layout: Layout, chart: ChartTemplate, source: str, problems: list[Problem]
) -> None:
    codes = {a.code for a in chart.accounts}
    kinds = _KINDS[layout.statement]
    for line in layout.lines():
        where = f"{source} {line.row or ''} {line.item}".strip()
        if line.requires is not None and line.requires not in codes:
            _p(problems, where, f"requires: {layout.chart} 没有科目 / no account {line.requires}")
        for term in (*line.terms, *line.restricted):
            if term.kind not in kinds:
                _p(problems, where, f"{term.text}: 此表不能用 / kind not allowed here: {term.kind}")
            category = term.category
            if category is not None and category not in CATEGORIES:
                _p(problems, where, f"{term.text}: 未知类别 / unknown category {category}")
            if category is None and term.base not in codes:
                _p(
                    problems,
                    where,
                    f"{term.text}: {layout.chart} 没有科目 / no account {term.base}",
                )


def _check_rows(layout: Layout, source: str, problems: list[Problem]) -> None:
    rows: dict[int, LayoutLine] = {}
    for line in layout.lines():
        if line.row is None:
            continue
        if line.row in rows:
            _p(problems, source, f"行次重复 / duplicate row {line.row}")
        rows[line.row] = line
    for line in layout.lines():
        for ref in line.sum:
            if abs(ref) not in rows:
                _p(problems, source, f"行 {line.row}: 没有行次 / no row {abs(ref)}")
    for key in ("total_assets", "total_claims"):
        value = getattr(layout, key)
        if value is not None and value not in rows:
            _p(problems, source, f"{key}: 没有行次 / no row {value}")
    if problems:
        return
    state: dict[int, int] = {}

    def visit(row: int) -> bool:
        if state.get(row) == 2:
            return True
        if state.get(row) == 1:
            return False
        state[row] = 1
        ok = all(visit(abs(r)) for r in rows[row].sum)
        state[row] = 2
        return ok

    for row in rows:
        if not visit(row):
            _p(problems, source, f"行次循环引用 / circular subtotal at row {row}")
            return


def _template_accounts(chart: ChartTemplate) -> dict[str, AccountInfo]:
    top = chart.top_level_length
    parents = {a.parent for a in chart.accounts if a.parent}
    return {
        a.code: AccountInfo(
            a.code,
            a.name,
            a.parent,
            1 + (len(a.code) - top) // 2,
            a.category,
            a.side,
            a.custody,
            True,
            a.code not in parents,
        )
        for a in chart.accounts
    }


def _coverage_problems(layout: Layout, chart: ChartTemplate, source: str) -> list[Problem]:
    """Every account must enter assets − claims with coefficient 1, whatever its balance side.

    Named detail accounts the layout mentions are added as synthetic children
    and checked too.
    """
    accounts = _template_accounts(chart)
    tree = AccountTree(accounts)
    for term in (t for ln in layout.lines() for t in ln.terms):
        if term.name is None:
            continue
        for base in tree.bases(term):
            code = f"{base}~{term.name}"
            parent = accounts[base]
            accounts[code] = AccountInfo(
                code,
                term.name,
                base,
                parent.level + 1,
                parent.category,
                parent.side,
                None,
                True,
                True,
            )
    tree = AccountTree(accounts)
    problems: list[Problem] = []
    assert layout.total_assets is not None and layout.total_claims is not None
    for code in sorted(accounts):
        for fen in (1, -1):
            figures = Figures({}, {code: fen}, {}, {})
            values = evaluate(layout, total_terms, tree.valuer(figures))
            if values[layout.total_assets] - values[layout.total_claims] != fen:
                _p(
                    problems,
                    source,
                    f"科目 {code} {accounts[code].name} 未恰好计入一次"
                    f"（{'借' if fen > 0 else '贷'}方余额）"
                    f" / account {code} does not enter the equation exactly once",
                )
                break
    return problems


def _income_problems(layout: Layout, chart: ChartTemplate, source: str) -> list[Problem]:
    """Every income and expense account must appear in some ``net`` term."""
    named: set[str] = set()
    for term in (t for ln in layout.lines() for t in ln.terms):
        if term.kind != "net" or term.name is not None:
            continue
        if term.category:
            named.update(
                a.code for a in chart.accounts if a.parent is None and a.category == term.category
            )
        else:
            named.add(term.base)
    return [
        Problem(source, f"收支科目 {a.code} {a.name} 未列入 / not on the statement", "layout")
        for a in (*chart.income_accounts(), *chart.expense_accounts())
        if a.code not in named
    ]


# --------------------------------------------------------------------------- evaluation


@dataclass(frozen=True, slots=True)
class Figures:
    """Per account code, in fen: balance at the column's start and end, debit and credit."""

    opening: Mapping[str, int]
    closing: Mapping[str, int]
    debit: Mapping[str, int]
    credit: Mapping[str, int]

    def get(self, kind: str, code: str) -> int:
        if kind == "balance":
            return self.closing.get(code, 0)
        if kind == "opening":
            return self.opening.get(code, 0)
        if kind == "debit":
            return self.debit.get(code, 0)
        if kind == "credit":
            return self.credit.get(code, 0)
        return self.debit.get(code, 0) - self.credit.get(code, 0)  # net


class AccountTree:
    """Resolves selectors against an entity's accounts."""

    def __init__(self, accounts: Mapping[str, AccountInfo]) -> None:
        self.accounts = accounts
        self.children: dict[str, list[str]] = defaultdict(list)
        for acc in accounts.values():
            if acc.parent is not None:
                self.children[acc.parent].append(acc.code)
        self._cache: dict[tuple[str, str | None], tuple[str, ...]] = {}

    def below(self, code: str) -> list[str]:
        out, todo = [], [code]
        while todo:
            current = todo.pop()
            out.append(current)
            todo.extend(self.children.get(current, ()))
        return out

    def bases(self, term: Term) -> list[str]:
        category = term.category
        if category is None:
            return [term.base] if term.base in self.accounts else []
        return sorted(
            a.code for a in self.accounts.values() if a.parent is None and a.category == category
        )

    def codes(self, term: Term) -> tuple[str, ...]:
        key = (term.base, term.name)
        if key not in self._cache:
            out: list[str] = []
            for base in self.bases(term):
                if term.name is None:
                    out.extend(self.below(base))
                else:
                    for code in self.below(base):
                        if code != base and self.accounts[code].name == term.name:
                            out.extend(self.below(code))
            self._cache[key] = tuple(sorted(set(out)))
        return self._cache[key]

    def valuer(self, figures: Figures) -> Callable[[Term], int]:
        """Return a function giving each term's value in ``figures``."""

        def value(term: Term) -> int:
            return self.value(term, figures)

        return value

    def value(self, term: Term, figures: Figures) -> int:
        total = 0
        for code in self.codes(term):
            fen = figures.get(term.kind, code)
            if term.side == "debit":
                fen = max(fen, 0)
            elif term.side == "credit":
                fen = min(fen, 0)
            total += fen
        return term.sign * total


def total_terms(line: LayoutLine) -> tuple[Term, ...]:
    """Return the terms of a line's whole amount (for :func:`evaluate`)."""
    return line.terms


def restricted_terms(line: LayoutLine) -> tuple[Term, ...]:
    """Return the terms of a line's 限定性 part (for :func:`evaluate`)."""
    return line.restricted


def evaluate(
    layout: Layout,
    terms_of: Callable[[LayoutLine], tuple[Term, ...]],
    value: Callable[[Term], int],
) -> dict[int, int]:
    """Return ``{row: fen}`` for every numbered line (subtotals in dependency order)."""
    rows = {ln.row: ln for ln in layout.lines() if ln.row is not None}
    out: dict[int, int] = {}

    def get(row: int) -> int:
        if row not in out:
            line = rows[row]
            total = sum(value(t) for t in terms_of(line))
            total += sum((1 if r > 0 else -1) * get(abs(r)) for r in line.sum)
            out[row] = total
        return out[row]

    for row in rows:
        get(row)
    return out
