"""The disclosure result (:class:`Disclosure`): its figures, digest, fingerprint and JSON form.

Every amount the table shows is a :class:`Figure` with a stable key
(:meth:`Disclosure.figures`), e.g. ``item/2026-09/记-0003/2/expense``,
``category/expense/管理费用/ytd``, ``fund/bank/closing``.  The workbook writer
records where it put each figure, so a file can be checked against the books
later (:func:`juzhang.exporters.board_verify.verify_report`).

JSON (``to_json()``), stable schema, amounts as decimal strings::

    {"entity", "entity_name", "community", "state", "title", "period", "first", "last",
     "year_first", "posted_on", "posted_until", "items": [{"no", "period", "line_no",
       "date", "voucher", "account", "account_name", "summary", "income", "expense",
       "handler", "remark", "category"}],
     "categories": {"income"|"expense": [{"name", "current", "ytd"}]},
     "totals": {"income"|"expense": {"current", "ytd", "capitals"}},
     "funds": [{"key": "cash"|"bank"|"total", "name", "opening", "income", "expense",
       "closing", "ytd_opening", "ytd_income", "ytd_expense"}],
     "sections": [{"key", "title", "accounts", "debit_label", "credit_label", "balance",
       "rows": [{"period", "line_no", "date", "voucher", "account", "account_name",
         "summary", "debit", "credit"}], "debit", "credit", "ytd_debit", "ytd_credit",
       "opening", "closing"}],
     "large_expense": {"threshold", "items": [same as items]},
     "debts": {"receivables"|"payables": {"rows": [{"code", "name", "opening",
       "increase", "decrease", "closing"}], "total": {...}}},
     "budget": [{"line_no", "name", "kind", "initial", "adjustment", "budget", "current", "ytd",
       "remaining", "rate"}],
     "questions": [{"id", "period", "line", "line_ref", "text", "asked_on", "due_on",
       "answer", "answered_on", "status"}],
     "signatures": {"secretary", "director", "cashier", "bookkeeper", "group",
       "opinion", "signer", "signed_on", "status"},
     "chain": {"seq", "hash"}, "digest", "fingerprint",
     "figures": [{"key", "label", "value"}]}

``state`` is ``draft`` (a month is open: 草稿 · 未结账), ``final`` (closed, awaiting
the 民主理财小组's signature) or ``published``.  :func:`disclosure_from_json`
reads the form back (with the configuration, which the JSON does not carry):
the published snapshot of a signed board is this JSON
(:func:`juzhang.closing.published_disclosure`).

``questions`` are the residents' questions about earlier months the board
lists (提问栏/回音栏, :func:`juzhang.question.board_questions`) as of its last
day; their printed texts are figures (``question/3/question``, ``…/answer``,
``…/status``, ``…/due``), so a board published with its questions keeps them
in its digest and snapshot.  A board without questions has the figures and
digest it had before questions existed.

``income``/``expense``/``debit``/``credit`` are ``null`` on the empty side;
``rate`` is the percentage of the budget used so far (one place) or ``null``
for a zero budget; ``opening``/``closing`` of a section are ``null`` unless
it shows balances (credit positive for credit-side accounts).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from juzhang.core.period import format_period, parse_period
from juzhang.disclosure_config import (
    DisclosureConfig,
)
from juzhang.money import capitals
from juzhang.reports.disclosure.rows import (
    ZERO,
    BudgetRow,
    CategoryRow,
    DebtRow,
    DisclosureItem,
    Figure,
    FundRow,
    QuestionRow,
    SectionReport,
    SectionRow,
    SignatureBlock,
    _dec,
    figure_key,
)


@dataclass(frozen=True, slots=True)
class Disclosure:
    """The public disclosure (财务公开表) of one entity for a month or a quarter."""

    entity: str
    entity_name: str
    community: str
    title: str
    first: int
    last: int
    year_first: int
    posted_on: dt.date
    posted_until: dt.date
    items: tuple[DisclosureItem, ...]
    income_categories: tuple[CategoryRow, ...]
    expense_categories: tuple[CategoryRow, ...]
    funds: tuple[FundRow, ...]
    sections: tuple[SectionReport, ...]
    large_threshold: Decimal
    receivables: tuple[DebtRow, ...]
    payables: tuple[DebtRow, ...]
    budget: tuple[BudgetRow, ...]
    signatures: SignatureBlock
    chain_seq: int
    chain_hash: str
    config: DisclosureConfig
    state: str = "final"
    """``draft`` (a month of the range is open: 草稿 · 未结账), ``final`` (closed, awaiting
    the 民主理财小组) or ``published`` (signed: 已签字发布)."""
    questions: tuple[QuestionRow, ...] = ()
    """Residents' questions about earlier months, with answers, as of the last day (提问栏)."""
    _memo: dict[str, Any] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )
    """Derived values computed once (the figures and their digest); never part of the value."""

    # -- derived figures

    @property
    def period_label(self) -> str:
        """``"2026-09"`` or ``"2026-07..2026-09"``."""
        a, b = format_period(self.first), format_period(self.last)
        return a if a == b else f"{a}..{b}"

    @property
    def period_text(self) -> str:
        """The period in words: ``2026年9月``, ``2026年第3季度`` or ``2026年7月至8月``."""
        return period_title(self.first, self.last)

    @property
    def total_income(self) -> Decimal:
        """Income of the period (sum of the items)."""
        return sum((c.current for c in self.income_categories), ZERO)

    @property
    def total_expense(self) -> Decimal:
        """Expenditure of the period."""
        return sum((c.current for c in self.expense_categories), ZERO)

    @property
    def ytd_income(self) -> Decimal:
        """Income of the year to the end of the period (本年累计)."""
        return sum((c.ytd for c in self.income_categories), ZERO)

    @property
    def ytd_expense(self) -> Decimal:
        """Expenditure of the year to the end of the period."""
        return sum((c.ytd for c in self.expense_categories), ZERO)

    @property
    def large_items(self) -> tuple[DisclosureItem, ...]:
        """Expenditure items above the threshold (大额支出)."""
        return tuple(
            i for i in self.items if i.expense is not None and i.expense > self.large_threshold
        )

    def section(self, key: str) -> SectionReport:
        """Return one special section (KeyError when absent)."""
        for s in self.sections:
            if s.key == key:
                return s
        raise KeyError(key)

    def category(self, kind: str, name: str) -> CategoryRow:
        """Return one category row (KeyError when absent)."""
        rows = self.income_categories if kind == "income" else self.expense_categories
        for c in rows:
            if c.name == name:
                return c
        raise KeyError(name)

    def fund(self, key: str) -> FundRow:
        """Return the cash (``"cash"``), bank (``"bank"``) or total (``"total"``) row."""
        for f in (*self.funds, self.fund_total):
            if f.key_name == key:
                return f
        raise KeyError(key)

    @property
    def fund_total(self) -> FundRow:
        """Cash and bank together (合计)."""
        return FundRow(
            "total",
            "合计",
            *(
                sum((getattr(f, name) for f in self.funds), ZERO)
                for name in (
                    "opening",
                    "income",
                    "expense",
                    "ytd_opening",
                    "ytd_income",
                    "ytd_expense",
                )
            ),
        )

    # -- figures and fingerprint

    def figures(self) -> tuple[Figure, ...]:
        """Every figure the table shows, keyed stably (see the module docstring).

        Computed once per disclosure: the workbook asks for them, and for the
        digest they give, several times.
        """
        if "figures" not in self._memo:
            self._memo["figures"] = tuple(_figures(self))
        figures: tuple[Figure, ...] = self._memo["figures"]
        return figures

    @property
    def digest(self) -> str:
        """SHA-256 over the entity, the period and every figure (hex)."""
        if "digest" not in self._memo:
            self._memo["digest"] = figures_digest(self.entity, self.period_label, self.figures())
        digest: str = self._memo["digest"]
        return digest

    @property
    def fingerprint(self) -> str:
        """``"H001:2026-09:<chain seq>:<head hash, 16 hex>:<figure digest, 16 hex>"``."""
        return (
            f"{self.entity}:{self.period_label}:{self.chain_seq}:"
            f"{self.chain_hash[:16]}:{self.digest[:16]}"
        )

    def to_json(self) -> dict[str, Any]:
        """Return the documented JSON form (see the module docstring)."""
        return _json(self)


