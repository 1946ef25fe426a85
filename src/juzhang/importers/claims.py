"""Claim batches (报账单), the file side: the form's columns, the rules, reading, paperwork.

During the month the community's cashier (报账员) pays small expenses and keeps
the originals; on the filing day (统一报账日) the cashier brings a claim batch to
the agency (DOMAIN §3).  Each item is one payment: date, purpose (事由), amount
in figures and, optionally, in capitals (大写金额), the expense account or a
category name, paid in cash or from the bank, the signatures of the person who
handled it (经手人), a witness (证明人) and the approver(s) (审批人), the number of
attached originals (附件张数), the invoice number and, above a threshold, the
reference of the collective decision (决议文号: 两委会议, 居民(代表)会议, 一事一议).

This module reads and checks; it touches no database.  The flow, and who
does what (钱账分离):

1. :func:`juzhang.exporters.claims_template.write_claims_template` writes the
   Excel form the cashier fills in (its columns are :data:`COLUMNS`).
2. :func:`juzhang.claims.import_claims` (the **cashier**) reads a filled
   batch (:func:`read_claim_batch`, :func:`paperwork_reasons`).  A claim with
   incomplete paperwork is stored as ``returned`` with its reasons (Chinese /
   English) and never booked; every valid claim records the cashier's
   custody entry (the money out of cash or the bank, through
   :func:`juzhang.custody.record_entries`) and a ``pending`` claim linked to it.
3. :func:`juzhang.claims.draft_claims` (the **bookkeeper**) turns the pending claims into
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

The rules are per community and are data
(:mod:`juzhang.importers.claims_config`).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from juzhang.core.text import text_problem
from juzhang.errors import ClaimRowRef, JuzhangError, MoneyError, Problem
from juzhang.importers.claims_config import ClaimsConfig
from juzhang.importers.reader import open_table
from juzhang.importers.table import ReadLimits, Row, column_letter
from juzhang.importers.values import Cell, cell_text, clean_text, is_blank, parse_amount, parse_date
from juzhang.money import capitals, format_amount, parse_capitals

__all__ = [
    "CLAIM_LIMITS",
    "COLUMNS",
    "EXAMPLE_MARK",
    "ClaimBatch",
    "ClaimColumn",
    "ClaimRow",
    "approval_reasons",
    "attachment_count",
    "fold_label",
    "paperwork_reasons",
    "read_claim_batch",
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


#: The limit (a key of :data:`~juzhang.core.text.TEXT_LIMITS`) a claim's text is held to.
_LIMIT_OF = {
    "purpose": "summary",
    "handler": "user_name",
    "witness": "user_name",
    "approver": "user_name",
    "invoice_no": "reference",
    "decision_ref": "reference",
    "remark": "remark",
}

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


def fold_label(text: str) -> str:
    """Full-width to ASCII, no spaces, lower case: how headers and labels are compared."""
    folded = unicodedata.normalize("NFKC", text)
    return re.sub(r"[\s\u3000]+", "", folded).lower()


def _safe_text(cell: Cell) -> str:
    try:
        return clean_text(cell)
    except JuzhangError:
        return cell_text(cell)


def _header_key(cell: Cell) -> str:
    text = fold_label(_safe_text(cell))
    return _BRACKETED.sub("", text).strip("*:")


_HEADER_LOOKUP: dict[str, str] = {
    _header_key(name): c.key for c in COLUMNS for name in (c.header, c.english, c.key, *c.aliases)
}


# --------------------------------------------------------------------------- reading the file


@dataclass(frozen=True, slots=True)
class ClaimRow:
    """A claim row whose date, amount and payment could be read; the rest as written.

    ``payment_account`` is the cash or bank account the payment method names.
    """

    row: int
    date: dt.date
    amount: Decimal
    payment_account: str
    payment: str  # 'cash' | 'bank'
    text: Mapping[str, str]  # column key → trimmed text (verbatim inside)


@dataclass(frozen=True, slots=True)
class ClaimBatch:
    """A claim batch as read: its claims, the file's problems, the rows that are no claims."""

    claims: tuple[ClaimRow, ...]
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
    """Reads a claim batch into :class:`ClaimRow` rows and file problems."""

    def __init__(self, name: str, payment: Mapping[str, tuple[str, str]]) -> None:
        self.name = name
        self.payment = payment  # folded text → (account, 'cash'|'bank')
        self.problems: list[Problem] = []
        self.skipped: list[str] = []

    def problem(self, row: int, column: int | None, message: str) -> None:
        if column is None:
            self.problems.append(
                Problem(f"{self.name}:{row}", message, "file", ClaimRowRef(None, row))
            )
        else:
            where = f"{self.name}:{row}:{column_letter(column)}"
            self.problems.append(Problem(where, message, "row", ClaimRowRef(None, row)))

    def read(self, rows: Iterable[Row], code: str, entity_name: str) -> ClaimBatch:
        head: list[Row] = []
        columns: dict[str, int] | None = None
        claims: list[ClaimRow] = []
        totals: list[tuple[Row, int]] = []
        header_row = 0
        for row in rows:
            if columns is None:
                head.append(row)
                columns = self._header(row)
                if columns is None and len(head) >= _HEADER_SEARCH_ROWS:
                    break
                if columns is not None:
                    self._check_unit(head[:-1], code, entity_name)
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
        return ClaimBatch(tuple(claims), tuple(self.problems), tuple(self.skipped))

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

    def _check_unit(self, rows: Sequence[Row], code: str, entity_name: str) -> None:
        for row in rows:
            texts = [_safe_text(c) for c in row.cells]
            for i, text in enumerate(texts):
                label, _, rest = unicodedata.normalize("NFKC", text).partition(":")
                if fold_label(label) not in _UNIT_LABELS:
                    continue
                value = rest.strip() or next((t for t in texts[i + 1 :] if t), "")
                if not value or value.endswith((":", "：")):
                    continue
                folded = fold_label(value)
                if (
                    code.lower() in folded
                    or folded in fold_label(entity_name)
                    or fold_label(entity_name) in folded
                ):
                    continue
                self.problem(
                    row.number,
                    i,
                    f"单位 {value!r} 不是 {code} {entity_name} / the batch names another "
                    f"community than {code}",
                )

    def _classify(self, row: Row, columns: Mapping[str, int]) -> str:
        used = [row.cells[i] for i in columns.values() if i < len(row.cells)]
        if all(is_blank(c) for c in used):
            return "blank"
        first = fold_label(next(_safe_text(c) for c in row.cells if not is_blank(c)))
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
        value = cell_text(self._cell(row, columns, key))[:60]  # a megabyte cell is not echoed
        self.problem(
            row.number, columns.get(key), f"{column.header} {column.english} {value!r}: {reason}"
        )

    def _claim(self, row: Row, columns: Mapping[str, int]) -> ClaimRow | None:
        before = len(self.problems)
        text: dict[str, str] = {}
        for column in COLUMNS:
            if column.key in ("date", "amount"):
                continue
            try:
                text[column.key] = clean_text(self._cell(row, columns, column.key))
            except JuzhangError as exc:
                self._bad(row, columns, column.key, _reason(exc))
                continue
            bad = text_problem(text[column.key], _LIMIT_OF.get(column.key, "note"))
            if bad is not None:
                self._bad(row, columns, column.key, bad)
        day = self._date(row, columns)
        amount = self._amount(row, columns)
        pay = self._payment(row, columns, text.get("payment"))
        if len(self.problems) > before or day is None or amount is None or pay is None:
            return None
        return ClaimRow(row.number, day, amount, pay[0], pay[1], text)

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
        folded = fold_label(text)
        found = self.payment.get(folded) or self.payment.get(_PAYMENT_WORDS.get(folded, ""))
        if found is None:
            known = "、".join(sorted({_PAYMENT_WORDS.get(k, k) for k in self.payment}))
            self._bad(row, columns, "payment", f"应为 {known} / unknown payment method")
            return None
        return found

    def _check_totals(self, totals: Sequence[tuple[Row, int]], claims: Sequence[ClaimRow]) -> None:
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


