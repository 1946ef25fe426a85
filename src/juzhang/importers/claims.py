"""Claim batches (报账单): the cashier's claims, checked, recorded, then drafted as vouchers.

During the month the community's cashier (报账员) pays small expenses and keeps
the originals; on the filing day (统一报账日) the cashier brings a claim batch to
the agency (DOMAIN §3).  Each item is one payment: date, purpose (事由), amount
in figures and, optionally, in capitals (大写金额), the expense account or a
category name, paid in cash or from the bank, the signatures of the person who
handled it (经手人), a witness (证明人) and the approver(s) (审批人), the number of
attached originals (附件张数), the invoice number and, above a threshold, the
reference of the collective decision (决议文号: 两委会议, 居民(代表)会议, 一事一议).

The flow, and who does what (钱账分离):

1. :func:`write_claims_template` writes the Excel form the cashier fills in.
2. :func:`import_claims` (the **cashier**) reads a filled batch.  A claim with
   incomplete paperwork is stored as ``returned`` with its reasons (Chinese /
   English) and never booked; every valid claim records the cashier's
   custody entry (the money out of cash or the bank, through
   :func:`juzhang.custody.record_entries`) and a ``pending`` claim linked to it.
3. :func:`draft_claims` (the **bookkeeper**) turns the pending claims into
   draft vouchers in one command (Dr the expense account / Cr cash or bank,
   naming the custody entry), through :func:`juzhang.books.draft_vouchers`.

Reading the batch (CSV, XLSX or XLS through :func:`~juzhang.importers.reader.open_table`):
the header row is found among the first rows by its texts (the template's, or
common variants such as 摘要 for 事由, 经办人 for 经手人; bracketed notes such as
``金额（元）`` are ignored); rows above it may name the community (``单位：…``).
Below it, blank rows, repeated headers, the example row, a 合计 row (checked
against the sum when there is one) and signature lines (``报账员：张三``, no
amount) are not claims; every other row is one.

What a file problem is, and what a returned claim is.  A file that cannot be
read as a claim batch at all raises :class:`~juzhang.errors.ProblemsError`
listing *every* problem (``file:row:column``, the value, the reason) and writes
nothing: an unreadable file, no header row, a missing required column, a row
whose date, amount (figures) or payment method cannot be read (a claim must
have these to be a claim at all), a 合计 row that does not add up, a 单位 that
names another community.  Everything about the paperwork — signatures,
attachments, capitals against figures, the account or category, the month
(before the books start or closed), approvals — returns the claim instead.

Re-importing: a file with the same content (SHA-256) as an earlier claim
batch of the entity is **skipped**: nothing is added and the result says
which batch it was (``already_imported``).  A changed file whose rows repeat
claims already pending or drafted (same date, amount, 事由, payment account,
经手人 and invoice number, counted occurrence by occurrence) skips those rows
(``duplicates``), so a cashier who fixes the returned rows in the same sheet
and submits it again books each payment once.

The rules are per community and are data (:class:`ClaimsConfig`, a TOML file
read by :func:`load_claims_config`)::

    entity = "C001"              # optional: refuse to apply these rules to another community

    [rules]
    categories = ["expense"]     # account categories a claim may be charged to
    min_attachments = 1          # originals attached, at least
    require_invoice = false      # 发票号码 required on every claim
    witness_not_handler = true   # 证明人 may not be the 经手人

    [payment]                    # 支付方式 as written → cash or bank account (a leaf custody
    "现金" = "101"               # account); default: the chart's first-level cash and bank
    "银行" = "102"               # accounts.  现金/库存现金/cash and 银行/银行存款/转账/网银/bank
    "农商行" = "10202"           # are understood as 现金 and 银行.

    [aliases]                    # 科目或类别 as the cashier writes it → account code
    "办公费" = "51301"

    [[approval]]                 # approval tiers; every tier whose threshold the amount
    at_least = "300"             # reaches applies: at_least (≥) or above (>), in 元
    approvers = 2                # different names in 审批人 (split at 、,，;/ and spaces)
    [[approval]]
    above = "1000"
    decision = true              # a 决议文号 is required
    decision_kinds = []          # optional: the reference must mention one of these,
                                 # e.g. ["两委", "居民会议", "居民代表会议", "一事一议"]

Without a file the defaults follow DOMAIN §3: under 300 元 one approver (the
director) signs, from 300 元 two (director and secretary), above 1000 元 a
collective decision is required; categories ``expense``; at least one
attachment.  A 科目或类别 cell resolves, in this order, through ``[aliases]``,
an account code (``51301`` or ``51301 办公费``), an account name (``办公费``) or
a path (``管理费用—办公费``); the account must be an active leaf account of an
allowed category and not a cash or bank account.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import tomllib
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from juzhang import books, custody
from juzhang.core.duty import Action
from juzhang.core.period import format_period, period_of
from juzhang.core.voucher import Line, VoucherDraft
from juzhang.errors import (
    JuzhangError,
    MoneyError,
    NotFoundError,
    Problem,
    ProblemsError,
    StateError,
)
from juzhang.importers.reader import ReadLimits, Row, column_letter, open_table
from juzhang.importers.values import Cell, cell_text, clean_text, is_blank, parse_amount, parse_date
from juzhang.money import capitals, format_amount, from_fen, parse_capitals, parse_money, to_fen
from juzhang.storage.access import (
    AccountInfo,
    EntityInfo,
    accounts_of,
    audit,
    audit_many,
    closed_periods,
    command,
    get_entity,
    next_id,
    now,
    require,
)
from juzhang.storage.schema import Claim, ImportBatch

__all__ = [
    "COLUMNS",
    "DEFAULT_APPROVAL",
    "DEFAULT_CONFIG",
    "EXAMPLE_MARK",
    "ApprovalTier",
    "ClaimColumn",
    "ClaimView",
    "ClaimsConfig",
    "ClaimsResult",
    "draft_claims",
    "draft_located",
    "import_claims",
    "list_claims",
    "load_claims_config",
    "parse_claims_config",
    "pending_claims",
    "returned_claims",
    "write_claims_template",
]

CLAIM_LIMITS = ReadLimits(max_file_bytes=20 * (1 << 20), max_rows=20_000, max_columns=100)
"""Read limits for claim batches: a month's claims are a few dozen rows."""

EXAMPLE_MARK = "【示例】"
"""A row whose 事由 starts with this is the template's example and is skipped."""

_HEADER_SEARCH_ROWS = 30


# --------------------------------------------------------------------------- columns


@dataclass(frozen=True, slots=True)
class ClaimColumn:
    """A column of the claim form: its key, header as printed, other accepted headers."""

    key: str
    header: str
    english: str
    aliases: tuple[str, ...]
    required: bool
    width: int
    number_format: str


