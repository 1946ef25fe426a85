"""The published boards as a static web site (网上财务公开): what ``juzhang publish`` writes.

Plain files, no server, nothing fetched from elsewhere (no CDN: the style
sheet and the script sit beside the pages)::

    SITE/index.html                   the communities (公开单位) and their boards
    SITE/site.css, SITE/verify.js     the style (phone and A4 print) and the check
    SITE/H001/index.html              one community's published boards
    SITE/H001/2026-09.html            one published board, in Chinese
    SITE/H001/2026-09.json            its published figures (the disclosure's JSON)

A quarter's board is ``2026-07--2026-09.html``.  Only **published** boards
(signed by the 民主理财小组) are written, from the snapshot stored at sign-off
(:func:`juzhang.closing.published_disclosure`), never recomputed from the
books: a draft or an unsigned board never appears.

**A page** shows the same sections and figures as the published workbook
(:mod:`juzhang.exporters.disclosure_excel`): 收支明细 with its totals and
capitals; 资金收支情况, 收支分类汇总, each special section, 大额支出, 债权债务,
预算执行情况; the sign-off (names, the 民主理财小组's opinion, the signer and
the date) and the fingerprint (核验码).  Every amount cell carries its
figure's key (``data-key``).  It reads on a phone (one column, wide tables
scroll sideways) and prints on A4 (``@media print``, ``@page A4``).

**The check in the browser** (``verify.js``): the page loads its JSON and
recomputes the figure digest — the SHA-256 of the canonical serialisation
(:func:`juzhang.reports.disclosure.digest_body`, defined so that Python and
JavaScript give the same bytes) — with Web Crypto (on a page served over
plain ``http://``, where browsers give no Web Crypto, with its own SHA-256).
It builds the fingerprint from it and compares it with the code on the
paper board: the one in the address's ``#fp=`` (the board's QR code,
:mod:`juzhang.exporters.qr`), one the reader types in, else the one printed
on the page.  It also checks that every figure the page shows is the
JSON's, and every figure of the JSON is shown.  The result is in
``#verify-result``: ``data-state="match"`` (一致) or ``"mismatch"`` (不一致),
``"error"`` when it could not check (a browser that may not read the file
beside a page opened from disk).

**Questions (提问栏/回音栏)**: :class:`PageQuestion` rows given by the caller
are listed in their own section; with none, the section is left out.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources
from pathlib import Path

from juzhang.core.period import format_period
from juzhang.exporters.disclosure_excel import state_text, write_disclosure_workbook
from juzhang.exporters.qr import page_address
from juzhang.reports.disclosure import Disclosure, Figure, SectionReport, debt_total, figure_key

__all__ = [
    "PAGE_FORMAT",
    "PageQuestion",
    "SiteResult",
    "page_json",
    "page_name",
    "page_url",
    "render_page",
    "write_site",
]

PAGE_FORMAT = "juzhang-disclosure/1"
"""The ``format`` of a page's JSON: the disclosure's JSON (``Disclosure.to_json``) with it."""

ASSETS = ("site.css", "verify.js")
"""The files every page uses, copied to the site's top folder."""


@dataclass(frozen=True, slots=True)
class PageQuestion:
    """A resident's question of a published board and the community's answer (提问栏/回音栏).

    The hook for the questions of issue 14 (part 2): a page lists the
    questions its caller gives (``write_site(questions=...)``); open ones
    past their deadline show in red.
    """

    asked_on: dt.date
    text: str
    deadline: dt.date | None = None
    line: int | None = None
    answer: str = ""
    answered_on: dt.date | None = None
    overdue: bool = False


@dataclass(frozen=True, slots=True)
class SiteResult:
    """What :func:`write_site` wrote: the site's folder and the pages by entity."""

    out: Path
    pages: Mapping[str, tuple[str, ...]]

    @property
    def count(self) -> int:
        """How many board pages."""
        return sum(len(p) for p in self.pages.values())


