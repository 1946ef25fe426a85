"""A mapping written for you (映射建议): the §19 mapping file for a statement no layout reads.

:func:`suggest_mapping` reads the first rows of a bank statement file and
writes a mapping file in the schema of :mod:`.profile` (guide §19):

1. **The header row** is the row (or pair of rows: a merged group above
   借方/贷方) among the first :data:`~.bank_header.SCAN_ROWS` whose cells name
   most fields of :data:`VOCABULARY` (the header texts banks print, and every
   alias of the shipped profiles), with a date and an amount among them.
2. **Each column** goes to the field whose header text it carries, exactly
   (``交易金额[ Trade Amount ]`` as ``交易金额``) or, failing that, by the
   words in it (``…余额`` a balance, ``对方…账号`` the counterparty's account);
   the values below must agree (dates parse as dates, amounts as amounts, a
   flag as 借/贷 or 收/支), so ``交易时间`` holding ``09:15:00`` is the time,
   holding ``2025-01-02 09:15`` the date.
3. **The direction** of money follows from the columns: two amount columns
   are ``split``; one amount and a 借/贷 flag ``flag``; one amount with payer
   and payee accounts ``payer_payee``; one amount alone ``signed``.  Where
   there is a running balance, every reading the columns allow (which sign
   means money in, which column is out) is tried on the whole file and the
   one whose balances follow is kept.
4. **The labels above the header** (``账号：…``, ``借记卡号：…``, ``户名``)
   become ``[metadata]``, so the import checks the account number.
5. **What it could not place** (columns, text above the header) is written
   as comments, for a person to finish.

The suggested file is read back through :func:`~.profile.parse_profile` and
the whole statement read with it (:func:`~.bank.read_statement`), so what
is written is what was checked; the result carries the figures (rows, total
in and out, balance breaks) for the person to compare with the bank's.
"""

from __future__ import annotations

import itertools
import json
import re
import shlex
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path

from juzhang.errors import MoneyError, Problem, ProblemsError, ValidationError
from juzhang.importers.bank import read_statement
from juzhang.importers.bank_header import (
    SCAN_ROWS,
    _fold,
    _header_texts,
    _keys,
    _safe_text,
)
from juzhang.importers.profile import (
    DEFAULT_ACCOUNT_LABELS,
    DEFAULT_FOOTER,
    DEFAULT_NAME_LABELS,
    BankProfile,
    builtin_profiles,
    parse_profile,
)
from juzhang.importers.reader import DEFAULT_LIMITS, ReadLimits, Row, column_letter, open_table
from juzhang.importers.values import (
    Cell,
    is_blank,
    parse_amount,
    parse_date,
    parse_direction,
    parse_time,
)

__all__ = ["VOCABULARY", "Suggestion", "suggest_mapping"]

VOCABULARY: dict[str, tuple[str, ...]] = {
    "date": ("交易日期", "交易时间", "记账日期", "入账日期", "日期", "记账日", "交易日", "date"),
    "time": ("交易时间", "记账时间", "时间", "time"),
    "debit": (
        "借方发生额", "借方金额", "支出金额", "转出金额", "付款金额", "支出", "借方", "debit",
    ),
    "credit": (
        "贷方发生额", "贷方金额", "收入金额", "转入金额", "收款金额", "收入", "贷方", "credit",
    ),
    "amount": ("发生额", "交易金额", "金额", "收入/支出金额", "amount"),
    "direction": (
        "借贷标志", "收支标志", "借/贷", "借贷", "收/支", "收支", "借贷方向", "交易方向", "方向",
    ),
    "balance": ("余额", "账户余额", "本次余额", "交易后余额", "当前余额", "balance"),
    "counterparty": ("对方户名", "对方账户名", "对方名称", "对方单位名称", "对方单位", "对方"),
    "counterparty_account": ("对方账号", "对方卡号/账号", "对方账户", "对方帐号", "对方卡号"),
    "counterparty_bank": ("对方开户行", "对方开户机构", "对方行名", "对方开户银行", "对方行号"),
    "summary": ("摘要", "交易名称", "交易摘要", "说明", "交易类型", "description", "narrative"),
    "purpose": ("用途", "交易用途"),
    "remark": ("附言", "备注", "交易附言", "remark"),
    "serial": (
        "交易流水号", "流水号", "凭证号", "账户明细编号-交易流水号", "交易序号", "交易单号",
        "reference",
    ),
    "own_account": ("本方账号", "交易账号", "账号", "帐号"),
    "own_name": ("本方户名", "账户名称", "户名"),
    "currency": ("币种", "币别", "交易货币", "货币"),
}  # fmt: skip
"""Field → header texts banks print for it, preferred first (the shipped aliases are added)."""