def digest_body(entity: str, period_label: str, figures: Iterable[Figure]) -> bytes:
    """Return the canonical bytes the figure digest is the SHA-256 of.

    The canonical serialisation (规范序列化), the one a browser reproduces to
    check a published page (:mod:`juzhang.exporters.site`): the UTF-8 bytes of ::

        {"entity":E,"figures":[[K1,V1],[K2,V2],...],"period":P}

    with no whitespace; ``E`` the entity code, ``P`` the period label
    (``2026-09`` or ``2026-07..2026-09``); one ``[key, value]`` pair per
    figure, the value as its decimal string (``"1234.50"``, ``"-300.00"``) or
    text (the capitals), pairs sorted by key and then value in Unicode code
    point order (which is UTF-8 byte order); each string a JSON string with
    only ``"``, ``\\`` and the control characters below U+0020 escaped
    (``\\b \\f \\n \\r \\t``, others ``\\u00xx`` in lower-case hex), every
    other character as itself.  This is what ``json.dumps(…, ensure_ascii=False,
    separators=(",", ":"))`` and JavaScript's ``JSON.stringify`` both write
    for a string.
    """
    body = json.dumps(
        {
            "entity": entity,
            "period": period_label,
            "figures": sorted([f.key, str(f.value)] for f in figures),
        },
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    )
    return body.encode("utf-8")