def page_name(entity: str, first: int, last: int) -> str:
    """Return the page's path under the site: ``H001/2026-09.html``.

    A range's is ``H001/2026-07--2026-09.html``.
    """
    a, b = format_period(first), format_period(last)
    return f"{entity}/{a if a == b else f'{a}--{b}'}.html"


def page_url(base_url: str, d: Disclosure) -> str:
    """Return the address of ``d``'s page under ``base_url`` with its fingerprint (for the QR)."""
    return page_address(base_url, page_name(d.entity, d.first, d.last), d.fingerprint)


def page_json(d: Disclosure) -> str:
    """Return the JSON file beside a page: the disclosure's JSON and :data:`PAGE_FORMAT`.

    Compact (no indentation): a few hundred kB less per busy month, and
    written by the json module's C encoder, several times faster.
    """
    body = {"format": PAGE_FORMAT, **d.to_json()}
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")) + "\n"


# --------------------------------------------------------------------------- the page


_ESCAPE = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#x27;"})


def _e(text: object) -> str:
    """``text`` escaped for HTML text and attribute values (as ``html.escape``, quotes too)."""
    return str(text).translate(_ESCAPE)


def _show(value: Decimal | str | None, kind: str = "amount") -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if kind == "rate":
        return f"{value:,.1f}%"
    return f"{value:,.2f}"


def _date(value: dt.date | None) -> str:
    return "" if value is None else f"{value.year}年{value.month}月{value.day}日"


class _Page:
    """Collects a page's HTML and the figure keys it showed."""

    def __init__(self, figures: Mapping[str, Figure]) -> None:
        self.figures = figures
        self.parts: list[str] = []
        self.shown: set[str] = set()

    def add(self, *parts: str) -> None:
        self.parts.extend(parts)

    def amount(self, key: str, kind: str = "amount", span: int = 1) -> str:
        """A cell showing figure ``key`` (empty when the figure is absent)."""
        fig = self.figures.get(key)
        if fig is None:
            return '<td class="n"></td>'
        self.shown.add(key)
        css = "t" if isinstance(fig.value, str) else "n"
        wide = f' colspan="{span}"' if span > 1 else ""
        return f'<td class="{css}"{wide} data-key="{_e(key)}">{_e(_show(fig.value, kind))}</td>'

    def plain(self, value: Decimal | None) -> str:
        """A cell showing an amount a figure already shows elsewhere (no key)."""
        return f'<td class="n">{_e(_show(value))}</td>'

    def table(self, heads: Sequence[str], rows: Iterable[str], css: str = "") -> None:
        head = "".join(f"<th>{_e(h)}</th>" for h in heads)
        body = "".join(rows)
        self.add(
            f'<div class="scroll"><table class="{css}"><thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table></div>"
        )


def _row(*cells: str, css: str = "") -> str:
    return f'<tr class="{css}">{"".join(cells)}</tr>' if css else f"<tr>{''.join(cells)}</tr>"


def _td(text: object, css: str = "", span: int = 1) -> str:
    attrs = (f' class="{css}"' if css else "") + (f' colspan="{span}"' if span > 1 else "")
    return f"<td{attrs}>{_e(text)}</td>"


def _items(p: _Page, d: Disclosure) -> None:
    p.add('<section id="items"><h2>收支明细</h2>')
    rows = []
    for i in d.items:
        rows.append(
            _row(
                _td(i.no, "c"),
                _td(i.date.isoformat(), "c"),
                _td(i.voucher, "c"),
                _td(i.summary),
                p.amount(figure_key(i.key, "income")),
                p.amount(figure_key(i.key, "expense")),
                _td(i.handler, "c"),
                _td(i.remark),
            )
        )
    if not d.items:
        rows.append(_row(_td("本期无收支", "c", 8)))
    for label, column in (("本期合计", "current"), ("本年累计", "ytd")):
        rows.append(
            _row(
                _td(label, "c", 4),
                p.amount(figure_key("total/income", column)),
                p.amount(figure_key("total/expense", column)),
                _td("", span=2),
                css=f"total total-{column}",
            )
        )
    for kind, label in (
        ("income", "本期收入合计（人民币大写）"),
        ("expense", "本期支出合计（人民币大写）"),
    ):
        rows.append(
            _row(
                _td(label, "c", 4),
                p.amount(figure_key(f"total/{kind}", "capitals"), span=4),
            )
        )
    p.table(
        ["序号", "日期", "凭证号", "摘要/用途", "收入", "支出", "经办人", "备注"], rows, "items"
    )
    p.add("</section>")