#: The order fields take their columns: amounts and flags before texts that share words.
_ORDER = (
    "debit", "credit", "amount", "direction", "balance", "date", "time",
    "payer_account", "payer_name", "payer_bank", "payee_account", "payee_name", "payee_bank",
    "counterparty_account", "counterparty_bank", "counterparty", "own_account", "own_name",
    "serial", "summary", "purpose", "remark", "currency",
)  # fmt: skip

#: Words that place a column no alias names: (field, words all in the header, words not).
_WORDS: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("balance", ("余额",), ()),
    ("counterparty_account", ("对方", "号"), ("行号",)),
    ("counterparty_bank", ("对方", "行"), ()),
    ("counterparty", ("对方",), ()),
    ("date", ("日期",), ()),
    ("time", ("时间",), ()),
    ("debit", ("支出",), ()),
    ("credit", ("收入",), ()),
    ("amount", ("金额",), ()),
    ("amount", ("发生额",), ()),
    ("serial", ("流水",), ()),
    ("serial", ("单号",), ()),
    ("summary", ("摘要",), ()),
    ("purpose", ("用途",), ()),
    ("remark", ("附言",), ()),
    ("remark", ("备注",), ()),
    ("currency", ("币",), ()),
)

_SAMPLE_ROWS = 200
"""Rows below the header whose values are checked against the columns' fields."""


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A suggested mapping and what reading the file with it gave.

    ``text`` is the mapping file (TOML, guide §19), ``profile`` the layout it
    reads as; ``header_row`` the Excel row number of the header's last row;
    ``checked`` whether the direction was checked against a running balance;
    ``rows``, ``total_in``, ``total_out`` the figures of the file read with it;
    ``problems`` what reading still found (bad rows, balance breaks);
    ``unplaced`` the header texts no field took.
    """

    text: str
    profile: BankProfile
    header_row: int
    checked: bool
    rows: int
    total_in: Decimal
    total_out: Decimal
    problems: tuple[Problem, ...]
    unplaced: tuple[str, ...]


# --------------------------------------------------------------------------- vocabulary


def _vocabulary() -> dict[str, list[str]]:
    """Field → header keys, the curated texts first, then the shipped profiles' aliases."""
    out: dict[str, list[str]] = {}
    for field, texts in VOCABULARY.items():
        out[field] = [key for text in texts for key in _keys(text)[:1]]
    for profile in builtin_profiles():
        for field, aliases in profile.columns.items():
            known = out.setdefault(field, [])
            for alias in aliases:
                for key in _keys(alias):
                    if key not in known:
                        known.append(key)
    return out


@dataclass(frozen=True, slots=True)
class _Column:
    index: int
    texts: tuple[str, ...]  # what the header says, the likeliest first
    keys: frozenset[str]


def _columns(rows: Sequence[Row], index: int, span: int) -> list[_Column]:
    columns = []
    for column, options in enumerate(_header_texts(rows, index, span)):
        keys = frozenset(key for text in options for key in _keys(text))
        columns.append(_Column(column, options, keys))
    return columns


def _exact(column: _Column, vocabulary: dict[str, list[str]]) -> dict[str, int]:
    """Fields whose texts the header names exactly → rank of the text (0 = preferred)."""
    found = {}
    for field, keys in vocabulary.items():
        ranks = [rank for rank, key in enumerate(keys) if key in column.keys]
        if ranks:
            found[field] = min(ranks)
    return found