def read_claim_batch(
    path: Path, name: str, payment: Mapping[str, tuple[str, str]], code: str, entity_name: str
) -> ClaimBatch:
    """Read a claim batch file of the community ``code`` (``entity_name``).

    ``payment`` maps a folded payment method (:func:`fold_label`) to its
    ``(account code, 'cash' | 'bank')``.  Returns the :class:`ClaimBatch`;
    the file's problems are in it, not raised.  Raises
    :class:`~juzhang.errors.ProblemsError` when the file cannot be read.
    """
    with open_table(path, limits=CLAIM_LIMITS, name=name) as table:
        return _BatchReader(name, payment).read(table.rows(), code, entity_name)


def _reason(exc: JuzhangError) -> str:
    reason = getattr(exc, "reason", None)
    return reason if isinstance(reason, str) else str(exc)


# --------------------------------------------------------------------------- paperwork


_NAME_SPLIT = re.compile(r"[、,，;；/／\\\s]+|和|及")


def _names(text: str) -> set[str]:
    return {n for n in _NAME_SPLIT.split(text) if n}


def paperwork_reasons(claim: ClaimRow, config: ClaimsConfig) -> list[str]:
    """Return why the claim's paperwork is incomplete (事由, signatures, attachments, 大写, 发票).

    The reasons, Chinese / English, in the order of the form; empty when complete.
    """
    t = claim.text
    reasons: list[str] = []
    if not t["purpose"]:
        reasons.append("事由为空 / the purpose (事由) is empty")
    for key in ("handler", "witness", "approver"):
        if not t[key]:
            column = _BY_KEY[key]
            reasons.append(f"缺少{column.header}签字 / no {column.english} ({column.header})")
    if (
        config.witness_not_handler
        and t["witness"]
        and t["handler"]
        and _names(t["witness"]) & _names(t["handler"])
    ):
        reasons.append("证明人不能是经手人本人 / the witness may not be the person who handled it")
    reasons.extend(_attachment_reasons(t["attachments"], config.min_attachments))
    reasons.extend(_capitals_reasons(t["capitals"], claim.amount))
    if config.require_invoice and not t["invoice_no"]:
        reasons.append("缺少发票号码 / no invoice number")
    return reasons


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


def attachment_count(text: str) -> int:
    """Return the number of attachments written (``"2"``, ``"2张"``, ``2.0``); 0 if unreadable."""
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


def approval_reasons(
    amount: Decimal, approver: str, decision: str, config: ClaimsConfig
) -> list[str]:
    """Return why the approvals of a claim of ``amount`` do not meet the rules' tiers."""
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
