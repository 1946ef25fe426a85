"""Bank statement files (银行对账单): profiles as data, and rows normalised.

Banks export statements in layouts of their own and change them now and then,
so each layout is **data**: a profile (:class:`BankProfile`) in a TOML file
under ``importers/profiles/`` names, for each normalised field, the header
texts a bank uses for it, and how the direction of money is told.  A user
writes a mapping file of the same schema for any other bank
(:func:`load_profile`).  The shipped profiles cover the layouts of DOMAIN §8:
``icbc`` (转入/转出金额), ``icbc-dc`` (借/贷 flag and 借方/贷方发生额), ``ccb``,
``abc``, ``boc`` (bilingual; direction from payer/payee against the own
account) and ``rcb`` (rural commercial banks).

The profile schema is in :mod:`.profile`; statement lines, dedup keys and the
running-balance check are in :mod:`.statement_rows` (all re-exported here).

Reading (:func:`open_statement`, :func:`read_statement`): the first 30 rows are
searched for the header row under the profile (given, or detected: the
profile whose aliases recognise most header cells, fewest left over); a
header may span two rows (a merged group such as 发生额 above 借方/贷方).
Rows above it are title and metadata rows, from which the own account number
and name are read (``账号：…``, ``户名：…``, label and value in one cell or
side by side).  After it, blank rows and repeated header rows are skipped,
an opening balance row (期初余额, 承前页) sets :attr:`Statement.opening_balance`,
a footer (合计, 以上数据仅供参考, 总笔数…) ends the data, and each other row
becomes a :class:`StatementRow` or, when anything in it is wrong, problems
(:class:`~juzhang.errors.Problem` with ``where`` = ``file:row:column``) — all
of them, not only the first, up to ``ReadLimits.max_problems``.

Errors and problems: a file that cannot be read as a statement at all (not
readable, no header, a missing required column, the wrong account) raises
:class:`~juzhang.errors.ProblemsError`; bad rows are *returned* as problems
next to the good rows, so a caller (an import, a dry run) shows them all and
refuses to book a statement with any.

Dedup (DOMAIN §8): :func:`dedup_keys` gives each row the bank's serial where
there is one, else :func:`fingerprint` (account, date, amount, balance,
counterparty, summary), each with an occurrence counter for identical rows.
:func:`check_balances` checks previous balance + credit − debit = balance row
by row (statements newest-first are recognised) and reports each break with
its row number; reading does the same as rows stream by (``check_balance``),
adding the breaks to the problems, and starts the chain afresh after a row
refused for its own problems (its movement is unknown).
"""

from __future__ import annotations

import itertools
import operator
import re
import unicodedata
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import NoReturn, cast

from juzhang.errors import MoneyError, Problem, ProblemsError, ValidationError
from juzhang.importers.profile import (
    DEFAULT_ACCOUNT_LABELS,
    DEFAULT_FOOTER,
    DEFAULT_NAME_LABELS,
    DEFAULT_OPENING,
    DIRECTIONS,
    FIELDS,
    BankProfile,
    builtin_profiles,
    get_profile,
    load_profile,
    parse_profile,
)
from juzhang.importers.reader import (
    DEFAULT_LIMITS,
    ReadLimits,
    Row,
    Table,
    column_letter,
    open_table,
)
from juzhang.importers.statement_rows import (
    BalanceCheck,
    Statement,
    StatementRow,
    _account_key,
    check_balances,
    dedup_keys,
    fingerprint,
    same_account,
)
from juzhang.importers.values import (
    NO_AMOUNT,
    WHITESPACE,
    Cell,
    cell_text,
    clean_text,
    is_blank,
    parse_amount,
    parse_date,
    parse_direction,
    parse_time,
)

__all__ = [
    "DEFAULT_ACCOUNT_LABELS",
    "DEFAULT_FOOTER",
    "DEFAULT_NAME_LABELS",
    "DEFAULT_OPENING",
    "DIRECTIONS",
    "FIELDS",
    "SCAN_ROWS",
    "BalanceCheck",
    "BankProfile",
    "Statement",
    "StatementRow",
    "StatementStream",
    "builtin_profiles",
    "check_balances",
    "dedup_keys",
    "fingerprint",
    "get_profile",
    "load_profile",
    "open_statement",
    "parse_profile",
    "read_statement",
    "same_account",
]