def figures_digest(entity: str, period_label: str, figures: Iterable[Figure]) -> str:
    """Return the SHA-256 (hex) of an entity, a period and figures (order does not matter).

    It is the SHA-256 of :func:`digest_body`, the canonical serialisation.
    """
    return hashlib.sha256(digest_body(entity, period_label, figures)).hexdigest()


def period_title(first: int, last: int) -> str:
    """Return the period in words: ``2026年9月``, ``2026年第3季度``, ``2026年7月至8月``."""
    year, m1, m2 = first // 100, first % 100, last % 100
    if first == last:
        return f"{year}年{m1}月"
    if m1 % 3 == 1 and m2 == m1 + 2:
        return f"{year}年第{(m1 + 2) // 3}季度"
    if m1 == 1 and m2 == 12:
        return f"{year}年度"
    return f"{year}年{m1}月至{m2}月"


def _figures(d: Disclosure) -> Iterator[Figure]:
    for i in d.items:
        where = f"序号{i.no} {i.voucher} {i.summary}"
        if i.income is not None:
            yield Figure(figure_key(i.key, "income"), f"{where} 收入", i.income)
        if i.expense is not None:
            yield Figure(figure_key(i.key, "expense"), f"{where} 支出", i.expense)
    for c in (*d.income_categories, *d.expense_categories):
        kind = "收入" if c.kind == "income" else "支出"
        yield Figure(figure_key(c.key, "current"), f"{kind} {c.name} 本期", c.current)
        yield Figure(figure_key(c.key, "ytd"), f"{kind} {c.name} 本年累计", c.ytd)
    for kind, zh, current, ytd in (
        ("income", "收入", d.total_income, d.ytd_income),
        ("expense", "支出", d.total_expense, d.ytd_expense),
    ):
        yield Figure(figure_key(f"total/{kind}", "current"), f"{zh}合计 本期", current)
        yield Figure(figure_key(f"total/{kind}", "ytd"), f"{zh}合计 本年累计", ytd)
        yield Figure(figure_key(f"total/{kind}", "capitals"), f"{zh}合计 大写", capitals(current))
    for f in (*d.funds, d.fund_total):
        for column, zh, value in (
            ("opening", "期初余额", f.opening),
            ("income", "本期收入", f.income),
            ("expense", "本期支出", f.expense),
            ("closing", "期末余额", f.closing),
            ("ytd_opening", "年初余额", f.ytd_opening),
            ("ytd_income", "本年收入", f.ytd_income),
            ("ytd_expense", "本年支出", f.ytd_expense),
        ):
            yield Figure(figure_key(f.key, column), f"{f.name} {zh}", value)
    for s in d.sections:
        yield from _section_figures(s)
    for i in d.large_items:
        yield Figure(
            figure_key(i.key.replace("item/", "large/", 1), "expense"),
            f"大额支出 {i.voucher} {i.summary}",
            i.expense or ZERO,
        )
    for group, rows in (("receivables", d.receivables), ("payables", d.payables)):
        for r in (*rows, debt_total(group, rows)):
            for column, zh, value in (
                ("opening", "期初", r.opening),
                ("increase", "增加", r.increase),
                ("decrease", "减少", r.decrease),
                ("closing", "期末", r.closing),
            ):
                yield Figure(figure_key(r.key, column), f"{r.code} {r.name} {zh}", value)
    for q in d.questions:
        where = f"居民提问 问{q.id}"
        yield Figure(figure_key(q.key, "question"), f"{where} 提问", q.question_text)
        yield Figure(figure_key(q.key, "due"), f"{where} 答复期限", q.due_text)
        yield Figure(figure_key(q.key, "answer"), f"{where} 答复", q.answer_text)
        yield Figure(figure_key(q.key, "status"), f"{where} 状态", q.status_text)
    for b in d.budget:
        for column, zh, val in (
            ("initial", "年初预算", b.initial_budget),
            ("adjustment", "调整", b.adjustment),
            ("budget", "调整后预算", b.budget),
            ("ytd", "本年实际", b.ytd),
            ("rate", "执行率%", b.rate),
        ):
            if val is not None:
                yield Figure(figure_key(b.key, column), f"预算 {b.name} {zh}", val)