def _worded(column: _Column) -> list[str]:
    """Fields the words of the header suggest, when no alias names it."""
    text = "".join(_fold(t) for t in column.texts[:1])
    return [
        field
        for field, words, never in _WORDS
        if all(w in text for w in words) and not any(n in text for n in never)
    ]


# --------------------------------------------------------------------------- the header


def _find(
    rows: Sequence[Row], vocabulary: dict[str, list[str]], shown: str
) -> tuple[int, int, list[_Column]]:
    """The header: most cells named, a date and an amount among them (position, span, columns)."""
    best: tuple[tuple[int, int, int], int, int, list[_Column]] | None = None
    amounts = {"debit", "credit", "amount"}
    for index in range(min(len(rows), SCAN_ROWS)):
        for span in (1, 2):
            if index + span > len(rows):
                continue
            if span == 2 and _has_labels(rows[index]):
                continue  # 账号：… above the header is metadata, not the header's top row
            columns = _columns(rows, index, span)
            named = [set(_exact(c, vocabulary)) for c in columns]
            fields = set().union(*named) if named else set()
            if "date" not in fields or not fields & amounts:
                continue
            score = (sum(1 for n in named if n), -span, -index)
            if best is None or score > best[0]:
                best = (score, index, span, columns)
    if best is None:
        raise ProblemsError(
            f"无法生成映射 / cannot suggest a mapping {shown}",
            [
                Problem(
                    shown,
                    f"前 {SCAN_ROWS} 行中没有同时含日期和金额的表头 / no header row with a date "
                    f"and an amount in the first {SCAN_ROWS} rows",
                    "header",
                )
            ],
        )
    return best[1], best[2], best[3]


def _has_labels(row: Row) -> bool:
    """Whether a row holds labels (``账号：``, ``户名:``), as banks print above a header."""
    return any(t.endswith((":", "：")) for t in (_safe_text(c) for c in row.cells) if t)


# --------------------------------------------------------------------------- values


def _cell(row: Row, column: int) -> Cell:
    return row.cells[column] if column < len(row.cells) else ""


def _all_parse(rows: Sequence[Row], column: int, parse: Callable[[Cell], object]) -> bool:
    """Whether the column's non-blank cells parse (all but one in six: a typo is a bad row
    to report, not another field), and there is at least one."""
    good = bad = 0
    for row in rows:
        cell = _cell(row, column)
        if is_blank(cell) or _safe_text(cell) in ("-", "——", "--"):
            continue
        try:
            parse(cell)
        except (ValidationError, MoneyError, ValueError, TypeError):
            bad += 1
            continue
        good += 1
    return good > 0 and bad * 5 <= good


def _is_date(cell: Cell) -> object:
    return parse_date(cell)


def _is_time(cell: Cell) -> object:
    return parse_time(cell)


def _is_amount(cell: Cell) -> object:
    return parse_amount(cell)


def _is_flag(cell: Cell) -> object:
    if parse_direction(cell) is None:
        raise ValueError("empty")
    return cell


_CHECKS: dict[str, Callable[[Cell], object]] = {
    "date": _is_date,
    "time": _is_time,
    "debit": _is_amount,
    "credit": _is_amount,
    "amount": _is_amount,
    "balance": _is_amount,
    "direction": _is_flag,
}


def _data_rows(rows: Sequence[Row], column: int) -> list[Row]:
    """The rows whose cell in ``column`` is a date (the transactions), the first few."""
    return [r for r in rows if _all_parse([r], column, _is_date)][:_SAMPLE_ROWS]


_FOOTERS = tuple(_fold(m) for m in DEFAULT_FOOTER)


def _before_footer(rows: Sequence[Row]) -> list[Row]:
    """The rows below the header down to the first footer (合计, 以上数据仅供参考, 笔数…)."""
    out = []
    for row in rows:
        first = next((t for t in (_safe_text(c) for c in row.cells) if t), "")
        key = re.sub(r"^(?:人民币|本币|rmb|cny)", "", _fold(first))
        if key and (key.startswith(_FOOTERS) or "笔数" in key):
            break
        out.append(row)
    return out