SCAN_ROWS = 30
"""Rows searched for the header (title and metadata rows come before it)."""

_CURRENCIES = frozenset({"人民币", "cny", "rmb", "156", "¥", "元", "人民币元"})
_ZERO = Decimal("0.00")

# --------------------------------------------------------------------------- header


def _fold(text: str) -> str:
    """Header text folded for matching: NFKC, no whitespace, lower case, no trailing colon."""
    folded = unicodedata.normalize("NFKC", text)
    return re.sub(r"\s+", "", folded).lower().rstrip(":*")


_SUFFIX = re.compile(r"[\[(][^\[\]()]*[\])]$")


def _keys(text: str) -> tuple[str, ...]:
    folded = _fold(text)
    if not folded:
        return ()
    stripped = _SUFFIX.sub("", folded)
    return (folded, stripped) if stripped and stripped != folded else (folded,)


@dataclass(frozen=True, slots=True)
class _Header:
    profile: BankProfile
    index: int  # position in the scanned rows of the (first) header row
    span: int
    number: int  # Excel row number of the last header row
    columns: dict[str, int]
    names: tuple[str, ...]
    score: tuple[int, int, int, int, int]


def _header_texts(rows: Sequence[Row], index: int, span: int) -> list[tuple[str, ...]]:
    """Candidate texts per column for a header of ``span`` rows starting at ``index``."""
    upper = [_safe_text(cell) for cell in rows[index].cells]
    if span == 1:
        return [(text,) for text in upper]
    lower = [_safe_text(cell) for cell in rows[index + 1].cells]
    width = max(len(upper), len(lower))
    upper += [""] * (width - len(upper))
    lower += [""] * (width - len(lower))
    filled = list(upper)
    for column in range(1, width):  # a merged group header spreads to the right
        if not filled[column] and lower[column] and lower[column - 1]:
            filled[column] = filled[column - 1]
    texts = []
    for column in range(width):
        options = [lower[column], upper[column], filled[column] + lower[column]]
        texts.append(tuple(dict.fromkeys(t for t in options if t)))
    return texts


def _safe_text(cell: Cell) -> str:
    try:
        return clean_text(cell)
    except ValidationError:
        return ""


def _match(profile: BankProfile, texts: list[tuple[str, ...]]) -> tuple[dict[str, int], int, int]:
    """Map fields to columns; also count recognised and unrecognised header cells."""
    keys = [{key for text in options for key in _keys(text)} for options in texts]
    known = {
        key for aliases in profile.columns.values() for alias in aliases for key in _keys(alias)
    }
    columns: dict[str, int] = {}
    for name, aliases in profile.columns.items():
        for alias in aliases:
            target = _keys(alias)[0] if _keys(alias) else ""
            found = next((c for c, column_keys in enumerate(keys) if target in column_keys), None)
            if found is not None:
                columns[name] = found
                break
    recognised = sum(1 for column_keys in keys if column_keys & known)
    unrecognised = sum(1 for column_keys in keys if column_keys and not column_keys & known)
    return columns, recognised, unrecognised


def _find_header(rows: Sequence[Row], profiles: Sequence[BankProfile], name: str) -> _Header:
    best: _Header | None = None
    partial: tuple[int, BankProfile, dict[str, int]] | None = None
    for index in range(min(len(rows), SCAN_ROWS)):
        for span in (1, 2):
            if index + span > len(rows):
                continue
            texts = _header_texts(rows, index, span)
            all_keys = {key for options in texts for text in options for key in _keys(text)}
            above = rows[:index]
            for profile in profiles:
                columns, recognised, unrecognised = _match(profile, texts)
                if partial is None or recognised > partial[0]:
                    partial = (recognised, profile, columns)
                if any(_keys(d)[0] not in all_keys for d in profile.detect if _keys(d)):
                    continue
                if any(field_name not in columns for field_name in profile.required):
                    continue
                marked = bool(profile.marker) and any(
                    profile.marker in _safe_text(cell) for row in above for cell in row.cells
                )
                score = (recognised, -unrecognised, int(marked), -span, -index)
                if best is None or score > best.score:
                    names = tuple(" / ".join(options[:1]) if options else "" for options in texts)
                    best = _Header(
                        profile,
                        index,
                        span,
                        rows[index + span - 1].number,
                        columns,
                        names,
                        score,
                    )
    if best is None:
        _refuse_header(name, profiles, partial)
    return best