def _funds(p: _Page, d: Disclosure) -> None:
    p.add('<section id="funds"><h2>一、资金收支情况（现金和银行存款）</h2>')
    for heads, columns in (
        (
            ["项目（本期）", "期初余额", "本期收入", "本期支出", "期末余额"],
            ("opening", "income", "expense", "closing"),
        ),
        (
            ["项目（本年累计）", "年初余额", "本年收入", "本年支出", "期末余额"],
            ("ytd_opening", "ytd_income", "ytd_expense", "closing"),
        ),
    ):
        rows = []
        for f in (*d.funds, d.fund_total):
            cells = [_td(f.name)]
            for column in columns:
                key = figure_key(f.key, column)
                if column == "closing" and columns[0] != "opening":  # shown once with its key
                    cells.append(p.plain(f.closing))
                else:
                    cells.append(p.amount(key))
            rows.append(_row(*cells, css="total" if f.key_name == "total" else ""))
        p.table(heads, rows)
    p.add("</section>")


def _categories(p: _Page, d: Disclosure) -> None:
    p.add('<section id="categories"><h2>二、收支分类汇总</h2>')
    rows = []
    incomes, expenses = d.income_categories, d.expense_categories
    for i in range(max(len(incomes), len(expenses))):
        cells = []
        for cats in (incomes, expenses):
            cat = cats[i] if i < len(cats) else None
            if cat is None:
                cells += [_td(""), _td(""), _td("")]
            else:
                cells += [
                    _td(cat.name),
                    p.amount(figure_key(cat.key, "current")),
                    p.amount(figure_key(cat.key, "ytd")),
                ]
        rows.append(_row(*cells))
    rows.append(
        _row(
            _td("收入合计"),
            p.plain(d.total_income),
            p.plain(d.ytd_income),
            _td("支出合计"),
            p.plain(d.total_expense),
            p.plain(d.ytd_expense),
            css="total",
        )
    )
    p.table(["收入项目", "本期", "本年累计", "支出项目", "本期", "本年累计"], rows)
    p.add("</section>")


def _section(p: _Page, s: SectionReport, number: str) -> None:
    p.add(f'<section class="special" id="section-{_e(s.key)}"><h2>{number}、{_e(s.title)}</h2>')
    rows = []
    for r in s.rows:
        rows.append(
            _row(
                _td(r.summary),
                _td(r.date.isoformat(), "c"),
                _td(r.voucher, "c"),
                _td(r.account_name),
                p.amount(figure_key(s.line_key(r), "debit")),
                p.amount(figure_key(s.line_key(r), "credit")),
            )
        )
    if not s.rows:
        rows.append(_row(_td("本期无", "c", 6)))
    total = f"{s.row_key}/total"
    lines = [("本期合计", "debit", "credit"), ("本年累计", "ytd_debit", "ytd_credit")]
    if s.opening is not None:
        lines += [("期初余额", "opening", ""), ("期末余额", "closing", "")]
    for label, dk, ck in lines:
        rows.append(
            _row(
                _td(label, "c", 4),
                p.amount(figure_key(total, dk)),
                p.amount(figure_key(total, ck)),
                css="total",
            )
        )
    p.table(["摘要", "日期", "凭证号", "科目", s.debit_label, s.credit_label], rows)
    p.add("</section>")