def _section_figures(s: SectionReport) -> Iterator[Figure]:
    for r in s.rows:
        where = f"{s.title} {r.voucher} {r.summary}"
        if r.debit is not None:
            yield Figure(figure_key(s.line_key(r), "debit"), f"{where} {s.debit_label}", r.debit)
        if r.credit is not None:
            yield Figure(figure_key(s.line_key(r), "credit"), f"{where} {s.credit_label}", r.credit)
    total = f"{s.row_key}/total"
    if s.debit_label:
        yield Figure(figure_key(total, "debit"), f"{s.title} {s.debit_label} 本期", s.debit)
        yield Figure(figure_key(total, "ytd_debit"), f"{s.title} {s.debit_label} 本年", s.ytd_debit)
    if s.credit_label:
        yield Figure(figure_key(total, "credit"), f"{s.title} {s.credit_label} 本期", s.credit)
        yield Figure(
            figure_key(total, "ytd_credit"), f"{s.title} {s.credit_label} 本年", s.ytd_credit
        )
    if s.opening is not None and s.closing is not None:
        yield Figure(figure_key(total, "opening"), f"{s.title} 期初余额", s.opening)
        yield Figure(figure_key(total, "closing"), f"{s.title} 期末余额", s.closing)


def debt_total(group: str, rows: Sequence[DebtRow]) -> DebtRow:
    """Return the total row of a debt group (``code`` ``total/<group>``)."""
    name = "债权合计" if group == "receivables" else "债务合计"
    return DebtRow(
        group,
        f"total/{group}",
        name,
        sum((r.opening for r in rows), ZERO),
        sum((r.increase for r in rows), ZERO),
        sum((r.decrease for r in rows), ZERO),
    )