def _refuse_header(
    name: str,
    profiles: Sequence[BankProfile],
    partial: tuple[int, BankProfile, dict[str, int]] | None,
) -> NoReturn:
    if partial is not None and partial[0] >= 2:
        _, profile, columns = partial
        missing = [f for f in profile.required if f not in columns]
        missing_detect = [d for d in profile.detect if d not in _all_aliases(profile, columns)]
        shown = [f"{f} ({'/'.join(profile.columns.get(f, ()))})" for f in missing]
        shown += [d for d in missing_detect if d not in "".join(shown)]
        raise ProblemsError(
            f"无法读取对账单 / cannot read the statement {name}",
            [
                Problem(
                    name,
                    f"最接近的格式是 {profile.name}，但缺少必需的列: {', '.join(shown)} / "
                    f"closest layout {profile.name}, but required columns are missing: "
                    f"{', '.join(shown)}",
                    "header",
                )
            ],
        )
    known = "; ".join(f"{p.name}: {'、'.join(p.detect)}" for p in profiles)
    raise ProblemsError(
        f"无法读取对账单 / cannot read the statement {name}",
        [
            Problem(
                name,
                f"前 {SCAN_ROWS} 行中找不到可识别的表头 (已知格式 {known})；其他银行请写映射文件 / "
                f"no known header row in the first {SCAN_ROWS} rows; write a mapping file "
                "for other banks",
                "header",
            )
        ],
    )


def _all_aliases(profile: BankProfile, columns: dict[str, int]) -> set[str]:
    return {alias for field_name in columns for alias in profile.columns[field_name]}


# --------------------------------------------------------------------------- metadata

_PAIR = re.compile(r"([^\s:：]+?)\s*[:：]\s*([^:：]*?)(?=\s+[^\s:：]+\s*[:：]|$)")


def _metadata(rows: Sequence[Row], profile: BankProfile) -> tuple[str | None, str | None]:
    """Own account number and name from the rows above the header."""
    account_labels = {_fold(label) for label in profile.account_labels}
    name_labels = {_fold(label) for label in profile.name_labels}
    account: str | None = None
    holder: str | None = None
    for row in rows:
        texts = [_safe_text(cell) for cell in row.cells]
        filled = [text for text in texts if text]
        for position, text in enumerate(filled):
            pairs = _PAIR.findall(text) if (":" in text or "：" in text) else [(text, "")]
            for label, value in pairs:
                key = _fold(label)
                if key not in account_labels and key not in name_labels:
                    continue
                value = value.strip()
                if not value and len(pairs) == 1 and position + 1 < len(filled):
                    value = filled[position + 1]
                if not value:
                    continue
                if key in account_labels and account is None:
                    account = value
                elif key in name_labels and holder is None:
                    holder = value
    return account, holder


# --------------------------------------------------------------------------- reading