def _large(p: _Page, d: Disclosure, number: str) -> None:
    p.add(
        f'<section id="large"><h2>{number}、大额支出（单笔超过 {d.large_threshold:,.2f} 元）</h2>'
    )
    rows = [
        _row(
            _td(i.summary),
            _td(i.date.isoformat(), "c"),
            _td(i.voucher, "c"),
            _td(i.handler, "c"),
            p.amount(figure_key(i.key.replace("item/", "large/", 1), "expense")),
            _td(i.remark),
        )
        for i in d.large_items
    ] or [_row(_td("本期无", "c", 6))]
    p.table(["摘要/用途", "日期", "凭证号", "经办人", "支出", "备注"], rows)
    p.add("</section>")


def _debts(p: _Page, d: Disclosure, number: str) -> None:
    p.add(f'<section id="debts"><h2>{number}、债权债务</h2>')
    rows = []
    for group, debts, label in (
        ("receivables", d.receivables, "债权（应收款项）"),
        ("payables", d.payables, "债务（应付款项）"),
    ):
        for r in (*debts, debt_total(group, debts)):
            total = r.code.startswith("total/")
            cells = [
                p.amount(figure_key(r.key, c))
                for c in ("opening", "increase", "decrease", "closing")
            ]
            rows.append(
                _row(_td(f"{label}合计" if total else r.name), *cells, css="total" if total else "")
            )
    p.table(["科目", "期初余额", "本期增加", "本期减少", "期末余额"], rows)
    p.add("</section>")


def _budget(p: _Page, d: Disclosure, number: str) -> None:
    p.add(f'<section id="budget"><h2>{number}、预算执行情况（{d.last // 100}年度）</h2>')
    rows = []
    for b in d.budget:
        kind = "收入" if b.kind == "income" else "支出"
        cells = [
            p.amount(figure_key(b.key, c), "rate" if c == "rate" else "amount")
            for c in ("initial", "adjustment", "budget", "ytd", "rate")
        ]
        rows.append(_row(_td(f"{b.name}（{kind}）"), *cells))
    p.table(["预算项目", "年初预算", "调整", "调整后预算", "本年实际", "执行率（%）"], rows)
    p.add("</section>")


def _board_questions(p: _Page, d: Disclosure, number: str) -> None:
    """The questions about earlier months the board published with it (figures, frozen)."""
    p.add(f'<section id="board-questions"><h2>{number}、居民提问与答复（提问栏·回音栏）</h2>')
    rows = []
    for q in d.questions:
        css = "overdue" if q.status == "overdue" else ""
        asked = (p.amount(figure_key(q.key, c), "text") for c in ("question", "due", "status"))
        rows.append(_row(*asked, css=css))
        rows.append(_row(p.amount(figure_key(q.key, "answer"), "text", span=3), css="answer"))
    p.table(["提问", "答复期限", "状态"], rows, "questions")
    p.add(
        f'<p class="small">每项提问自登记之日起 {d.config.question_days} 天内答复；'
        "红字为逾期未答复。</p></section>"
    )


def _questions(p: _Page, questions: Sequence[PageQuestion]) -> None:
    """The 提问栏/回音栏 slot: questions asked about this board since it went up, with answers."""
    if not questions:
        return
    p.add(
        '<section id="questions"><h2>关于本期公开表的提问与答复（提问栏 · 回音栏）</h2>'
        '<ol class="questions">'
    )
    for q in questions:
        line = f"（第 {q.line} 行）" if q.line is not None else ""
        css = ' class="overdue"' if q.overdue and not q.answer else ""
        deadline = f"，答复期限 {_date(q.deadline)}" if q.deadline else ""
        answer = (
            f'<p class="answer">答复（{_e(_date(q.answered_on))}）：{_e(q.answer)}</p>'
            if q.answer
            else '<p class="answer">尚未答复</p>'
        )
        p.add(
            f"<li{css}><p>{_e(_date(q.asked_on))}提问{_e(line)}{_e(deadline)}：{_e(q.text)}</p>"
            f"{answer}</li>"
        )
    p.add("</ol></section>")