def _mostly_dates(rows: Sequence[Row], column: int) -> bool:
    """Whether most non-blank cells of the column are dates (an opening row may have text)."""
    filled = [r for r in rows if not is_blank(_cell(r, column))]
    dated = _data_rows(filled, column)
    return bool(dated) and len(dated) * 5 >= len(filled) * 4


# --------------------------------------------------------------------------- placing columns


def _place(
    columns: list[_Column], below: Sequence[Row], vocabulary: dict[str, list[str]]
) -> dict[str, _Column]:
    """Field → column: exact header texts first (in :data:`_ORDER`), then words; values agree."""
    exact = {c.index: _exact(c, vocabulary) for c in columns}
    placed: dict[str, _Column] = {}
    taken: set[int] = set()
    data = list(below)

    def fits(field: str, column: _Column) -> bool:
        check = _CHECKS.get(field)
        return check is None or _all_parse(data, column.index, check)

    dates = sorted(
        (c for c in columns if "date" in exact[c.index]), key=lambda c: exact[c.index]["date"]
    )
    for column in dates:
        if _mostly_dates(below, column.index):
            placed["date"] = column
            taken.add(column.index)
            data = _data_rows(below, column.index)
            break
    for field in _ORDER:
        if field in placed:
            continue
        ranked = sorted(
            (c for c in columns if c.index not in taken and field in exact[c.index]),
            key=lambda c: (exact[c.index][field], c.index),
        )
        for column in ranked:
            if fits(field, column):
                placed[field] = column
                taken.add(column.index)
                break
    for column in columns:
        if column.index in taken or not column.texts:
            continue
        for field in _worded(column):
            if field not in placed and fits(field, column):
                placed[field] = column
                taken.add(column.index)
                break
    if "time" in placed and "date" in placed:
        both = _data_rows(data, placed["time"].index)
        if both and len(both) == len(data):  # the "time" column holds dates: it is the date's
            del placed["time"]
    return placed


# --------------------------------------------------------------------------- metadata


_PAIR = re.compile(r"([^\s:：]+?)\s*[:：]\s*([^:：]*?)(?=\s+[^\s:：]+\s*[:：]|$)")
_ACCOUNT_WORDS = ("账号", "帐号", "卡号", "账户号", "帐户号")
_NAME_WORDS = ("户名", "姓名", "名称", "单位")


def _labels(rows: Sequence[Row]) -> tuple[list[str], list[str], list[str], list[str]]:
    """(account labels, name labels, other labels, other texts) of the rows above the header."""
    accounts: list[str] = []
    names: list[str] = []
    others: list[str] = []
    texts: list[str] = []
    for row in rows:
        filled = [t for t in (_safe_text(c) for c in row.cells) if t]
        position = 0
        while position < len(filled):
            text = filled[position]
            position += 1
            if ":" in text or "：" in text:
                pairs = _PAIR.findall(text)
                if len(pairs) == 1 and not pairs[0][1].strip() and position < len(filled):
                    pairs = [(pairs[0][0], filled[position])]
                    position += 1
            elif _label_kind(text) and position < len(filled):
                pairs = [(text, filled[position])]
                position += 1
            else:
                texts.append(text)
                continue
            for label, value in pairs:
                kind = _label_kind(label)
                shown = label.strip().rstrip(":：")
                if kind == "account" and any(ch.isdigit() for ch in value):
                    accounts.append(shown)
                elif kind == "name" and value.strip():
                    names.append(shown)
                else:
                    others.append(f"{shown}: {value.strip()}")
    return accounts, names, others, texts


def _label_kind(label: str) -> str:
    key = _fold(label)
    if key in {_fold(x) for x in DEFAULT_ACCOUNT_LABELS} or any(w in key for w in _ACCOUNT_WORDS):
        return "account" if "对方" not in key else ""
    if key in {_fold(x) for x in DEFAULT_NAME_LABELS} or any(w in key for w in _NAME_WORDS):
        return "name" if "对方" not in key else ""
    return ""


