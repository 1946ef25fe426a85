"""Beancount files read for an entity's books (beancount 导入, the file side).

A community that kept its books in `beancount <https://beancount.github.io>`_
before joining the agency, or an agency that keeps a plain-text ledger beside
juzhang, brings a beancount file.  This module is the only one in juzhang that
imports beancount, and it touches no database (:mod:`juzhang.beancount_import`
stores what it reads): it loads the file with :func:`beancount.loader.load_file`
(so the file is parsed, booked and validated exactly as ``bean-check`` would;
every error beancount reports becomes a problem naming ``file:line``), maps
beancount accounts to the entity's account codes, and then either

* drafts one voucher per transaction (the default): date, narration → 摘要
  (the payee when there is no narration), one line per posting (positive →
  debit, negative → credit), attachments from the transaction's
  ``attachments:`` metadata; the drafts go through review and posting like
  any other voucher; or
* sets the opening balances (``opening=True``, 期初余额): each mapped
  account's balance after the file's last transaction, which must be dated
  before the entity's first month, summed per account code (debit positive,
  credit negative, as beancount signs them) through
  :func:`juzhang.books.set_opening` (by :mod:`juzhang.beancount_import`).

The mapping file (TOML) maps beancount account names to account codes; a key
may be a pattern (``*``, ``?``, ``[...]`` as in :mod:`fnmatch`; ``*`` also
matches ``:``).  An exact name wins; otherwise the first matching pattern in
file order::

    "Assets:Cash" = "101"
    "Assets:Bank:ICBC" = "102"
    "Expenses:Office" = "51301"
    "Expenses:*" = "515"            # every other expense
    "Equity:Opening-Balances" = "301"

What is refused, all problems listed at once and nothing written: any error
beancount reports (syntax, unbalanced transactions, failed ``balance``
assertions, postings to accounts never opened); an account used and not
mapped, or mapped to a code that is not an active leaf account of the
entity; a currency other than CNY, a cost or a price; an amount with more
than two decimal places; ``pad`` directives when drafting (a padding entry
is no business event with documents: write the transaction), while opening
balances may be padded; ``plugin`` (it would run code named by the file),
``include`` (one file is one import) and the ``documents`` option.  ``open``,
``close`` and ``balance`` directives are checked by beancount and otherwise
ignored, as are notes, events, prices, documents, queries and custom
directives (their counts are in the result).

Cash and bank (钱账分离): a posting to a cash or bank account must be backed by
the cashier's journal entry.  Leave it to the ledger, which links the one
unlinked entry of the same account, amount and direction within the entity's
window, or name it with posting metadata ``custody: 12``; when there is none
the problem says the cashier must record it first.

Re-importing the same file (same SHA-256) in the same mode adds nothing: the
result says which batch it was (``already_imported``).  Every import records
an ``import_batch`` (kind ``beancount``, profile ``vouchers`` or ``opening``).
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import tempfile
import tomllib
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Protocol

from juzhang.core.period import first_day, format_period
from juzhang.core.voucher import Line, VoucherDraft
from juzhang.errors import MoneyError, Problem, ProblemsError
from juzhang.money import FEN, format_amount, parse_money

__all__ = [
    "MAX_FILE_BYTES",
    "AccountMapping",
    "ignored_directives",
    "load_ledger",
    "load_mapping",
    "mapping_for",
    "opening_balances",
    "parse_mapping",
    "read_ledger_file",
    "voucher_drafts",
]

MAX_FILE_BYTES = 64 * (1 << 20)
"""The largest beancount file read (64 MiB: decades of a community's books)."""

CURRENCY = "CNY"
_WHAT = "beancount 导入 import"


class _Account(Protocol):
    """What the checks need of an account of the books (``storage.access.AccountInfo``)."""

    @property
    def name(self) -> str: ...
    @property
    def leaf(self) -> bool: ...
    @property
    def active(self) -> bool: ...


# --------------------------------------------------------------------------- mapping


@dataclass(frozen=True, slots=True)
class AccountMapping:
    """Beancount account names → the entity's account codes.

    ``exact`` pairs match a name exactly; ``patterns`` (fnmatch) are tried in
    order when no exact pair does.
    """

    exact: tuple[tuple[str, str], ...]
    patterns: tuple[tuple[str, str], ...] = ()
    source: str = "<mapping>"

    def code_for(self, account: str) -> str | None:
        """Return the code a beancount account maps to, or ``None`` when unmapped."""
        for name, code in self.exact:
            if name == account:
                return code
        for pattern, code in self.patterns:
            if fnmatch.fnmatchcase(account, pattern):
                return code
        return None


def parse_mapping(data: Mapping[str, object], source: str = "<mapping>") -> AccountMapping:
    """Build an :class:`AccountMapping` from ``{beancount account or pattern: code}``.

    Returns the mapping.  Raises :class:`ProblemsError` listing every key that
    is not an account name or pattern and every value that is not a code.
    """
    exact: list[tuple[str, str]] = []
    patterns: list[tuple[str, str]] = []
    problems: list[Problem] = []
    for key, value in data.items():
        where = f"{source}:{key}"
        if ":" not in key or key != key.strip():
            problems.append(
                Problem(
                    where,
                    '应为 beancount 科目名或模式，如 "Assets:Cash" / '
                    'expected a beancount account name or pattern such as "Assets:Cash"',
                    "mapping",
                )
            )
            continue
        if not isinstance(value, str) or not value.strip().isdigit():
            problems.append(
                Problem(
                    where,
                    '应为科目代码文字，如 "101" / the value must be an account code as text',
                    "mapping",
                )
            )
            continue
        target = patterns if any(ch in key for ch in "*?[") else exact
        target.append((key, value.strip()))
    if problems:
        raise ProblemsError(f"科目对照 account mapping {source}", problems)
    return AccountMapping(tuple(exact), tuple(patterns), source)


def load_mapping(path: str | Path) -> AccountMapping:
    """Read an account mapping from a TOML file (see the module docstring).

    Returns the mapping.  Raises :class:`ProblemsError` for a missing file,
    bad TOML, or bad keys and values (every one listed).
    """
    source = Path(path)
    what = f"科目对照 account mapping {source.name}"
    try:
        data = tomllib.loads(source.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ProblemsError(what, [Problem(str(source), "文件不存在 / file not found")]) from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ProblemsError(
            what, [Problem(str(source), f"无法读取 / cannot read: {exc}")]
        ) from None
    return parse_mapping(data, source.name)


def mapping_for(mapping: AccountMapping | Mapping[str, str] | str | Path) -> AccountMapping:
    """Return ``mapping`` as an :class:`AccountMapping`: itself, from a dict, or from a file.

    Raises :class:`~juzhang.errors.ProblemsError` as :func:`load_mapping` and
    :func:`parse_mapping` do.
    """
    if isinstance(mapping, AccountMapping):
        return mapping
    if isinstance(mapping, str | Path):
        return load_mapping(mapping)
    return parse_mapping(mapping)


# --------------------------------------------------------------------------- loading


def _where(name: str, meta: Mapping[str, Any] | None) -> str:
    line = (meta or {}).get("lineno")
    return f"{name}:{line}" if isinstance(line, int) and line > 0 else name


def read_ledger_file(path: Path, name: str) -> tuple[bytes, str]:
    """Return a beancount file's bytes and its UTF-8 text (at most :data:`MAX_FILE_BYTES`).

    Raises :class:`~juzhang.errors.ProblemsError` naming ``name`` (and the
    line of a byte that is not UTF-8).
    """
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ProblemsError(
                _WHAT,
                [Problem(name, f"文件过大 ({size} 字节) / file too large: {size} bytes", "file")],
            )
        data = path.read_bytes()
    except FileNotFoundError:
        raise ProblemsError(_WHAT, [Problem(name, "文件不存在 / file not found", "file")]) from None
    except OSError as exc:
        raise ProblemsError(
            _WHAT, [Problem(name, f"无法打开文件 / cannot open the file: {exc}", "file")]
        ) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ProblemsError(
            _WHAT,
            [
                Problem(
                    f"{name}:{line}",
                    f"不是 UTF-8 文本 (第 {exc.start} 字节) / not UTF-8 text at byte {exc.start}",
                    "file",
                )
            ],
        ) from None
    return data, text


def _refuse_unsafe(text: str, name: str) -> None:
    """Refuse what would make loading run code or read other files (plugin, include)."""
    from beancount.parser import parser  # noqa: PLC0415 — start-up time (heavy, used here only)

    _entries, _errors, options = parser.parse_string(text)
    problems = [
        Problem(
            name,
            f'不接受 plugin "{plugin}"：导入不运行文件指定的代码 / plugins are refused: '
            "an import runs no code named by the file",
            "file",
        )
        for plugin, _config in options.get("plugin", [])
    ]
    problems += [
        Problem(
            name,
            f'不接受 include "{other}"：请合并为一个文件 / include is refused: import one file',
            "file",
        )
        for other in options.get("include", [])
    ]
    if options.get("documents"):
        problems.append(
            Problem(name, '不接受 option "documents" / the documents option is refused', "file")
        )
    if "-----BEGIN PGP MESSAGE" in text[:4096]:
        problems.append(Problem(name, "不接受加密文件 / encrypted files are refused", "file"))
    if problems:
        raise ProblemsError(_WHAT, problems)


def load_ledger(text: str, name: str) -> list[Any]:
    """Load with beancount's loader from a private copy (no neighbour cache or includes).

    Returns beancount's entries.  Raises :class:`~juzhang.errors.ProblemsError`
    listing every error beancount reports and anything refused before loading
    (``plugin``, ``include``, the ``documents`` option, encrypted files).
    """
    from beancount import loader  # noqa: PLC0415 — start-up time (heavy, used here only)

    _refuse_unsafe(text, name)
    with tempfile.TemporaryDirectory(prefix="juzhang-bean-") as folder:
        copy = Path(folder) / "ledger.beancount"
        copy.write_text(text, encoding="utf-8")
        entries, errors, _options = loader.load_file(str(copy))
    if errors:
        raise ProblemsError(
            _WHAT,
            [
                Problem(_where(name, getattr(e, "source", None)), str(e.message), "beancount")
                for e in errors
            ],
        )
    return list(entries)


# --------------------------------------------------------------------------- checking


@dataclass(frozen=True, slots=True)
class _Txn:
    where: str
    date: dt.date
    summary: str
    attachments: int
    lines: tuple[tuple[str, Decimal, int | None], ...]  # code, signed amount, custody entry


class _Checker:
    """Maps accounts and checks amounts, collecting every problem once."""

    def __init__(
        self, name: str, mapping: AccountMapping, accounts: Mapping[str, _Account]
    ) -> None:
        self.name = name
        self.mapping = mapping
        self.accounts = accounts
        self.problems: list[Problem] = []
        self._reported: set[str] = set()

    def problem(self, where: str, message: str, subject: str = "beancount") -> None:
        self.problems.append(Problem(where, message, subject))

    def code(self, account: str, where: str) -> str | None:
        code = self.mapping.code_for(account)
        if code is None:
            if account not in self._reported:
                self._reported.add(account)
                self.problem(
                    where,
                    f"beancount 科目 {account} 没有对照科目，请在对照文件中添加 / "
                    f"{account} is not mapped: add it to the mapping file",
                    "mapping",
                )
            return None
        acc = self.accounts.get(code)
        why = None
        if acc is None:
            why = f"科目 {code} 不存在 / no account {code}"
        elif not acc.leaf:
            why = (
                f"科目 {code} {acc.name} 有明细科目，请对照到末级科目 / {code} has detail accounts"
            )
        elif not acc.active:
            why = f"科目 {code} {acc.name} 已停用 / account {code} is inactive"
        if why is not None:
            if f"={code}" not in self._reported:
                self._reported.add(f"={code}")
                self.problem(where, f"{account} → {code}: {why}", "mapping")
            return None
        return code

    def amount(self, posting: Any, where: str) -> Decimal | None:
        units = posting.units
        if units is None or units.number is None:
            self.problem(where, "缺少金额 / a posting without an amount")
            return None
        if units.currency != CURRENCY:
            self.problem(
                where, f"币种 {units.currency} 不是 {CURRENCY} / only {CURRENCY} is imported"
            )
            return None
        if posting.cost is not None or posting.price is not None:
            self.problem(where, "不支持成本或价格 (@, {}) / costs and prices are not supported")
            return None
        number = units.number
        try:
            exact = number.quantize(FEN)
        except InvalidOperation:
            exact = None
        if exact is None or exact != number:
            self.problem(where, f"金额 {number} 超过两位小数 / more than 2 decimal places")
            return None
        try:
            return parse_money(exact)
        except MoneyError as exc:
            self.problem(where, exc.reason)
            return None


def _custody_meta(posting: Any, where: str, checker: _Checker) -> int | None:
    value = (posting.meta or {}).get("custody")
    if value is None:
        return None
    if isinstance(value, Decimal) and value == value.to_integral_value() and value > 0:
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    checker.problem(where, f"custody: {value!r} 应为日记账编号 / must be a custody entry id")
    return None


def _attachments(txn: Any, where: str, checker: _Checker) -> int:
    value = (txn.meta or {}).get("attachments", 0)
    if isinstance(value, Decimal) and value == value.to_integral_value() and value >= 0:
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    checker.problem(where, f"attachments: {value!r} 应为附件张数 / must be a whole number")
    return 0


def _transaction(txn: Any, checker: _Checker) -> _Txn | None:
    where = _where(checker.name, txn.meta)
    summary = (txn.narration or "").strip() or (txn.payee or "").strip()
    if not summary:
        checker.problem(where, "摘要为空：请写 narration / no narration for the 摘要")
    before = len(checker.problems)
    lines = []
    for posting in txn.postings:
        at = _where(checker.name, posting.meta) if posting.meta else where
        code = checker.code(posting.account, at)
        amount = checker.amount(posting, at)
        custody = _custody_meta(posting, at, checker)
        if code is not None and amount is not None and amount != 0:
            lines.append((code, amount, custody))
    attachments = _attachments(txn, where, checker)
    if len(checker.problems) > before or not summary:
        return None
    return _Txn(where, txn.date, summary, attachments, tuple(lines))


def _draft(txn: _Txn) -> VoucherDraft:
    return VoucherDraft(
        txn.date,
        tuple(
            Line(code, txn.summary, debit=amount, custody_entry=custody)
            if amount > 0
            else Line(code, txn.summary, credit=-amount, custody_entry=custody)
            for code, amount, custody in txn.lines
        ),
        txn.attachments,
    )


def ignored_directives(entries: Sequence[Any]) -> tuple[tuple[str, int], ...]:
    """Return ``(directive type, count)`` of the entries that are not transactions."""
    from beancount.core import data  # noqa: PLC0415 — start-up time (heavy, used here only)

    counts = Counter(type(e).__name__ for e in entries if not isinstance(e, data.Transaction))
    return tuple(sorted(counts.items()))


def voucher_drafts(
    entries: Sequence[Any], name: str, mapping: AccountMapping, accounts: Mapping[str, _Account]
) -> tuple[list[VoucherDraft], list[str], dt.date | None]:
    """Return one draft per transaction, each draft's ``file:line``, and the last date.

    Raises :class:`~juzhang.errors.ProblemsError` listing every problem
    (unmapped or unusable accounts, amounts, ``pad``, no transactions).
    """
    checker = _Checker(name, mapping, accounts)
    from beancount.core import data  # noqa: PLC0415 — start-up time (heavy, used here only)

    txns: list[_Txn] = []
    end: dt.date | None = None
    for entry in entries:
        if isinstance(entry, data.Pad):
            checker.problem(
                _where(checker.name, entry.meta),
                "导入凭证时不接受 pad：请写出具体的交易 / pad is refused when drafting "
                "vouchers: write the transaction",
            )
        elif isinstance(entry, data.Transaction) and entry.flag != "P":
            found = _transaction(entry, checker)
            end = entry.date
            if found is not None:
                txns.append(found)
    if end is None:
        checker.problem(checker.name, "文件中没有交易 / the file holds no transactions", "file")
    if checker.problems:
        raise ProblemsError(_WHAT, checker.problems)
    return [_draft(t) for t in txns], [t.where for t in txns], end


def opening_balances(
    entries: Sequence[Any],
    name: str,
    mapping: AccountMapping,
    accounts: Mapping[str, _Account],
    start_period: int,
) -> tuple[tuple[tuple[str, Decimal], ...], dt.date | None, int]:
    """Return the balances per account code after the last transaction, its date, the count.

    The last transaction must be dated before ``start_period`` (the books'
    first month).  Raises :class:`~juzhang.errors.ProblemsError` listing
    every problem.
    """
    checker = _Checker(name, mapping, accounts)
    from beancount.core import data  # noqa: PLC0415 — start-up time (heavy, used here only)

    totals: dict[str, Decimal] = {}
    first_use: dict[str, str] = {}
    end: dt.date | None = None
    last = checker.name
    count = 0
    start = first_day(start_period)
    for entry in entries:
        if not isinstance(entry, data.Transaction):
            continue
        count += 1
        where = _where(checker.name, entry.meta)
        end, last = entry.date, where
        for posting in entry.postings:
            at = _where(checker.name, posting.meta) if posting.meta else where
            amount = checker.amount(posting, at)
            if amount is not None:
                totals[posting.account] = totals.get(posting.account, Decimal("0.00")) + amount
                first_use.setdefault(posting.account, at)
    if end is None:
        checker.problem(checker.name, "文件中没有交易 / the file holds no transactions", "file")
    elif end >= start:
        checker.problem(
            last,
            f"最后一笔交易 {end} 不早于建账月份 {format_period(start_period)}：期初余额应取"
            f"建账前的余额 / the last transaction ({end}) is not before the books' first month",
        )
    by_code: dict[str, Decimal] = {}
    for account, total in totals.items():
        if total == 0:
            continue  # a closed-out account needs no mapping
        code = checker.code(account, first_use[account])
        if code is not None:
            by_code[code] = by_code.get(code, Decimal("0.00")) + total
    if checker.problems:
        raise ProblemsError(_WHAT, checker.problems)
    difference = sum(by_code.values(), Decimal("0.00"))
    if difference:  # pragma: no cover - beancount balances every transaction
        raise ProblemsError(
            _WHAT,
            [Problem(checker.name, f"期初借贷不平，相差 {format_amount(difference)} / unbalanced")],
        )
    return tuple(sorted(by_code.items())), end, count