def open_statement(
    path: str | Path,
    *,
    profile: str | BankProfile | None = None,
    account: str | None = None,
    limits: ReadLimits = DEFAULT_LIMITS,
    name: str | None = None,
    check_balance: bool = True,
) -> StatementStream:
    """Open a bank statement file and find its layout; iterate the result for rows.

    ``profile`` is a shipped profile's name, a :class:`BankProfile` (from
    :func:`load_profile`), or ``None`` to detect it from the header.
    ``account``, when given, is the bank account number being imported into:
    a statement that names another account in its metadata is refused.
    With ``check_balance`` (the default) the running balance is checked as
    rows stream by and each break is added to the problems at the end.
    Returns a :class:`StatementStream` (a context manager).  Raises
    :class:`~juzhang.errors.ProblemsError` when the file cannot be read, no
    header is found, a required column is missing, or the account differs;
    :class:`~juzhang.errors.ValidationError` for an unknown profile name.
    """
    profiles = (
        builtin_profiles()
        if profile is None
        else (get_profile(profile),)
        if isinstance(profile, str)
        else (profile,)
    )
    table = open_table(path, limits=limits, name=name)
    try:
        rows = table.rows()
        head = list(itertools.islice(rows, SCAN_ROWS + 1))
        header = _find_header(head, profiles, table.name)
        own_account, own_name = _metadata(head[: header.index], header.profile)
        if account is not None and own_account is not None:
            _refuse_account(table.name, account, own_account)
        data = itertools.chain(head[header.index + header.span :], rows)
        stream = StatementStream(table, header, own_account, own_name, account, limits, data)
        stream.check_balance = check_balance
        return stream
    except BaseException:
        table.close()
        raise


def _refuse_account(name: str, expected: str, found: str) -> None:
    if not same_account(expected, found):
        raise ProblemsError(
            f"对账单账号不符 / wrong account in {name}",
            [
                Problem(
                    name,
                    f"对账单的账号是 {found}，不是要导入的账号 {expected} / the statement is for "
                    f"account {found}, not {expected}",
                    "account",
                )
            ],
        )


def read_statement(
    path: str | Path,
    *,
    profile: str | BankProfile | None = None,
    account: str | None = None,
    limits: ReadLimits = DEFAULT_LIMITS,
    name: str | None = None,
    check_balance: bool = True,
) -> tuple[Statement, list[Problem]]:
    """Read a whole bank statement file: the statement and the problems of its rows.

    Arguments as for :func:`open_statement`.  Returns ``(statement, problems)``:
    the statement holds every good row; ``problems`` lists every bad row and
    cell (``where`` = ``file:row:column``) and every break of the running
    balance (``file:row``) — a caller must not book a statement with problems.
    Raises :class:`~juzhang.errors.ProblemsError` when the file cannot be read
    as a statement at all (see :func:`open_statement`) or a limit is broken
    part way.
    """
    with open_statement(
        path,
        profile=profile,
        account=account,
        limits=limits,
        name=name,
        check_balance=check_balance,
    ) as stream:
        rows = tuple(stream)
        statement = Statement(
            source=str(path),
            profile=stream.profile.name,
            own_account=stream.own_account,
            own_name=stream.own_name,
            header_row=stream.header_row,
            opening_balance=stream.opening_balance,
            rows=rows,
        )
        return statement, list(stream.problems)


class StatementStream:
    """A statement being read: layout facts, then rows streamed by iteration.

    ``profile``, ``header_row`` (Excel row number of the header's last row),
    ``columns`` (field → header text), ``own_account``/``own_name`` (from
    metadata, or the first row's own-account column) are known once opened.
    Iterating yields good :class:`StatementRow` values only; ``problems``
    collects every bad row meanwhile (and, with ``check_balance``, the breaks
    of the running balance once the last row is read); ``opening_balance`` is
    set when an opening row is met.  Memory stays flat however long the file.
    """

    def __init__(
        self,
        table: Table,
        header: _Header,
        own_account: str | None,
        own_name: str | None,
        expected: str | None,
        limits: ReadLimits,
        rows: Iterator[Row],
    ) -> None:
        self.name = table.name
        self.profile = header.profile
        self.header_row = header.number
        self.columns = {f: header.names[c] for f, c in header.columns.items()}
        self.own_account = own_account
        self.own_name = own_name
        self.opening_balance: Decimal | None = None
        self.problems: list[Problem] = []
        self._table = table
        self._header = header
        self._expected = expected
        self._limits = limits
        self._rows = rows
        self._started = False
        self.check_balance = True
        if header.profile.direction == "payer_payee" and own_account is None:
            self._infer_own_account()

    def close(self) -> None:
        """Release the file."""
        self._table.close()

    def __enter__(self) -> StatementStream:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _infer_own_account(self) -> None:
        """Payer/payee layouts without metadata: the account on both sides of every row."""
        if self._expected is not None:
            self.own_account = self._expected
            return
        payer = self._header.columns["payer_account"]
        payee = self._header.columns["payee_account"]
        peeked = list(itertools.islice(self._rows, 50))
        self._rows = itertools.chain(peeked, self._rows)
        common: Counter[str] | None = None
        for row in peeked:
            seen = {_account_key(_cell_str(row, c)) for c in (payer, payee)} - {""}
            if not seen:
                continue
            common = Counter(seen) if common is None else common & Counter(seen)
        if common is not None and len(common) == 1:
            self.own_account = next(iter(common))

    def __iter__(self) -> Iterator[StatementRow]:
        if self._started:
            raise ValueError("a statement stream can be iterated once")
        self._started = True
        return _Normaliser(self).rows(self._rows)