# --------------------------------------------------------------------------- writing


def _q(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _list(texts: Sequence[str]) -> str:
    return "[" + ", ".join(_q(t) for t in dict.fromkeys(texts)) + "]"


@dataclass(frozen=True, slots=True)
class _Draft:
    """What the file will say, before the direction is settled."""

    name: str
    title: str
    source: str
    header_row: int
    aliases: dict[str, str]  # field → the header text that names it
    accounts: list[str]
    names: list[str]
    unplaced: list[str]
    above: list[str]


def _render(draft: _Draft, direction: str, options: dict[str, str], note: str) -> str:
    required = {
        "split": ("date", "debit", "credit"),
        "signed": ("date", "amount"),
        "flag": ("date", "amount", "direction"),
        "payer_payee": ("date", "amount", "payer_account", "payee_account"),
    }[direction]
    aliases = dict(draft.aliases)
    if direction == "split" and "amount" in aliases:
        del aliases["amount"]
    lines = [
        f"# 映射建议 / mapping suggested by: juzhang import suggest-mapping {draft.source}",
        f"# 表头在第 {draft.header_row} 行 / header row {draft.header_row}; {note}",
        "# 请核对后使用 / check it, then: juzhang import bank ENTITY FILE --account CODE "
        "--mapping THIS_FILE",
        f"name = {_q(draft.name)}",
        f"title = {_q(draft.title)}",
        f"direction = {_q(direction)}",
        *(f"{key} = {value}" for key, value in options.items()),
        f"detect = {_list([aliases[f] for f in required])}",
        "",
        "[columns]",
    ]
    lines += [f"{field} = {_list([aliases[field]])}" for field in aliases]
    if draft.accounts or draft.names:
        lines += ["", "[metadata]                       # 表头上方的标签 / labels above the header"]
        lines += [f"account = {_list(draft.accounts)}"] if draft.accounts else []
        lines += [f"name = {_list(draft.names)}"] if draft.names else []
    if draft.unplaced:
        lines += ["", "# 未能识别的列 (需要时加到 [columns]) / columns not placed (add if needed):"]
        lines += [f"#   {text}" for text in draft.unplaced]
    if draft.above:
        lines += ["", "# 表头上方未识别的内容 / text above the header not placed:"]
        lines += [f"#   {text}" for text in draft.above]
    return "\n".join(lines) + "\n"


def _choices(placed: dict[str, _Column], below: Sequence[Row]) -> list[tuple[str, dict[str, str]]]:
    """Every (direction, options) the placed columns allow, likeliest first."""
    if "debit" in placed and "credit" in placed:
        debit = placed["debit"].index
        negative = any(
            isinstance(v, Decimal) and v < 0 for v in (_try_amount(_cell(r, debit)) for r in below)
        )
        options = {"out_negative": "true"} if negative else {}
        return [("split", options), ("split", {**options, "_swap": "true"})]
    if "amount" not in placed:
        return []
    if "direction" in placed:
        return [("flag", {})]
    if "payer_account" in placed and "payee_account" in placed:
        return [("payer_payee", {})]
    return [
        ("signed", {"signed_positive": '"credit"'}),
        ("signed", {"signed_positive": '"debit"'}),
    ]


def _try_amount(cell: Cell) -> Decimal | None:
    try:
        return parse_amount(cell)
    except (ValidationError, MoneyError):
        return None


def suggest_mapping(
    path: str | Path,
    *,
    limits: ReadLimits = DEFAULT_LIMITS,
    name: str | None = None,
) -> Suggestion:
    """Suggest a mapping file for the bank statement at ``path`` (see the module docstring).

    ``name`` is how messages name the file (default: its file name).
    Returns a :class:`Suggestion` whose ``text`` is the mapping file.
    Raises :class:`~juzhang.errors.ProblemsError` when the file cannot be
    read, or no row among the first ones names a date and an amount, or no
    direction can be told from the columns (every problem named).
    """
    source = Path(path)
    shown = name or source.name
    with open_table(source, limits=limits, name=shown) as table:
        head = list(itertools.islice(table.rows(), SCAN_ROWS + _SAMPLE_ROWS))
    vocabulary = _vocabulary()
    index, span, columns = _find(head, vocabulary, shown)
    below = _before_footer(head[index + span :])
    placed = _place(columns, below, vocabulary)
    data = _data_rows(below, placed["date"].index) if "date" in placed else []
    choices = _choices(placed, data)
    if not choices:
        header = ", ".join(c.texts[0] for c in columns if c.texts)
        raise ProblemsError(
            f"无法生成映射 / cannot suggest a mapping {shown}",
            [
                Problem(
                    f"{shown}:{head[index + span - 1].number}",
                    f"表头 / header: {header}\n找不到金额列 (收入/支出 或 发生额) / no amount "
                    "column (in/out or one amount)",
                    "header",
                )
            ],
        )
    accounts, names, others, texts = _labels(head[:index])
    title = next((t for t in texts if not t.startswith("[")), shown)
    draft = _Draft(
        name=_profile_name(source.name),
        title=title,
        source=shlex.quote(shown),
        header_row=head[index + span - 1].number,
        aliases={
            f: c.texts[_alias_at(c, f, vocabulary)]
            for f, c in sorted(placed.items(), key=lambda item: item[1].index)
        },
        accounts=accounts,
        names=names,
        unplaced=[
            f"{column_letter(c.index)} {c.texts[0]}"
            for c in columns
            if c.texts and c.index not in {p.index for p in placed.values()}
        ],
        above=others + [t for t in texts if t != title],
    )
    return _best(source, shown, draft, choices, "balance" in placed, limits)


def _alias_at(column: _Column, field: str, vocabulary: dict[str, list[str]]) -> int:
    """Which of the column's texts names the field (the first, unless another is the alias)."""
    for position, text in enumerate(column.texts):
        if any(key in vocabulary.get(field, ()) for key in _keys(text)):
            return position
    return 0


def _best(
    source: Path,
    shown: str,
    draft: _Draft,
    choices: list[tuple[str, dict[str, str]]],
    has_balance: bool,
    limits: ReadLimits,
) -> Suggestion:
    """Read the file with each reading the columns allow; keep the one whose balances follow."""
    best: tuple[tuple[int, int, int], Suggestion] | None = None
    for rank, (direction, options) in enumerate(choices):
        if rank and not has_balance:
            break
        chosen = _draft_for(draft, options)
        shown_options = {k: v for k, v in options.items() if not k.startswith("_")}
        note = (
            f"方向 {direction} 已按余额核对 / direction {direction} checked against the "
            "running balance"
            if has_balance
            else f"无余额列，方向 {direction} 未能核对 / no balance column: direction "
            f"{direction} not checked"
        )
        text = _render(chosen, direction, shown_options, note)
        profile = parse_profile(tomllib.loads(text), f"{shown} (建议 suggested)", text)
        statement, problems = read_statement(source, profile=profile, limits=limits, name=shown)
        breaks = sum(1 for p in problems if p.subject == "balance")
        suggestion = Suggestion(
            text=text,
            profile=profile,
            header_row=statement.header_row,
            checked=has_balance,
            rows=len(statement.rows),
            total_in=sum((r.credit for r in statement.rows), Decimal("0.00")),
            total_out=sum((r.debit for r in statement.rows), Decimal("0.00")),
            problems=tuple(problems),
            unplaced=tuple(draft.unplaced),
        )
        score = (breaks, len(problems), rank)
        if best is None or score < best[0]:
            best = (score, suggestion)
        if not problems:  # the balances follow: no other reading can do better
            break
    assert best is not None
    return best[1]


def _draft_for(draft: _Draft, options: dict[str, str]) -> _Draft:
    if not options.get("_swap"):
        return draft
    aliases = dict(draft.aliases)
    aliases["debit"], aliases["credit"] = aliases["credit"], aliases["debit"]
    return replace(draft, aliases=aliases)


def _profile_name(file_name: str) -> str:
    stem = file_name.split(".", 1)[0].strip()
    return stem or "mapping"