def _json(d: Disclosure) -> dict[str, Any]:
    def debts(group: str, rows: Sequence[DebtRow]) -> dict[str, Any]:
        def one(r: DebtRow) -> dict[str, Any]:
            return {
                "code": r.code,
                "name": r.name,
                "opening": str(r.opening),
                "increase": str(r.increase),
                "decrease": str(r.decrease),
                "closing": str(r.closing),
            }

        return {"rows": [one(r) for r in rows], "total": one(debt_total(group, rows))}

    sig = d.signatures
    return {
        "entity": d.entity,
        "entity_name": d.entity_name,
        "community": d.community,
        "state": d.state,
        "title": d.title,
        "period": d.period_label,
        "first": format_period(d.first),
        "last": format_period(d.last),
        "year_first": format_period(d.year_first),
        "posted_on": d.posted_on.isoformat(),
        "posted_until": d.posted_until.isoformat(),
        "items": [i.to_json() for i in d.items],
        "categories": {
            kind: [{"name": c.name, "current": str(c.current), "ytd": str(c.ytd)} for c in rows]
            for kind, rows in (("income", d.income_categories), ("expense", d.expense_categories))
        },
        "totals": {
            "income": {
                "current": str(d.total_income),
                "ytd": str(d.ytd_income),
                "capitals": capitals(d.total_income),
            },
            "expense": {
                "current": str(d.total_expense),
                "ytd": str(d.ytd_expense),
                "capitals": capitals(d.total_expense),
            },
        },
        "funds": [
            {
                "key": f.key_name,
                "name": f.name,
                "opening": str(f.opening),
                "income": str(f.income),
                "expense": str(f.expense),
                "closing": str(f.closing),
                "ytd_opening": str(f.ytd_opening),
                "ytd_income": str(f.ytd_income),
                "ytd_expense": str(f.ytd_expense),
            }
            for f in (*d.funds, d.fund_total)
        ],
        "sections": [
            {
                "key": s.key,
                "title": s.title,
                "accounts": list(s.accounts),
                "debit_label": s.debit_label,
                "credit_label": s.credit_label,
                "balance": s.opening is not None,
                "rows": [
                    {
                        "period": format_period(r.period),
                        "line_no": r.line_no,
                        "date": r.date.isoformat(),
                        "voucher": r.voucher,
                        "account": r.account,
                        "account_name": r.account_name,
                        "summary": r.summary,
                        "debit": _dec(r.debit),
                        "credit": _dec(r.credit),
                    }
                    for r in s.rows
                ],
                "debit": str(s.debit),
                "credit": str(s.credit),
                "ytd_debit": str(s.ytd_debit),
                "ytd_credit": str(s.ytd_credit),
                "opening": _dec(s.opening),
                "closing": _dec(s.closing),
            }
            for s in d.sections
        ],
        "large_expense": {
            "threshold": str(d.large_threshold),
            "items": [i.to_json() for i in d.large_items],
        },
        "debts": {
            "receivables": debts("receivables", d.receivables),
            "payables": debts("payables", d.payables),
        },
        "budget": [
            {
                "line_no": b.line_no,
                "name": b.name,
                "kind": b.kind,
                "initial": str(b.initial_budget),
                "adjustment": str(b.adjustment),
                "budget": str(b.budget),
                "current": str(b.current),
                "ytd": str(b.ytd),
                "remaining": str(b.remaining),
                "rate": _dec(b.rate),
            }
            for b in d.budget
        ],
        "questions": [q.to_json() for q in d.questions],
        "signatures": {
            "secretary": sig.secretary,
            "director": sig.director,
            "cashier": sig.cashier,
            "bookkeeper": sig.bookkeeper,
            "group": list(sig.group),
            "opinion": sig.opinion,
            "signer": sig.signer,
            "signed_on": None if sig.signed_on is None else sig.signed_on.isoformat(),
            "status": sig.status,
        },
        "chain": {"seq": d.chain_seq, "hash": d.chain_hash},
        "digest": d.digest,
        "fingerprint": d.fingerprint,
        "figures": [{"key": f.key, "label": f.label, "value": str(f.value)} for f in d.figures()],
    }


# --------------------------------------------------------------------------- reading the JSON back


