"""Vouchers (记账凭证) as plain values, and the hash chain over posted vouchers.

A :class:`VoucherDraft` is what a bookkeeper prepares: date, lines, number of
attached originals.  A :class:`Line` carries one amount on one side; red
(红字) lines carry negative amounts.  :class:`VoucherView` is a voucher as
stored, returned by the service.  Nothing here touches a database.

Hash chain (哈希链): every posted voucher of an entity carries
``sha256(prev_hash + canonical text of the voucher)``, in posting order, so a
posted voucher changed behind the service's back breaks the chain from that
voucher on; the head of the chain fingerprints the whole books.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from juzhang.core.text import MAX_VOUCHER_LINES, text_problem
from juzhang.core.types import Side, VoucherStatus
from juzhang.errors import Problem, ValidationError
from juzhang.money import format_amount, from_fen, to_fen

GENESIS_HASH = "0" * 64

STATUS_ZH: dict[str, str] = {
    VoucherStatus.DRAFT: "未审核",
    VoucherStatus.REVIEWED: "已审核",
    VoucherStatus.POSTED: "已记账",
}


@dataclass(frozen=True, slots=True)
class Line:
    """One line of a voucher: 摘要, account, and a debit *or* a credit amount.

    ``custody_entry`` names the cashier's journal entry that backs a line on
    a cash or bank account; leave it ``None`` to let the ledger find the one
    unlinked entry of the same account, amount and direction.
    """

    account: str
    summary: str
    debit: Decimal | None = None
    credit: Decimal | None = None
    custody_entry: int | None = None

    @property
    def side(self) -> str:
        """``"D"`` for a debit line, ``"C"`` for a credit line."""
        return Side.DEBIT if self.debit is not None else Side.CREDIT

    @property
    def amount(self) -> Decimal:
        """The line's amount on its side (negative for a red line)."""
        value = self.debit if self.debit is not None else self.credit
        if value is None:
            raise ValidationError(
                f"科目 {self.account}", "借方和贷方都为空 / no debit and no credit"
            )
        return value

    @property
    def signed_fen(self) -> int:
        """The amount in fen, debit positive and credit negative."""
        fen = to_fen(self.amount)
        return fen if self.side == Side.DEBIT else -fen


@dataclass(frozen=True, slots=True)
class VoucherDraft:
    """A voucher as prepared (制单), before it has a number."""

    date: dt.date
    lines: tuple[Line, ...]
    attachments: int = 0


@dataclass(frozen=True, slots=True)
class LineView:
    """A stored voucher line."""

    line_no: int
    account: str
    summary: str
    side: str
    amount: Decimal
    custody_entry: int | None

    @property
    def debit(self) -> Decimal | None:
        """The debit amount, or ``None`` on a credit line."""
        return self.amount if self.side == Side.DEBIT else None

    @property
    def credit(self) -> Decimal | None:
        """The credit amount, or ``None`` on a debit line."""
        return self.amount if self.side == Side.CREDIT else None


@dataclass(frozen=True, slots=True)
class VoucherView:
    """A stored voucher with its people and lines."""

    id: int
    entity: str
    date: dt.date
    period: int
    word: str
    number: int | None
    status: str
    kind: str
    attachments: int
    prepared_by: str
    reviewed_by: str | None
    posted_by: str | None
    cashier: str | None
    reverses: int | None
    hash: str | None
    lines: tuple[LineView, ...] = field(default=())

    @property
    def label(self) -> str:
        """``"记-0003"`` once posted, ``"草稿#12"`` before."""
        if self.number is None:
            return f"草稿#{self.id}"
        return f"{self.word}-{self.number:04d}"

    @property
    def total(self) -> Decimal:
        """The voucher's debit total (合计)."""
        return sum((ln.amount for ln in self.lines if ln.side == Side.DEBIT), Decimal("0.00"))


def check_draft(draft: VoucherDraft, where: str) -> list[Problem]:
    """Return the problems of a draft that need no database: lines, amounts, balance."""
    return checked_fens(draft, where)[0]