COLUMNS: tuple[ClaimColumn, ...] = (
    ClaimColumn("date", "日期", "date", ("报账日期", "支付日期", "付款日期", "发生日期"), True, 12,
                "yyyy-mm-dd"),
    ClaimColumn("purpose", "事由", "purpose", ("摘要", "用途", "报账事由", "开支事由"), True, 34,
                "@"),
    ClaimColumn("amount", "金额", "amount", ("小写金额", "报账金额", "金额元"), True, 13,
                "#,##0.00"),
    ClaimColumn("capitals", "大写金额", "amount in capitals", ("金额大写",), False, 24, "@"),
    ClaimColumn("category", "科目或类别", "account or category",
                ("科目", "类别", "费用类别", "支出科目", "支出类别", "会计科目", "account",
                 "category"), True, 18, "@"),
    ClaimColumn("payment", "支付方式", "payment", ("付款方式", "结算方式"), True, 10, "@"),
    ClaimColumn("handler", "经手人", "handled by", ("经办人",), True, 10, "@"),
    ClaimColumn("witness", "证明人", "witness", (), True, 10, "@"),
    ClaimColumn("approver", "审批人", "approved by", ("批准人",), True, 14, "@"),
    ClaimColumn("attachments", "附件张数", "attachments", ("附件", "单据张数", "附单据张数",
                "附件数"), True, 9, "0"),
    ClaimColumn("invoice_no", "发票号码", "invoice number", ("发票号", "票据号码", "票据号"),
                False, 22, "@"),
    ClaimColumn("decision_ref", "决议文号", "decision reference", ("决议", "会议决议",
                "决议编号", "决策文号"), False, 24, "@"),
    ClaimColumn("remark", "备注", "remark", ("说明",), False, 22, "@"),
)  # fmt: skip
"""The columns of the form, in the template's order."""

_BY_KEY = {c.key: c for c in COLUMNS}
_REQUIRED_ENGLISH = ", ".join(c.english for c in COLUMNS if c.required)
_BRACKETED = re.compile(r"[(\[【][^)\]】]*[)\]】]")


def _fold(text: str) -> str:
    """Full-width to ASCII, no spaces, lower case: how headers and labels are compared."""
    folded = unicodedata.normalize("NFKC", text)
    return re.sub(r"[\s\u3000]+", "", folded).lower()


def _safe_text(cell: Cell) -> str:
    try:
        return clean_text(cell)
    except JuzhangError:
        return cell_text(cell)


def _header_key(cell: Cell) -> str:
    text = _fold(_safe_text(cell))
    return _BRACKETED.sub("", text).strip("*:")


_HEADER_LOOKUP: dict[str, str] = {
    _header_key(name): c.key for c in COLUMNS for name in (c.header, c.english, c.key, *c.aliases)
}


# --------------------------------------------------------------------------- configuration


@dataclass(frozen=True, slots=True)
class ApprovalTier:
    """An approval rule for amounts from a threshold on (审批权限).

    ``inclusive`` means amounts of at least ``threshold`` (≥); otherwise
    amounts above it (>).  ``approvers`` is the number of different names
    needed in 审批人; ``decision`` requires a 决议文号, and ``decision_kinds``,
    when given, a reference that mentions one of them.
    """

    threshold: Decimal
    inclusive: bool = False
    approvers: int = 1
    decision: bool = False
    decision_kinds: tuple[str, ...] = ()

    def applies(self, amount: Decimal) -> bool:
        """Return whether a claim of ``amount`` falls under this tier."""
        return amount >= self.threshold if self.inclusive else amount > self.threshold

    @property
    def label(self) -> str:
        """``"≥ 300.00"`` or ``"> 1,000.00"``."""
        return f"{'≥' if self.inclusive else '>'} {format_amount(self.threshold)}"


DEFAULT_APPROVAL: tuple[ApprovalTier, ...] = (
    ApprovalTier(Decimal("300.00"), inclusive=True, approvers=2),
    ApprovalTier(Decimal("1000.00"), inclusive=False, decision=True),
)
"""DOMAIN §3: two approvers from 300 元, a collective decision above 1000 元."""


@dataclass(frozen=True, slots=True)
class ClaimsConfig:
    """One community's claim rules (报账规则); see the module docstring for the TOML form.

    ``payment`` and ``aliases`` are ``(text, account code)`` pairs; an empty
    ``payment`` means the chart's first-level cash and bank accounts.
    """

    entity: str | None = None
    categories: tuple[str, ...] = ("expense",)
    min_attachments: int = 1
    require_invoice: bool = False
    witness_not_handler: bool = True
    payment: tuple[tuple[str, str], ...] = ()
    aliases: tuple[tuple[str, str], ...] = ()
    approval: tuple[ApprovalTier, ...] = DEFAULT_APPROVAL
    source: str = "默认规则 default rules"

    @property
    def digest(self) -> str:
        """A short fingerprint of the rules, recorded with each batch."""
        text = repr(
            (
                self.entity,
                self.categories,
                self.min_attachments,
                self.require_invoice,
                self.witness_not_handler,
                self.payment,
                self.aliases,
                self.approval,
            )
        )
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


DEFAULT_CONFIG = ClaimsConfig()

_CATEGORIES = frozenset({"asset", "liability", "equity", "net_assets", "cost", "income", "expense"})
_TOP_KEYS = frozenset({"entity", "rules", "payment", "aliases", "approval"})
_RULE_KEYS = frozenset({"categories", "min_attachments", "require_invoice", "witness_not_handler"})
_TIER_KEYS = frozenset({"at_least", "above", "approvers", "decision", "decision_kinds"})