def _opt(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _item(data: dict[str, Any]) -> DisclosureItem:
    return DisclosureItem(
        no=int(data["no"]),
        period=parse_period(str(data["period"])),
        date=dt.date.fromisoformat(str(data["date"])),
        voucher=str(data["voucher"]),
        line_no=int(data["line_no"]),
        account=str(data["account"]),
        account_name=str(data["account_name"]),
        summary=str(data["summary"]),
        income=_opt(data["income"]),
        expense=_opt(data["expense"]),
        handler=str(data["handler"]),
        remark=str(data["remark"]),
        category=str(data["category"]),
    )


def _section(data: dict[str, Any]) -> SectionReport:
    rows = tuple(
        SectionRow(
            period=parse_period(str(r["period"])),
            date=dt.date.fromisoformat(str(r["date"])),
            voucher=str(r["voucher"]),
            line_no=int(r["line_no"]),
            account=str(r["account"]),
            account_name=str(r["account_name"]),
            summary=str(r["summary"]),
            debit=_opt(r["debit"]),
            credit=_opt(r["credit"]),
        )
        for r in data["rows"]
    )
    return SectionReport(
        key=str(data["key"]),
        title=str(data["title"]),
        debit_label=str(data["debit_label"]),
        credit_label=str(data["credit_label"]),
        accounts=tuple(str(a) for a in data.get("accounts", ())),
        rows=rows,
        ytd_debit=Decimal(str(data["ytd_debit"])),
        ytd_credit=Decimal(str(data["ytd_credit"])),
        opening=_opt(data["opening"]),
        closing=_opt(data["closing"]),
    )


def _question(data: dict[str, Any]) -> QuestionRow:
    answered = data.get("answered_on")
    line = data.get("line")
    return QuestionRow(
        id=int(data["id"]),
        period=parse_period(str(data["period"])),
        line_no=None if line is None else int(line),
        line_ref=str(data["line_ref"]),
        text=str(data["text"]),
        asked_on=dt.date.fromisoformat(str(data["asked_on"])),
        due_on=dt.date.fromisoformat(str(data["due_on"])),
        answer=str(data["answer"]),
        answered_on=None if answered is None else dt.date.fromisoformat(str(answered)),
        status=str(data["status"]),
    )


def _debt(group: str, data: dict[str, Any]) -> DebtRow:
    return DebtRow(
        group,
        str(data["code"]),
        str(data["name"]),
        Decimal(str(data["opening"])),
        Decimal(str(data["increase"])),
        Decimal(str(data["decrease"])),
    )


def disclosure_from_json(data: dict[str, Any], config: DisclosureConfig) -> Disclosure:
    """Return the :class:`Disclosure` that :meth:`Disclosure.to_json` gave ``data``.

    ``config`` is the configuration the disclosure was computed with (the JSON
    does not carry it).  The figures are recomputed from the rows and must
    give the digest the JSON holds.

    Raises:
        ValueError: the JSON is not a disclosure's, or its figures do not give its digest.
    """
    try:
        sig = data["signatures"]
        signed_on = sig.get("signed_on")
        funds = [f for f in data["funds"] if f["key"] != "total"]
        d = Disclosure(
            entity=str(data["entity"]),
            entity_name=str(data["entity_name"]),
            community=str(data.get("community") or data["entity_name"]),
            title=str(data["title"]),
            first=parse_period(str(data["first"])),
            last=parse_period(str(data["last"])),
            year_first=parse_period(str(data["year_first"])),
            posted_on=dt.date.fromisoformat(str(data["posted_on"])),
            posted_until=dt.date.fromisoformat(str(data["posted_until"])),
            items=tuple(_item(i) for i in data["items"]),
            income_categories=tuple(
                CategoryRow("income", str(c["name"]), Decimal(c["current"]), Decimal(c["ytd"]))
                for c in data["categories"]["income"]
            ),
            expense_categories=tuple(
                CategoryRow("expense", str(c["name"]), Decimal(c["current"]), Decimal(c["ytd"]))
                for c in data["categories"]["expense"]
            ),
            funds=tuple(
                FundRow(
                    str(f["key"]),
                    str(f["name"]),
                    *(
                        Decimal(str(f[k]))
                        for k in (
                            "opening",
                            "income",
                            "expense",
                            "ytd_opening",
                            "ytd_income",
                            "ytd_expense",
                        )
                    ),
                )
                for f in funds
            ),
            sections=tuple(_section(s) for s in data["sections"]),
            large_threshold=Decimal(str(data["large_expense"]["threshold"])),
            receivables=tuple(
                _debt("receivables", r) for r in data["debts"]["receivables"]["rows"]
            ),
            payables=tuple(_debt("payables", r) for r in data["debts"]["payables"]["rows"]),
            budget=tuple(
                BudgetRow(
                    int(b["line_no"]),
                    str(b["name"]),
                    str(b["kind"]),
                    Decimal(str(b["budget"])),
                    Decimal(str(b["current"])),
                    Decimal(str(b["ytd"])),
                )
                for b in data["budget"]
            ),
            signatures=SignatureBlock(
                secretary=str(sig["secretary"]),
                director=str(sig["director"]),
                cashier=str(sig["cashier"]),
                bookkeeper=str(sig["bookkeeper"]),
                group=tuple(str(g) for g in sig["group"]),
                opinion=str(sig["opinion"]),
                signer=str(sig["signer"]),
                signed_on=None if signed_on is None else dt.date.fromisoformat(str(signed_on)),
                status=str(sig["status"]),
            ),
            chain_seq=int(data["chain"]["seq"]),
            chain_hash=str(data["chain"]["hash"]),
            config=config,
            state=str(data.get("state") or "final"),
            questions=tuple(_question(q) for q in data.get("questions", ())),
        )
    except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
        raise ValueError(f"not a disclosure's JSON: {type(exc).__name__}: {exc}") from exc
    if d.digest != data.get("digest"):
        raise ValueError("the figures of the JSON do not give its digest")
    return d