def _cell_str(row: Row, column: int) -> str:
    return _safe_text(row.cells[column]) if column < len(row.cells) else ""


# --------------------------------------------------------------------------- rows


_TEXT_FIELDS = (
    "counterparty",
    "counterparty_account",
    "counterparty_bank",
    "summary",
    "purpose",
    "remark",
    "serial",
)


class _RowProblem(Exception):
    """A problem in one cell; collected, and the row skipped."""


class _Normaliser:
    """Turns table rows into statement rows and problems for one stream."""

    def __init__(self, stream: StatementStream) -> None:
        self.stream = stream
        header = stream._header
        self.profile = header.profile
        self.columns = header.columns
        self.names = header.names
        self.name = stream.name
        self.header_keys = tuple(_fold(n) for n in header.names)
        self.footer = tuple(_fold(m) for m in self.profile.footer)
        self.opening = tuple(_fold(m) for m in self.profile.opening)
        self.width = len(header.names)
        self.limit = stream._limits.max_problems
        self.row_problems: list[Problem] = []
        self.skipped = False
        self.own_seen: str | None = stream.own_account
        self.date_column = self.columns["date"]
        self.date1904 = stream._table.date1904
        self._parsed: tuple[date, time | None] | None = None
        self.text_columns = tuple(self.columns.get(f) for f in _TEXT_FIELDS)
        # cells are padded to width + 1, so column ``width`` is always empty
        self.text_getter = operator.itemgetter(
            *(self.width if c is None else c for c in self.text_columns)
        )
        self.debit_column = self.columns.get("debit", self.width)
        self.credit_column = self.columns.get("credit", self.width)
        self.check_own = "own_account" in self.columns
        self.check_currency = "currency" in self.columns
        self.text_only = stream._table.kind == "csv"

    # -- problems

    def where(self, number: int, column: int | None) -> str:
        if column is None:
            return f"{self.name}:{number}"
        header = self.names[column] if column < len(self.names) else ""
        letter = column_letter(column)
        return (
            f"{self.name}:{number}:{letter}({header})"
            if header
            else f"{self.name}:{number}:{letter}"
        )

    def problem(self, number: int, column: int | None, message: str) -> None:
        self.row_problems.append(Problem(self.where(number, column), message, "row"))

    # -- rows

    def rows(self, rows: Iterator[Row]) -> Iterator[StatementRow]:
        problems = self.stream.problems
        balances = (
            BalanceCheck(name=self.name, limit=self.limit) if self.stream.check_balance else None
        )
        for statement_row in self._rows(rows):
            if balances is not None:
                if self.skipped:  # a bad row in between: its movement is unknown
                    balances.restart()
                elif not balances.started:
                    balances.opening = self.stream.opening_balance
                balances.add(statement_row)
            self.skipped = False
            yield statement_row
        if balances is not None and len(problems) < self.limit:
            problems.extend(balances.problems())

    def _rows(self, rows: Iterator[Row]) -> Iterator[StatementRow]:
        problems = self.stream.problems
        ended_at: int | None = None
        for row in rows:
            cells = row.cells
            if ended_at is not None:
                self._after_footer(row, ended_at)
            elif self._has_date(row):
                result = self._normalise(row)
                if result is not None:
                    yield result
            elif (
                not cells
                or all(is_blank(cell) for cell in cells)
                or self._is_repeated_header(cells)
            ):
                continue
            elif self._is_footer(row):
                ended_at = row.number
                continue
            elif self._opening_row(row):
                pass
            else:
                self._normalise(row)  # a row with no date: report its problems
            if self.row_problems:
                self.skipped = True
                problems.extend(self.row_problems)
                self.row_problems.clear()
                if len(problems) >= self.limit:
                    problems.append(
                        Problem(
                            f"{self.name}:{row.number}",
                            f"问题超过 {self.limit} 个，停止读取 / more than {self.limit} "
                            "problems: reading stopped",
                            "file",
                        )
                    )
                    return

    def _is_repeated_header(self, cells: tuple[Cell, ...]) -> bool:
        date_cell = cells[self.date_column] if self.date_column < len(cells) else ""
        return isinstance(date_cell, str) and _fold(date_cell) == self.header_keys[self.date_column]

    def _has_date(self, row: Row) -> bool:
        """Whether the date cell holds a valid date (remembered for :meth:`_date`)."""
        cells = row.cells
        self._parsed = None
        if self.date_column >= len(cells) or is_blank(cells[self.date_column]):
            return False
        try:
            self._parsed = parse_date(cells[self.date_column], date1904=self.date1904)
        except (ValidationError, MoneyError):
            return False
        return True

    def _is_footer(self, row: Row) -> bool:
        for cell in row.cells:
            if isinstance(cell, str) and cell:
                key = _fold(cell)
                if key and key.startswith(self.footer):
                    return True
        return False

    def _after_footer(self, row: Row, ended_at: int) -> None:
        if self._has_date(row):
            self.problem(
                row.number,
                None,
                f"表尾 (第 {ended_at} 行) 之后还有交易行 / a transaction row after the footer "
                f"at row {ended_at}",
            )

    def _normalise(self, row: Row) -> StatementRow | None:
        cells = row.cells
        number = row.number
        width = self.width
        before = len(self.row_problems)
        if len(cells) <= width:
            cells = cells + ("",) * (width + 1 - len(cells))
        elif any(not is_blank(c) for c in cells[width:]):
            self.problem(
                number,
                width,
                f"这一行有 {len(cells)} 列，表头只有 {width} 列 (金额里有未加引号的逗号?) / "
                f"{len(cells)} cells but the header has {width} (an unquoted comma?)",
            )
        day, clock = self._date(cells, number)
        debit, credit, counter = self._amounts(cells, number)
        balance = self._balance(cells, number)
        texts = self._texts(cells, number)
        if self.check_own:
            self._check_own(cells, number)
        if self.check_currency:
            self._check_currency(cells, number)
        if counter is not None:
            texts[0:3] = counter
        if len(self.row_problems) > before or day is None or debit is None or credit is None:
            return None
        if not debit and not credit:
            if balance is not None and self._is_opening(texts, cells):
                self.stream.opening_balance = balance
                return None
            self.problem(number, None, "没有发生额 / no amount in this row")
            return None
        raw = (
            cast(tuple[str, ...], row.cells) if self.text_only else tuple(map(cell_text, row.cells))
        )
        counterparty, account, bank, summary, purpose, remark, serial = texts
        return StatementRow(
            number, day, clock, debit, credit, balance, counterparty, account, bank, summary,
            purpose, remark, serial, raw,
        )  # fmt: skip

    def _opening_row(self, row: Row) -> bool:
        """An opening balance row without a date (期初余额 / 承前页): remember its balance."""
        cells = row.cells + ("",) * (self.width + 1 - len(row.cells))
        if not self._is_opening([], cells):
            return False
        amounts = [self.columns.get(f) for f in ("debit", "credit", "amount")]
        for column in amounts:
            if column is not None and _safe_text(cells[column]) not in NO_AMOUNT:
                return False
        balance = self._balance(cells, row.number)
        if balance is not None:
            self.stream.opening_balance = balance
        return True

    def _is_opening(self, texts: list[str], cells: tuple[Cell, ...]) -> bool:
        candidates = texts + [_safe_text(c) for c in cells if isinstance(c, str)]
        return any(_fold(text).startswith(self.opening) for text in candidates if text)

    def _cell(self, cells: tuple[Cell, ...], column: int | None) -> Cell:
        if column is None or column >= len(cells):
            return ""
        return cells[column]

    def _date(self, cells: tuple[Cell, ...], number: int) -> tuple[date | None, time | None]:
        column = self.date_column
        if self._parsed is None:
            try:
                parse_date(self._cell(cells, column), date1904=self.date1904)
            except (ValidationError, MoneyError) as exc:
                self.problem(number, column, f"日期 / date: {exc}")
            return None, None
        day, clock = self._parsed
        time_column = self.columns.get("time")
        if clock is None and time_column is not None:
            try:
                clock = parse_time(self._cell(cells, time_column))
            except ValidationError as exc:
                self.problem(number, time_column, f"时间 / time: {exc}")
        return day, clock

    def _amount(self, cells: tuple[Cell, ...], number: int, column: int | None) -> Decimal | None:
        if column is None:
            return None
        try:
            return parse_amount(self._cell(cells, column))
        except (ValidationError, MoneyError) as exc:
            self.problem(number, column, f"金额 / amount: {exc}")
            raise _RowProblem from None

    def _texts(self, cells: tuple[Cell, ...], number: int) -> list[str]:
        """The text fields, trimmed; the common all-text case in one pass."""
        try:
            texts = [cell.strip(WHITESPACE) for cell in self.text_getter(cells)]
        except AttributeError:  # a number, date or formula cell among them
            return [self._text(cells, number, column) for column in self.text_columns]
        if '="' in "".join(texts):
            texts = [clean_text(text) for text in texts]
        return texts

    def _balance(self, cells: tuple[Cell, ...], number: int) -> Decimal | None:
        try:
            return self._amount(cells, number, self.columns.get("balance"))
        except _RowProblem:
            return None

    def _text(self, cells: tuple[Cell, ...], number: int, column: int | None) -> str:
        if column is None:
            return ""
        cell = cells[column] if column < len(cells) else ""
        if type(cell) is str:
            text = cell.strip(WHITESPACE)
            if not text.startswith('="'):
                return text
        try:
            return clean_text(self._cell(cells, column))
        except ValidationError as exc:
            self.problem(number, column, str(exc))
            return ""

    def _amounts(
        self, cells: tuple[Cell, ...], number: int
    ) -> tuple[Decimal | None, Decimal | None, list[str] | None]:
        """(debit, credit, counterparty fields from payer/payee or None)."""
        try:
            direction = self.profile.direction
            if direction == "split":
                return (*self._split(cells, number), None)
            amount = self._amount(cells, number, self.columns["amount"])
            if amount is None:
                self.problem(number, self.columns["amount"], "金额为空 / the amount is empty")
                return None, None, None
            if direction == "signed":
                positive_in = self.profile.signed_positive == "credit"
                inflow = (amount > 0) == positive_in
                return (_ZERO, abs(amount), None) if inflow else (abs(amount), _ZERO, None)
            if direction == "flag":
                return (*self._flagged(cells, number, amount), None)
            return self._payer_payee(cells, number, amount)
        except _RowProblem:
            return None, None, None

    def _split(self, cells: tuple[Cell, ...], number: int) -> tuple[Decimal | None, Decimal | None]:
        debit_column, credit_column = self.debit_column, self.credit_column
        try:
            debit = parse_amount(cells[debit_column]) or _ZERO
        except (ValidationError, MoneyError) as exc:
            self.problem(number, debit_column, f"金额 / amount: {exc}")
            debit = None
        try:
            credit = parse_amount(cells[credit_column]) or _ZERO
        except (ValidationError, MoneyError) as exc:
            self.problem(number, credit_column, f"金额 / amount: {exc}")
            return None, None
        if debit is None:
            return None, None
        if self.profile.out_negative:
            debit = -debit if debit else _ZERO
        if debit and credit:
            self.problem(
                number,
                None,
                f"同一行既有支出 {debit} 又有收入 {credit} / both out ({debit}) and in ({credit})",
            )
            return None, None
        flag_column = self.columns.get("direction")
        if flag_column is not None and (debit or credit):
            try:
                flag = parse_direction(self._cell(cells, flag_column))
            except ValidationError as exc:
                self.problem(number, flag_column, f"借贷标志 / debit/credit flag: {exc}")
                return None, None
            if flag is not None and (flag == "debit") != bool(debit):
                self.problem(
                    number,
                    flag_column,
                    f"借贷标志与金额列不符 / the flag says {flag} but the amount is in the "
                    f"{'debit' if debit else 'credit'} column",
                )
                return None, None
        return debit, credit

    def _flagged(
        self, cells: tuple[Cell, ...], number: int, amount: Decimal
    ) -> tuple[Decimal | None, Decimal | None]:
        column = self.columns["direction"]
        try:
            flag = parse_direction(self._cell(cells, column))
        except ValidationError as exc:
            self.problem(number, column, f"借贷标志 / debit/credit flag: {exc}")
            return None, None
        if flag is None:
            self.problem(number, column, "借贷标志为空 / the debit/credit flag is empty")
            return None, None
        return (amount, _ZERO) if flag == "debit" else (_ZERO, amount)

    def _payer_payee(
        self, cells: tuple[Cell, ...], number: int, amount: Decimal
    ) -> tuple[Decimal | None, Decimal | None, list[str] | None]:
        own = self.stream.own_account
        columns = self.columns
        payer = self._text(cells, number, columns["payer_account"])
        payee = self._text(cells, number, columns["payee_account"])
        if own is None:
            self.problem(
                number,
                None,
                "无法确定本方账号，请指定 account / cannot tell the own account: pass account=",
            )
            return None, None, None
        is_payer, is_payee = same_account(own, payer), same_account(own, payee)
        if is_payer == is_payee:
            self.problem(
                number,
                columns["payer_account"],
                f"付款人 {payer} 与收款人 {payee} 都{'是' if is_payer else '不是'}本方账号 {own} / "
                f"payer and payee are {'both' if is_payer else 'neither'} the own account",
            )
            return None, None, None
        if amount < 0 and is_payee:
            self.problem(
                number,
                columns["amount"],
                f"金额为负 ({amount}) 但本方是收款人 / "
                "negative amount but the account is the payee",
            )
            return None, None, None
        side = "payee" if is_payer else "payer"
        counter = [
            self._text(cells, number, columns.get(f"{side}_name")),
            payee if is_payer else payer,
            self._text(cells, number, columns.get(f"{side}_bank")),
        ]
        value = abs(amount)
        return (value, _ZERO, counter) if is_payer else (_ZERO, value, counter)

    def _check_own(self, cells: tuple[Cell, ...], number: int) -> None:
        column = self.columns.get("own_account")
        if column is None:
            return
        found = self._text(cells, number, column)
        if not found:
            return
        if self.own_seen is None:
            self.own_seen = found
            if self.stream.own_account is None:
                self.stream.own_account = found
                if self.stream._expected is not None and not same_account(
                    self.stream._expected, found
                ):
                    self.problem(
                        number,
                        column,
                        f"对账单的账号是 {found}，不是要导入的账号 {self.stream._expected} / "
                        f"the statement is for account {found}, not {self.stream._expected}",
                    )
            own_name_column = self.columns.get("own_name")
            if self.stream.own_name is None and own_name_column is not None:
                self.stream.own_name = self._text(cells, number, own_name_column) or None
        elif not same_account(self.own_seen, found):
            self.problem(
                number,
                column,
                f"本方账号 {found} 与前面的行 ({self.own_seen}) 不同 / own account {found} differs "
                f"from earlier rows ({self.own_seen})",
            )

    def _check_currency(self, cells: tuple[Cell, ...], number: int) -> None:
        column = self.columns.get("currency")
        if column is None:
            return
        text = self._text(cells, number, column)
        if text and _fold(text) not in _CURRENCIES:
            self.problem(
                number,
                column,
                f"币种 {text!r} 不是人民币 / currency {text!r} is not RMB",
            )