def _signatures(p: _Page, d: Disclosure) -> None:
    s = d.signatures
    blank = "________"
    p.add('<section id="signoff"><h2>签字</h2><dl class="signoff">')
    for label, name in (
        ("书记", s.secretary),
        ("主任", s.director),
        ("报账员", s.cashier),
        ("代理会计", s.bookkeeper),
        ("民主理财小组", "、".join(s.group)),
        ("民主理财小组意见", s.opinion),
        ("签字人", s.signer or "、".join(s.group)),
        ("签字日期", _date(s.signed_on)),
    ):
        p.add(f"<dt>{_e(label)}</dt><dd>{_e(name or blank)}</dd>")
    p.add("</dl></section>")


def _numbers() -> Iterator[str]:
    digits = "一二三四五六七八九十"
    n = 3
    while True:
        yield digits[n - 1] if n <= 10 else f"十{digits[n - 11]}" if n < 20 else str(n)
        n += 1


def render_page(
    d: Disclosure,
    questions: Sequence[PageQuestion] = (),
    *,
    json_name: str,
    workbook_name: str | None = None,
    up: str = "../",
) -> str:
    """Return the HTML of ``d``'s page (``json_name``: its JSON file beside it).

    ``workbook_name``: the published workbook beside the page, linked when given.

    Raises:
        AssertionError: a figure of ``d`` is not on the page (a bug).
    """
    figures = {f.key: f for f in d.figures()}
    p = _Page(figures)
    title = _e(d.title)
    p.add(
        "<!DOCTYPE html>\n"
        '<html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title}</title>"
        f'<link rel="stylesheet" href="{up}site.css">'
        f'<script src="{up}verify.js" defer></script>'
        "</head><body>"
        f'<nav class="crumbs"><a href="{up}index.html">财务公开</a> › '
        f'<a href="index.html">{_e(d.community)}</a> › {_e(d.period_text)}</nav>'
        f"<header><h1>{title}</h1>"
        f'<p class="meta"><span>公开单位：{_e(d.community)}</span><span>{_e(d.period_text)}</span>'
        "<span>单位：元</span></p>"
        f'<p class="meta"><span>公开时间：{_e(_date(d.posted_on))}</span>'
        f'<span class="state">{_e(state_text(d))}</span>'
        f"<span>公开期至：{_e(_date(d.posted_until))}</span></p></header>"
    )
    p.add(
        f'<section id="verify" class="verify" data-json="{_e(json_name)}"'
        f' data-fingerprint="{_e(d.fingerprint)}">'
        "<h2>核验</h2>"
        "<p>核验码（与公开栏纸质表上印的一致）："
        f'<code id="fingerprint">{_e(d.fingerprint)}</code></p>'
        '<p id="verify-result" data-state="pending">正在核验……（需要浏览器允许运行脚本）</p>'
        '<p class="noprint"><label>输入纸质公开表上的核验码再核验：'
        '<input id="paper-code" type="text" autocomplete="off" spellcheck="false"></label>'
        '<button id="verify-again" type="button">核验</button></p>'
        f'<p class="noprint small">数据文件：<a href="{_e(json_name)}">{_e(json_name)}</a>'
        "；也可用 <code>juzhang verify-report</code> 核验该文件。"
        + (
            f'打印用公开表：<a href="{_e(workbook_name)}">{_e(workbook_name)}</a>'
            if workbook_name
            else ""
        )
        + "</p>"
        "</section>"
    )
    _items(p, d)
    _funds(p, d)
    _categories(p, d)
    numbers = _numbers()
    for s in d.sections:
        _section(p, s, next(numbers))
    _large(p, d, next(numbers))
    _debts(p, d, next(numbers))
    if d.budget:
        _budget(p, d, next(numbers))
    if d.questions:
        _board_questions(p, d, next(numbers))
    _questions(p, questions)
    _signatures(p, d)
    p.add(
        f"<footer><p>核验码 {_e(d.fingerprint)}（账簿链第 {d.chain_seq} 笔）</p>"
        "<p>本页由居账（juzhang）根据民主理财小组签字发布的公开表生成。</p></footer>"
        "</body></html>\n"
    )
    missing = set(figures) - p.shown
    if missing:  # every figure is on the page; a bug otherwise
        raise AssertionError(f"figures not on the page: {sorted(missing)[:5]}")
    return "".join(p.parts)


