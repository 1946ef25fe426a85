"""Voucher files (凭证文件): vouchers a bookkeeper prepares as JSON, read into drafts.

``VOUCHER.json`` holds one voucher or a list of them::

    {"date": "2026-09-05", "attachments": 2,
     "lines": [{"account": "51301", "summary": "购办公用品", "debit": "120.00"},
               {"account": "101", "summary": "购办公用品", "credit": "120.00",
                "custody_entry": 7}]}

Amounts are decimal strings (``"1,234.56"`` and ``"¥120"`` are read as
accountants write them) or integers of 元, parsed by
:func:`juzhang.money.parse_money`.  A JSON number with a decimal point is
refused: money is never a float, not even on its way into the books.  A line
on a cash or bank account may name the cashier's journal entry that backs it
(``custody_entry``); without one the ledger links the matching entry.

The models here sit at the edge (STYLE.md §2): they check the file's shape
and turn it into :class:`juzhang.core.voucher.VoucherDraft` values; the
bookkeeping rules are checked by :mod:`juzhang.books`.  Every problem of every
voucher in a file is reported at once, each naming the file, the voucher, the
line and the field.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pydantic
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    ValidationInfo,
    field_validator,
    model_validator,
)

from juzhang.core.period import parse_date
from juzhang.core.text import MAX_VOUCHER_LINES, text_problem
from juzhang.core.voucher import Line, VoucherDraft
from juzhang.errors import NotFoundError, Problem, ProblemsError, ValidationError
from juzhang.money import parse_money


def _money_field(value: object) -> object:
    """Refuse floats before pydantic sees them; parse everything else as money."""
    if value is None:
        return None
    if isinstance(value, float):
        raise ValueError(
            '金额不能写成 JSON 小数，请写成字符串如 "120.00" / money is never a float:'
            ' write the amount as a string such as "120.00"'
        )
    if isinstance(value, str | int | Decimal):
        return parse_money(value)
    raise ValueError(f"金额应为字符串 / an amount must be a string, not {type(value).__name__}")


class LineModel(BaseModel):
    """One line of a voucher in the file: account, 摘要, a debit *or* a credit."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    account: str = Field(min_length=1)
    summary: str
    debit: Decimal | None = None
    credit: Decimal | None = None
    custody_entry: StrictInt | None = Field(default=None, gt=0)

    @field_validator("debit", "credit", mode="before")
    @classmethod
    def _amount(cls, value: object) -> object:
        return _money_field(value)

    @field_validator("account", "summary", mode="before")
    @classmethod
    def _text(cls, value: object) -> object:
        return value.strip() if isinstance(value, str) else value

    @field_validator("summary", "account")
    @classmethod
    def _clean(cls, value: str, info: ValidationInfo) -> str:
        bad = text_problem(value, str(info.field_name))
        if bad is not None:
            raise ValueError(bad)
        return value

    @model_validator(mode="after")
    def _one_side(self) -> LineModel:
        if (self.debit is None) == (self.credit is None):
            raise ValueError("借方和贷方必须且只能填一个 / give exactly one of debit and credit")
        return self

    def to_line(self) -> Line:
        """Return the core :class:`Line`."""
        return Line(self.account, self.summary, self.debit, self.credit, self.custody_entry)


class VoucherModel(BaseModel):
    """One voucher in the file: date, 附件张数 and lines."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    date: dt.date
    attachments: StrictInt = Field(default=0, ge=0)
    lines: list[LineModel] = Field(max_length=MAX_VOUCHER_LINES)

    @field_validator("date", mode="before")
    @classmethod
    def _date(cls, value: object) -> object:
        if isinstance(value, str):
            try:
                return parse_date(value)
            except ValidationError as exc:
                raise ValueError(exc.reason) from None
        if isinstance(value, dt.date):
            return value
        raise ValueError('日期应为字符串 / the date must be a string such as "2026-09-05"')

    def to_draft(self) -> VoucherDraft:
        """Return the core :class:`VoucherDraft`."""
        return VoucherDraft(self.date, tuple(ln.to_line() for ln in self.lines), self.attachments)


def _where(source: str, index: int, loc: Sequence[int | str]) -> str:
    """Return ``"file.json 凭证2 voucher 2 第1行 line 1 debit"`` for a pydantic location."""
    parts = [source, f"凭证{index} voucher {index}"]
    rest = list(loc)
    if len(rest) >= 2 and rest[0] == "lines" and isinstance(rest[1], int):
        n = rest[1] + 1
        parts.append(f"第{n}行 line {n}")
        rest = rest[2:]
    parts.extend(str(x) for x in rest)
    return " ".join(parts)


_ZH = {
    "missing": "缺少此项",
    "extra_forbidden": "不认识的字段",
    "string_type": "应为文字",
    "string_too_short": "不能为空",
    "int_type": "应为整数",
    "greater_than": "应大于零",
    "greater_than_equal": "不能为负",
    "list_type": "应为列表",
    "model_type": "应为 JSON 对象",
    "too_long": "行数过多",
}


def _message(error: Any) -> str:
    """Return a pydantic error's message, in Chinese too where it is a common one."""
    msg = str(error["msg"]).removeprefix("Value error, ")
    zh = _ZH.get(str(error["type"]))
    return f"{zh} / {msg}" if zh else msg