def load_claims_config(path: str | Path) -> ClaimsConfig:
    """Read a community's claim rules from a TOML file.

    Returns a :class:`ClaimsConfig`.  Raises :class:`ProblemsError` listing
    every problem (missing file, bad TOML, unknown keys, bad values).
    """
    source = Path(path)
    try:
        text = source.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ProblemsError(
            "报账规则 claim rules", [Problem(str(source), "文件不存在 / file not found", "config")]
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ProblemsError(
            "报账规则 claim rules",
            [Problem(str(source), f"无法读取 / cannot read: {exc}", "config")],
        ) from None
    return parse_claims_config(text, source.name)


def parse_claims_config(text: str, source: str = "<rules>") -> ClaimsConfig:
    """Read claim rules from TOML text (see the module docstring).

    Amounts are written as text or whole 元 (``"300"``, ``1000``); a float
    such as ``300.0`` is refused.  Returns a :class:`ClaimsConfig`.  Raises
    :class:`ProblemsError` listing every problem.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProblemsError(
            "报账规则 claim rules",
            [Problem(source, f"不是有效的 TOML / not valid TOML: {exc}", "config")],
        ) from None
    problems: list[Problem] = []

    def bad(key: str, message: str) -> None:
        problems.append(Problem(f"{source}:{key}", message, "config"))

    for key in sorted(set(data) - _TOP_KEYS):
        bad(key, f"未知的设置项 / unknown key (known: {', '.join(sorted(_TOP_KEYS))})")
    entity = data.get("entity")
    if entity is not None and not isinstance(entity, str):
        bad("entity", "应为文字 / must be text")
    rules = _table(data, "rules", bad)
    for key in sorted(set(rules) - _RULE_KEYS):
        bad(f"rules.{key}", f"未知的设置项 / unknown key (known: {', '.join(sorted(_RULE_KEYS))})")
    categories = rules.get("categories", ["expense"])
    if (
        not isinstance(categories, list)
        or not categories
        or any(c not in _CATEGORIES for c in categories)
    ):
        bad("rules.categories", f"应为科目类别的列表 / a list of: {', '.join(sorted(_CATEGORIES))}")
        categories = ["expense"]
    minimum = rules.get("min_attachments", 1)
    if isinstance(minimum, bool) or not isinstance(minimum, int) or minimum < 0:
        bad("rules.min_attachments", "应为不小于 0 的整数 / a whole number ≥ 0")
        minimum = 1
    flags = {}
    for key, default in (("require_invoice", False), ("witness_not_handler", True)):
        value = rules.get(key, default)
        if not isinstance(value, bool):
            bad(f"rules.{key}", "应为 true 或 false / must be true or false")
            value = default
        flags[key] = value
    payment = _pairs(_table(data, "payment", bad), "payment", bad)
    aliases = _pairs(_table(data, "aliases", bad), "aliases", bad)
    tiers = _tiers(data.get("approval"), bad)
    if problems:
        raise ProblemsError("报账规则 claim rules", problems)
    return ClaimsConfig(
        entity=entity if isinstance(entity, str) else None,
        categories=tuple(categories),
        min_attachments=minimum,
        require_invoice=flags["require_invoice"],
        witness_not_handler=flags["witness_not_handler"],
        payment=payment,
        aliases=aliases,
        approval=tiers if tiers is not None else DEFAULT_APPROVAL,
        source=source,
    )


def _table(data: Mapping[str, Any], key: str, bad: Callable[[str, str], None]) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        bad(key, "应为表 / must be a table ([...])")
        return {}
    return value


def _pairs(
    table: Mapping[str, Any], name: str, bad: Callable[[str, str], None]
) -> tuple[tuple[str, str], ...]:
    out = []
    for text, code in table.items():
        if not isinstance(code, str) or not code.strip().isdigit():
            bad(f"{name}.{text}", '应为科目代码文字，如 "101" / must be an account code as text')
            continue
        out.append((text, code.strip()))
    return tuple(out)


def _tiers(value: object, bad: Callable[[str, str], None]) -> tuple[ApprovalTier, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list):
        bad("approval", "应为 [[approval]] 表的列表 / must be [[approval]] tables")
        return None
    tiers = []
    for n, item in enumerate(value, 1):
        where = f"approval[{n}]"
        if not isinstance(item, dict):
            bad(where, "应为表 / must be a table")
            continue
        for key in sorted(set(item) - _TIER_KEYS):
            bad(
                f"{where}.{key}",
                f"未知的设置项 / unknown key (known: {', '.join(sorted(_TIER_KEYS))})",
            )
        if ("at_least" in item) == ("above" in item):
            bad(where, "at_least 和 above 必须且只能写一个 / give exactly one of at_least, above")
            continue
        key = "at_least" if "at_least" in item else "above"
        try:
            threshold = parse_money(item[key])
        except MoneyError as exc:
            bad(f"{where}.{key}", f'{exc.reason}（请写成 "300" / write it as text: "300"）')
            continue
        approvers = item.get("approvers", 1)
        if isinstance(approvers, bool) or not isinstance(approvers, int) or approvers < 1:
            bad(f"{where}.approvers", "应为不小于 1 的整数 / a whole number ≥ 1")
            continue
        decision = item.get("decision", False)
        kinds = item.get("decision_kinds", [])
        if not isinstance(decision, bool):
            bad(f"{where}.decision", "应为 true 或 false / must be true or false")
            continue
        if not isinstance(kinds, list) or not all(isinstance(k, str) and k for k in kinds):
            bad(f"{where}.decision_kinds", "应为文字列表 / must be a list of texts")
            continue
        tiers.append(ApprovalTier(threshold, key == "at_least", approvers, decision, tuple(kinds)))
    return tuple(tiers)


# --------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class ClaimView:
    """A stored claim (报账单行) with its status, reasons and links."""

    id: int
    batch: int
    row: int
    date: dt.date
    purpose: str
    amount: Decimal
    capitals: str
    category: str
    account: str | None
    payment: str
    custody_account: str | None
    handler: str
    witness: str
    approver: str
    attachments: int
    invoice_no: str
    decision_ref: str
    status: str
    reasons: tuple[str, ...]
    custody_entry: int | None
    voucher: int | None


@dataclass(frozen=True, slots=True)
class ClaimsResult:
    """What :func:`import_claims` did.

    ``already_imported`` means the same file was imported before as batch
    ``batch_id`` and nothing was added.  ``duplicates`` are ``(row, earlier
    claim id)`` of rows that repeat claims already pending or drafted (not
    stored again); ``skipped`` are notes on rows that are not claims (the
    template's example row, totals, signature lines).
    """

    batch_id: int
    file_name: str
    sha256: str
    already_imported: bool
    rows: int
    pending: tuple[ClaimView, ...]
    returned: tuple[ClaimView, ...]
    custody_entries: tuple[int, ...]
    duplicates: tuple[tuple[int, int], ...]
    skipped: tuple[str, ...]
    rules: str


# --------------------------------------------------------------------------- reading the file


@dataclass(frozen=True, slots=True)
class _Read:
    """A claim row whose date, amount and payment could be read; the rest as written."""

    row: int
    date: dt.date
    amount: Decimal
    payment_account: str
    payment: str  # 'cash' | 'bank'
    text: Mapping[str, str]  # column key → trimmed text (verbatim inside)


@dataclass(frozen=True, slots=True)
class _Batch:
    claims: tuple[_Read, ...]
    problems: tuple[Problem, ...]
    skipped: tuple[str, ...]


_TOTAL_MARKS = ("合计", "总计", "小计", "本页合计")
_FOOTER_MARKS = ("报账员", "制表", "填表", "审核", "负责人", "签字", "注", "说明")
"""Signature and note lines below the table (``报账员：张三``): no amount, a colon."""
_PAYMENT_WORDS: dict[str, str] = {
    "现金": "现金", "库存现金": "现金", "cash": "现金",
    "银行": "银行", "银行存款": "银行", "转账": "银行", "银行转账": "银行", "对公转账": "银行",
    "网银": "银行", "支票": "银行", "bank": "银行",
}  # fmt: skip
_UNIT_LABELS = ("单位", "单位名称", "报账单位", "社区")


def _header_columns(row: Row) -> dict[str, list[int]] | None:
    """Return ``{column key: cell indexes}`` if ``row`` looks like the header row."""
    found: dict[str, list[int]] = {}
    for i, cell in enumerate(row.cells):
        key = _HEADER_LOOKUP.get(_header_key(cell))
        if key is not None:
            found.setdefault(key, []).append(i)
    if len(found) < 4 or "amount" not in found or "purpose" not in found:
        return None
    return found


class _BatchReader:
    """Reads a claim batch into :class:`_Read` rows and file problems."""

    def __init__(self, name: str, payment: Mapping[str, tuple[str, str]]) -> None:
        self.name = name
        self.payment = payment  # folded text → (account, 'cash'|'bank')
        self.problems: list[Problem] = []
        self.skipped: list[str] = []

    def problem(self, row: int, column: int | None, message: str) -> None:
        if column is None:
            self.problems.append(Problem(f"{self.name}:{row}", message, "file"))
        else:
            where = f"{self.name}:{row}:{column_letter(column)}"
            self.problems.append(Problem(where, message, "row"))

    def read(self, rows: Iterable[Row], entity: EntityInfo) -> _Batch:
        head: list[Row] = []
        columns: dict[str, int] | None = None
        claims: list[_Read] = []
        totals: list[tuple[Row, int]] = []
        header_row = 0
        for row in rows:
            if columns is None:
                head.append(row)
                columns = self._header(row)
                if columns is None and len(head) >= _HEADER_SEARCH_ROWS:
                    break
                if columns is not None:
                    self._check_unit(head[:-1], entity)
                    header_row = row.number
                continue
            kind = self._classify(row, columns)
            if kind == "claim":
                found = self._claim(row, columns)
                if found is not None:
                    claims.append(found)
            elif kind == "total":
                totals.append((row, columns["amount"]))
        if columns is None:
            expected = "、".join(c.header for c in COLUMNS if c.required)
            self.problem(
                head[-1].number if head else 1,
                None,
                f"找不到表头行 (应含 {expected}) / no header row found in the first "
                f"{_HEADER_SEARCH_ROWS} rows (expected {_REQUIRED_ENGLISH})",
            )
        elif not claims and not self.problems:
            self.problem(header_row, None, "表中没有报账记录 / the file holds no claims")
        self._check_totals(totals, claims)
        return _Batch(tuple(claims), tuple(self.problems), tuple(self.skipped))

    def _header(self, row: Row) -> dict[str, int] | None:
        found = _header_columns(row)
        if found is None:
            return None
        for key, places in found.items():
            if len(places) > 1:
                letters = ", ".join(column_letter(i) for i in places)
                self.problem(
                    row.number,
                    places[1],
                    f"列 {_BY_KEY[key].header} 出现多次 ({letters}) / column "
                    f"{_BY_KEY[key].english} appears more than once",
                )
        for column in COLUMNS:
            if column.required and column.key not in found:
                self.problem(
                    row.number,
                    None,
                    f"缺少列 {column.header} / missing column {column.header} ({column.english})",
                )
        return {key: places[0] for key, places in found.items()}

    def _check_unit(self, rows: Sequence[Row], entity: EntityInfo) -> None:
        for row in rows:
            texts = [_safe_text(c) for c in row.cells]
            for i, text in enumerate(texts):
                label, _, rest = unicodedata.normalize("NFKC", text).partition(":")
                if _fold(label) not in _UNIT_LABELS:
                    continue
                value = rest.strip() or next((t for t in texts[i + 1 :] if t), "")
                if not value or value.endswith((":", "：")):
                    continue
                folded = _fold(value)
                if (
                    entity.code.lower() in folded
                    or folded in _fold(entity.name)
                    or _fold(entity.name) in folded
                ):
                    continue
                self.problem(
                    row.number,
                    i,
                    f"单位 {value!r} 不是 {entity.code} {entity.name} / the batch names another "
                    f"community than {entity.code}",
                )

    def _classify(self, row: Row, columns: Mapping[str, int]) -> str:
        used = [row.cells[i] for i in columns.values() if i < len(row.cells)]
        if all(is_blank(c) for c in used):
            return "blank"
        first = _fold(next(_safe_text(c) for c in row.cells if not is_blank(c)))
        if first.startswith(_TOTAL_MARKS):
            return "total"
        if ":" in first and first.startswith(_FOOTER_MARKS) and not self._has_amount(row, columns):
            self.skipped.append(
                f"第 {row.number} 行是签字或说明行，已跳过 / row {row.number}: "
                "a signature or note line, skipped"
            )
            return "footer"
        if _header_columns(row) is not None:  # a repeated header (printed pages)
            return "header"
        purpose = _safe_text(self._cell(row, columns, "purpose"))
        if purpose.startswith(EXAMPLE_MARK):
            self.skipped.append(
                f"第 {row.number} 行是模板示例行，已跳过 / row {row.number}: "
                "the template's example row, skipped"
            )
            return "example"
        return "claim"

    def _has_amount(self, row: Row, columns: Mapping[str, int]) -> bool:
        try:
            return parse_amount(self._cell(row, columns, "amount")) is not None
        except JuzhangError:
            return False

    @staticmethod
    def _cell(row: Row, columns: Mapping[str, int], key: str) -> Cell:
        i = columns.get(key)
        return row.cells[i] if i is not None and i < len(row.cells) else ""

    def _bad(self, row: Row, columns: Mapping[str, int], key: str, reason: str) -> None:
        column = _BY_KEY[key]
        value = cell_text(self._cell(row, columns, key))
        self.problem(
            row.number, columns.get(key), f"{column.header} {column.english} {value!r}: {reason}"
        )

    def _claim(self, row: Row, columns: Mapping[str, int]) -> _Read | None:
        before = len(self.problems)
        text: dict[str, str] = {}
        for column in COLUMNS:
            if column.key in ("date", "amount"):
                continue
            try:
                text[column.key] = clean_text(self._cell(row, columns, column.key))
            except JuzhangError as exc:
                self._bad(row, columns, column.key, _reason(exc))
        day = self._date(row, columns)
        amount = self._amount(row, columns)
        pay = self._payment(row, columns, text.get("payment"))
        if len(self.problems) > before or day is None or amount is None or pay is None:
            return None
        return _Read(row.number, day, amount, pay[0], pay[1], text)

    def _date(self, row: Row, columns: Mapping[str, int]) -> dt.date | None:
        if "date" not in columns:
            return None  # the missing column is reported once, at the header
        cell = self._cell(row, columns, "date")
        if is_blank(cell):
            self._bad(row, columns, "date", "日期为空 / the date is empty")
            return None
        try:
            return parse_date(cell)[0]
        except JuzhangError as exc:
            self._bad(row, columns, "date", _reason(exc))
            return None

    def _amount(self, row: Row, columns: Mapping[str, int]) -> Decimal | None:
        try:
            amount = parse_amount(self._cell(row, columns, "amount"))
        except JuzhangError as exc:
            self._bad(row, columns, "amount", _reason(exc))
            return None
        if amount is None:
            self._bad(row, columns, "amount", "金额为空 / the amount is empty")
            return None
        if amount <= 0:
            self._bad(row, columns, "amount", "金额必须大于零 / the amount must be above zero")
            return None
        return amount

    def _payment(
        self, row: Row, columns: Mapping[str, int], text: str | None
    ) -> tuple[str, str] | None:
        if text is None or "payment" not in columns:
            return None  # a bad cell or a missing column, reported already
        if not text:
            self._bad(row, columns, "payment", "支付方式为空，应为现金或银行 / empty: 现金 or 银行")
            return None
        folded = _fold(text)
        found = self.payment.get(folded) or self.payment.get(_PAYMENT_WORDS.get(folded, ""))
        if found is None:
            known = "、".join(sorted({_PAYMENT_WORDS.get(k, k) for k in self.payment}))
            self._bad(row, columns, "payment", f"应为 {known} / unknown payment method")
            return None
        return found

    def _check_totals(self, totals: Sequence[tuple[Row, int]], claims: Sequence[_Read]) -> None:
        if len(totals) != 1:
            return  # several subtotals: nothing sure to check
        row, column = totals[0]
        cell = row.cells[column] if column < len(row.cells) else ""
        try:
            total = parse_amount(cell)
        except JuzhangError as exc:
            self.problem(row.number, column, f"合计 total {cell_text(cell)!r}: {_reason(exc)}")
            return
        expected = sum((c.amount for c in claims), Decimal("0.00"))
        if total is not None and total != expected and not self.problems:
            self.problem(
                row.number,
                column,
                f"合计 {format_amount(total)} 与各行金额之和 {format_amount(expected)} 不符 / "
                f"the total {total} differs from the sum of the rows {expected}",
            )


def _reason(exc: JuzhangError) -> str:
    reason = getattr(exc, "reason", None)
    return reason if isinstance(reason, str) else str(exc)


# --------------------------------------------------------------------------- checking claims


@dataclass(frozen=True, slots=True)
class _Context:
    entity: EntityInfo
    accounts: Mapping[str, AccountInfo]
    closed: set[int]
    config: ClaimsConfig
    aliases: Mapping[str, str]  # folded text → code


_NAME_SPLIT = re.compile(r"[、,，;；/／\\\s]+|和|及")
_PATH_SPLIT = re.compile(r"\s*[—–\-_/／:：>]+\s*")


def _names(text: str) -> set[str]:
    return {n for n in _NAME_SPLIT.split(text) if n}


def _check_claim(claim: _Read, ctx: _Context) -> tuple[str | None, list[str]]:
    """Return the account the claim is charged to (if found) and the reasons to return it."""
    t = claim.text
    reasons: list[str] = []
    if not t["purpose"]:
        reasons.append("事由为空 / the purpose (事由) is empty")
    for key in ("handler", "witness", "approver"):
        if not t[key]:
            column = _BY_KEY[key]
            reasons.append(f"缺少{column.header}签字 / no {column.english} ({column.header})")
    if (
        ctx.config.witness_not_handler
        and t["witness"]
        and t["handler"]
        and _names(t["witness"]) & _names(t["handler"])
    ):
        reasons.append("证明人不能是经手人本人 / the witness may not be the person who handled it")
    reasons.extend(_attachment_reasons(t["attachments"], ctx.config.min_attachments))
    reasons.extend(_capitals_reasons(t["capitals"], claim.amount))
    if ctx.config.require_invoice and not t["invoice_no"]:
        reasons.append("缺少发票号码 / no invoice number")
    period = period_of(claim.date)
    if period < ctx.entity.start_period:
        reasons.append(
            f"日期早于建账月份 {format_period(ctx.entity.start_period)} / dated before the books "
            "start"
        )
    elif period in ctx.closed:
        reasons.append(
            f"{format_period(period)} 已结账 / the month {format_period(period)} is closed"
        )
    reasons.extend(_approval_reasons(claim.amount, t["approver"], t["decision_ref"], ctx.config))
    account, why = _resolve_category(t["category"], ctx)
    if why:
        reasons.append(why)
    return account, reasons


def _attachment_reasons(text: str, minimum: int) -> list[str]:
    digits = unicodedata.normalize("NFKC", text).removesuffix("张").strip()
    if not text:
        count = 0
    elif digits.isdigit():
        count = int(digits)
    elif re.fullmatch(r"[0-9]+\.0+", digits):  # a whole number typed into a number cell
        count = int(digits.split(".")[0])
    else:
        return [f"附件张数 {text!r} 不是整数 / the number of attachments is not a whole number"]
    if count < minimum:
        return [
            f"附件 {count} 张，至少需要 {minimum} 张原始凭证 / {count} attachments: at least "
            f"{minimum} original document(s) needed"
        ]
    return []


def _attachments(text: str) -> int:
    digits = unicodedata.normalize("NFKC", text).removesuffix("张").strip().split(".")[0]
    return int(digits) if digits.isdigit() else 0


def _capitals_reasons(text: str, amount: Decimal) -> list[str]:
    if not text:
        return []
    try:
        words = parse_capitals(text)
    except MoneyError as exc:
        return [
            f"大写金额 {text!r} 写法不规范：{exc.reason}，应为 {capitals(amount)} / the amount "
            "in capitals is malformed"
        ]
    if words != amount:
        return [
            f"大写金额 {text} ({format_amount(words)}) 与小写金额 {format_amount(amount)} 不符，"
            f"应为 {capitals(amount)} / the amount in capitals ({words}) differs from the "
            f"figures ({amount})"
        ]
    return []


def _approval_reasons(
    amount: Decimal, approver: str, decision: str, config: ClaimsConfig
) -> list[str]:
    tiers = [t for t in config.approval if t.applies(amount)]
    reasons: list[str] = []
    needed = max((t for t in tiers), key=lambda t: t.approvers, default=None)
    names = _names(approver)
    if needed is not None and approver and len(names) < needed.approvers:
        reasons.append(
            f"金额 {needed.label} 元需要 {needed.approvers} 人审批，只有 {len(names)} 人 / "
            f"amounts {needed.label} need {needed.approvers} approvers, found {len(names)}"
        )
    for tier in tiers:
        if not tier.decision:
            continue
        if not decision:
            reasons.append(
                f"金额 {tier.label} 元需要集体决议文号（两委会议/居民会议/一事一议） / "
                f"amounts {tier.label} need the reference of a collective decision"
            )
            break
        if tier.decision_kinds and not any(k in decision for k in tier.decision_kinds):
            kinds = "、".join(tier.decision_kinds)
            reasons.append(
                f"金额 {tier.label} 元需要 {kinds} 的决议，决议文号 {decision!r} 不符 / "
                f"amounts {tier.label} need a decision of: {', '.join(tier.decision_kinds)}"
            )
    return reasons


def _resolve_category(text: str, ctx: _Context) -> tuple[str | None, str | None]:
    if not text:
        return None, "科目或类别为空 / no account or category"
    code = ctx.aliases.get(_fold(text))
    if code is None:
        match = re.match(r"([0-9]{3,})\s*(.*)$", unicodedata.normalize("NFKC", text))
        if match is not None:
            code = match[1]
            if code not in ctx.accounts:
                return None, f"科目 {code} 不存在 / no account {code}"
        else:
            found, why = _by_name(text, ctx.accounts)
            if found is None:
                return None, why
            code = found
    return code, _usable(code, ctx)


def _by_name(text: str, accounts: Mapping[str, AccountInfo]) -> tuple[str | None, str | None]:
    parts = [p for p in _PATH_SPLIT.split(unicodedata.normalize("NFKC", text).strip()) if p]
    want = _fold(parts[-1]) if parts else ""
    hits = [a for a in accounts.values() if _fold(a.name) == want]
    if len(parts) > 1:
        parent = _fold(parts[-2])
        hits = [
            a for a in hits if a.parent is not None and _fold(accounts[a.parent].name) == parent
        ]
    if len(hits) > 1:
        live = [a for a in hits if a.active and a.leaf]
        hits = live if len(live) == 1 else hits
    if len(hits) == 1:
        return hits[0].code, None
    if hits:
        codes = "、".join(a.code for a in hits)
        return (
            None,
            f"类别 {text!r} 对应多个科目 ({codes})，请写科目代码 / ambiguous: write the code",
        )
    return None, (
        f"未知的科目或类别 {text!r}，请写科目代码或在报账规则 [aliases] 中设置 / "
        "unknown account or category: write the account code or add it to [aliases]"
    )


def _usable(code: str, ctx: _Context) -> str | None:
    acc = ctx.accounts[code]
    if acc.custody is not None:
        return f"{code} {acc.name} 是现金或银行科目，不能报账 / a cash or bank account"
    if acc.category not in ctx.config.categories:
        allowed = ", ".join(ctx.config.categories)
        return f"{code} {acc.name} 不是支出类科目 / not an account of the categories {allowed}"
    if not acc.leaf:
        return f"{code} {acc.name} 有明细科目，请写明细科目 / {code} has detail accounts: use one"
    if not acc.active:
        return f"{code} {acc.name} 已停用 / account {code} is inactive"
    return None


def _payment_accounts(
    ent: EntityInfo, config: ClaimsConfig, accounts: Mapping[str, AccountInfo]
) -> tuple[dict[str, tuple[str, str]], list[Problem]]:
    pairs = list(config.payment)
    if not pairs:
        for kind, label in (("cash", "现金"), ("bank", "银行")):
            top = sorted(a.code for a in accounts.values() if a.level == 1 and a.custody == kind)
            if top:
                pairs.append((label, top[0]))
    out: dict[str, tuple[str, str]] = {}
    problems: list[Problem] = []
    for label, code in pairs:
        acc = accounts.get(code)
        where = f"{config.source}:payment.{label}"
        if acc is None:
            problems.append(Problem(where, f"科目 {code} 不存在 / no account {code}", "config"))
        elif acc.custody is None:
            problems.append(
                Problem(
                    where,
                    f"{code} {acc.name} 不是现金或银行科目 / not a cash or bank account",
                    "config",
                )
            )
        elif not acc.leaf or not acc.active:
            problems.append(
                Problem(
                    where,
                    f"{code} {acc.name} 有明细科目或已停用，请在 [payment] 中指定末级科目 / "
                    f"{code} has detail accounts or is inactive: name one in [payment]",
                    "config",
                )
            )
        else:
            out[_fold(label)] = (code, acc.custody)
    if config.entity is not None and config.entity != ent.code:
        problems.append(
            Problem(
                f"{config.source}:entity",
                f"这是 {config.entity} 的报账规则，不是 {ent.code} 的 / these rules are "
                f"{config.entity}'s, not {ent.code}'s",
                "config",
            )
        )
    return out, problems


def _alias_accounts(
    config: ClaimsConfig, ctx_accounts: Mapping[str, AccountInfo], ent: EntityInfo
) -> tuple[dict[str, str], list[Problem]]:
    out: dict[str, str] = {}
    problems: list[Problem] = []
    probe = _Context(ent, ctx_accounts, set(), config, {})
    for text, code in config.aliases:
        where = f"{config.source}:aliases.{text}"
        why = (
            f"科目 {code} 不存在 / no account {code}"
            if code not in ctx_accounts
            else _usable(code, probe)
        )
        if why:
            problems.append(Problem(where, why, "config"))
        else:
            out[_fold(text)] = code
    return out, problems


# --------------------------------------------------------------------------- import


def _sha256(path: Path, name: str) -> str:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except FileNotFoundError:
        raise ProblemsError(
            f"无法读取 / cannot read {name}", [Problem(name, "文件不存在 / file not found", "file")]
        ) from None
    except OSError as exc:
        raise ProblemsError(
            f"无法读取 / cannot read {name}",
            [Problem(name, f"无法打开文件 / cannot open the file: {exc.strerror or exc}", "file")],
        ) from None
    return digest.hexdigest()


def _earlier_batch(
    session: Session, ent: EntityInfo, kind: str, sha: str, profile: str | None
) -> ImportBatch | None:
    q = select(ImportBatch).where(
        ImportBatch.entity_id == ent.id, ImportBatch.kind == kind, ImportBatch.file_sha256 == sha
    )
    if profile is not None:
        q = q.where(ImportBatch.profile == profile)
    return session.scalars(q.order_by(ImportBatch.id).limit(1)).first()


def _dedup_key(claim: _Read) -> tuple[object, ...]:
    t = claim.text
    return (
        claim.date,
        to_fen(claim.amount),
        t["purpose"],
        claim.payment_account,
        t["handler"],
        t["invoice_no"],
    )


def _existing_claims(session: Session, entity_id: int) -> dict[tuple[object, ...], list[int]]:
    rows = session.execute(
        select(
            Claim.id,
            Claim.claim_date,
            Claim.amount_fen,
            Claim.purpose,
            Claim.custody_account,
            Claim.handler,
            Claim.invoice_no,
        )
        .where(Claim.entity_id == entity_id, Claim.status != "returned")
        .order_by(Claim.id)
    )
    out: dict[tuple[object, ...], list[int]] = {}
    for cid, *key in rows:
        out.setdefault(tuple(key), []).append(cid)
    return out


@command
def import_claims(
    session: Session,
    entity: str,
    actor: str,
    path: str | Path,
    *,
    config: ClaimsConfig | None = None,
) -> ClaimsResult:
    """Import a claim batch (报账单) as the entity's cashier; return what was done.

    Valid claims record the cashier's custody entries (money out of cash or
    bank) and are stored ``pending``; claims with incomplete paperwork are
    stored ``returned`` with their reasons and never booked.  A file imported
    before (same SHA-256) is skipped: the result has ``already_imported`` set
    and nothing is written.  Rows that repeat claims already pending or
    drafted are skipped (``duplicates``).  One transaction: all or nothing.

    Raises:
        SegregationOfDutiesError: the actor is not the entity's cashier.
        ProblemsError: the file cannot be read as a claim batch, or the rules
            do not fit the entity (every problem listed, nothing written).
        NotFoundError: unknown entity or user.
    """
    rules = config or DEFAULT_CONFIG
    source = Path(path)
    name = source.name
    ent = get_entity(session, entity, lock=True)
    uid = require(session, ent, actor, Action.SUBMIT_CLAIMS)
    require(session, ent, actor, Action.RECORD_CUSTODY)
    sha = _sha256(source, name)
    earlier = _earlier_batch(session, ent, "claims", sha, None)
    if earlier is not None:
        return ClaimsResult(
            earlier.id, name, sha, True, earlier.rows_read, (), (), (), (), (), rules.source
        )
    accounts = accounts_of(session, ent.id)
    payment, problems = _payment_accounts(ent, rules, accounts)
    aliases, alias_problems = _alias_accounts(rules, accounts, ent)
    problems += alias_problems
    if problems:
        raise ProblemsError(f"报账规则 claim rules {rules.source}", problems)
    with open_table(source, limits=CLAIM_LIMITS, name=name) as table:
        batch = _BatchReader(name, payment).read(table.rows(), ent)
    if batch.problems:
        raise ProblemsError(f"报账单 claim batch {name}", batch.problems)
    ctx = _Context(ent, accounts, closed_periods(session, ent.id), rules, aliases)
    return _store(session, ent, uid, actor, name, sha, batch, ctx)


def _store(
    session: Session,
    ent: EntityInfo,
    uid: int,
    actor: str,
    name: str,
    sha: str,
    batch: _Batch,
    ctx: _Context,
) -> ClaimsResult:
    existing = _existing_claims(session, ent.id)
    seen: Counter[tuple[object, ...]] = Counter()
    duplicates: list[tuple[int, int]] = []
    checked: list[tuple[_Read, str | None, list[str]]] = []
    for claim in batch.claims:
        key = _dedup_key(claim)
        earlier = existing.get(key, [])
        if seen[key] < len(earlier):
            duplicates.append((claim.row, earlier[seen[key]]))
            seen[key] += 1
            continue
        account, reasons = _check_claim(claim, ctx)
        checked.append((claim, account, reasons))
    batch_id = next_id(session, ImportBatch.__table__, ent.id)  # type: ignore[arg-type]
    session.execute(
        insert(ImportBatch).values(
            entity_id=ent.id,
            id=batch_id,
            kind="claims",
            file_name=name,
            file_sha256=sha,
            account_code=None,
            profile=f"rules:{ctx.config.digest}",
            imported_by=uid,
            imported_at=now(),
            rows_read=len(batch.claims),
            rows_new=len(checked),
        )
    )
    valid = [(c, a) for c, a, reasons in checked if not reasons]
    entries = custody.record_entries(
        session,
        ent.code,
        actor,
        [
            custody.CustodyInput(
                c.date,
                c.payment_account,
                -c.amount,
                c.text["purpose"],
                reference=c.text["invoice_no"],
            )
            for c, _ in valid
        ],
        source="claims",
    )
    entry_of = {c.row: e for (c, _), e in zip(valid, entries, strict=True)}
    first = next_id(session, Claim.__table__, ent.id)  # type: ignore[arg-type]
    rows = [
        _claim_row(ent.id, first + n, batch_id, uid, c, a, reasons, entry_of.get(c.row))
        for n, (c, a, reasons) in enumerate(checked)
    ]
    if rows:
        session.execute(insert(Claim), rows)
    audit(
        session,
        ent.id,
        actor,
        "claims.import",
        f"batch #{batch_id}",
        {
            "file": name,
            "sha256": sha,
            "rules": ctx.config.source,
            "pending": len(valid),
            "returned": len(checked) - len(valid),
            "duplicates": len(duplicates),
            "remarks": {c.row: c.text["remark"] for c, _, _ in checked if c.text["remark"]},
        },
    )
    views = [_view(r) for r in rows]
    return ClaimsResult(
        batch_id,
        name,
        sha,
        False,
        len(batch.claims),
        tuple(v for v in views if v.status == "pending"),
        tuple(v for v in views if v.status == "returned"),
        tuple(entries),
        tuple(duplicates),
        batch.skipped,
        ctx.config.source,
    )


def _claim_row(
    entity_id: int,
    claim_id: int,
    batch_id: int,
    uid: int,
    claim: _Read,
    account: str | None,
    reasons: Sequence[str],
    entry: int | None,
) -> dict[str, Any]:
    t = claim.text
    return {
        "entity_id": entity_id,
        "id": claim_id,
        "batch_id": batch_id,
        "row_no": claim.row,
        "claim_date": claim.date,
        "purpose": t["purpose"],
        "amount_fen": to_fen(claim.amount),
        "capitals": t["capitals"],
        "category": t["category"],
        "account_code": account,
        "payment": claim.payment,
        "custody_account": claim.payment_account,
        "handler": t["handler"],
        "witness": t["witness"],
        "approver": t["approver"],
        "attachments": _attachments(t["attachments"]),
        "invoice_no": t["invoice_no"],
        "decision_ref": t["decision_ref"],
        "status": "returned" if reasons else "pending",
        "reasons": "\n".join(reasons),
        "custody_entry_id": None if reasons else entry,
        "voucher_id": None,
        "submitted_by": uid,
    }


def _view(row: Mapping[str, Any] | Claim) -> ClaimView:
    get: Callable[[str], Any] = (
        row.__getitem__ if isinstance(row, Mapping) else lambda k: getattr(row, k)
    )
    reasons = str(get("reasons"))
    return ClaimView(
        id=get("id"),
        batch=get("batch_id"),
        row=get("row_no"),
        date=get("claim_date"),
        purpose=get("purpose"),
        amount=from_fen(int(get("amount_fen"))),
        capitals=get("capitals"),
        category=get("category"),
        account=get("account_code"),
        payment=get("payment"),
        custody_account=get("custody_account"),
        handler=get("handler"),
        witness=get("witness"),
        approver=get("approver"),
        attachments=get("attachments"),
        invoice_no=get("invoice_no"),
        decision_ref=get("decision_ref"),
        status=get("status"),
        reasons=tuple(reasons.split("\n")) if reasons else (),
        custody_entry=get("custody_entry_id"),
        voucher=get("voucher_id"),
    )


# --------------------------------------------------------------------------- drafting


def draft_located(
    session: Session,
    entity: str,
    actor: str,
    drafts: Sequence[VoucherDraft],
    places: Sequence[str],
) -> list[int]:
    """Draft vouchers through :func:`juzhang.books.draft_vouchers`, naming each problem's source.

    ``places`` says where each draft comes from (``"claims.xlsx:5"``,
    ``"ledger.beancount:12"``).  All are drafted in one call; when that is
    refused, each is tried alone so every problem is reported with its place.
    Returns the draft ids in the order of ``drafts``.  Call inside a
    transaction that a raised error rolls back (drafts tried alone are
    written before the error is raised).

    Raises:
        SegregationOfDutiesError: the actor is not a bookkeeper of the entity.
        ProblemsError: any draft is refused (every problem with its place).
    """
    try:
        return books.draft_vouchers(session, entity, actor, drafts)
    except ProblemsError as refused:
        if len(drafts) == 1:
            raise ProblemsError(
                refused.what, [_placed(places[0], p) for p in refused.problems]
            ) from None
    ids: list[int] = []
    problems: list[Problem] = []
    for draft, place in zip(drafts, places, strict=True):
        try:
            ids.extend(books.draft_vouchers(session, entity, actor, [draft]))
        except ProblemsError as exc:
            problems.extend(_placed(place, p) for p in exc.problems)
    if problems:
        raise ProblemsError("制单 draft vouchers", problems)
    return ids  # pragma: no cover - refused together, accepted one by one


def _placed(place: str, problem: Problem) -> Problem:
    return Problem(
        f"{place} {problem.where}".strip(), problem.message, problem.subject or "voucher"
    )


@command
def draft_claims(
    session: Session, entity: str, actor: str, ids: Sequence[int] | None = None
) -> list[int]:
    """Turn pending claims into draft vouchers (制单) as the bookkeeper; return the voucher ids.

    One voucher per claim, in (date, id) order: Dr the claim's expense account,
    Cr the cash or bank account naming the cashier's custody entry, 摘要 = 事由,
    the claim's attachments.  ``ids`` limits it to those claims (default: every
    pending claim).  The claims become ``drafted`` with their voucher.  All or
    nothing.

    Raises:
        SegregationOfDutiesError: the actor is not a bookkeeper of the entity.
        NotFoundError: a named claim does not exist.
        StateError: a named claim is not pending.
        ProblemsError: a voucher is refused (each problem names its claim).
    """
    ent = get_entity(session, entity, lock=True)
    require(session, ent, actor, Action.DRAFT_VOUCHER)
    q = select(Claim).where(Claim.entity_id == ent.id)
    q = q.where((Claim.status == "pending") if ids is None else Claim.id.in_(list(ids)))
    claims = list(session.scalars(q.order_by(Claim.claim_date, Claim.id)))
    if ids is not None:
        missing = sorted(set(ids) - {c.id for c in claims})
        if missing:
            raise NotFoundError("报账 claim", f"{entity} #{missing[0]}")
        for c in claims:
            if c.status != "pending":
                raise StateError(f"报账 claim #{c.id}", c.status, "制单 draft")
    drafts = [_claim_draft(c) for c in claims]
    places = [
        f"报账 claim #{c.id} (批次 batch {c.batch_id} 第{c.row_no}行 row {c.row_no})"
        for c in claims
    ]
    vids = draft_located(session, entity, actor, drafts, places) if drafts else []
    if vids:
        session.execute(
            update(Claim),
            [
                {"entity_id": ent.id, "id": c.id, "status": "drafted", "voucher_id": v}
                for c, v in zip(claims, vids, strict=True)
            ],
        )
    audit_many(
        session,
        ent.id,
        actor,
        "claims.draft",
        [(f"claim #{c.id}", {"voucher": v}) for c, v in zip(claims, vids, strict=True)],
    )
    return vids


def _claim_draft(claim: Claim) -> VoucherDraft:
    if claim.account_code is None or claim.custody_account is None:  # pragma: no cover
        raise StateError(f"报账 claim #{claim.id}", "缺少科目 / no account", "制单 draft")
    amount = from_fen(claim.amount_fen)
    return VoucherDraft(
        claim.claim_date,
        (
            Line(claim.account_code, claim.purpose, debit=amount),
            Line(
                claim.custody_account,
                claim.purpose,
                credit=amount,
                custody_entry=claim.custody_entry_id,
            ),
        ),
        claim.attachments,
    )


# --------------------------------------------------------------------------- listing


def list_claims(
    session: Session, entity: str, *, status: str | None = None, batch: int | None = None
) -> list[ClaimView]:
    """Return the entity's claims (optionally of one status or batch), by batch and row.

    Raises:
        NotFoundError: unknown entity.
    """
    ent = get_entity(session, entity)
    q = select(Claim).where(Claim.entity_id == ent.id)
    if status is not None:
        q = q.where(Claim.status == status)
    if batch is not None:
        q = q.where(Claim.batch_id == batch)
    return [_view(c) for c in session.scalars(q.order_by(Claim.batch_id, Claim.row_no, Claim.id))]


def pending_claims(session: Session, entity: str) -> list[ClaimView]:
    """Return the claims waiting to be drafted (待制单), by batch and row."""
    return list_claims(session, entity, status="pending")


def returned_claims(session: Session, entity: str) -> list[ClaimView]:
    """Return the claims returned to the cashier (退回), with their reasons, by batch and row."""
    return list_claims(session, entity, status="returned")


# --------------------------------------------------------------------------- the template


def write_claims_template(path: str | Path, *, rows: int = 40) -> Path:
    """Write the Excel claim form (报账单模板) the cashier fills in; return its path.

    Sheet 报账单: the title, a line for 单位 (community), 所属期间 (month) and
    报账员 (cashier) to fill in, the header, one example row (its 事由 starts
    with 【示例】 and is skipped on import) and ``rows`` boxed empty rows with
    text format for the text columns (invoice numbers keep their leading
    zeros), a date format, ``#,##0.00`` for amounts, a 现金/银行 dropdown for
    支付方式, input checks on 金额 and 附件张数, column widths, A4 landscape
    print set-up repeating the header on every page.  Sheet 填写说明 explains
    the rules.  Written with :mod:`juzhang.exporters.excel`; an existing file
    is overwritten.

    Raises:
        OSError: the file cannot be written.
    """
    from juzhang.exporters.excel import Column, Sheet, new_workbook, save

    target = Path(path)
    wb = new_workbook("报账单", subject="报账单模板 claim form")
    sheet = Sheet.add(
        wb,
        "报账单",
        [
            Column(
                _KIND.get(c.key, "text"),
                min_width=c.width,
                max_width=c.width + 10,
                wrap=c.key in ("purpose", "remark"),
            )
            for c in COLUMNS
        ],
    )
    sheet.title("报账单")
    sheet.info("单位：", "所属期间：", "报账员（签字）：")
    first, _ = sheet.header([c.header for c in COLUMNS])
    sheet.line([dt.date.today() if c.key == "date" else _EXAMPLE.get(c.key) for c in COLUMNS])
    for _ in range(rows):
        sheet.line([None] * len(COLUMNS))
    sheet.finish(landscape=True)
    data = (first + 1, sheet.row)
    for i, column in enumerate(COLUMNS):
        for r in range(data[0], data[1] + 1):
            sheet.ws.cell(row=r, column=i + 1).number_format = column.number_format
    _template_validation(sheet.ws, *data)
    notes = Sheet.add(wb, "填写说明", [Column("text", min_width=100, max_width=100, wrap=True)])
    notes.title(_NOTES[0], size=14)
    for text in _NOTES[1:]:
        notes.note(text)
    notes.finish(landscape=False, freeze=False)
    save(wb, target)
    return target


_KIND = {"date": "date", "amount": "amount", "payment": "center", "attachments": "number"}

_EXAMPLE: dict[str, str | Decimal | int] = {
    "purpose": f"{EXAMPLE_MARK}购买办公用品（打印纸、墨盒）",
    "amount": Decimal("356.00"),
    "capitals": capitals(Decimal("356.00")),
    "category": "管理费用",
    "payment": "现金",
    "handler": "张三",
    "witness": "李四",
    "approver": "王五、赵六",
    "attachments": 2,
    "invoice_no": "04400190011112345678",
    "decision_ref": "",
    "remark": "示例行，导入时跳过；填写时可直接改写 / example, skipped on import",
}


def _template_validation(ws: Any, first: int, last: int) -> None:
    # Data validation has no helper in juzhang.exporters.excel yet: openpyxl directly.
    from openpyxl.worksheet.datavalidation import DataValidation

    def col(key: str) -> str:
        letter = column_letter([c.key for c in COLUMNS].index(key))
        return f"{letter}{first}:{letter}{last}"

    payment = DataValidation(
        type="list",
        formula1='"现金,银行"',
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="支付方式",
        error="请选择 现金 或 银行",
        promptTitle="支付方式",
        prompt="现金 或 银行",
        showInputMessage=True,
    )
    amount = DataValidation(
        type="decimal",
        operator="greaterThan",
        formula1="0",
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="金额",
        error="金额应为大于 0 的数字，最多两位小数",
    )
    attachments = DataValidation(
        type="whole",
        operator="greaterThanOrEqual",
        formula1="0",
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="附件张数",
        error="附件张数应为整数",
    )
    for rule, key in ((payment, "payment"), (amount, "amount"), (attachments, "attachments")):
        rule.add(col(key))
        ws.add_data_validation(rule)


_NOTES = (
    "报账单填写说明 / how to fill in the claim form",
    "1. 每行一笔支出。日期、事由、金额、科目或类别、支付方式必填；单位、所属期间填在表头。",
    "2. 经手人、证明人、审批人必须签名（填姓名）；证明人不能是经手人本人。",
    "3. 附件张数至少 1 张（发票、收据等原始凭证）。",
    "4. 大写金额可不填；填写时必须与金额一致（如 叁佰伍拾陆元整）。",
    "5. 科目或类别：填科目代码（如 513）或名称（如 管理费用、办公费）。",
    "6. 支付方式：现金 或 银行（下拉选择）。",
    "7. 审批：300 元及以上需两人审批（如 主任、书记，用顿号分隔）；超过 1000 元须填写决议文号"
    "（两委会议、居民（代表）会议、一事一议）。各社区的限额以报账规则为准。",
    "8. 示例行（事由以【示例】开头）导入时跳过，可删除或直接改写。",
    "9. 手续不全的报账将被退回，不入账；请补齐后重新提交。",
)