# --------------------------------------------------------------------------- the site


def _page_html(title: str, body: str, up: str) -> str:
    return (
        "<!DOCTYPE html>\n"
        '<html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<title>{_e(title)}</title><link rel="stylesheet" href="{up}site.css"></head>'
        f"<body>{body}</body></html>\n"
    )


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@dataclass(frozen=True, slots=True)
class _Listed:
    """What an index lists of a board written (not the board: a site holds thousands)."""

    first: int
    last: int
    title: str
    community: str
    signed_on: dt.date | None
    page: str


def write_site(
    out: Path,
    boards: Iterable[Disclosure],
    names: Mapping[str, str] | None = None,
    questions: Callable[[Disclosure], Sequence[PageQuestion]] | None = None,
    addresses: Mapping[str, str] | None = None,
) -> SiteResult:
    """Write the site of ``boards`` (published disclosures only) into ``out``; return what it wrote.

    ``names``: the community name of each entity code for the index (default:
    the boards' own).  ``questions``: the residents' questions listed on a
    board's page (提问栏/回音栏), none by default.  ``addresses``: the site
    address of each entity code where one is known; its boards' published
    workbooks, with the QR code of their page, are written beside the pages
    (``H001/2026-09.xlsx``) and linked.  Pages of boards that
    are not given are left as they are; the indexes list what this run wrote.

    Raises:
        ValueError: a board is not published (a draft or unsigned board never goes up).
        OSError: a file cannot be written.
    """
    out.mkdir(parents=True, exist_ok=True)
    for asset in ASSETS:
        source = resources.files("juzhang.exporters").joinpath(asset)
        with resources.as_file(source) as file:
            shutil.copyfile(file, out / asset)
    pages: dict[str, list[_Listed]] = {}
    for d in boards:
        if d.state != "published":
            raise ValueError(f"{d.entity} {d.period_label}: not published ({d.state})")
        name = page_name(d.entity, d.first, d.last)
        json_name = Path(name).with_suffix(".json").name
        asked = questions(d) if questions is not None else ()
        address = (addresses or {}).get(d.entity, "")
        workbook = Path(name).with_suffix(".xlsx").name if address else None
        if workbook is not None:
            (out / d.entity).mkdir(parents=True, exist_ok=True)
            write_disclosure_workbook(d, out / d.entity / workbook, page_url(address, d))
        _write(out / name, render_page(d, asked, json_name=json_name, workbook_name=workbook))
        _write(out / Path(name).with_suffix(".json"), page_json(d))
        pages.setdefault(d.entity, []).append(
            _Listed(d.first, d.last, d.title, d.community, d.signatures.signed_on, name)
        )
    community = dict(names or {})
    for entity, written in pages.items():
        written.sort(key=lambda x: (x.first, x.last))
        community.setdefault(entity, written[-1].community)
        items = "".join(
            f'<li><a href="{_e(Path(x.page).name)}">{_e(x.title)}</a>'
            f'<span class="small">签字 {_e(_date(x.signed_on))}</span></li>'
            for x in reversed(written)
        )
        body = (
            '<nav class="crumbs"><a href="../index.html">财务公开</a></nav>'
            f"<header><h1>{_e(community[entity])}财务公开</h1></header>"
            f'<ul class="boards">{items}</ul>'
        )
        _write(out / entity / "index.html", _page_html(f"{community[entity]}财务公开", body, "../"))
    rows = "".join(
        f'<li><a href="{_e(e)}/index.html">{_e(community[e])}</a>'
        f'<span class="small">{_e(e)} · {len(pages[e])} 期</span></li>'
        for e in sorted(pages)
    )
    body = (
        "<header><h1>社区财务公开</h1>"
        "<p>以下为民主理财小组审核签字后发布的财务收支公开表。</p></header>"
        f'<ul class="communities">{rows or "<li>暂无已发布的公开表</li>"}</ul>'
    )
    _write(out / "index.html", _page_html("社区财务公开", body, ""))
    return SiteResult(out, {e: tuple(x.page for x in w) for e, w in pages.items()})