def vouchers_from_data(data: object, source: str = "<data>") -> list[VoucherDraft]:
    """Turn decoded JSON (one voucher object or a list) into drafts.

    Raises:
        ProblemsError: anything wrong, every problem listed with its place.
    """
    items = data if isinstance(data, list) else [data]
    if not items:
        raise ProblemsError(f"凭证文件 {source}", [Problem(source, "没有凭证 / no vouchers")])
    drafts: list[VoucherDraft] = []
    problems: list[Problem] = []
    for n, item in enumerate(items, 1):
        if not isinstance(item, dict):
            problems.append(
                Problem(_where(source, n, ()), "凭证应为 JSON 对象 / a voucher must be an object")
            )
            continue
        lines = item.get("lines")
        if isinstance(lines, list) and len(lines) > MAX_VOUCHER_LINES:
            problems.append(
                Problem(
                    _where(source, n, ("lines",)),
                    f"凭证行数 {len(lines)} 超过上限 {MAX_VOUCHER_LINES} / a voucher has at most"
                    f" {MAX_VOUCHER_LINES} lines ({len(lines)} given)",
                    "voucher file",
                )
            )
            continue
        try:
            drafts.append(VoucherModel.model_validate(item).to_draft())
        except pydantic.ValidationError as exc:
            problems.extend(
                Problem(_where(source, n, e["loc"]), _message(e), "voucher file")
                for e in exc.errors()
            )
    if problems:
        raise ProblemsError(f"凭证文件 voucher file {source}", problems)
    return drafts


def parse_vouchers(text: str, source: str = "<text>") -> list[VoucherDraft]:
    """Read vouchers from JSON text.

    Raises:
        ProblemsError: not JSON, or anything wrong in the vouchers (all listed).
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        where = f"{source}:{exc.lineno}:{exc.colno}"
        raise ProblemsError(
            f"凭证文件 voucher file {source}",
            [Problem(where, f"不是有效的 JSON / not valid JSON: {exc.msg}", "voucher file")],
        ) from None
    except RecursionError:  # "[[[[…" nested past the interpreter's stack
        raise ProblemsError(
            f"凭证文件 voucher file {source}",
            [Problem(source, "JSON 嵌套过深 / JSON nested too deeply", "voucher file")],
        ) from None
    except ValueError as exc:  # an integer of more digits than int() converts
        raise ProblemsError(
            f"凭证文件 voucher file {source}",
            [
                Problem(
                    source,
                    f"不是有效的 JSON / not valid JSON: {str(exc).splitlines()[0]}",
                    "voucher file",
                )
            ],
        ) from None
    return vouchers_from_data(data, source)


def load_vouchers(path: str | Path) -> list[VoucherDraft]:
    """Read vouchers from a ``VOUCHER.json`` file (UTF-8, a BOM is allowed).

    Raises:
        NotFoundError: no such file.
        ProblemsError: not JSON, or anything wrong in the vouchers (all listed).
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise NotFoundError("文件 file", str(p)) from None
    except UnicodeDecodeError as exc:
        raise ProblemsError(
            f"凭证文件 voucher file {p}",
            [
                Problem(
                    f"{p} 第{exc.start + 1}字节 byte {exc.start + 1}",
                    "不是 UTF-8 编码 / not UTF-8 text",
                    "voucher file",
                )
            ],
        ) from None
    except IsADirectoryError:
        raise ValidationError(str(p), "是文件夹，不是文件 / is a folder, not a file") from None
    return parse_vouchers(text, str(p))


__all__ = [
    "LineModel",
    "VoucherModel",
    "load_vouchers",
    "parse_date",
    "parse_vouchers",
    "vouchers_from_data",
]