def checked_fens(draft: VoucherDraft, where: str) -> tuple[list[Problem], list[int | None]]:
    """Return :func:`check_draft`'s problems and each line's signed amount in fen.

    A line's fen is ``None`` where the line has no side or a bad amount (a
    problem then says why); each amount is read once.
    """
    problems: list[Problem] = []
    fens: list[int | None] = []
    if len(draft.lines) < 2:
        problems.append(Problem(where, "凭证至少需要两行 / a voucher needs at least two lines"))
    if len(draft.lines) > MAX_VOUCHER_LINES:
        problems.append(
            Problem(
                where,
                f"凭证行数 {len(draft.lines)} 超过上限 {MAX_VOUCHER_LINES} / a voucher has at most"
                f" {MAX_VOUCHER_LINES} lines ({len(draft.lines)} given)",
            )
        )
        return problems, [None] * len(draft.lines)
    if draft.attachments < 0:
        problems.append(Problem(where, "附件张数不能为负 / attachments cannot be negative"))
    total = 0
    sided = True  # every line has exactly one side, so the total means something
    for i, line in enumerate(draft.lines, 1):
        debit, credit = line.debit, line.credit
        if (debit is None) == (credit is None):
            problems.append(
                Problem(
                    f"{where} 第{i}行 line {i}",
                    "借方和贷方必须且只能填一个 / exactly one of debit and credit",
                )
            )
            sided = False
            fens.append(None)
            continue
        fen = to_fen(debit) if credit is None else -to_fen(credit)  # type: ignore[arg-type]
        fens.append(fen)
        if fen == 0:
            problems.append(
                Problem(f"{where} 第{i}行 line {i}", "金额不能为零 / the amount cannot be zero")
            )
        if not line.summary.strip():
            problems.append(
                Problem(f"{where} 第{i}行 line {i}", "摘要不能为空 / the summary (摘要) is empty")
            )
        bad = text_problem(line.summary, "summary")
        if bad is not None:
            problems.append(Problem(f"{where} 第{i}行 line {i} 摘要 summary", bad))
        total += fen
    if total != 0 and sided:
        diff = format_amount(from_fen(abs(total)))
        problems.append(
            Problem(where, f"借贷不平，相差 {diff} / debits and credits differ by {diff}")
        )
    return problems, fens


# What json.dumps(…, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
# writes, with one encoder: json.dumps builds a new encoder on every call with
# options (a few µs a voucher at 20,000 posted).
_CANONICAL = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def voucher_hash(
    prev_hash: str,
    *,
    entity: str,
    seq: int,
    period: int,
    number: int,
    date: dt.date,
    kind: str,
    reverses: int | None,
    lines: Sequence[tuple[int, str, str, int, str, int | None]],
) -> str:
    """Return the chain hash of a posted voucher.

    ``lines`` are ``(line_no, account, side, amount_fen, summary, custody_entry)``.
    The hashed text is ``json.dumps`` of the voucher with ``ensure_ascii=False,
    separators=(",", ":"), sort_keys=True`` (the lines sorted); for the values
    a voucher holds (``int``, ``str``, ``None``) it is written here directly,
    in the encoder's own text, at about 60 % of its cost (posting and
    :func:`juzhang.verify.verify` hash every voucher).
    """
    ordered = sorted(lines)
    canonical = _direct(entity, seq, period, number, date, kind, reverses, ordered)
    if canonical is None:
        canonical = _CANONICAL.encode(
            {
                "entity": entity,
                "seq": seq,
                "period": period,
                "number": number,
                "date": date.isoformat(),
                "kind": kind,
                "reverses": reverses,
                "lines": [list(x) for x in ordered],
            }
        )
    return hashlib.sha256((prev_hash + canonical).encode("utf-8")).hexdigest()


_text = json.encoder.encode_basestring  # the encoder's quoting for ensure_ascii=False


def _direct(
    entity: str,
    seq: int,
    period: int,
    number: int,
    date: dt.date,
    kind: str,
    reverses: int | None,
    lines: list[tuple[int, str, str, int, str, int | None]],
) -> str | None:
    """``_CANONICAL``'s text of the voucher, or ``None`` for a value of another type."""
    if not (
        type(entity) is str
        and type(seq) is int
        and type(period) is int
        and type(number) is int
        and type(kind) is str
        and (reverses is None or type(reverses) is int)
        and type(date) is dt.date
    ):
        return None
    shown = []
    for line in lines:
        if type(line) is not tuple or len(line) != 6:
            return None
        no, account, side, fen, summary, entry = line
        if not (
            type(no) is int
            and type(account) is str
            and type(side) is str
            and type(fen) is int
            and type(summary) is str
            and (entry is None or type(entry) is int)
        ):
            return None
        shown.append(
            f"[{no},{_text(account)},{_text(side)},{fen},{_text(summary)},"
            f"{'null' if entry is None else entry}]"
        )
    return (
        f'{{"date":"{date.isoformat()}","entity":{_text(entity)},"kind":{_text(kind)},'
        f'"lines":[{",".join(shown)}],"number":{number},"period":{period},'
        f'"reverses":{"null" if reverses is None else reverses},"seq":{seq}}}'
    )
